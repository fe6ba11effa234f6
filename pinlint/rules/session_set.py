from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import MySqlAssignment, SetCommand, mysql_set, set_command
from pinlint.sql.statement import Statement
from pinlint.targets import (
    PGBOUNCER_EMPTY_DEFAULT,
    RDS_MYSQL_TRACKED,
    format_version,
    pg_parameter,
    pgbouncer_tracks,
)


class SessionSet(SqlRule):
    """
    ## What it flags
    `SET` and `RESET` of a session parameter: `SET search_path ...`, `SET SESSION ...`,
    `SET ... TO DEFAULT`, `RESET ...`, `RESET ALL`, and the special forms `SET ROLE`,
    `SET SESSION AUTHORIZATION`, `SET TIME ZONE`, `SET NAMES` and
    `SET SESSION CHARACTERISTICS AS TRANSACTION ...`.

    Behind PgBouncer, only parameters that PgBouncer does not track: it re-applies
    `TimeZone`, `client_encoding` (`SET NAMES`), `DateStyle` and
    `standard_conforming_strings` per client, `IntervalStyle` from 1.20, and
    `search_path` and `default_transaction_read_only` from 1.26 (when the server reports
    them). `RESET` and `SET ... TO DEFAULT` are flagged as the clean-up of an earlier
    `SET`. `SET application_name` is flagged too: PgBouncer tracks it, but never
    re-applies an empty value, so clients that did not set their own name when
    connecting (most drivers do not) inherit it; this was seen on a real PgBouncer.

    On MySQL, a `SET` of a system variable that RDS Proxy does not track
    (`foreign_key_checks`, `max_execution_time`, `sql_auto_is_null`, ...), any
    `GLOBAL`/`PERSIST` assignment, `SET TRANSACTION ...` without `SESSION` (it applies to
    the next transaction only, which the proxy does not track), `SET ROLE` and
    `SET RESOURCE GROUP`. Not the tracked variables (`autocommit`, `NAMES`,
    `CHARACTER SET`, the `character_set_*` and `collation_*` variables, `time_zone`,
    `sql_mode`, session isolation and read-only, `wait_timeout`, ...), not `SET LOCAL`,
    which AWS documents as not pinning, and not `USE db`. User variables (`SET @x`) are
    PIN306.

    ## Why it pins
    RDS Proxy for PostgreSQL does not track session settings. When a client changes
    one (or resets one to its default), the proxy keeps that client on its current
    database connection for the rest of the client session, so the connection is no
    longer shared. The proxy log says "SQL changed session settings that the proxy
    doesn't track". PostgreSQL has no pinning filter that turns this off.

    RDS Proxy for MySQL tracks a short list of variables and reuses only connections
    with the same values; every other `SET` pins. The `EXCLUDE_VARIABLE_SETS` session
    pinning filter (MySQL only) makes the proxy ignore `SET` statements: then this rule
    reports nothing, and the value silently stays on a connection other clients reuse.

    PgBouncer in transaction mode never pins: it hands the server connection to the
    next client when the transaction ends, with the setting still on it. The next
    client of that connection runs with the value (with `SET ROLE`, as that role), and
    this client's next transaction may run on another connection, without it.

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
    - Behind PgBouncer, use `SET LOCAL` inside the transaction that needs the value.
    - On MySQL, use an optimizer hint (`SELECT /*+ MAX_EXECUTION_TIME(1000) */ ...`) or
      `SET SESSION TRANSACTION ...`, or move the `SET` to the proxy's initialization
      query or the parameter group.

    ## Known limitations
    Only SQL text that pinlint can see is checked. Settings changed inside a function or
    procedure, or in a `DO` block, are invisible to the proxy and are not reported here.
    `SET LOCAL`, `SET TRANSACTION` and `SET CONSTRAINTS` are reported by PIN103.
    Whether PgBouncer 1.26 tracks `search_path` depends on the server reporting it;
    pinlint assumes it does. MariaDB's `SET STATEMENT ... FOR ...` is statement-scoped
    and not reported. Whether `EXCLUDE_VARIABLE_SETS` also covers `SET TRANSACTION` is
    not documented; pinlint assumes it does, as it is a `SET`.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - AWS, RDS Proxy initialization queries: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-best-practices.configuration.html
    - AWS, connecting to PostgreSQL through RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-connecting.html
    - PgBouncer, features and tracked parameters: https://www.pgbouncer.org/features.html and https://www.pgbouncer.org/config.html
    """

    code = "PIN101"
    name = "session-set"
    summary = "`SET`/`RESET` of a session parameter pins the connection or leaks to the next client"
    help = "Make it a role or database default (`ALTER ROLE ... SET`) or move it to the proxy's initialization query"
    tags = ("session-state", "settings")
    db_state = frozenset({"setting", "role"})
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.LEAKS,
        }
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "untracked variables; not with `EXCLUDE_VARIABLE_SETS`",
            Profile.PGBOUNCER: "untracked parameters and `application_name`; `TimeZone`, ... are ok",
        }
    )

    help_for = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "Move it to the proxy's initialization query or the DB "
            "parameter group, or use a `/*+ SET_VAR(...) */` hint (MySQL 8)",
            Profile.PGBOUNCER: "Use `SET LOCAL` inside the transaction that needs it, or make "
            "it a role or database default (`ALTER ROLE ... SET`)",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if ctx.profile is Profile.RDS_PROXY_MYSQL:
            yield from self._mysql(stmt, ctx)
            return
        cmd = set_command(stmt)
        if cmd is None or cmd.scope not in ("session",):
            return
        shown = cmd.parameter.upper() if cmd.parameter in _KEYWORD_FORMS else cmd.parameter
        what = f"{cmd.verb.upper()} {shown}".strip()
        if ctx.profile is Profile.PGBOUNCER:
            yield from self._pgbouncer(cmd, what, ctx)
            return
        yield Finding(
            f"`{what}` changes a session setting that RDS Proxy does not track; "
            "the client is pinned to one database connection",
            self.effect(ctx),
        )

    def _pgbouncer(self, cmd: SetCommand, what: str, ctx: RuleContext) -> Iterator[Finding]:
        version = format_version(ctx.pgbouncer_version)
        if pg_parameter(cmd.parameter) in PGBOUNCER_EMPTY_DEFAULT and not cmd.to_default:
            yield Finding(
                f"`{what}` stays on the server connection: PgBouncer re-applies "
                f"`{cmd.parameter}` only for clients that set their own when connecting, so "
                "the next client that did not shows up under this name",
                Effect.LEAKS,
            )
            return
        if cmd.parameter != "all" and pgbouncer_tracks(cmd.parameter, ctx.pgbouncer_version):
            return  # PgBouncer re-applies this client's value on every server connection
        untracked = "these parameters" if cmd.parameter == "all" else f"`{cmd.parameter}`"
        if cmd.to_default:
            yield Finding(
                f"`{what}` runs on whichever server connection PgBouncer assigns; a value this "
                "client set earlier may sit on another one, where the next client still gets "
                f"it (PgBouncer {version} does not track {untracked})",
                Effect.LEAKS,
            )
            return
        if pg_parameter(cmd.parameter) in ("role", "session authorization"):
            consequence = "runs as that role (a privilege leak)"
        else:
            consequence = "runs with this value"
        yield Finding(
            f"`{what}` stays on the server connection when the transaction ends (PgBouncer "
            f"{version} does not track {untracked}): the next client of that connection "
            f"{consequence}, and this client's next transaction may run without it",
            Effect.LEAKS,
        )

    def _mysql(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        assignments = mysql_set(stmt)
        if not assignments or ctx.exclude_variable_sets:
            return
        for a in assignments:
            if not _pins_rds_mysql(a):
                continue
            if a.name == "transaction" and a.scope == "next-transaction":
                message = (
                    "`SET TRANSACTION ...` without `SESSION` sets the next transaction only, "
                    "which RDS Proxy for MySQL does not track"
                )
            elif a.name in ("role", "resource group"):
                message = f"`SET {a.name.upper()}` changes session state RDS Proxy does not track"
            elif a.scope in ("global", "persist", "persist_only"):
                message = (
                    f"`SET {a.scope.upper()} {a.name}` is a `SET` RDS Proxy does not track (it "
                    "tracks session values only)"
                )
            else:
                message = f"`SET {a.name}` changes a variable RDS Proxy for MySQL does not track"
            yield Finding(
                f"{message}; the client is pinned to one database connection", self.effect(ctx)
            )


_KEYWORD_FORMS = (
    "time zone",
    "role",
    "session authorization",
    "session characteristics",
    "names",
    "all",
)


def _pins_rds_mysql(a: MySqlAssignment) -> bool:
    if a.scope == "user" or a.name in ("password", "default role", "statement"):
        return False  # user variables are PIN306; the others are not session state
    if a.scope == "local":
        return False  # AWS: `SET LOCAL` does not pin
    if a.scope == "session":
        return a.name not in RDS_MYSQL_TRACKED
    return True  # GLOBAL, PERSIST, or the next transaction only: never tracked
