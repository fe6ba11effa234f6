from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from types import MappingProxyType

from pinlint.connection import (
    ASYNCPG_DSN_PARAMETERS,
    RDS_STARTUP_PARAMETERS,
    dsn_parameters,
    entry_dict,
    option_parameters,
    parse_url,
    show,
    sqlalchemy_driver,
    sqlalchemy_url,
)
from pinlint.model import CallSite, Confidence, Effect, Profile, Severity, Value, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext
from pinlint.targets import format_version, pgbouncer_tracks

_LIBPQ = {
    # callee -> (position of the connection string, its keywords)
    "psycopg.connect": (0, ("conninfo",)),
    "psycopg.AsyncConnection.connect": (0, ("conninfo",)),
    "psycopg_pool.ConnectionPool": (0, ("conninfo",)),
    "psycopg2.connect": (0, ("dsn",)),
    "psycopg2.pool": (2, ("dsn",)),
}
_ASYNCPG = {"asyncpg.connect", "asyncpg.create_pool"}


@dataclass(frozen=True, slots=True)
class _Given:
    """Startup parameters given in one place: `options`, `server_settings`, a DSN."""

    names: tuple[str, ...]  # parameter names; `options` itself for an `options` string
    options: tuple[str, ...] | None  # the `-c` names inside an `options` string, if read
    where: Value | None
    how: str  # for the message: "`options=...`", "`server_settings`", "the DSN"


class UnsupportedStartupParameter(CallRule):
    """
    ## What it flags
    Startup parameters that RDS Proxy for PostgreSQL refuses, so that the connection
    attempt fails (an error, not a pin):

    - `options` (`-c name=value`): given as `options=` to `psycopg.connect`,
      `psycopg2.connect` or a pool, in a conninfo string (`"... options='-c ...'"`), in a
      URL (`?options=-c%20...`), in SQLAlchemy's `connect_args`, or in a Django
      database's `OPTIONS`;
    - asyncpg `server_settings` (also in SQLAlchemy's `connect_args`) naming anything but
      the six parameters RDS Proxy accepts (`application_name`, `client_encoding`,
      `DateStyle`, `TimeZone`, `extra_float_digits`, `search_path`), and the query
      parameters of an asyncpg DSN that asyncpg does not read itself (`?jit=off`), which
      asyncpg sends as startup parameters.

    ## Why it pins
    RDS Proxy for PostgreSQL accepts `user`, `database` and those six parameters in the
    startup packet and rejects the connection for anything else: `FATAL: Feature not
    supported: RDS Proxy currently doesn't support command-line options.` for
    `options`, `RDS Proxy currently doesn't support the option jit` for the others.
    PgBouncer also refuses startup parameters it does not track (`unsupported startup
    parameter`), unless they are listed in its `ignore_startup_parameters` (and then
    they are silently dropped); from 1.20 it accepts `options` that only set parameters
    it tracks.

    ## How to fix
    - Make the setting a role or database default (`ALTER ROLE app SET
      statement_timeout = '5s'`) or put it in the DB parameter group.
    - Pass only the accepted parameters as startup parameters
      (`server_settings={"application_name": "api"}` is fine).
    - Behind PgBouncer, list the parameter in `ignore_startup_parameters` only if
      losing it is acceptable.

    ## Known limitations
    Parameters set through the environment (`PGOPTIONS`) and connection strings built at
    run time are not read; an `options` value pinlint cannot read is still reported,
    as any `options` fails on RDS Proxy.

    ## References
    - AWS, connecting to RDS Proxy for PostgreSQL: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connecting.html
    - psycopg2 issue 1577, RDS Proxy rejects `options`: https://github.com/psycopg/psycopg2/issues/1577
    - PgBouncer, `ignore_startup_parameters`: https://www.pgbouncer.org/config.html#ignore_startup_parameters
    """

    code = "PIN706"
    name = "unsupported-startup-parameter"
    summary = "A startup parameter RDS Proxy refuses (`options`, asyncpg `server_settings`) makes the connection fail"
    help = "Make the setting a role or database default (`ALTER ROLE ... SET ...`) or a DB parameter group value"
    severity = Severity.ERROR
    tags = ("connection", "configuration")
    callees = frozenset({*_LIBPQ, *_ASYNCPG, "sqlalchemy.create_engine", "django.DATABASES"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.ERRORS, Profile.PGBOUNCER: Effect.ERRORS}
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: "`options`, and parameters other than the six it accepts",
            Profile.PGBOUNCER: "parameters it does not track, unless in `ignore_startup_parameters`",
        }
    )
    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Make the setting a role or database default, or list it in `ignore_startup_parameters` if losing it is acceptable",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        for given in _given(call):
            finding = self._judge(given, ctx)
            if finding is not None:
                yield finding

    def _judge(self, given: _Given, ctx: RuleContext) -> Finding | None:
        given = replace(given, how=given.how[:1].upper() + given.how[1:])
        pgbouncer = ctx.profile is Profile.PGBOUNCER
        version = ctx.pgbouncer_version
        if given.names == ("options",):
            inner = given.options
            shown = ", ".join(f"`{n}`" for n in inner) if inner else "settings"
            if pgbouncer:
                untracked = [n for n in inner or () if not pgbouncer_tracks(n, version)]
                if inner and not untracked and ctx.pgbouncer_at_least(1, 20):
                    return None
                reason = (
                    f"PgBouncer {format_version(version)} accepts `options` only from 1.20, "
                    "and only for parameters it tracks"
                )
                if untracked:
                    reason = f"PgBouncer {format_version(version)} does not track " + ", ".join(
                        f"`{n}`" for n in untracked
                    )
                return Finding(
                    f"{given.how} sends the startup parameter `options` (setting {shown}); "
                    f"{reason}, so it refuses the connection (`unsupported startup parameter "
                    "in options`) unless `options` is in `ignore_startup_parameters`",
                    Effect.ERRORS,
                    confidence=Confidence.HIGH if inner else Confidence.MEDIUM,
                    span=given.where.span if given.where is not None else None,
                )
            return Finding(
                f"{given.how} sends the startup parameter `options` (setting {shown}); RDS "
                "Proxy refuses it and the connection fails: `Feature not supported: RDS "
                "Proxy currently doesn't support command-line options`",
                Effect.ERRORS,
                help=_help(inner),
                span=given.where.span if given.where is not None else None,
            )
        if pgbouncer:
            refused = [n for n in given.names if not pgbouncer_tracks(n, version)]
            if not refused:
                return None
            names = ", ".join(f"`{n}`" for n in refused)
            return Finding(
                f"{given.how} sends {names} as {_parameters(refused)}; "
                f"PgBouncer {format_version(version)} does not track "
                f"{'them' if len(refused) > 1 else 'it'} and refuses the connection "
                "(`unsupported startup parameter`) unless listed in `ignore_startup_parameters`",
                Effect.ERRORS,
                span=given.where.span if given.where is not None else None,
            )
        refused = [n for n in given.names if n.lower() not in RDS_STARTUP_PARAMETERS]
        if not refused:
            return None
        names = ", ".join(f"`{n}`" for n in refused)
        return Finding(
            f"{given.how} sends {names} as {_parameters(refused)}; "
            "RDS Proxy accepts only `application_name`, `client_encoding`, `DateStyle`, "
            "`TimeZone`, `extra_float_digits` and `search_path`, and fails the connection: "
            f"`RDS Proxy currently doesn't support the option {refused[0]}`",
            Effect.ERRORS,
            help=_help(tuple(refused)),
            span=given.where.span if given.where is not None else None,
        )


