from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class MalformedSuppression(MetaRule):
    """
    ## What it flags
    A comment that starts a pinlint directive (`# pinlint:` in Python, `-- pinlint:` in
    SQL) but is not one pinlint can read: an unknown verb (`# pinlint: disable`), the
    blanket form without rules (`# pinlint: ignore`), empty or unclosed brackets, text
    after `]` that is not a reason introduced by ` -- `, or an `ignore-file` below the
    file's first statement.

    ## Why it pins
    It does not pin; but the directive suppresses nothing, so the finding it was meant
    for is still reported next to this one.

    ## How to fix
    Write the directive in one of its two forms, naming each rule by code or name:
    `# pinlint: ignore[PIN101] -- reason` at the end of the statement's first line or
    alone on the line above it, and `# pinlint: ignore-file[PIN305] -- reason` before
    the first statement of the file. There is deliberately no form that silences every
    rule: name the ones you mean.

    ## Known limitations
    Only comments that contain `pinlint:` right after the comment marker are read as
    directives; a misspelt prefix (`# pinlnt: ignore[...]`) is an ordinary comment.

    ## References
    - pinlint README, section "Suppressing a finding"
    """

    code = "PIN906"
    name = "malformed-suppression"
    summary = "A `pinlint:` comment is not a valid suppression directive"
    help = "Write `# pinlint: ignore[CODE] -- reason` (or `ignore-file[...]` at the top)"
    severity = Severity.WARNING
    tags = ("meta", "suppression")
