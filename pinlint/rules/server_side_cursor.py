from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.connection import add_settings, entry_dict, show, sqlalchemy_driver
from pinlint.model import CallSite, Confidence, Effect, Profile, Value, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext
from pinlint.targets import format_version

_DRIVERS = {"psycopg2.connection.cursor": "psycopg2", "psycopg.Connection.cursor": "psycopg"}


class ServerSideCursor(CallRule):
    """
    ## What it flags
    Configuration that makes a driver declare server-side cursors:

    - psycopg2 and psycopg 3 named cursors: `conn.cursor("name")`,
      `conn.cursor(name=...)`, `psycopg.ServerCursor(conn, "name")`; behind PgBouncer
      only those with `withhold=True`;
    - SQLAlchemy streaming: `execution_options(stream_results=True)`,
      `execution_options(yield_per=N)`, `.yield_per(N)`, and
      `create_engine(..., execution_options={"stream_results": True})` (RDS Proxy only);
    - a Django PostgreSQL database without `"DISABLE_SERVER_SIDE_CURSORS": True`:
      `QuerySet.iterator()` on it declares a cursor, `WITH HOLD` outside `atomic()`.

    ## Why it pins
    A named cursor is a SQL `DECLARE "name" CURSOR ... FOR <query>` sent by the driver,
    and RDS Proxy pins on every `DECLARE ... CURSOR`, with hold or without: the cursor
    lives in the backend session. Behind PgBouncer in transaction mode a cursor without
    hold is fine inside its transaction, but a `WITH HOLD` cursor outlives it on that
    server connection: the next fetch runs on whichever connection is free and fails
    with `cursor "name" does not exist`, and the cursor stays open on the first one.
    Django declares `WITH HOLD` cursors for `iterator()` whenever it runs in
    autocommit mode, which is why its documentation asks for
    `DISABLE_SERVER_SIDE_CURSORS` with transaction pooling.

    ## How to fix
    - Use a client-side cursor (`conn.cursor()`) and page with keyset pagination
      (`WHERE id > %s ORDER BY id LIMIT 1000`), or run the streaming job on a direct
      connection that bypasses the proxy.
    - In Django, set `"DISABLE_SERVER_SIDE_CURSORS": True` in the database entry
      (`pinlint check --fix` adds it), or behind PgBouncer wrap `iterator()` in
      `transaction.atomic()`.
    - Drop `stream_results` / `yield_per` on engines behind RDS Proxy.

    ## Known limitations
    SQLAlchemy streaming on asyncpg uses a protocol-level portal rather than `DECLARE`;
    whether that pins is not settled, and pinlint reports it at low confidence when the
    engine URL says asyncpg. The Django finding sits on the settings entry whether or
    not the project calls `iterator()`: pinlint reads one file at a time.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - psycopg 3, server-side cursors: https://www.psycopg.org/psycopg3/docs/advanced/cursors.html#server-side-cursors
    - Django, transaction pooling and server-side cursors: https://docs.djangoproject.com/en/stable/ref/databases/#transaction-pooling-server-side-cursors
    - SQLAlchemy, streaming with a fixed buffer: https://docs.sqlalchemy.org/en/20/core/connections.html#engine-stream-results
    """

    code = "PIN704"
    name = "server-side-cursor"
    summary = "A named (server-side) cursor, SQLAlchemy streaming or Django `iterator()` declares a cursor that pins"
    help = "Use client-side cursors with keyset pagination; in Django set `DISABLE_SERVER_SIDE_CURSORS: True`"
    tags = ("session-state", "cursors", "configuration")
    callees = frozenset(
        {
            "psycopg.Connection.cursor",
            "psycopg2.connection.cursor",
            "psycopg.ServerCursor",
            "sqlalchemy.execution_options",
            "sqlalchemy.yield_per",
            "sqlalchemy.create_engine",
            "django.DATABASES",
        }
    )
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType(
        {
            Profile.PGBOUNCER: "`WITH HOLD` cursors: `withhold=True`, Django `iterator()` outside `atomic()`",
        }
    )
    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Declare cursors without hold inside a transaction; in Django set `DISABLE_SERVER_SIDE_CURSORS: True` or wrap `iterator()` in `atomic()`",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        pgbouncer = ctx.profile is Profile.PGBOUNCER
        if call.callee in _DRIVERS or call.callee == "psycopg.ServerCursor":
            yield from self._named(call, ctx, pgbouncer)
        elif call.callee == "django.DATABASES":
            yield from self._django(call, ctx, pgbouncer)
        elif not pgbouncer:  # SQLAlchemy's streaming cursors hold nothing past the transaction
            yield from self._sqlalchemy(call)

    def _named(self, call: CallSite, ctx: RuleContext, pgbouncer: bool) -> Iterator[Finding]:
        if call.callee == "psycopg.ServerCursor":
            name, driver = call.argument(1, "name"), "psycopg"
        else:
            name, driver = call.argument(0, "name"), _DRIVERS[call.callee]
        if name is None or (name.kind is ValueKind.LITERAL and not name.literal):
            return  # no name (or "" / None): a client-side cursor
        hold = call.keyword("withhold")
        with_hold = hold is not None and hold.literal is True
        label = show(name, "...").strip("'\"") if name.kind is ValueKind.LITERAL else "..."
        declare = f'`DECLARE "{label}" CURSOR {"WITH HOLD " if with_hold else ""}FOR ...`'
        if pgbouncer:
            if not with_hold:
                return
            yield Finding(
                f"{driver} sends {declare} for this named cursor: the cursor outlives its "
                f"transaction on one server connection, and PgBouncer "
                f"{format_version(ctx.pgbouncer_version)} sends later fetches to whichever "
                f'connection is free: `cursor "{label}" does not exist`, while the cursor '
                "stays open on the first",
                Effect.ERRORS,
                span=hold.span if hold is not None else None,
            )
            return
        yield Finding(
            f"{driver} sends {declare} for this named cursor; RDS Proxy pins the client to "
            "its database connection on any `DECLARE ... CURSOR`",
            Effect.PINS,
            help="Use a client-side cursor (no name) with keyset pagination",
            span=name.span,
        )

    def _sqlalchemy(self, call: CallSite) -> Iterator[Finding]:
        option = self._streaming(call)
        if option is None:
            return
        text, where = option
        driver = sqlalchemy_driver(call) if call.callee == "sqlalchemy.create_engine" else None
        if driver is not None and driver[0] != "postgresql":
            return
        if driver is not None and driver[1] == "asyncpg":
            yield Finding(
                f"{text} makes SQLAlchemy's asyncpg dialect stream through a protocol-level "
                "portal; whether RDS Proxy pins on it is not settled (low confidence)",
                Effect.PINS,
                confidence=Confidence.LOW,
                span=where.span,
            )
            return
        yield Finding(
            f"{text} makes SQLAlchemy fetch through a named server-side cursor: psycopg2 "
            "and psycopg send `DECLARE ... CURSOR FOR ...`, and RDS Proxy pins the client "
            "to its database connection",
            Effect.PINS,
            confidence=Confidence.HIGH if driver is not None else Confidence.MEDIUM,
            help="Drop `stream_results`/`yield_per` behind RDS Proxy and page with keyset pagination",
            span=where.span,
        )

    @staticmethod
    def _streaming(call: CallSite) -> tuple[str, Value] | None:
        if call.callee == "sqlalchemy.yield_per":
            size = call.argument(0, "num")
            return ("`yield_per()`", size) if size is not None else None
        options = call
        if call.callee == "sqlalchemy.create_engine":
            given = call.keyword("execution_options")
            if given is None or given.kind is not ValueKind.DICT:
                return None
            stream, per = given.get("stream_results"), given.get("yield_per")
        else:
            stream, per = options.keyword("stream_results"), options.keyword("yield_per")
        if stream is not None and stream.literal is True:
            return "`stream_results=True`", stream
        if per is not None and not (per.kind is ValueKind.LITERAL and per.literal is None):
            return "`yield_per`", per
        return None

    def _django(self, call: CallSite, ctx: RuleContext, pgbouncer: bool) -> Iterator[Finding]:
        entry = entry_dict(call)
        if entry is None:
            return
        disabled = entry.get("DISABLE_SERVER_SIDE_CURSORS")
        if disabled is not None and disabled.literal is True:
            return
        if disabled is not None and disabled.kind is not ValueKind.LITERAL:
            return  # set from something pinlint cannot read
        if disabled is None and entry.has("DISABLE_SERVER_SIDE_CURSORS") is None:
            return
        fix = (
            add_settings(call, [("DISABLE_SERVER_SIDE_CURSORS", "True")])
            if disabled is None
            else None
        )
        alias = show(call.args[0])
        if pgbouncer:
            message = (
                f"Database {alias} does not set `DISABLE_SERVER_SIDE_CURSORS`: Django's "
                '`QuerySet.iterator()` sends `DECLARE "_django_curs_..." CURSOR WITH HOLD FOR '
                "...` outside `atomic()`, the cursor outlives its transaction, and PgBouncer "
                f"{format_version(ctx.pgbouncer_version)} sends the next fetch to whichever "
                'server connection is free: `cursor "_django_curs_..." does not exist`'
            )
        else:
            message = (
                f"Database {alias} does not set `DISABLE_SERVER_SIDE_CURSORS`: Django's "
                '`QuerySet.iterator()` sends `DECLARE "_django_curs_..." CURSOR ... FOR ...`, '
                "and RDS Proxy pins the client to its database connection"
            )
        yield Finding(
            message,
            self.effect(ctx),
            confidence=Confidence.MEDIUM,
            help=None if fix is not None else 'Set `"DISABLE_SERVER_SIDE_CURSORS": True`',
            fix=fix,
            span=disabled.span if disabled is not None else None,
        )
