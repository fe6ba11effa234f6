from __future__ import annotations

from collections.abc import Iterator

from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import set_command
from pinlint.sql.statement import Statement


class SessionSet(SqlRule):
    """
    ## What it flags
    `SET` and `RESET` of a session parameter: `SET search_path ...`, `SET SESSION ...`,
    `SET ... TO DEFAULT`, `RESET ...`, `RESET ALL`, and the special forms `SET ROLE`,
    `SET SESSION AUTHORIZATION`, `SET TIME ZONE`, `SET NAMES` and
    `SET SESSION CHARACTERISTICS AS TRANSACTION ...`.

    ## Why it pins
    RDS Proxy for PostgreSQL does not track session settings. When a client changes
    one (or resets one to its default), the proxy keeps that client on its current
    database connection for the rest of the client session, so the connection is no
    longer shared. The proxy log says "SQL changed session settings that the proxy
    doesn't track". PostgreSQL has no pinning filter that turns this off.

    ## How to fix
    - Make the value a default of the role or database the application connects as:
      `ALTER ROLE app SET search_path = app, public`.
    - Or put the identical statement in the proxy's initialization query and delete it
      from the application.
    - For `application_name`, `client_encoding`, `DateStyle`, `TimeZone`,
      `extra_float_digits` and `search_path`, pass the value as a startup parameter of
      the connection, which RDS Proxy accepts.
    - Set isolation per transaction (`BEGIN ISOLATION LEVEL ...`) instead of
      `SET SESSION CHARACTERISTICS`; connect as the right user instead of `SET ROLE`.

    ## Known limitations
    Only SQL text that pinlint can see is checked. Settings changed inside a function or
    procedure, or in a `DO` block, are invisible to the proxy and are not reported here.
    `SET LOCAL`, `SET TRANSACTION` and `SET CONSTRAINTS` are reported by PIN103.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - AWS, RDS Proxy initialization queries: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-best-practices.configuration.html
    - AWS, connecting to PostgreSQL through RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-connecting.html
    """

    code = "PIN101"
    name = "session-set"
    summary = "`SET`/`RESET` of a session parameter pins the connection"
    help = "Make it a role or database default (`ALTER ROLE ... SET`) or move it to the proxy's initialization query"
    tags = ("session-state", "settings")
    db_state = frozenset({"setting", "role"})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        cmd = set_command(stmt)
        if cmd is None or cmd.scope not in ("session",):
            return
        what = f"{cmd.verb.upper()} {cmd.parameter}".strip()
        yield Finding(
            f"`{what}` changes a session setting that RDS Proxy does not track; "
            "the client is pinned to one database connection",
            self.effect(ctx),
        )
