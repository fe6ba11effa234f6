from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import stores_without_running
from pinlint.sql.statement import Statement

SEQUENCE_FUNCTIONS = ("nextval", "setval", "currval", "lastval")


class SequenceFunction(SqlRule):
    """
    ## What it flags
    Calls to the sequence functions `nextval`, `setval`, `currval` and `lastval` in a
    statement that runs, anywhere in it (select list, `VALUES`, CTE, subquery). Not the
    `DEFAULT nextval(...)` of a column definition or other DDL that stores the call for
    later: inserts that rely on a column default never show `nextval` to the proxy.

    ## Why it pins
    `nextval` and `setval` update per-session sequence state (what `currval` and
    `lastval` later return). AWS names them among the statements that make RDS Proxy
    for PostgreSQL pin the client session; `currval` and `lastval` read that state and
    are treated the same. AWS also notes `lastval()` results are not always accurate
    behind the proxy.

    Behind PgBouncer, `nextval` and `setval` are fine: the value `nextval` returns is the
    caller's. But the value `currval` and `lastval` read is cached in the server
    connection, so a `currval` in a later transaction (the next autocommit statement)
    may run on another connection and fail with `currval of sequence "..." is not yet
    defined in this session`, or return the value another client of that connection
    got. They are reported there unless the same statement calls `nextval` or `setval`
    first; one in the same explicit transaction is safe, but pinlint cannot see
    transactions across calls.

    ## How to fix
    - Let the column default (`GENERATED ... AS IDENTITY`, `serial`) produce the id and
      read it back in the same statement with `INSERT ... RETURNING id`.

    ## Known limitations
    Sequence calls inside functions and triggers are invisible to the proxy and not
    reported. SQLAlchemy `Sequence()` columns that render `nextval` are only seen where
    the SQL text is.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, sequence manipulation functions: https://www.postgresql.org/docs/current/functions-sequence.html
    """

    code = "PIN305"
    name = "sequence-function"
    summary = "`nextval` / `setval` / `currval` / `lastval` pins the connection"
    help = "Let the column default generate the id and read it with `INSERT ... RETURNING`"
    tags = ("session-state", "sequences")
    db_state = frozenset({"sequence-state"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.LEAKS}
    )
    conditions = MappingProxyType(
        {Profile.PGBOUNCER: "`currval`/`lastval` only; `nextval` and `setval` are ok"}
    )
    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Read the id from `INSERT ... RETURNING id`, or call `currval` "
            "in the same transaction as its `nextval`",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stores_without_running(stmt):
            return
        calls = [
            c
            for c in stmt.calls_named(*SEQUENCE_FUNCTIONS)
            if not c.in_column_default and c.schema in (None, "pg_catalog")
        ]
        if ctx.profile is Profile.PGBOUNCER:
            if any(c.name in ("nextval", "setval") for c in calls):
                return  # the value is set and read on one server connection
            for call in calls:
                yield Finding(
                    f"`{call.name}()` reads the sequence value cached in the server connection: "
                    "if the `nextval` ran in an earlier transaction, PgBouncer may run this one "
                    f"on another connection, where `{call.name}()` fails (`not yet defined in "
                    "this session`) or returns another client's value",
                    Effect.LEAKS,
                )
            return
        for call in calls:
            yield Finding(
                f"`{call.name}()` uses per-session sequence state; the client is pinned to one "
                "database connection",
                self.effect(ctx),
            )
