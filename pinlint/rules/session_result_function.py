from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile, Severity
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement

SESSION_RESULT_FUNCTIONS = ("found_rows", "row_count", "last_insert_id")


class SessionResultFunction(SqlRule):
    """
    ## What it flags
    Calls to MySQL functions that read what the session's previous statement did:
    `FOUND_ROWS()`, `ROW_COUNT()` and `LAST_INSERT_ID()`. MySQL only.

    ## Why it pins
    Their result belongs to the database session: it describes the last statement run
    on that connection. AWS lists `FOUND_ROWS()` and `ROW_COUNT()` among the conditions
    that *sometimes* pin RDS Proxy for MySQL (the exact conditions vary by version);
    older versions of the same page also listed `LAST_INSERT_ID()`. AWS also says
    `ROW_COUNT()` in a multi-statement query is not supported. Reported as a note for
    that reason.

    ## How to fix
    - Read the affected-row count and the generated id from the driver:
      `cursor.rowcount` and `cursor.lastrowid` come with the statement's own result.
    - Instead of `SQL_CALC_FOUND_ROWS` and `FOUND_ROWS()`, run a separate
      `SELECT COUNT(*)`.

    ## Known limitations
    When exactly RDS Proxy pins on these functions is not documented.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - MySQL, information functions: https://dev.mysql.com/doc/refman/8.0/en/information-functions.html
    """

    code = "PIN603"
    name = "session-result-function"
    summary = "`FOUND_ROWS()`, `ROW_COUNT()`, `LAST_INSERT_ID()` sometimes pin RDS Proxy for MySQL"
    help = "Read `cursor.rowcount` / `cursor.lastrowid` from the driver instead"
    severity = Severity.NOTE
    tags = ("session-state",)
    since = "0.2.0"
    effects = MappingProxyType({Profile.RDS_PROXY_MYSQL: Effect.PINS})
    conditions = MappingProxyType({Profile.RDS_PROXY_MYSQL: "sometimes; AWS does not say when"})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        for call in stmt.calls_named(*SESSION_RESULT_FUNCTIONS):
            if call.schema is not None:
                continue
            yield Finding(
                f"`{call.name.upper()}()` reads the result of the session's previous statement; "
                "RDS Proxy for MySQL sometimes pins the client to one database connection for it",
                self.effect(ctx),
            )