def _parameters(names: list[str]) -> str:
    return "startup parameters" if len(names) > 1 else "a startup parameter"


def _help(names: tuple[str, ...] | None) -> str:
    what = ", ".join(f"`{n}`" for n in names) if names else "the setting"
    return (
        f"Make {what} a role or database default (`ALTER ROLE app SET ...`) or a DB "
        "parameter group value instead of a startup parameter"
    )


def _given(call: CallSite) -> Iterator[_Given]:
    """Every place the call gives startup parameters that may be refused."""
    callee = call.callee
    if callee in _LIBPQ:
        position, keywords = _LIBPQ[callee]
        yield from _libpq(call.keyword("options"), call.argument(position, *keywords))
        if callee == "psycopg_pool.ConnectionPool":
            kwargs = call.keyword("kwargs")
            if kwargs is not None and kwargs.kind is ValueKind.DICT:
                yield from _libpq(kwargs.get("options"), None, "the pool's `kwargs`")
    elif callee in _ASYNCPG:
        yield from _asyncpg(call.keyword("server_settings"), call.argument(0, "dsn"))
    elif callee == "sqlalchemy.create_engine":
        driver = sqlalchemy_driver(call)
        if driver is None or driver[0] != "postgresql":
            return
        args = call.keyword("connect_args")
        if args is not None and args.kind is not ValueKind.DICT:
            args = None
        if driver[1] == "asyncpg":
            settings = args.get("server_settings") if args is not None else None
            yield from _asyncpg(settings, None, "`connect_args`")
        else:
            options = args.get("options") if args is not None else None
            yield from _libpq(options, None, "`connect_args`")
            url = sqlalchemy_url(call)
            if url is not None and "options" in url.query:
                yield _Given(
                    ("options",),
                    tuple(option_parameters(url.query["options"])),
                    call.argument(0, "url"),
                    "the engine URL",
                )
    elif callee == "django.DATABASES" and call.dialect is not None:
        entry = entry_dict(call)
        options = entry.get("OPTIONS") if entry is not None else None
        if options is not None and options.kind is ValueKind.DICT:
            yield from _libpq(options.get("options"), None, "`OPTIONS`")


def _libpq(options: Value | None, dsn: Value | None, holder: str | None = None) -> Iterator[_Given]:
    if options is not None and not (options.kind is ValueKind.LITERAL and not options.literal):
        text = options.text
        inner = tuple(option_parameters(text)) if text is not None else None
        how = f"`options` in {holder}" if holder else f"`options={show(options)}`"
        yield _Given(("options",), inner, options, how)
    text = dsn.text if dsn is not None else None
    if text is not None:
        params = dsn_parameters(text)
        if "options" in params:
            inner = tuple(option_parameters(params["options"]))
            yield _Given(("options",), inner, dsn, "the connection string's `options`")


def _asyncpg(settings: Value | None, dsn: Value | None, holder: str = "") -> Iterator[_Given]:
    if settings is not None and settings.kind is ValueKind.DICT:
        names = tuple(key for key, _ in settings.entries)
        if names:
            how = f"`server_settings` in {holder}" if holder else "`server_settings`"
            yield _Given(names, None, settings, how)
    text = dsn.text if dsn is not None else None
    url = parse_url(text) if text is not None else None
    if url is not None:
        extra = tuple(k for k in url.query if k not in ASYNCPG_DSN_PARAMETERS)
        if extra:
            yield _Given(extra, None, dsn, "asyncpg's DSN query")
