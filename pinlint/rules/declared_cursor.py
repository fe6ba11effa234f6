from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import cursor_declaration
from pinlint.sql.statement import Statement


class DeclaredCursor(SqlRule):
    """
    ## What it flags
    `DECLARE name CURSOR ... FOR ...`, with or without `WITH HOLD`. PL/pgSQL `DECLARE`
    sections inside `DO` blocks and function bodies are not cursors and are not flagged.
    Behind PgBouncer, only `WITH HOLD` cursors.

    ## Why it pins
    A declared cursor lives in the backend session. RDS Proxy for PostgreSQL pins the
    client to its connection for any declared cursor, held or not. A `WITH HOLD` cursor
    also outlives its transaction, which breaks transaction poolers such as PgBouncer:
    the cursor stays on the server connection after `COMMIT`, the next `FETCH` from the
    same client may run on another connection and fail with `cursor "..." does not
    exist`, and the next client of the first connection inherits the open cursor. A
    cursor without hold can only exist inside a transaction and closes with it, so it
    is safe behind PgBouncer.

    ## How to fix
    - Page with keyset pagination (`WHERE id > $1 ORDER BY id LIMIT 1000`) or fetch the
      result on the client.
    - Turn off the ORM's server-side cursors behind the proxy (Django
      `DISABLE_SERVER_SIDE_CURSORS = True`; no `stream_results` in SQLAlchemy).

    ## Known limitations
    Named cursors created by drivers (`conn.cursor(name=...)`) send their own `DECLARE`
    and are out of scope of this rule.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, DECLARE: https://www.postgresql.org/docs/current/sql-declare.html
    """

    code = "PIN302"
    name = "declared-cursor"
    summary = "`DECLARE ... CURSOR` pins the connection"
    help = "Use keyset pagination or a client-side fetch instead of a server-side cursor"
    tags = ("session-state", "cursors")
    db_state = frozenset({"cursor", "cursor-with-hold"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType({Profile.PGBOUNCER: "`WITH HOLD` cursors only"})

    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Declare the cursor without `WITH HOLD`, inside the transaction "
            "that fetches from it",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        cursor = cursor_declaration(stmt)
        if cursor is None:
            return
        if ctx.profile is Profile.PGBOUNCER:
            if cursor.with_hold:
                yield Finding(
                    f"cursor `{cursor.name}` is `WITH HOLD`: it stays on the server connection "
                    "after COMMIT, so a later FETCH may run on another connection and fail with "
                    f'`cursor "{cursor.name}" does not exist`, and the next client of this one '
                    "inherits the open cursor",
                    Effect.ERRORS,
                )
            return
        hold = " `WITH HOLD`, so it also outlives the transaction;" if cursor.with_hold else ""
        yield Finding(
            f"cursor `{cursor.name}` is declared in the backend session;{hold} the client is pinned "
            "to one database connection",
            self.effect(ctx),
        )
