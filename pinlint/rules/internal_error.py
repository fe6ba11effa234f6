from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class InternalError(MetaRule):
    """
    ## What it flags
    An unexpected error inside pinlint while checking a file or a rule. The run goes on
    with the other files and rules.

    ## Why it pins
    It does not pin; but part of the file was not checked.

    ## How to fix
    Report it as a pinlint bug, with the message and, if you can, the file.

    ## Known limitations
    None known.

    ## References
    - pinlint README
    """

    code = "PIN905"
    name = "internal-error"
    summary = "pinlint failed on this file or rule; the run went on"
    help = "Report it as a pinlint bug with the message"
    severity = Severity.ERROR
    problem_kind = "internal"
    tags = ("meta",)
