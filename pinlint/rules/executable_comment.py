from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType

from pinlint.model import Effect, Profile
from pinlint.rules.base import Finding, RuleContext, SqlRule
from pinlint.sql.statement import Statement

_SHOWN = 60


class ExecutableComment(SqlRule):
    """
    ## What it flags
    MySQL executable comments, `/*! ... */` and `/*!40101 ... */`, and MariaDB's
    `/*M! ... */`, anywhere in a statement: the header lines of `mysqldump` output
    (`/*!40101 SET NAMES utf8mb4 */`), or a version-guarded keyword
    (`CREATE /*!32302 TEMPORARY */ TABLE`). Not optimizer hints (`/*+ ... */`) or plain
    comments. MySQL only.

    ## Why it pins
    MySQL runs the text inside an executable comment as SQL, but RDS Proxy cannot see
    inside it, so it pins the client to its database connection, whatever the comment
    holds. The check runs on the raw text, before any parser drops the comment. The SQL
    inside is also checked by the other rules, as the server runs it.

    ## How to fix
    - Write the statement plainly (`SET NAMES utf8mb4`): tracked statements then do not
      pin at all.
    - Strip the executable comments from dumps and migration scripts replayed through
      the proxy, or replay them on a direct connection.

    ## Known limitations
    The session pinning filter does not apply (the proxy does not see a `SET`).

    ## References
    - AWS, Avoiding pinning an RDS Proxy: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - MySQL, comments (executable comments): https://dev.mysql.com/doc/refman/8.0/en/comments.html
    - MariaDB, comment syntax: https://mariadb.com/kb/en/comment-syntax/
    """

    code = "PIN602"
    name = "executable-comment"
    summary = "A MySQL executable comment (`/*! ... */`) pins the connection"
    help = "Write the statement without the executable comment"
    tags = ("comments",)
    since = "0.2.0"
    effects = MappingProxyType({Profile.RDS_PROXY_MYSQL: Effect.PINS})

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        for comment in stmt.executable_comments:
            shown = " ".join(comment.raw.split())
            if len(shown) > _SHOWN:
                shown = shown[: _SHOWN - 4].rstrip() + " ...*/"
            who = "MariaDB" if comment.mariadb else "MySQL"
            yield Finding(
                f"`{shown}` is an executable comment: {who} runs the SQL inside it, but RDS "
                "Proxy cannot see inside; the client is pinned to one database connection",
                self.effect(ctx),
            )
