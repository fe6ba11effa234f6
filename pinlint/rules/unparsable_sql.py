from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class UnparsableSql(MetaRule):
    """
    ## What it flags
    SQL text that sqlglot could not parse (vendor syntax, a template fragment, a typo).
    Not enabled by default; select it (`--select PIN901`) for an audit of what pinlint
    analysed with its fallback.

    ## Why it pins
    It does not pin by itself. pinlint still checks such a statement with a token-level
    classifier, so `SET`, `LISTEN`, advisory locks and the other triggers are still
    found; this note says the finer checks (function arguments, nesting) ran on tokens.

    ## How to fix
    Nothing to fix in most cases. If the SQL is valid PostgreSQL, report it as a
    pinlint bug with the statement.

    ## Known limitations
    sqlglot rejects about one real-world SQL string in ten.

    ## References
    - sqlglot: https://github.com/tobymao/sqlglot
    """

    code = "PIN901"
    name = "unparsable-sql"
    summary = "SQL that the parser rejected was checked with the token-level fallback"
    help = "Nothing to do unless the SQL is valid PostgreSQL; then report it"
    severity = Severity.NOTE
    enabled_by_default = False
    tags = ("meta",)
