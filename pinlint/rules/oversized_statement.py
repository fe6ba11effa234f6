from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class OversizedStatement(SqlRule):
    """
    ## What it flags
    A query text of more than 16,384 bytes (UTF-8) sent in one call: a long literal
    `INSERT ... VALUES` list, an `IN (...)` list of thousands of literals. The size is
    that of the whole string passed to the driver, counted once per call.

    ## Why it pins
    RDS Proxy pins the client session when a query exceeds 16,384 bytes, on every engine
    ("The connection ran a SQL query which exceeded the 16384 byte limit"), PostgreSQL
    and MySQL alike. PgBouncer has no such limit.

    ## How to fix
    - Send smaller batches.
    - Pass lists as one array parameter (`WHERE id = ANY(%s)`) instead of literals.
    - Load bulk data with `COPY`.

    ## Known limitations
    pinlint measures the text it can see. Values that the driver interpolates on the
    client (psycopg2, PyMySQL, psycopg's `ClientCursor`) also count against the limit at
    run time but cannot be measured here.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    """

    code = "PIN601"
    name = "oversized-statement"
    summary = "A query over 16 KB pins the connection"
    help = "Send smaller batches, pass lists as one array parameter, or use `COPY`"
    tags = ("size",)
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.OK,
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.index == 0 and stmt.query_bytes > ctx.max_statement_bytes:
            yield Finding(
                f"the query is {stmt.query_bytes:,} bytes, over RDS Proxy's "
                f"{ctx.max_statement_bytes:,}-byte limit; the client is pinned to one database "
                "connection",
                self.effect(ctx),
            )
