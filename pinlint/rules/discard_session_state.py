from __future__ import annotations

from collections.abc import Iterator

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

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.starts_with("discard"):
            what = stmt.words[1].upper() if len(stmt.words) > 1 else ""
            yield Finding(
                f"`DISCARD {what}` is a session command; the client is pinned to one database connection",
                self.effect(ctx),
            )
