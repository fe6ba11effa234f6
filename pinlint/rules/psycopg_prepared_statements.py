from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.connection import add_settings, entry_dict, show, sqlalchemy_driver
from pinlint.model import CallSite, Confidence, Effect, Fix, Profile, Value, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext
from pinlint.targets import format_version

#: psycopg's default `prepare_threshold`.
DEFAULT_THRESHOLD = 5
_WHERE_HELP = {
    "psycopg.connect": "Connect with `prepare_threshold=None`",
    "psycopg.AsyncConnection.connect": "Connect with `prepare_threshold=None`",
    "psycopg_pool.ConnectionPool": 'Give the pool `kwargs={"prepare_threshold": None}`',
    "sqlalchemy.create_engine": 'Add `"prepare_threshold": None` to `connect_args`',
}


class PsycopgPreparedStatements(CallRule):
    """
    ## What it flags
    psycopg 3 connections that keep its automatic prepared statements on:

    - `psycopg.connect(...)`, `psycopg.Connection.connect(...)` and
      `AsyncConnection.connect(...)` without `prepare_threshold=None`;
    - `psycopg_pool.ConnectionPool(...)` (and the async and null pools) whose
      `kwargs=` does not hold `"prepare_threshold": None`;
    - SQLAlchemy engines on `postgresql+psycopg://` (or `+psycopg_async`) whose
      `connect_args` do not hold `"prepare_threshold": None`;
    - `execute(query, prepare=True)` in a psycopg module, which prepares at once;
    - a Django PostgreSQL database with `OPTIONS["server_side_binding"] = True` and an
      integer `prepare_threshold` (Django otherwise turns prepared statements off).

    Keyword arguments are read through `**dict` literals and module-level dicts. A
    threshold given as a name pinlint cannot read is not reported.

    ## Why it pins
    psycopg 3 prepares a query as a named protocol-level statement (`_pg3_0`, `_pg3_1`,
    ...) once it has run `prepare_threshold` times (5) on a connection, and keeps up to
    100. Once a connection holds one, any rollback (including the one every pool does
    when a connection is returned) makes psycopg clear them with the SQL statement
    `DEALLOCATE ALL`, sent as text even with libpq 17 (psycopg issue 1105 shows it
    pinning RDS Proxy). RDS Proxy for PostgreSQL pins on SQL `DEALLOCATE`; whether the
    named statements themselves pin is not settled, and the finding carries medium
    confidence.

    PgBouncer in transaction mode without prepared-statement tracking (before 1.21, or
    `max_prepared_statements = 0`) sends each transaction to whichever server
    connection is free: a statement prepared on one is missing on the next,
    `prepared statement "_pg3_0" does not exist`, and another client finds the name
    taken (`already exists`). PgBouncer 1.21 tracks the statements but not
    `DEALLOCATE ALL`, which then drops its own copies; 1.22 and later handle both.

    ## How to fix
    - Connect with `prepare_threshold=None` (psycopg 3.1+): psycopg then never
      prepares and never deallocates. `pinlint check --fix` adds it to the call, to
      `connect_args` for SQLAlchemy, or to the pool's `kwargs`, when that is a local
      change.
    - Remove `prepare=True` from `execute()`.
    - Behind PgBouncer, 1.22 or later with `max_prepared_statements` above 0 supports
      them; with libpq older than 17 psycopg also sends `DEALLOCATE name` when its cache
      of 100 overflows, which no PgBouncer supports, so also set `prepared_max=None`.

    ## Known limitations
    A pool's `configure=` callback may set `prepare_threshold` itself, so such pools
    are reported at low confidence; `conn.prepare_threshold = None` set after
    connecting is not seen, so such a connection is still reported. pinlint cannot see
    the psycopg and libpq versions in use.

    ## References
    - psycopg 3, prepared statements and PgBouncer: https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
    - psycopg issue 1105, `DEALLOCATE ALL` on rollback pins RDS Proxy: https://github.com/psycopg/psycopg/issues/1105
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PgBouncer, `max_prepared_statements`: https://www.pgbouncer.org/config.html#max_prepared_statements
    """

    code = "PIN702"
    name = "psycopg-prepared-statements"
    summary = "psycopg 3 prepares named statements and sends `DEALLOCATE ALL` unless `prepare_threshold=None`"
    help = "Connect with `prepare_threshold=None` (in `connect_args` for SQLAlchemy, in `kwargs` for psycopg_pool)"
    tags = ("prepared-statements", "configuration")
    precision = "medium"
    callees = frozenset(
        {
            "psycopg.connect",
            "psycopg.AsyncConnection.connect",
            "psycopg_pool.ConnectionPool",
            "sqlalchemy.create_engine",
            "psycopg.Cursor.execute",
            "django.DATABASES",
        }
    )
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: "`DEALLOCATE ALL` after a rollback; medium confidence",
            Profile.PGBOUNCER: "before 1.21 or `max_prepared_statements = 0`; `DEALLOCATE ALL` breaks 1.21's tracking",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.profile is Profile.PGBOUNCER and (
            ctx.pgbouncer_tracks_prepared_statements and ctx.pgbouncer_at_least(1, 22)
        ):
            return
        if call.callee == "psycopg.Cursor.execute":
            prepare = call.keyword("prepare")
            if prepare is not None and prepare.literal is True:
                yield Finding(
                    self._message("`prepare=True` makes psycopg prepare this query at once", ctx),
                    self.effect(ctx),
                    confidence=self._confidence(ctx),
                    help="Drop `prepare=True`",
                    span=prepare.span,
                )
            return
        found = self._threshold(call)
        if found is None:
            return
        threshold, where, fix, uncertain = found
        if threshold is None:
            count = f"once it has run {DEFAULT_THRESHOLD} times"
            given = f"{where} does not set `prepare_threshold` (default {DEFAULT_THRESHOLD})"
        else:
            count = (
                "at its first run"
                if threshold.literal == 0
                else (f"once it has run {threshold.literal} times")
            )
            given = f"{where} sets `prepare_threshold={threshold.literal}`"
        lead = f"{given}: psycopg prepares each query as a named statement `_pg3_N` {count} on a connection"
        confidence = self._confidence(ctx)
        if uncertain:
            confidence = Confidence.LOW
        if threshold is not None:
            help_text = (
                f"Change `prepare_threshold={threshold.literal}` to `prepare_threshold=None`"
            )
        else:
            help_text = _WHERE_HELP.get(call.callee, self.help)
        yield Finding(
            self._message(lead, ctx),
            self.effect(ctx),
            confidence=confidence,
            help=help_text,
            fix=fix,
            span=threshold.span if threshold is not None else None,
        )

    def _threshold(self, call: CallSite) -> tuple[Value | None, str, Fix | None, bool] | None:
        """(the threshold given or None, where it goes, the fix, whether a callback
        may set it), or None when there is nothing to report."""
        key = "prepare_threshold"
        if call.callee in ("psycopg.connect", "psycopg.AsyncConnection.connect"):
            return _judge(call.keyword(key), call.has_keyword(key), "The connection", call, None)
        if call.callee == "psycopg_pool.ConnectionPool":
            uncertain = call.has_keyword("configure") is not False
            return _inside(call, "kwargs", "The pool's `kwargs`", uncertain)
        if call.callee == "sqlalchemy.create_engine":
            if sqlalchemy_driver(call) != ("postgresql", "psycopg"):
                return None
            return _inside(call, "connect_args", "The engine's `connect_args`", False)
        if call.callee == "django.DATABASES":
            entry = entry_dict(call)
            options = entry.get("OPTIONS") if entry is not None else None
            if options is None or options.kind is not ValueKind.DICT:
                return None
            binding = options.get("server_side_binding")
            threshold = options.get(key)
            if binding is None or binding.literal is not True or threshold is None:
                return None  # client-side binding, or Django's default of None
            if threshold.kind is not ValueKind.LITERAL or not isinstance(threshold.literal, int):
                return None
            return threshold, f"The `OPTIONS` of database {show(call.args[0])}", None, False
        return None

    @staticmethod
    def _confidence(ctx: RuleContext) -> Confidence:
        return Confidence.MEDIUM if ctx.profile is Profile.RDS_PROXY_POSTGRES else Confidence.HIGH

    @staticmethod
    def _message(lead: str, ctx: RuleContext) -> str:
        if ctx.profile is Profile.PGBOUNCER:
            version = format_version(ctx.pgbouncer_version)
            if ctx.pgbouncer_tracks_prepared_statements:
                return (
                    f"{lead}, and after a rollback it drops them with SQL `DEALLOCATE ALL`, "
                    f"which PgBouncer {version} does not intercept: it also drops the "
                    "statements PgBouncer prepared for its tracking, and the next execution "
                    'fails with `prepared statement "PGBOUNCER_..." does not exist` '
                    "(PgBouncer 1.22 handles it)"
                )
            return (
                f"{lead}; PgBouncer {version} without prepared-statement tracking "
                f"(`max_prepared_statements = {ctx.max_prepared_statements}`) sends the next "
                "transaction to whichever server connection is free, where it fails with "
                '`prepared statement "_pg3_0" does not exist`, or the next client gets '
                "`already exists`"
            )
        return (
            f"{lead}, and once one is prepared every rollback (a pool's reset included) "
            "makes it send SQL `DEALLOCATE ALL`, which pins the client to one database "
            "connection (psycopg issue 1105)"
        )


def _judge(
    threshold: Value | None, present: bool | None, where: str, call: CallSite, inside: str | None
) -> tuple[Value | None, str, Fix | None, bool] | None:
    if threshold is None:
        if present is not False:
            return None  # a `**mapping` pinlint cannot read may set it
        fix = add_settings(call, [("prepare_threshold", "None")], inside)
        return None, where, fix, False
    if threshold.kind is not ValueKind.LITERAL or threshold.literal is None:
        return None
    if isinstance(threshold.literal, bool) or not isinstance(threshold.literal, int):
        return None
    return threshold, where, None, False


def _inside(
    call: CallSite, holder: str, where: str, uncertain: bool
) -> tuple[Value | None, str, Fix | None, bool] | None:
    given = call.keyword(holder)
    if given is None:
        if call.has_keyword(holder) is not False:
            return None
        found = _judge(None, False, where, call, holder)
    elif given.kind is ValueKind.DICT:
        key = "prepare_threshold"
        found = _judge(given.get(key), given.has(key), where, call, holder)
    else:
        return None
    if found is None:
        return None
    return found[0], found[1], found[2], uncertain
