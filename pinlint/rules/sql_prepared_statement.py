from __future__ import annotations

from collections.abc import Iterator

from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class SqlPreparedStatement(SqlRule):
    """
    ## What it flags
    SQL-level prepared statements: `PREPARE name AS ...`, `EXECUTE name`, and
    `DEALLOCATE name` / `DEALLOCATE ALL` (the clean-up travels with its trigger). Not
    `PREPARE TRANSACTION` (two-phase commit), and not `EXECUTE` inside a PL/pgSQL body.

    ## Why it pins
    A SQL `PREPARE` creates a named statement that lives in the backend session. RDS
    Proxy for PostgreSQL lists `PREPARE`, `EXECUTE`, `DEALLOCATE` and `DISCARD` among
    the statements that pin the client to its database connection. Drivers that clear
    their statement cache with SQL `DEALLOCATE ALL` (psycopg 3 after a rollback) pin the
    same way.

    ## How to fix
    - Let the driver use protocol-level parameters (`cur.execute(sql, params)`) instead
      of SQL `PREPARE`/`EXECUTE`; unnamed protocol-level statements no longer pin RDS
      Proxy since November 2023.
    - For psycopg 3, connect with `prepare_threshold=None` so it never sends
      `DEALLOCATE`.

    ## Known limitations
    Protocol-level named statements created by drivers are out of scope of this rule.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - psycopg issue 1105, DEALLOCATE ALL pins RDS Proxy: https://github.com/psycopg/psycopg/issues/1105
    """

    code = "PIN201"
    name = "sql-prepared-statement"
    summary = "SQL-level `PREPARE` / `EXECUTE` / `DEALLOCATE` pins the connection"
    help = "Pass parameters through the driver instead of SQL `PREPARE`; disable driver caches that send `DEALLOCATE`"
    tags = ("session-state", "prepared-statements")
    db_state = frozenset({"prepared-statement"})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        words = stmt.words
        if not words or words[0] not in ("prepare", "execute", "deallocate"):
            return
        if words[:2] == ("prepare", "transaction") and len(stmt.tokens) == 3:
            return  # PREPARE TRANSACTION 'gid': two-phase commit, not a statement
        if len(stmt.tokens) < 2:
            return
        name = (
            stmt.tokens[2].value if words[:2] == ("deallocate", "prepare") else stmt.tokens[1].value
        )
        yield Finding(
            f"`{words[0].upper()} {name}` uses a SQL-level prepared statement that lives in the "
            "backend session; the client is pinned to one database connection",
            self.effect(ctx),
        )
