from __future__ import annotations

from collections.abc import Iterator

from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class ListenChannel(SqlRule):
    """
    ## What it flags
    `LISTEN channel` and its clean-up `UNLISTEN channel` / `UNLISTEN *`. `NOTIFY` and
    `pg_notify()` are not flagged.

    ## Why it pins
    A `LISTEN` registers the backend session for notifications. RDS Proxy for PostgreSQL
    pins the client to that connection for the rest of its session; behind a transaction
    pooler the listener sits on a random backend and notifications are lost.

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

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.words[:1] in (("listen",), ("unlisten",)):
            channel = stmt.tokens[1].value if len(stmt.tokens) > 1 else ""
            yield Finding(
                f"`{stmt.words[0].upper()} {channel}` registers this backend session for "
                "notifications; the client is pinned to one database connection",
                self.effect(ctx),
            )
