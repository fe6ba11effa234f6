from __future__ import annotations

from collections.abc import Iterable, Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import user_variables
from pinlint.sql.statement import Statement


class UserVariable(SqlRule):
    """
    ## What it flags
    MySQL user variables: assigned with `SET @x = ...`, with `@x := ...` inside another
    statement, or with `SELECT ... INTO @x`, and read (`WHERE id = @x`,
    `EXECUTE s USING @x`). MySQL only.

    ## Why it pins
    A user variable lives in the database session. RDS Proxy for MySQL pins the client
    to its connection when it sees one set, so that later statements find the value.

    The `EXCLUDE_VARIABLE_SETS` session pinning filter makes the proxy ignore `SET`
    statements, so `SET @x = ...` no longer pins: the value then stays on a connection
    that other clients reuse, and a later read of `@x` from this client may run on
    another connection and see `NULL` or another client's value. With the filter on,
    reads are reported as leaks. AWS defines the filter on `SET` statements only, so
    `@x :=` and `SELECT ... INTO @x` are still reported as pinning.

    ## How to fix
    - Pass values as query parameters (`WHERE tenant_id = %s`) instead of keeping them
      in the session.
    - Compute running values in the query (window functions such as `ROW_NUMBER()`
      instead of `@n := @n + 1`).
    - Read values the driver already returns (`cursor.lastrowid`, `cursor.rowcount`)
      instead of storing them in variables.

    ## Known limitations
    Whether `EXCLUDE_VARIABLE_SETS` also ignores `@x :=` and `SELECT ... INTO @x` is not
    documented; pinlint assumes it does not. Variables used inside stored programs are
    invisible to the proxy and not reported.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - AWS, RDS Proxy session pinning filters: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-best-practices.configuration.html
    - MySQL, user-defined variables: https://dev.mysql.com/doc/refman/8.0/en/user-variables.html
    """

    code = "PIN306"
    name = "user-variable"
    summary = "A MySQL user variable (`@x`) pins the connection"
    help = "Pass the value as a query parameter instead of keeping it in a session variable"
    tags = ("session-state", "variables")
    since = "0.2.0"
    effects = MappingProxyType({Profile.RDS_PROXY_MYSQL: Effect.PINS})
    conditions = MappingProxyType(
        {Profile.RDS_PROXY_MYSQL: "`SET @x` not with `EXCLUDE_VARIABLE_SETS`; reads then leak"}
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        uses = user_variables(stmt)
        if not uses:
            return
        assigned = {u.name for u in uses if u.how != "read"}
        filtered = ctx.exclude_variable_sets
        sets = _names(u.name for u in uses if u.how == "set")
        if sets and not filtered:
            yield Finding(
                f"`SET` of {sets} stores a user variable in the database session; the client is "
                "pinned to one database connection",
                self.effect(ctx),
            )
        others = _names(u.name for u in uses if u.how in ("assign", "into"))
        if others:
            note = " (`EXCLUDE_VARIABLE_SETS` covers `SET` statements only)" if filtered else ""
            yield Finding(
                f"{others} {'is' if ',' not in others else 'are'} assigned inside the query and "
                "kept in the database session; the client is pinned to one database "
                f"connection{note}",
                self.effect(ctx),
            )
        reads = _names(u.name for u in uses if u.how == "read" and u.name not in assigned)
        if reads and filtered:
            yield Finding(
                f"reads {reads}: with `EXCLUDE_VARIABLE_SETS` the `SET` that gave it a value did "
                "not pin, so this statement may run on another database connection and see "
                "`NULL` or another client's value",
                Effect.LEAKS,
            )
        elif reads:
            yield Finding(
                f"reads {reads}, a user variable that exists only in the database session; the "
                "client is pinned to one database connection",
                self.effect(ctx),
            )


def _names(names: Iterable[str]) -> str:
    ordered = list(dict.fromkeys(names))
    return ", ".join(f"`{n}`" for n in ordered)
