from __future__ import annotations

from collections.abc import Iterator

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


class SessionAdvisoryLock(SqlRule):
    """
    ## What it flags
    Session-level advisory locks: `pg_advisory_lock`, `pg_try_advisory_lock`, their
    `_shared` forms, and the unlock functions `pg_advisory_unlock`,
    `pg_advisory_unlock_shared` and `pg_advisory_unlock_all` (the clean-up travels with
    its trigger). Never the transaction-level `pg_advisory_xact_lock` family.

    ## Why it pins
    A session-level advisory lock is held by the backend session until it is unlocked or
    the session ends. RDS Proxy for PostgreSQL pins the client to that connection. Behind
    a transaction pooler the lock stays on a backend that other clients then use, and the
    unlock may run on a different backend.

    ## How to fix
    - Use the transaction-level forms, `pg_advisory_xact_lock(key)` or
      `pg_try_advisory_xact_lock(key)`, inside a transaction: they release at commit or
      rollback and do not pin RDS Proxy.

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

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        for call in stmt.calls_named(*SESSION_LOCK_FUNCTIONS):
            if call.schema not in (None, "pg_catalog"):
                continue
            yield Finding(
                f"`{call.name}()` takes or releases a session-level advisory lock; the client is "
                "pinned to one database connection",
                self.effect(ctx),
            )
