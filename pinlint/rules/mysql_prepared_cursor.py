from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import CallSite, Effect, Profile, ValueKind
from pinlint.rules.base import CallRule, Finding, RuleContext


class MysqlPreparedCursor(CallRule):
    """
    ## What it flags
    MySQL Connector/Python cursors that use server-side prepared statements:
    `cnx.cursor(prepared=True)`, and `cnx.cursor(cursor_class=MySQLCursorPrepared)` (or
    any cursor class whose name ends in `Prepared`, such as `MySQLCursorPreparedDict`),
    in a module that imports `mysql.connector`.

    ## Why it pins
    A prepared cursor sends each statement with the binary protocol
    (`COM_STMT_PREPARE`, then `COM_STMT_EXECUTE`), and the statement lives in the server
    session. RDS Proxy for MySQL and MariaDB pins the client to its database connection
    on prepared statements, whether they are SQL text (`PREPARE`) or the binary
    protocol, for the rest of the session.

    ## How to fix
    Use the default cursor (`cnx.cursor()`): Connector/Python then interpolates the
    parameters on the client and sends plain text, which RDS Proxy multiplexes. Mind the
    placeholder style: the default cursor takes `%s` and `%(name)s`, not `?`.

    ## Known limitations
    Only cursors created in a module that imports `mysql.connector` are recognised; a
    cursor class imported from elsewhere is recognised by its name alone.

    ## References
    - AWS, Avoiding pinning an RDS Proxy (MySQL): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - MySQL Connector/Python, `MySQLCursorPrepared`: https://dev.mysql.com/doc/connector-python/en/connector-python-api-mysqlcursorprepared.html
    """

    code = "PIN707"
    name = "mysql-prepared-cursor"
    summary = "mysql-connector `cursor(prepared=True)` uses binary-protocol prepared statements, which pin"
    help = "Use the default cursor (`cnx.cursor()`), which interpolates parameters on the client"
    tags = ("prepared-statements", "mysql", "configuration")
    callees = frozenset({"mysql.connector.connection.cursor"})
    effects = MappingProxyType({Profile.RDS_PROXY_MYSQL: Effect.PINS})

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        prepared = call.keyword("prepared")
        if prepared is not None and prepared.literal is True:
            what, where = "`cursor(prepared=True)`", prepared
        else:
            cls = call.keyword("cursor_class")
            if cls is None or cls.kind is not ValueKind.NAME or cls.name is None:
                return
            short = cls.name.rpartition(".")[2]
            if not short.endswith("Prepared") and "CursorPrepared" not in short:
                return
            what, where = f"`cursor(cursor_class={short})`", cls
        yield Finding(
            f"{what} makes MySQL Connector send each statement as a binary-protocol prepared "
            "statement (`COM_STMT_PREPARE`); RDS Proxy pins the client to its database "
            "connection on prepared statements",
            self.effect(ctx),
            span=where.span,
        )
