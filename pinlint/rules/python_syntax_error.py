from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class PythonSyntaxError(MetaRule):
    """
    ## What it flags
    A Python file that does not parse. pinlint reports it once and goes on with the
    other files.

    ## Why it pins
    It does not pin; but nothing in the file was checked.

    ## How to fix
    Fix the syntax error, or exclude the file (`--exclude`) if it is a template or
    deliberately invalid.

    ## Known limitations
    Syntax newer than the parser's grammar is reported here too.

    ## References
    - LibCST: https://libcst.readthedocs.io/
    """

    code = "PIN902"
    name = "python-syntax-error"
    summary = "The Python file does not parse, so it was not checked"
    help = "Fix the syntax error or exclude the file"
    severity = Severity.ERROR
    problem_kind = "syntax"
    tags = ("meta",)
