from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class LoadLibrary(SqlRule):
    """
    ## What it flags
    `LOAD 'library'`, which loads a shared library into the backend session. Not
    `COPY`, and not MySQL's `LOAD DATA`.

    ## Why it pins
    The library stays loaded in that backend session only. RDS Proxy for PostgreSQL
    lists `LOAD` among the statements that pin the client to its database connection.
    Behind PgBouncer the library stays loaded in the server connection, for whichever
    client uses it next, while this client's next transaction may run without it.

    ## How to fix
    - Load the library for every session through the parameter group:
      `shared_preload_libraries` or `session_preload_libraries`.

    ## Known limitations
    None known.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, LOAD: https://www.postgresql.org/docs/current/sql-load.html
    """

    code = "PIN304"
    name = "load-library"
    summary = "`LOAD 'library'` pins the connection"
    help = "Preload the library with `shared_preload_libraries` or `session_preload_libraries`"
    tags = ("session-state",)
    db_state = frozenset({"library"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.LEAKS}
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.starts_with("load") and len(stmt.words) < 2:
            library = stmt.tokens[1].value if len(stmt.tokens) > 1 else ""
            if ctx.profile is Profile.PGBOUNCER:
                yield Finding(
                    f"`LOAD '{library}'` stays loaded in the server connection when the "
                    "transaction ends: the next client of that connection runs with it, and "
                    "this client's next transaction may run without it",
                    Effect.LEAKS,
                )
                return
            yield Finding(
                f"`LOAD '{library}'` loads a library into this backend session; the client is "
                "pinned to one database connection",
                self.effect(ctx),
            )
