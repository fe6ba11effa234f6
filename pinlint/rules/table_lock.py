from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.facts import mysql_table_lock
from pinlint.sql.statement import Statement


class TableLock(SqlRule):
    """
    ## What it flags
    MySQL explicit table locks: `LOCK TABLES t READ|WRITE` (and `LOCK TABLE`),
    `FLUSH TABLES [t, ...] WITH READ LOCK`, `FLUSH TABLES t FOR EXPORT`, and the clean-up
    `UNLOCK TABLES`, which travels with its trigger. MySQL only: PostgreSQL's
    `LOCK TABLE t IN ... MODE` is transaction-scoped and fine.

    ## Why it pins
    A table lock taken with `LOCK TABLES` or `FLUSH TABLES ... WITH READ LOCK` belongs to
    the session and lasts until `UNLOCK TABLES` or the end of the session, across
    transactions. RDS Proxy for MySQL pins the client to that database connection. The
    session pinning filter does not change this.

    ## How to fix
    - Lock the rows you need inside a transaction: `SELECT ... FOR UPDATE` (or
      `FOR SHARE`); the locks end with the transaction.
    - Run backups and exports that need a global read lock on a direct connection, not
      through the proxy.

    ## Known limitations
    Locks taken inside stored procedures are invisible to the proxy and not reported.
    MariaDB's `BACKUP STAGE` and `BACKUP LOCK` are not checked.

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - MySQL, LOCK TABLES and UNLOCK TABLES: https://dev.mysql.com/doc/refman/8.0/en/lock-tables.html
    """

    code = "PIN402"
    name = "table-lock"
    summary = "A MySQL `LOCK TABLES` / `FLUSH TABLES WITH READ LOCK` pins the connection"
    help = "Lock rows with `SELECT ... FOR UPDATE` inside a transaction instead"
    tags = ("session-state", "locks")
    since = "0.2.0"
    effects = MappingProxyType({Profile.RDS_PROXY_MYSQL: Effect.PINS})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        lock = mysql_table_lock(stmt)
        if lock is None:
            return
        what = "releases table locks held" if lock.release else "takes table locks that are held"
        yield Finding(
            f"`{lock.statement}` {what} by the session across transactions; the client is "
            "pinned to one database connection",
            self.effect(ctx),
        )
