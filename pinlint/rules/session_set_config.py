from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import set_config_calls, setting_name
from pinlint.sql.statement import Statement
from pinlint.targets import PGBOUNCER_EMPTY_DEFAULT, format_version, pgbouncer_tracks


class SessionSetConfig(SqlRule):
    """
    ## What it flags
    A call to `set_config(name, value, false)` (or `pg_catalog.set_config`) anywhere in
    a query: in the select list, a CTE, a subquery. A call whose third argument is not
    a literal (a placeholder) is reported too, because both values pin on RDS Proxy.

    ## Why it pins
    `set_config(..., false)` is a session-level `SET` written as a function call. AWS
    names `set_config` explicitly among the statements that make RDS Proxy for
    PostgreSQL pin the client to its database connection for the rest of the session.

    Behind PgBouncer the value stays on the server connection after the transaction
    and reaches the next client of that connection, unless it is a parameter PgBouncer
    tracks (`TimeZone`, `application_name`, ...; Django's
    `set_config('TimeZone', ..., false)` is fine there).

    ## How to fix
    - Make the value a role or database default (`ALTER ROLE app SET ...`), or move the
      statement to the proxy's initialization query.
    - If the value really changes per request (a tenant id for row-level security), set
      it inside a SQL or PL/pgSQL function that the query calls: RDS Proxy does not
      inspect function bodies, and `set_config(..., true)` inside the function keeps the
      value transaction-local.

    ## Known limitations
    A `set_config` inside a function body or `DO` block is not seen by the proxy and is
    not reported here. Transaction-local calls (`true`) are reported by PIN103.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, configuration settings functions: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SET
    """

    code = "PIN102"
    name = "session-set-config"
    summary = "`set_config(name, value, false)` changes a session setting and pins the connection"
    help = "Make it a role default, or call it from inside a SQL function with `is_local => true`"
    tags = ("session-state", "settings")
    db_state = frozenset({"setting"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.LEAKS}
    )
    conditions = MappingProxyType({Profile.PGBOUNCER: "untracked parameters"})

    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Use `set_config(name, value, true)` inside the transaction that "
            "needs it, or make it a role default (`ALTER ROLE ... SET`)",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        for call, is_local in set_config_calls(stmt):
            if is_local is True:
                continue
            name = setting_name(call)
            if ctx.profile is Profile.PGBOUNCER:
                tracked = pgbouncer_tracks(name, ctx.pgbouncer_version)
                if name != "?" and tracked and name.lower() not in PGBOUNCER_EMPTY_DEFAULT:
                    continue
                note = "" if is_local is False else " (is_local is not a literal; it may be false)"
                yield Finding(
                    f"`set_config('{name}', ..., false)` stays on the server connection when the "
                    f"transaction ends: PgBouncer {format_version(ctx.pgbouncer_version)} does "
                    "not track it, so the next client of that connection runs with this value, "
                    f"and this client's next transaction may run without it{note}",
                    Effect.LEAKS,
                )
                continue
            note = "" if is_local is False else " (is_local is not a literal; both values pin)"
            yield Finding(
                f"`set_config('{setting_name(call)}', ..., false)` changes a session setting; "
                f"the client is pinned to one database connection{note}",
                self.effect(ctx),
            )
