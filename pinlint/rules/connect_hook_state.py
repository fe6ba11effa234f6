from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.connection import show
from pinlint.model import Confidence, Effect, Profile, RelatedLocation, SqlSite
from pinlint.rules.base import CallRule, Finding, RuleContext, SqlRule
from pinlint.model import CallSite

#: SQLAlchemy pool events whose listeners run on every new (or checked-out) connection.
HOOK_EVENTS = ("connect", "first_connect", "checkout")
_ORDER = {Effect.ERRORS: 0, Effect.LEAKS: 1, Effect.PINS: 2, Effect.OK: 3}
_RANK = {Confidence.HIGH: 0, Confidence.MEDIUM: 1, Confidence.LOW: 2}


class ConnectHookState(CallRule):
    """
    ## What it flags
    Code that runs on every new database connection and sends SQL that pins or leaks:

    - SQLAlchemy listeners for the pool events `connect`, `first_connect` and
      `checkout`, registered with `@event.listens_for(engine, "connect")` or
      `event.listen(engine, "connect", fn)`, whose body executes such SQL (the
      documented "search path on connect" recipe is the classic case);
    - Django `connection_created` receivers (`@receiver(connection_created)` or
      `connection_created.connect(fn)`) that do the same;
    - the `init_command` of PyMySQL, mysqlclient, aiomysql and MySQL Connector, given
      to `connect()`, in SQLAlchemy's `connect_args`, or in a Django MySQL database's
      `OPTIONS`, when it sets a variable RDS Proxy does not track.

    The SQL is judged by the SQL rules (PIN101, PIN301, PIN401, ...): a hook that only
    sets what the target tracks (`SET TIME ZONE` behind PgBouncer, `SET sql_mode` on
    RDS Proxy for MySQL) is not reported. The finding sits on the registration, with
    the statements as related locations; the statements are also reported where they
    are executed.

    ## Why it pins
    A hook like this runs before the application sends anything, on every physical
    connection, and its statements never show in SQLAlchemy's `echo` log. Behind RDS
    Proxy each client session is therefore pinned from its first statement: the proxy
    stops sharing connections altogether, and the `DatabaseConnectionsCurrentlySessionPinned`
    metric climbs with no `SET` in sight. Behind PgBouncer in transaction mode the hook
    runs on whichever server connection the client happens to get, so the setting stays
    there for that connection's next clients, while this client's later transactions
    run on connections without it.

    ## How to fix
    - Make the setting a default of the role or database:
      `ALTER ROLE app SET search_path = app, public`.
    - Behind RDS Proxy for PostgreSQL, send it as a startup parameter instead, if it is
      one of the six the proxy accepts (`search_path`, `application_name`,
      `client_encoding`, `DateStyle`, `TimeZone`, `extra_float_digits`):
      `connect_args={"options": ...}` does not qualify, a libpq URL parameter does not
      either; asyncpg's `server_settings={"search_path": "app"}` does.
    - Or put the identical statement in the proxy's initialization query and delete
      the hook. For MySQL, move `init_command` settings to the DB parameter group.

    ## Known limitations
    Only SQL pinlint can read is judged: literals, f-strings and `+` of literals in the
    hook's own body. Statements run by helpers the hook calls are not followed, and a
    listener registered on an engine created in another module is found only where the
    registration is. The `init_command` of a MySQL driver is judged only when written as
    a literal.

    ## References
    - SQLAlchemy, setting alternate search paths on connect: https://docs.sqlalchemy.org/en/20/dialects/postgresql.html#setting-alternate-search-paths-on-connect
    - Django, `connection_created`: https://docs.djangoproject.com/en/stable/ref/signals/#connection-created
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - AWS, connecting through RDS Proxy (accepted startup parameters): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connecting.html
    """

    code = "PIN701"
    name = "connect-hook-state"
    summary = "A per-connection hook (SQLAlchemy connect event, Django `connection_created`, `init_command`) runs SQL that pins"
    help = "Make the setting a role or database default (`ALTER ROLE ... SET`), a startup parameter RDS Proxy accepts, or the proxy's initialization query, and drop the hook"
    tags = ("session-state", "configuration")
    callees = frozenset(
        {
            "sqlalchemy.event.listen",
            "django.connection_created",
            "pymysql.connect",
            "MySQLdb.connect",
            "aiomysql.connect",
            "mysql.connector.connect",
            "sqlalchemy.create_engine",
            "django.DATABASES",
        }
    )
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.LEAKS,
        }
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "untracked variables in `init_command` or a hook; not with `EXCLUDE_VARIABLE_SETS`",
            Profile.PGBOUNCER: "parameters PgBouncer does not track",
        }
    )
    help_for = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "Move the settings of `init_command` or the hook to the DB parameter group or the proxy's initialization query",
            Profile.PGBOUNCER: "Make the setting a role or database default (`ALTER ROLE ... SET`) instead of setting it per connection",
        }
    )

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        what = self._describe(call)
        if what is None or not call.sql:
            return
        found = list(_sql_findings(call.sql, ctx))
        if not found:
            return
        found.sort(key=lambda f: (_ORDER[f[2]], f[0].span))
        site, statement, effect, inner = found[0]
        others = len({(f[0].span, f[1]) for f in found}) - 1
        more = f" (and {others} more statement{'s' if others > 1 else ''})" if others else ""
        message = f"{what} sends `{_short(statement)}`{more}: {inner}"
        confidence = max((f[0].confidence for f in found), key=_RANK.__getitem__)
        related = tuple(
            dict.fromkeys(
                RelatedLocation(s.path, s.span, f"runs `{_short(stmt)}`") for s, stmt, _, _ in found
            )
        )
        init = call.callee not in ("sqlalchemy.event.listen", "django.connection_created")
        yield Finding(
            message,
            effect,
            confidence=_lower(call.confidence, confidence),
            span=site.span if init else None,
            related=() if init else related,
        )

    @staticmethod
    def _describe(call: CallSite) -> str | None:
        if call.callee == "sqlalchemy.event.listen":
            event = call.argument(1, "identifier")
            if event is None or event.text not in HOOK_EVENTS:
                return None
            when = "checkout of a pooled" if event.text == "checkout" else "new database"
            return (
                f"The SQLAlchemy `{event.text}` listener `{call.function}`, run on every "
                f"{when} connection,"
            )
        if call.callee == "django.connection_created":
            return (
                f"The Django `connection_created` receiver `{call.function}`, run on every "
                "new database connection,"
            )
        holder = (
            "`OPTIONS` `init_command`" if call.callee == "django.DATABASES" else "`init_command`"
        )
        if call.callee == "sqlalchemy.create_engine":
            holder = "`connect_args` `init_command`"
        alias = f" of database {show(call.args[0])}" if call.callee == "django.DATABASES" else ""
        return f"The {holder}{alias}, run on every new database connection,"


def _sql_findings(
    sites: tuple[SqlSite, ...], ctx: RuleContext
) -> Iterator[tuple[SqlSite, str, Effect, str]]:
    """(site, statement, effect, message) for what the SQL rules say about `sites`."""
    from pinlint.rules import all_rules
    from pinlint.sql.statement import analyse

    profile = ctx.profile
    rules = [r() for r in all_rules() if issubclass(r, SqlRule) and r.applies_to(profile)]
    for site in sites:
        for stmt in analyse(site.text, ctx.dialect):
            for rule in rules:
                for finding in rule.check(stmt, ctx):
                    if finding.effect is not Effect.OK:
                        yield site, stmt.text, finding.effect, _lower_first(finding.message)


def _short(statement: str, limit: int = 80) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lower_first(message: str) -> str:
    return message[:1].lower() + message[1:] if message[:1].isupper() else message


def _lower(a: Confidence, b: Confidence) -> Confidence:
    return max(a, b, key=_RANK.__getitem__)
