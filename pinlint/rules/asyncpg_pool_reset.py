from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import CallSite, Effect, Profile, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext

#: What asyncpg's `Connection.get_reset_query()` returns on PostgreSQL.
RESET_QUERY = "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;"
#: Methods of a connection class that replace the reset.
_OVERRIDES = ("get_reset_query", "reset")


class AsyncpgPoolReset(CallRule):
    """
    ## What it flags
    `asyncpg.create_pool(...)` without a way around asyncpg's reset on release: no
    `reset=` coroutine, and no `connection_class=` whose class (defined in the same
    module) overrides `get_reset_query()` or `reset()`.

    ## Why it pins
    Each time a connection goes back to an asyncpg pool, asyncpg sends
    `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;` to clean the
    session. RDS Proxy sees a `RESET ALL` and an `UNLISTEN`, and pins the client to its
    database connection: every pooled connection is pinned from its first release
    (this digest shows up in proxy logs, asyncpg issue 1153). Behind PgBouncer the
    reset is harmless, one more round trip.

    ## How to fix
    - asyncpg 0.30 and later: pass `reset=` a coroutine. The pool then rolls back an
      open transaction and calls it instead of sending the reset query; give it
      nothing to do, or only what your code needs.
    - Any version: a connection class whose `get_reset_query()` returns `""`
      (asyncpg 0.30+, or `_get_reset_query` before), passed as `connection_class=`.

      ```python
      class NoResetConnection(asyncpg.Connection):
          def get_reset_query(self):
              return ""

      pool = await asyncpg.create_pool(dsn, connection_class=NoResetConnection)
      ```

    Without the reset, code that leaves session state behind (`LISTEN`, advisory locks,
    `SET`) leaks it to the next user of the connection: keep that state out of pooled
    connections, which is what RDS Proxy needs anyway.

    ## Known limitations
    A `connection_class` imported from another module is trusted to override the reset.
    `reset=` exists from asyncpg 0.30 on; pinlint does not know the installed version.

    ## References
    - asyncpg issue 1153, the reset query pins RDS Proxy: https://github.com/MagicStack/asyncpg/issues/1153
    - asyncpg pull request 1191, custom reset and `get_reset_query`: https://github.com/MagicStack/asyncpg/pull/1191
    - asyncpg, `create_pool`: https://magicstack.github.io/asyncpg/current/api/index.html#asyncpg.pool.create_pool
    """

    code = "PIN708"
    name = "asyncpg-pool-reset"
    summary = "asyncpg pools send `RESET ALL; UNLISTEN *` on every release, which pins"
    help = 'Pass `reset=` a coroutine (asyncpg 0.30+) or a `connection_class` whose `get_reset_query()` returns `""`'
    tags = ("session-state", "configuration")
    callees = frozenset({"asyncpg.create_pool"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.OK}
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        reset = call.keyword("reset")
        if reset is not None and not (reset.kind is ValueKind.LITERAL and reset.literal is None):
            return
        if reset is None and call.has_keyword("reset") is None:
            return  # a `**mapping` pinlint cannot read may give it
        cls = call.keyword("connection_class")
        if cls is not None:
            if cls.kind is not ValueKind.NAME or cls.methods is None:
                return  # a class pinlint cannot see: trust it
            if any(m in cls.methods for m in _OVERRIDES):
                return
            given = f"`connection_class={cls.name}` does not override `get_reset_query()`, so "
        elif call.has_keyword("connection_class") is None:
            return
        else:
            given = ""
        yield Finding(
            f"{given}asyncpg sends `{RESET_QUERY}` each time a connection is released to this "
            "pool; RDS Proxy pins on the `RESET ALL` and `UNLISTEN *`, so every pooled "
            "connection is pinned from its first release",
            self.effect(ctx),
            span=cls.span if cls is not None else None,
        )
