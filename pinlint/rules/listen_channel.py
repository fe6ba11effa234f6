from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class ListenChannel(SqlRule):
    """
    ## What it flags
    `LISTEN channel` and its clean-up `UNLISTEN channel` / `UNLISTEN *`. `NOTIFY` and
    `pg_notify()` are not flagged.

    ## Why it pins
    A `LISTEN` registers the backend session for notifications. RDS Proxy for PostgreSQL
    pins the client to that connection for the rest of its session. Behind PgBouncer the
    registration stays with the server connection, not the client: its notifications
    go to whichever client uses that connection next, and this client stops receiving
    them once its transaction ends. `UNLISTEN` then runs on whichever connection
    PgBouncer picks, which may not be the one listening.

    ## How to fix
    - Run listeners on a direct database connection that does not go through the proxy.
    - Or use a queue service for the messages.

    ## Known limitations
    `UNLISTEN` is reported with its trigger; AWS does not say whether `UNLISTEN` alone pins.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, LISTEN: https://www.postgresql.org/docs/current/sql-listen.html
    """

    code = "PIN303"
    name = "listen-channel"
    summary = "`LISTEN` / `UNLISTEN` pins the connection"
    help = "Run listeners on a direct connection that does not go through the proxy"
    tags = ("session-state", "notifications")
    db_state = frozenset({"listen"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.LEAKS}
    )

    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Run listeners on a direct connection or through a session-mode "
            "pool",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.words[:1] in (("listen",), ("unlisten",)):
            channel = stmt.tokens[1].value if len(stmt.tokens) > 1 else ""
            if ctx.profile is Profile.PGBOUNCER:
                if stmt.words[0] == "listen":
                    message = (
                        f"`LISTEN {channel}` registers the server connection, not this client: "
                        "once the transaction ends, notifications on the channel go to the next "
                        "client of that connection, and this client receives none"
                    )
                else:
                    message = (
                        f"`UNLISTEN {channel}` runs on whichever server connection PgBouncer "
                        "assigns; the connection that ran `LISTEN` keeps listening and hands "
                        "the notifications to its next client"
                    )
                yield Finding(message, Effect.LEAKS)
                return
            yield Finding(
                f"`{stmt.words[0].upper()} {channel}` registers this backend session for "
                "notifications; the client is pinned to one database connection",
                self.effect(ctx),
            )
