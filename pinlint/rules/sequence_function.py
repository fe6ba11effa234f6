from __future__ import annotations

from collections.abc import Iterator

from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import stores_without_running
from pinlint.sql.statement import Statement

SEQUENCE_FUNCTIONS = ("nextval", "setval", "currval", "lastval")


class SequenceFunction(SqlRule):
    """
    ## What it flags
    Calls to the sequence functions `nextval`, `setval`, `currval` and `lastval` in a
    statement that runs, anywhere in it (select list, `VALUES`, CTE, subquery). Not the
    `DEFAULT nextval(...)` of a column definition or other DDL that stores the call for
    later: inserts that rely on a column default never show `nextval` to the proxy.

    ## Why it pins
    `nextval` and `setval` update per-session sequence state (what `currval` and
    `lastval` later return). AWS names them among the statements that make RDS Proxy
    for PostgreSQL pin the client session; `currval` and `lastval` read that state and
    are treated the same. AWS also notes `lastval()` results are not always accurate
    behind the proxy.

    ## How to fix
    - Let the column default (`GENERATED ... AS IDENTITY`, `serial`) produce the id and
      read it back in the same statement with `INSERT ... RETURNING id`.

    ## Known limitations
    Sequence calls inside functions and triggers are invisible to the proxy and not
    reported. SQLAlchemy `Sequence()` columns that render `nextval` are only seen where
    the SQL text is.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, sequence manipulation functions: https://www.postgresql.org/docs/current/functions-sequence.html
    """

    code = "PIN305"
    name = "sequence-function"
    summary = "`nextval` / `setval` / `currval` / `lastval` pins the connection"
    help = "Let the column default generate the id and read it with `INSERT ... RETURNING`"
    tags = ("session-state", "sequences")
    db_state = frozenset({"sequence-state"})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stores_without_running(stmt):
            return
        for call in stmt.calls_named(*SEQUENCE_FUNCTIONS):
            if call.in_column_default or call.schema not in (None, "pg_catalog"):
                continue
            yield Finding(
                f"`{call.name}()` uses per-session sequence state; the client is pinned to one "
                "database connection",
                self.effect(ctx),
            )
