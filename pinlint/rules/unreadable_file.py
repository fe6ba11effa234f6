from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class UnreadableFile(MetaRule):
    """
    ## What it flags
    A file that could not be read as text: bytes that are not valid in the file's
    encoding (UTF-8, or the one a Python `# -*- coding: ... -*-` line declares), or an
    I/O error.

    ## Why it pins
    It does not pin; but nothing in the file was checked.

    ## How to fix
    Save the file as UTF-8 (or declare its encoding), or exclude it.

    ## Known limitations
    None known.

    ## References
    - PEP 263, source code encodings: https://peps.python.org/pep-0263/
    """

    code = "PIN903"
    name = "unreadable-file"
    summary = "The file is not valid text in its encoding, so it was not checked"
    help = "Save it as UTF-8 or declare its encoding, or exclude it"
    severity = Severity.ERROR
    problem_kind = "decode"
    tags = ("meta",)
