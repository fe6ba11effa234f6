from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class FileTooLarge(MetaRule):
    """
    ## What it flags
    A file over the size limit (2 MiB by default) that mentions a database call. Such
    files are almost always generated; parsing them would cost more than the rest of
    the run. Files over the limit that mention no database call are skipped silently.

    ## Why it pins
    It does not pin; but the file was not checked.

    ## How to fix
    Exclude generated files (`--exclude`), or raise the limit with `--max-file-bytes`
    if the file is hand-written and must be checked.

    ## Known limitations
    None known.

    ## References
    - pinlint README, usage
    """

    code = "PIN904"
    name = "file-too-large"
    summary = "The file is over the size limit and was not checked"
    help = "Exclude generated files, or raise `--max-file-bytes`"
    severity = Severity.WARNING
    problem_kind = "too-large"
    tags = ("meta",)
