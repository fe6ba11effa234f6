from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.connection import add_settings, sqlalchemy_driver, sqlalchemy_url
from pinlint.model import CallSite, Confidence, Effect, Fix, Profile, Value, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext
from pinlint.targets import format_version

#: asyncpg's default `statement_cache_size`, and the SQLAlchemy dialect's default
#: `prepared_statement_cache_size`.
DEFAULT_CACHE = 100
_NAME_FUNC = "prepared_statement_name_func"


class AsyncpgStatementCache(CallRule):
    """
    ## What it flags
    asyncpg configurations that create named protocol-level prepared statements:

    - `asyncpg.connect(...)` and `asyncpg.create_pool(...)` without
      `statement_cache_size=0` (the cache keeps 100 named statements per connection);
    - SQLAlchemy engines on `postgresql+asyncpg://` without
      `"prepared_statement_cache_size": 0` in `connect_args` (or in the URL); behind
      PgBouncer without prepared-statement tracking, also without a
      `prepared_statement_name_func` (the dialect prepares every statement, cache or
      not, and the generated names collide between clients);
    - `Connection.prepare(...)` in an asyncpg module.

    Keyword arguments are read through `**dict` literals and module-level dicts.

    ## Why it pins
    asyncpg prepares each query as a named statement (`__asyncpg_stmt_1__`, ...) and
    reuses it from a per-connection cache. Whether RDS Proxy for PostgreSQL pins on
    named protocol-level statements has not been settled since it learned the extended
    query protocol in November 2023: AWS no longer lists them, and no source shows the
    pin either way. pinlint reports them on RDS Proxy at low confidence, to be settled
    with one look at the `DatabaseConnectionsCurrentlySessionPinned` metric.

    PgBouncer in transaction mode without prepared-statement tracking (before 1.21, or
    `max_prepared_statements = 0`) runs each transaction on whichever server connection
    is free, so a cached statement is missing there: `prepared statement
    "__asyncpg_stmt_1__" does not exist`, or the next client gets `already exists`.
    This is asyncpg's own FAQ entry. From 1.21 with `max_prepared_statements` above 0,
    PgBouncer tracks them and nothing is reported.

    ## How to fix
    - Pass `statement_cache_size=0`: asyncpg then uses unnamed statements.
      `pinlint check --fix` adds it where the change is local.
    - For SQLAlchemy, `connect_args={"statement_cache_size": 0,
      "prepared_statement_cache_size": 0}`; behind PgBouncer also
      `"prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"` and
      `poolclass=NullPool`, SQLAlchemy's documented recipe.
    - Avoid `Connection.prepare()` behind a pooler without tracking.
    - Or run PgBouncer 1.21+ with `max_prepared_statements` above 0.

    ## Known limitations
    asyncpg's `copy_records_to_table()` and type introspection also prepare named
    statements whatever the cache size; they are not reported. A URL built at run time
    is not read, so an engine's driver must be visible in its URL literal.

    ## References
    - asyncpg FAQ, prepared statements and PgBouncer: https://magicstack.github.io/asyncpg/current/faq.html#why-am-i-getting-prepared-statement-errors
    - SQLAlchemy, asyncpg prepared statement cache and PgBouncer: https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#prepared-statement-cache
    - AWS, multiplexing for the PostgreSQL extended query protocol: https://aws.amazon.com/blogs/database/amazon-rds-proxy-multiplexing-support-for-postgresql-extended-query-protocol/
    - PgBouncer, `max_prepared_statements`: https://www.pgbouncer.org/config.html#max_prepared_statements
    """

    code = "PIN703"
    name = "asyncpg-statement-cache"
    summary = "asyncpg's statement cache creates named prepared statements unless `statement_cache_size=0`"
    help = "Pass `statement_cache_size=0` (for SQLAlchemy, `prepared_statement_cache_size=0` and `statement_cache_size=0` in `connect_args`)"
    tags = ("prepared-statements", "configuration")
    precision = "medium"
    callees = frozenset(
        {
            "asyncpg.connect",
            "asyncpg.create_pool",
            "sqlalchemy.create_engine",
            "asyncpg.Connection.prepare",
        }
    )
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: "not settled for named protocol-level statements; low confidence",
            Profile.PGBOUNCER: "before 1.21 or `max_prepared_statements = 0`",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.profile is Profile.PGBOUNCER and ctx.pgbouncer_tracks_prepared_statements:
            return
        if call.callee == "asyncpg.Connection.prepare":
            yield Finding(
                self._message(
                    "`prepare()` creates a named protocol-level statement on this connection",
                    ctx,
                ),
                self.effect(ctx),
                confidence=self._confidence(ctx),
                help="Run the query directly (`fetch`, `execute`) with `statement_cache_size=0` behind a pooler",
            )
        elif call.callee == "sqlalchemy.create_engine":
            yield from self._sqlalchemy(call, ctx)
        else:
            yield from self._asyncpg(call, ctx)

    def _asyncpg(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        size = call.keyword("statement_cache_size")
        fix = None
        if size is None:
            if call.has_keyword("statement_cache_size") is not False:
                return
            given = f"keeps up to {DEFAULT_CACHE} (the default `statement_cache_size`)"
            fix = add_settings(call, [("statement_cache_size", "0")])
        elif _is_count(size) and size.literal:
            given = f"keeps up to {size.literal} (`statement_cache_size={size.literal}`)"
        else:
            return
        yield Finding(
            self._message(
                f"asyncpg {given} named protocol-level statements (`__asyncpg_stmt_1__`, ...) "
                "per connection",
                ctx,
            ),
            self.effect(ctx),
            confidence=self._confidence(ctx),
            help="Set `statement_cache_size=0`",
            fix=fix,
            span=size.span if size is not None else None,
        )

    def _sqlalchemy(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        if sqlalchemy_driver(call) != ("postgresql", "asyncpg"):
            return
        args = call.keyword("connect_args")
        if args is None and call.has_keyword("connect_args") is not False:
            return
        if args is not None and args.kind is not ValueKind.DICT:
            return
        url = sqlalchemy_url(call)
        size = args.get("prepared_statement_cache_size") if args is not None else None
        in_url = url.query.get("prepared_statement_cache_size") if url is not None else None
        cached = True
        if size is not None:
            if not _is_count(size):
                return
            cached = bool(size.literal)
        elif in_url is not None:
            cached = in_url.strip() != "0"
        elif args is not None and args.has("prepared_statement_cache_size") is None:
            return
        pgbouncer = ctx.profile is Profile.PGBOUNCER
        named = pgbouncer and (args is None or args.has(_NAME_FUNC) is False)
        if not cached and not named:
            return
        if cached:
            lead = (
                "SQLAlchemy's asyncpg dialect prepares every statement as a named "
                "protocol-level statement and keeps up to "
                f"{size.literal if size is not None else DEFAULT_CACHE} per connection "
                "(`prepared_statement_cache_size`)"
            )
        else:
            lead = (
                "SQLAlchemy's asyncpg dialect still prepares every statement as a named "
                "protocol-level statement, and without `prepared_statement_name_func` the "
                "names (`__asyncpg_stmt_1__`, ...) repeat between clients"
            )
        fix: Fix | None = None
        if cached and not named and size is None and in_url is None:
            wanted = [("prepared_statement_cache_size", "0")]
            if args is None or args.has("statement_cache_size") is False:
                wanted.append(("statement_cache_size", "0"))
            fix = add_settings(call, wanted, "connect_args")
        help_text = None
        if named:
            help_text = (
                'Add `"prepared_statement_cache_size": 0, "statement_cache_size": 0` and '
                '`"prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__"` to '
                "`connect_args`, with `poolclass=NullPool`"
            )
        else:
            help_text = 'Set `"prepared_statement_cache_size": 0` in `connect_args`'
        yield Finding(
            self._message(lead, ctx),
            self.effect(ctx),
            confidence=self._confidence(ctx),
            help=help_text,
            fix=fix,
        )

    @staticmethod
    def _confidence(ctx: RuleContext) -> Confidence:
        return Confidence.LOW if ctx.profile is Profile.RDS_PROXY_POSTGRES else Confidence.HIGH

    @staticmethod
    def _message(lead: str, ctx: RuleContext) -> str:
        if ctx.profile is Profile.PGBOUNCER:
            version = format_version(ctx.pgbouncer_version)
            return (
                f"{lead}; PgBouncer {version} without prepared-statement tracking "
                f"(`max_prepared_statements = {ctx.max_prepared_statements}`) runs the next "
                "transaction on whichever server connection is free, where it fails with "
                '`prepared statement "__asyncpg_stmt_1__" does not exist`, or the next '
                "client gets `already exists`"
            )
        return (
            f"{lead}; whether RDS Proxy pins on named protocol-level statements is not "
            "settled (reported at low confidence: check the proxy's pinning metric)"
        )


def _is_count(value: Value) -> bool:
    return (
        value.kind is ValueKind.LITERAL
        and isinstance(value.literal, int)
        and not isinstance(value.literal, bool)
    )
