from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.connection import entry_dict, show
from pinlint.model import (
    CallSite,
    Confidence,
    Effect,
    Profile,
    RelatedLocation,
    Value,
    ValueKind,
)
from pinlint.rules.base import CallRule, Finding, RuleContext

#: Django's `TIME_ZONE` when a settings module does not set it.
DJANGO_DEFAULT_TIME_ZONE = "America/Chicago"
#: What an RDS or Aurora PostgreSQL parameter group reports as `TimeZone` by default.
SERVER_DEFAULT_TIME_ZONE = "UTC"


class DjangoConnectionSetup(CallRule):
    """
    ## What it flags
    Django PostgreSQL `DATABASES` entries whose settings make Django send a session
    statement on each new connection:

    - `OPTIONS["assume_role"]`: `SET ROLE 'role'`;
    - a time zone other than `UTC`: the entry's `TIME_ZONE` (with `USE_TZ = True`), or
      the module's `TIME_ZONE` with `USE_TZ = False` (Django's default time zone,
      `America/Chicago`, when the module does not set one). Django compares it with the
      server's `TimeZone` and runs `SELECT set_config('TimeZone', %s, false)` (`SET TIME
      ZONE` in older releases) when they differ;
    - `OPTIONS["isolation_level"]`: with psycopg2 in Django's autocommit mode, psycopg2
      sends `SET default_transaction_isolation TO DEFAULT` each time a transaction starts
      (`atomic()`), to undo session characteristics it believes it set.

    A settings module that star-imports another (`from .base import *`) and does not set
    `USE_TZ` or `TIME_ZONE` itself leaves them unknown: no time-zone finding.

    ## Why it pins
    RDS Proxy pins on any `SET` and on `set_config()`: with these settings every client
    session is pinned from its first statement, or from its first transaction. Behind
    PgBouncer in transaction mode the time zone is a parameter it tracks (no problem),
    but the role is not: `SET ROLE` lands on one server connection, whose next clients
    then run as that role, while this client's later transactions may run on
    connections without it.

    ## How to fix
    - Time zone: make the server's default match, so Django sends nothing:
      `ALTER ROLE app SET timezone = 'Europe/Paris'` (or the DB parameter group); or use
      `USE_TZ = True` without a per-database `TIME_ZONE`.
    - Role: connect as that role (`USER`), or make it the login role's default
      (`ALTER ROLE app_login SET role = 'app_owner'`); behind RDS Proxy, `SET ROLE` in
      the proxy's initialization query.
    - Isolation level: leave it at the default (read committed), use psycopg 3 (which
      sets it in `BEGIN`), or set it per role (`ALTER ROLE app SET
      default_transaction_isolation = 'repeatable read'`).

    ## Known limitations
    The server's time zone is assumed to be RDS's default, `UTC`, and a settings
    module that does not set `USE_TZ` is read with Django 5's default (`True`; before
    Django 5.0 it was `False`). The driver behind
    the isolation-level finding (psycopg2 or psycopg 3) cannot be seen from the
    settings, so that finding has medium confidence. Entries built at run time
    (`dj_database_url.config()`) are not read.

    ## References
    - Django, PostgreSQL notes (`assume_role`, isolation level, time zones): https://docs.djangoproject.com/en/stable/ref/databases/#postgresql-notes
    - Django, `TIME_ZONE` for databases: https://docs.djangoproject.com/en/stable/ref/settings/#time-zone
    - psycopg2, `connection.set_session` and autocommit: https://www.psycopg.org/docs/connection.html#connection.set_session
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    """

    code = "PIN705"
    name = "django-connection-setup"
    summary = "Django settings (`assume_role`, a non-UTC time zone, `isolation_level`) make every connection send `SET`/`set_config`"
    help = "Make the server default match (`ALTER ROLE ... SET timezone`, `... SET role`) so Django sends nothing on connect"
    tags = ("session-state", "django", "configuration")
    callees = frozenset({"django.DATABASES"})
    effects = MappingProxyType(
        {Profile.RDS_PROXY_POSTGRES: Effect.PINS, Profile.PGBOUNCER: Effect.LEAKS}
    )
    conditions = MappingProxyType({Profile.PGBOUNCER: "`assume_role` (the time zone is tracked)"})
    help_for = MappingProxyType(
        {
            Profile.PGBOUNCER: "Connect as the role (`USER`) or make it the login role's default (`ALTER ROLE login SET role = ...`)",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        entry = entry_dict(call)
        if entry is None:
            return
        alias = show(call.args[0])
        options = entry.get("OPTIONS")
        options = options if options is not None and options.kind is ValueKind.DICT else None
        pgbouncer = ctx.profile is Profile.PGBOUNCER
        role = options.get("assume_role") if options is not None else None
        if role is not None and not (role.kind is ValueKind.LITERAL and not role.literal):
            sent = f"`SET ROLE {show(role)}`"
            if pgbouncer:
                message = (
                    f'Database {alias} sets `OPTIONS["assume_role"]`: Django sends {sent} on '
                    "every new connection, and `role` is not a parameter PgBouncer tracks: the "
                    "server connection keeps the role for its next client, while this "
                    "client's later transactions may run on connections without it"
                )
                yield Finding(message, Effect.LEAKS, span=role.span)
            else:
                message = (
                    f'Database {alias} sets `OPTIONS["assume_role"]`: Django sends {sent} on '
                    "every new connection, which pins the client to its database connection"
                )
                yield Finding(
                    message,
                    Effect.PINS,
                    help="Connect as that role, make it the login role's default "
                    "(`ALTER ROLE login SET role = ...`), or put `SET ROLE` in the proxy's "
                    "initialization query",
                    span=role.span,
                )
        if pgbouncer:
            return  # TimeZone is tracked; the isolation reset sets a default back
        zone = _time_zone(call, entry)
        if zone is not None and zone[0] != SERVER_DEFAULT_TIME_ZONE:
            name, where, source = zone
            inside = where is not None and where is entry.get("TIME_ZONE")
            related: tuple[RelatedLocation, ...] = ()
            if where is not None and where.span is not None and not inside:
                related = (RelatedLocation(call.path, where.span, "`TIME_ZONE` is set here"),)
            yield Finding(
                f"Database {alias} runs in time zone {name!r} ({source}): on every new "
                f"connection Django compares it with the server's `TimeZone` (`UTC` on a "
                f"default RDS parameter group) and, as they differ, sends `SELECT "
                f"set_config('TimeZone', '{name}', false)`, which pins the client to its "
                "database connection",
                Effect.PINS,
                confidence=Confidence.MEDIUM,
                help=f"Make the server default match: `ALTER ROLE <user> SET timezone = "
                f"'{name}'` (or the DB parameter group), so Django sends nothing",
                span=where.span if inside and where is not None else None,
                related=related,
            )
        level = options.get("isolation_level") if options is not None else None
        if level is not None and not (level.kind is ValueKind.LITERAL and level.literal is None):
            yield Finding(
                f'Database {alias} sets `OPTIONS["isolation_level"]`: with psycopg2, Django '
                "sets it while the connection is not yet in autocommit, and psycopg2 then "
                "sends `SET default_transaction_isolation TO DEFAULT` each time a "
                "transaction starts (`atomic()`), which pins the client to its database "
                "connection (psycopg 3 sends nothing)",
                Effect.PINS,
                confidence=Confidence.MEDIUM,
                help="Leave the isolation level at its default, set it per role "
                "(`ALTER ROLE ... SET default_transaction_isolation`), or use psycopg 3",
                span=level.span,
            )


def _time_zone(call: CallSite, entry: Value) -> tuple[str, Value | None, str] | None:
    """Django's `timezone_name` for this database: (name, where it is written, how it
    is decided), or None when unknown."""
    use_tz = call.setting("USE_TZ")
    own = entry.get("TIME_ZONE")
    if own is not None:
        if own.kind is not ValueKind.LITERAL:
            return None
        if isinstance(own.literal, str):
            return own.literal, own, "the database's `TIME_ZONE`"
    if use_tz is None:
        return None  # Django 5's default, `USE_TZ = True`: the connection runs in UTC
    if use_tz.kind is not ValueKind.LITERAL:
        return None
    if use_tz.literal is not False:
        return SERVER_DEFAULT_TIME_ZONE, None, "`USE_TZ = True`"
    zone = call.setting("TIME_ZONE")
    if zone is None:
        return DJANGO_DEFAULT_TIME_ZONE, None, "`USE_TZ = False` and Django's default `TIME_ZONE`"
    if zone.kind is not ValueKind.LITERAL or not isinstance(zone.literal, str):
        return None
    return zone.literal, zone, "`USE_TZ = False` with `TIME_ZONE`"
