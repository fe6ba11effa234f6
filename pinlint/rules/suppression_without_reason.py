from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class SuppressionWithoutReason(MetaRule):
    """
    ## What it flags
    A suppression comment without a reason, when the configuration sets
    `require-reason = true`. Without that setting this rule reports nothing.

    ## Why it pins
    It does not pin; but a reviewer cannot tell why the pinning is acceptable here, and
    the SARIF upload carries no justification for the dismissed alert.

    ## How to fix
    Add the reason after ` -- `:
    `# pinlint: ignore[PIN401] -- held for the whole batch job, which owns its connection`.

    ## Known limitations
    Any non-empty text counts as a reason.

    ## References
    - pinlint README, section "Suppressing a finding"
    """

    code = "PIN909"
    name = "suppression-without-reason"
    summary = "A suppression comment gives no reason (with `require-reason = true`)"
    help = "Add the reason after ` -- ` in the comment"
    severity = Severity.WARNING
    tags = ("meta", "suppression")
