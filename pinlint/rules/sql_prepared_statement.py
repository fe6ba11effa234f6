from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Dialect, Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement
from pinlint.targets import format_version


class SqlPreparedStatement(SqlRule):
    """
    ## What it flags
    SQL-level prepared statements: `PREPARE name AS ...`, `EXECUTE name`, and
    `DEALLOCATE name` / `DEALLOCATE ALL` (the clean-up travels with its trigger). Not
    `PREPARE TRANSACTION` (two-phase commit), and not `EXECUTE` inside a PL/pgSQL body.
    On MySQL: `PREPARE name FROM ...`, `EXECUTE name [USING ...]`,
    `DEALLOCATE PREPARE name` / `DROP PREPARE name`, and MariaDB's `EXECUTE IMMEDIATE`.

    ## Why it pins
    A SQL `PREPARE` creates a named statement that lives in the backend session. RDS
    Proxy for PostgreSQL lists `PREPARE`, `EXECUTE`, `DEALLOCATE` and `DISCARD` among
    the statements that pin the client to its database connection. Drivers that clear
    their statement cache with SQL `DEALLOCATE ALL` (psycopg 3 after a rollback) pin the
    same way. RDS Proxy for MySQL pins on prepared statements whether they are SQL text
    or the binary protocol.

    PgBouncer never supports SQL-level prepared statements in transaction mode, not even
    from 1.21 on (its prepared-statement support covers the protocol only): the
    statement lives on one server connection, so a later `EXECUTE` from the same client
    may run on another and fail with `prepared statement "..." does not exist`, while the
    next client of the first connection finds the name taken (`already exists`). Only
    `DEALLOCATE ALL` is understood by PgBouncer 1.22 and later when
    `max_prepared_statements` is above 0; on 1.21 it breaks PgBouncer's own tracking.

    ## How to fix
    - Let the driver use protocol-level parameters (`cur.execute(sql, params)`) instead
      of SQL `PREPARE`/`EXECUTE`; unnamed protocol-level statements no longer pin RDS
      Proxy since November 2023.
    - For psycopg 3, connect with `prepare_threshold=None` so it never sends
      `DEALLOCATE`.
    - On MySQL, use a client that interpolates parameters (PyMySQL, mysqlclient, the
      default mysql-connector cursor) rather than `cursor(prepared=True)`.

    ## Known limitations
    Protocol-level named statements created by drivers are out of scope of this rule.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - psycopg issue 1105, DEALLOCATE ALL pins RDS Proxy: https://github.com/psycopg/psycopg/issues/1105
    """

    code = "PIN201"
    name = "sql-prepared-statement"
    summary = "SQL-level `PREPARE` / `EXECUTE` / `DEALLOCATE` pins the connection"
    help = "Pass parameters through the driver instead of SQL `PREPARE`; disable driver caches that send `DEALLOCATE`"
    tags = ("session-state", "prepared-statements")
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.ERRORS,
        }
    )
    conditions = MappingProxyType(
        {
            Profile.PGBOUNCER: "every version; `DEALLOCATE ALL` ok on 1.22+ with prepared-statement support"
        }
    )
    db_state = frozenset({"prepared-statement"})

    help_for = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "Let the driver interpolate parameters (PyMySQL, mysqlclient) "
            "instead of SQL `PREPARE`; avoid `cursor(prepared=True)`",
            Profile.PGBOUNCER: "Pass parameters through the driver instead of SQL `PREPARE`; "
            "disable driver caches that send `DEALLOCATE`",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        words = stmt.words
        mysql = stmt.dialect is Dialect.MYSQL
        verbs = (
            ("prepare", "execute", "deallocate", "drop")
            if mysql
            else ("prepare", "execute", "deallocate")
        )
        if not words or words[0] not in verbs:
            return
        if words[0] == "drop" and words[1:2] != ("prepare",):
            return
        if words[:2] == ("prepare", "transaction") and len(stmt.tokens) == 3 and not mysql:
            return  # PREPARE TRANSACTION 'gid': two-phase commit, not a statement
        if len(stmt.tokens) < 2:
            return
        verb = words[0].upper()
        if words[:2] in (("deallocate", "prepare"), ("drop", "prepare")):
            verb, name = f"{verb} PREPARE", stmt.tokens[2].value if len(stmt.tokens) > 2 else ""
        else:
            name = stmt.tokens[1].value
        if ctx.profile is Profile.PGBOUNCER:
            yield from self._pgbouncer(verb, name, ctx)
            return
        yield Finding(
            f"`{verb} {name}` uses a SQL-level prepared statement that lives in the "
            "backend session; the client is pinned to one database connection",
            self.effect(ctx),
        )

    def _pgbouncer(self, verb: str, name: str, ctx: RuleContext) -> Iterator[Finding]:
        version = format_version(ctx.pgbouncer_version)
        if verb == "DEALLOCATE" and name.lower() == "all":
            if ctx.pgbouncer_tracks_prepared_statements and ctx.pgbouncer_at_least(1, 22):
                return  # PgBouncer 1.22+ intercepts it and forgets this client's statements
            if ctx.pgbouncer_tracks_prepared_statements:
                yield Finding(
                    f"`DEALLOCATE ALL` also drops the statements PgBouncer {version} prepared "
                    "for its prepared-statement tracking; the next protocol-level statement fails "
                    'with `prepared statement "PGBOUNCER_..." does not exist` (PgBouncer 1.22 '
                    "handles it)",
                    Effect.ERRORS,
                )
                return
            yield Finding(
                "`DEALLOCATE ALL` runs on whichever server connection PgBouncer assigns: the "
                "statements this client prepared on another one stay there, and the statements "
                "another client prepared here disappear under it",
                Effect.ERRORS,
            )
            return
        if verb == "PREPARE":
            consequence = (
                f"a later `EXECUTE {name}` may run on another server connection and fail with "
                f'`prepared statement "{name}" does not exist`, and the next client of this one '
                f"gets `already exists` when it prepares `{name}`"
            )
        elif verb == "EXECUTE":
            consequence = (
                "it runs on whichever server connection PgBouncer assigns, which may not hold "
                f'the statement: `prepared statement "{name}" does not exist`'
            )
        else:
            consequence = (
                "it runs on whichever server connection PgBouncer assigns, which may not hold "
                f'the statement (`prepared statement "{name}" does not exist`), and the '
                "statement stays on the connection that does"
            )
        yield Finding(
            f"`{verb} {name}`: PgBouncer {version} in transaction mode does not support SQL-level "
            f"prepared statements; {consequence}",
            Effect.ERRORS,
        )
