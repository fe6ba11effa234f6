from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import temp_object
from pinlint.sql.statement import Statement


class TemporaryObject(SqlRule):
    """
    ## What it flags
    Temporary tables, views and sequences: `CREATE TEMP[ORARY] TABLE|VIEW|SEQUENCE`,
    `CREATE TEMP TABLE ... AS SELECT`, and `SELECT ... INTO TEMP[ORARY] [TABLE] name`,
    including `ON COMMIT DROP` tables. On MySQL, `CREATE TEMPORARY TABLE`. Behind
    PgBouncer, every temporary object except an `ON COMMIT DROP` table.

    ## Why it pins
    A temporary object belongs to the backend session that created it. RDS Proxy for
    PostgreSQL pins the client to that connection for the rest of its session. Unlike
    PgBouncer, RDS Proxy makes no exception for `ON COMMIT DROP` tables created inside a
    transaction. RDS Proxy for MySQL pins on `CREATE TEMPORARY TABLE` the same way.

    PgBouncer hands the server connection to the next client when the transaction ends,
    with the temporary object still on it: the next client of that connection sees the
    table (and its rows), and this client's next transaction may run on another
    connection, where the table does not exist. A table created with `ON COMMIT DROP`
    is gone before that, so it is safe there.

    ## How to fix
    - Use a CTE (`WITH ...`) or a derived table for intermediate results.
    - Use a regular (or unlogged) table keyed by a job or session id, cleaned up
      explicitly.
    - Run batch jobs that need temp tables on a direct connection, not through the proxy.

    ## Known limitations
    Temporary objects created inside a function or procedure are invisible to the proxy
    and are not reported.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, CREATE TABLE (TEMPORARY): https://www.postgresql.org/docs/current/sql-createtable.html
    """

    code = "PIN301"
    name = "temporary-object"
    summary = "A temporary table, view or sequence pins the connection"
    help = "Use a CTE or a regular table keyed by a job id, or run the job on a direct connection"
    tags = ("session-state", "temporary-objects")
    db_state = frozenset({"temp-object"})
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.LEAKS,
        }
    )
    conditions = MappingProxyType({Profile.PGBOUNCER: "not `ON COMMIT DROP` tables"})

    help_for = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "Use a derived table or a CTE, or a regular table keyed by a "
            "job id",
            Profile.PGBOUNCER: "Create it with `ON COMMIT DROP` inside the transaction that uses "
            "it, or use a CTE",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        obj = temp_object(stmt)
        if obj is None:
            return
        if ctx.profile is Profile.PGBOUNCER:
            if obj.on_commit_drop and obj.kind == "table":
                return  # dropped at commit, before PgBouncer releases the connection
            yield Finding(
                f"the temporary {obj.kind} stays on the server connection when the transaction "
                "ends: the next client of that connection sees it, and this client's next "
                "transaction may run on another connection, where it does not exist "
                "(`relation ... does not exist`)",
                Effect.LEAKS,
            )
            return
        extra = " (`ON COMMIT DROP` does not help on RDS Proxy)" if obj.on_commit_drop else ""
        yield Finding(
            f"a temporary {obj.kind} belongs to this backend session; the client is pinned to one "
            f"database connection{extra}",
            self.effect(ctx),
        )
