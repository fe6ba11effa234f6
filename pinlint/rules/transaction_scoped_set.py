from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import set_command, set_config_calls, setting_name
from pinlint.sql.statement import Statement


class TransactionScopedSet(SqlRule):
    """
    ## What it flags
    Transaction-scoped settings: `SET LOCAL ...`, `set_config(name, value, true)`,
    `SET TRANSACTION ...` and `SET CONSTRAINTS ...`.

    ## Why it pins
    The value dies with the transaction, so these look safe, and behind PgBouncer they
    are. RDS Proxy for PostgreSQL has no such exception: its list of pinning statements
    names `SET` and `set_config` without one (the `SET LOCAL` exemption exists only for
    MySQL), and a production incident log shows every session pinned by a
    transaction-local `set_config(..., true)` prefix. `SET TRANSACTION` and
    `SET CONSTRAINTS` are not mentioned by AWS at all; they are reported because the
    proxy sees a `SET` statement, with that uncertainty stated in the message.

    Behind PgBouncer these are the fix, not the problem: the value ends with the
    transaction, before PgBouncer hands the server connection to anyone else. On MySQL,
    `SET LOCAL` means the session scope and `SET TRANSACTION` is PIN101's.

    ## How to fix
    - Put the per-transaction value inside a SQL or PL/pgSQL function and call it: RDS
      Proxy does not inspect function bodies, and the state stays transaction-local.
    - Choose the isolation level in the `BEGIN` itself (`BEGIN ISOLATION LEVEL
      SERIALIZABLE`) instead of `SET TRANSACTION`.
    - Declare constraints `DEFERRABLE INITIALLY DEFERRED` instead of `SET CONSTRAINTS`.

    ## Known limitations
    Whether RDS Proxy pins on `SET TRANSACTION` and `SET CONSTRAINTS` is not documented.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - django-pghistory issue 245 (RDS Proxy log for a transaction-local `set_config`): https://github.com/AmbitionEng/django-pghistory/issues/245
    """

    code = "PIN103"
    name = "transaction-scoped-set"
    summary = "`SET LOCAL` / `set_config(..., true)` still pins on RDS Proxy for PostgreSQL"
    help = "Move the setting into a SQL function the query calls, or put the isolation level in `BEGIN`"
    tags = ("session-state", "settings")
    db_state = frozenset({"setting"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.OK}
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        cmd = set_command(stmt)
        if cmd is not None and cmd.scope == "local":
            yield Finding(
                f"`SET LOCAL {cmd.parameter}` is transaction-scoped, but RDS Proxy for PostgreSQL "
                "still pins the client to one database connection",
                self.effect(ctx),
            )
        elif cmd is not None and cmd.scope in ("transaction", "constraints"):
            yield Finding(
                f"`SET {cmd.parameter.upper()}` is a `SET` statement that RDS Proxy may treat as a "
                "session change and pin (not documented either way)",
                self.effect(ctx),
            )
        for call, is_local in set_config_calls(stmt):
            if is_local is True:
                yield Finding(
                    f"`set_config('{setting_name(call)}', ..., true)` is transaction-local, but RDS "
                    "Proxy for PostgreSQL still pins the client to one database connection",
                    self.effect(ctx),
                )
