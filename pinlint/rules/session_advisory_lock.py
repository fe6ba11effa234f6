from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Dialect, Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement

SESSION_LOCK_FUNCTIONS = (
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_shared",
    "pg_advisory_unlock_all",
)
#: MySQL named locks: `GET_LOCK` and the clean-up that travels with it.
MYSQL_LOCK_FUNCTIONS = ("get_lock", "release_lock", "release_all_locks")
_RELEASES = ("pg_advisory_unlock", "pg_advisory_unlock_shared", "pg_advisory_unlock_all")


class SessionAdvisoryLock(SqlRule):
    """
    ## What it flags
    Session-level advisory locks: `pg_advisory_lock`, `pg_try_advisory_lock`, their
    `_shared` forms, and the unlock functions `pg_advisory_unlock`,
    `pg_advisory_unlock_shared` and `pg_advisory_unlock_all` (the clean-up travels with
    its trigger). Never the transaction-level `pg_advisory_xact_lock` family. On MySQL,
    named locks: `GET_LOCK(name, timeout)` with `RELEASE_LOCK` and `RELEASE_ALL_LOCKS`;
    not the read-only `IS_USED_LOCK` and `IS_FREE_LOCK`.

    ## Why it pins
    A session-level advisory lock is held by the backend session until it is unlocked or
    the session ends. RDS Proxy for PostgreSQL pins the client to that connection. Behind
    a transaction pooler the lock stays on a backend that other clients then use, and the
    unlock may run on a different backend. A MySQL `GET_LOCK` lock is held by the session
    until released or the session ends; RDS Proxy for MySQL pins on it.

    ## How to fix
    - Use the transaction-level forms, `pg_advisory_xact_lock(key)` or
      `pg_try_advisory_xact_lock(key)`, inside a transaction: they release at commit or
      rollback and do not pin RDS Proxy, nor stay behind PgBouncer.
    - On MySQL, lock a row of a lock table with `SELECT ... FOR UPDATE` inside the
      transaction, or use an external lock service.

    ## Known limitations
    Locks taken inside functions are invisible to the proxy and not reported.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - PostgreSQL, advisory lock functions: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADVISORY-LOCKS
    """

    code = "PIN401"
    name = "session-advisory-lock"
    summary = "A session-level advisory lock pins the connection"
    help = "Use `pg_advisory_xact_lock` inside a transaction instead"
    tags = ("session-state", "locks")
    db_state = frozenset({"advisory-lock"})
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.LEAKS,
        }
    )

    help_for = MappingProxyType(
        {
            Profile.RDS_PROXY_MYSQL: "Lock a row with `SELECT ... FOR UPDATE` inside a "
            "transaction, or use an external lock service",
        }
    )

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        if stmt.dialect is Dialect.MYSQL:
            for call in stmt.calls_named(*MYSQL_LOCK_FUNCTIONS):
                if call.schema is None:
                    verb = "releases" if call.name.startswith("release") else "takes"
                    yield Finding(
                        f"`{call.name.upper()}()` {verb} a named lock held by the session; the "
                        "client is pinned to one database connection",
                        self.effect(ctx),
                    )
            return
        for call in stmt.calls_named(*SESSION_LOCK_FUNCTIONS):
            if call.schema not in (None, "pg_catalog"):
                continue
            if ctx.profile is Profile.PGBOUNCER:
                if call.name in _RELEASES:
                    message = (
                        f"`{call.name}()` runs on whichever server connection PgBouncer assigns; "
                        "a lock this client took in an earlier transaction may be on another "
                        "one, where it stays held for that connection's next client"
                    )
                else:
                    message = (
                        f"`{call.name}()` takes a lock that the server connection keeps after "
                        "the transaction: the next client of that connection holds it, and "
                        "this client's unlock may run on another connection and release nothing"
                    )
                yield Finding(message, Effect.LEAKS)
                continue
            yield Finding(
                f"`{call.name}()` takes or releases a session-level advisory lock; the client is "
                "pinned to one database connection",
                self.effect(ctx),
            )
