from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement


class DiscardSessionState(SqlRule):
    """
    ## What it flags
    `DISCARD ALL`, `DISCARD PLANS`, `DISCARD SEQUENCES` and `DISCARD TEMP[ORARY]`, often
    configured as a pool's reset query.

    ## Why it pins
    AWS lists `DISCARD` among the statements that make RDS Proxy for PostgreSQL pin the
    client session. When a client-side pool runs it on every release, each release pins,
    and AWS warns it can also disturb the proxy's own session handling.

    Behind PgBouncer, `DISCARD` only clears the server connection it runs on, which is
    harmless, with one exception: PgBouncer 1.21 with `max_prepared_statements` above 0
    loses track of the protocol-level statements it prepared on that connection, and
    the client's next one fails. PgBouncer 1.22 understands `DISCARD ALL`.

    ## How to fix
    - Turn off the client pool's reset query: the proxy already resets connections it
      hands to another client.
    - Avoid creating the state that needs discarding (temp tables, SQL prepared
      statements).

    ## Known limitations
    Reset queries configured outside Python code (for example in a pool's config file)
    are not seen.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, DISCARD: https://www.postgresql.org/docs/current/sql-discard.html
    """

    code = "PIN202"
    name = "discard-session-state"
    summary = "`DISCARD ...` pins the connection"
    help = "Remove the reset query; RDS Proxy resets connections between clients itself"
    tags = ("session-state",)
    db_state = frozenset({"prepared-statement", "temp-object", "setting", "sequence-state"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType(
        {Profile.PGBOUNCER: "only `DISCARD ALL` on 1.21 with `max_prepared_statements` > 0"}
    )

    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Upgrade to PgBouncer 1.22 or later, or remove the `DISCARD ALL` "
            "reset query",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.starts_with("discard"):
            what = stmt.words[1].upper() if len(stmt.words) > 1 else ""
            if ctx.profile is Profile.PGBOUNCER:
                # It only clears the server connection; PgBouncer 1.22+ also clears its
                # own prepared-statement tracking. Only 1.21 with tracking on breaks.
                if (
                    what == "ALL"
                    and ctx.pgbouncer_tracks_prepared_statements
                    and not ctx.pgbouncer_at_least(1, 22)
                ):
                    yield Finding(
                        "`DISCARD ALL` drops the statements PgBouncer 1.21 prepared for its "
                        "prepared-statement tracking; the next protocol-level statement fails "
                        'with `prepared statement "PGBOUNCER_..." does not exist` (PgBouncer '
                        "1.22 handles it)",
                        Effect.ERRORS,
                    )
                return
            yield Finding(
                f"`DISCARD {what}` is a session command; the client is pinned to one database connection",
                self.effect(ctx),
            )
