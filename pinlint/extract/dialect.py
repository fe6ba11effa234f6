"""The SQL dialect a module talks, from its driver imports and engine URLs.

A module that imports a MySQL driver (`pymysql`, `MySQLdb`, `mysql.connector`,
`aiomysql`, ...) or holds a SQLAlchemy URL `mysql+...://` / `mariadb+...://` is MySQL;
one that imports a PostgreSQL driver or holds a `postgresql+...://` URL is PostgreSQL.
A module with evidence for both, or for neither, has no dialect of its own: the
configured `--dialect` applies to it.
"""

from __future__ import annotations

import re

from pinlint.extract.visitor import Imports
from pinlint.model import Dialect

MYSQL_MODULES = frozenset(
    {"pymysql", "MySQLdb", "mysql.connector", "aiomysql", "asyncmy", "mariadb"}
)
POSTGRES_MODULES = frozenset(
    {"psycopg", "psycopg2", "psycopg2cffi", "psycopg_pool", "asyncpg", "aiopg", "pg8000"}
)
_MYSQL_URL = re.compile(r"\b(?:mysql|mariadb)(?:\+\w+)?://")
_POSTGRES_URL = re.compile(r"\bpostgres(?:ql)?(?:\+\w+)?://")


def _within(module: str, packages: frozenset[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in packages for i in range(1, len(parts) + 1))


def module_dialect(imports: Imports, text: str) -> Dialect | None:
    """The dialect `imports` and the source `text` point to, or None."""
    modules = {t for targets in imports.aliases.values() for t in targets}
    modules |= imports.star_modules
    # `import mysql.connector` binds only `mysql`: that namespace is MySQL Connector's.
    mysql = any(_within(m, MYSQL_MODULES) or m == "mysql" for m in modules)
    postgres = any(_within(m, POSTGRES_MODULES) for m in modules)
    mysql = mysql or bool(_MYSQL_URL.search(text))
    postgres = postgres or bool(_POSTGRES_URL.search(text))
    if mysql == postgres:
        return None
    return Dialect.MYSQL if mysql else Dialect.POSTGRES
