from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class UnusedSuppression(MetaRule):
    """
    ## What it flags
    A rule in a suppression comment that matched no finding: the SQL was fixed, the
    comment sits on the wrong line (it must end the statement's first line or stand
    alone above it), or it names the wrong rule. Rules that are not enabled in this
    run, or that do not apply to the target, are not reported, and neither is any
    directive in a file that pinlint could not fully analyse (PIN902 to PIN905).

    ## Why it pins
    It does not pin; but a stale suppression would silently hide a future finding on
    that line.

    ## How to fix
    Remove the rule from the comment (or the whole comment), or move the comment to the
    first line of the statement that holds the finding.

    ## Known limitations
    A suppression used only under another target or selection of rules is unused in
    this run; turn this rule off for such files with `per-file-ignores`.

    ## References
    - pinlint README, section "Suppressing a finding"
    """

    code = "PIN908"
    name = "unused-suppression"
    summary = "A suppression comment matched no finding"
    help = "Remove the rule from the comment, or move the comment to the statement's first line"
    severity = Severity.NOTE
    tags = ("meta", "suppression")
