"""The known SQL entry points of Python database drivers and ORMs, as data.

Extraction looks for two shapes of call:

* a **method sink**, ``<anything>.execute(sql, ...)``: matched on the attribute name
  alone, because the receiver (a cursor, a connection, a session) is usually a
  local variable or a parameter whose type cannot be known without inference;
* a **function sink**, ``text(sql)`` / ``sa.text(sql)`` / ``RawSQL(sql, params)``:
  matched by resolving the callee through the module's own import statements.

How sure extraction is that a call reaches a database is a `Tier`, turned into a
`pinlint.model.Confidence` once the whole module has been read (an import at the
bottom of a file still counts). Everything the gate (`pinlint.extract.gate`) and
the traversal (`pinlint.extract.visitor`) need to know about drivers lives here, so
adding an entry point is a data change: add a row, add a fixture line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pinlint.model import Confidence

#: Keyword names under which the common entry points accept their SQL
#: (DB-API ``operation``, psycopg ``query``, sqlite3 ``sql``, SQLAlchemy
#: ``statement``).
SQL_KEYWORDS: tuple[str, ...] = ("sql", "query", "operation", "statement")


class Tier(Enum):
    """How a sink's confidence is decided."""

    #: The call is a database entry point whatever the module imports.
    ALWAYS = "always"
    #: HIGH when the module imports a database module (`DB_MODULES`), else MEDIUM:
    #: cursors are often handed in as parameters, so a module without a DB import
    #: still counts, just with less certainty.
    DB_IMPORT = "db-import"


class Shape(Enum):
    """How the SQL text is read from the call's arguments."""

    #: The argument is the SQL statement itself.
    SQL = "sql"
    #: ``callproc(name, args)``: the argument is a function name; the text becomes
    #: ``SELECT name(<HOLE>, ...)``, what psycopg2 sends.
    PROCNAME = "procname"
    #: Django ``QuerySet.extra(select={...}, where=[...])``: SQL fragments.
    DJANGO_EXTRA = "django-extra"


@dataclass(frozen=True, slots=True)
class MethodSink:
    """``<receiver>.<method>(...)`` sends SQL, whatever the receiver is."""

    method: str
    sink: str
    tier: Tier = Tier.DB_IMPORT
    shape: Shape = Shape.SQL
    #: Which positional argument holds the SQL, and under which keyword names.
    position: int = 0
    keywords: tuple[str, ...] = SQL_KEYWORDS


@dataclass(frozen=True, slots=True)
class FunctionSink:
    """A module-level function whose argument is SQL (``sqlalchemy.text``)."""

    #: The function's own name, as defined in its package.
    name: str
    #: Top-level packages that define or re-export it. A callee whose import-resolved
    #: qualified name starts with one of these and ends with `name` is this sink.
    packages: tuple[str, ...]
    sink: str
    position: int = 0
    keywords: tuple[str, ...] = SQL_KEYWORDS


METHOD_SINKS: tuple[MethodSink, ...] = (
    # DB-API 2.0 cursors and connections (psycopg2, psycopg 3, pymysql, sqlite3, ...),
    # SQLAlchemy 1.x ``Connection.execute("...")`` and asyncpg ``Connection.execute``.
    MethodSink("execute", "cursor.execute"),
    MethodSink(
        "executemany", "cursor.executemany", Tier.ALWAYS, keywords=(*SQL_KEYWORDS, "command")
    ),
    MethodSink(
        "callproc", "cursor.callproc", Tier.ALWAYS, Shape.PROCNAME, keywords=("procname", "name")
    ),
    # asyncpg Connection / Pool.
    MethodSink("fetch", "asyncpg.fetch"),
    MethodSink("fetchrow", "asyncpg.fetchrow"),
    MethodSink("fetchval", "asyncpg.fetchval"),
    # SQLAlchemy Connection.exec_driver_sql (1.4+).
    MethodSink("exec_driver_sql", "Connection.exec_driver_sql", Tier.ALWAYS),
    # Django Manager.raw / QuerySet.raw and QuerySet.extra.
    MethodSink("raw", "django.raw", keywords=(*SQL_KEYWORDS, "raw_query")),
    MethodSink("extra", "django.extra", shape=Shape.DJANGO_EXTRA),
)

FUNCTION_SINKS: tuple[FunctionSink, ...] = (
    FunctionSink(
        "text", ("sqlalchemy", "sqlmodel"), "sqlalchemy.text", keywords=("text", *SQL_KEYWORDS)
    ),
    FunctionSink("RawSQL", ("django",), "django.RawSQL"),
)

#: Importing any of these (or a submodule) makes ``.execute`` & co. HIGH confidence.
DB_MODULES: frozenset[str] = frozenset(
    {
        "psycopg",
        "psycopg2",
        "psycopg2cffi",
        "psycopg_pool",
        "asyncpg",
        "aiopg",
        "pg8000",
        "pgdb",
        "pymysql",
        "MySQLdb",
        "mysql.connector",
        "aiomysql",
        "sqlite3",
        "aiosqlite",
        "pyodbc",
        "oracledb",
        "cx_Oracle",
        "sqlalchemy",
        "sqlmodel",
        "databases",
        "django.db",
    }
)

#: The arguments of ``QuerySet.extra`` that hold SQL, as (keyword, positional index):
#: ``extra(select=None, where=None, params=None, tables=None, order_by=None, ...)``.
DJANGO_EXTRA_SELECT = ("select", 0)
DJANGO_EXTRA_WHERE = ("where", 1)

METHODS_BY_NAME: dict[str, MethodSink] = {m.method: m for m in METHOD_SINKS}
FUNCTIONS_BY_NAME: dict[str, FunctionSink] = {f.name: f for f in FUNCTION_SINKS}


def sink_names() -> frozenset[str]:
    """Every identifier whose absence from a file proves it holds no SQL site."""
    return frozenset(METHODS_BY_NAME) | frozenset(FUNCTIONS_BY_NAME)


def is_db_module(qualified: str) -> bool:
    """Whether an imported dotted name is, or is inside, a known database module."""
    parts = qualified.split(".")
    return any(".".join(parts[:i]) in DB_MODULES for i in range(1, len(parts) + 1))


def confidence_for(tier: Tier, *, db_import: bool) -> Confidence:
    """The confidence of a method sink call, before any lowering for holes."""
    if tier is Tier.ALWAYS or db_import:
        return Confidence.HIGH
    return Confidence.MEDIUM


class Binding(Enum):
    """What the module's imports say about the name a function sink was called by."""

    #: Resolved through an import to the sink's package (``from sqlalchemy import text
    #: as T``; ``import sqlalchemy as sa`` then ``sa.text``).
    SINK = "sink"
    #: A bare name that no import binds (a star import, a local helper, a builtin).
    UNBOUND = "unbound"
    #: A bare name bound by an import from some other module (perhaps a re-export).
    OTHER = "other"


def function_confidence(binding: Binding, *, db_import: bool) -> Confidence:
    """The confidence of a function sink call, before any lowering for holes."""
    if binding is Binding.SINK:
        return Confidence.HIGH
    if binding is Binding.UNBOUND and db_import:
        return Confidence.MEDIUM
    return Confidence.LOW


def lower(confidence: Confidence) -> Confidence:
    """One step less sure (HIGH -> MEDIUM -> LOW -> LOW)."""
    if confidence is Confidence.HIGH:
        return Confidence.MEDIUM
    return Confidence.LOW
