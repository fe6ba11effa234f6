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

from pinlint.model import Confidence, Dialect

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
    # A DDL object exists to be executed (``conn.execute(DDL(...))``, ``event.listen``).
    FunctionSink("DDL", ("sqlalchemy",), "sqlalchemy.DDL", keywords=("statement",)),
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


@dataclass(frozen=True, slots=True)
class ConfigEntry:
    """A function whose arguments decide what a driver sends on its own (PIN7xx):
    connect functions, pools, engines, hook registration. `names` are the qualified
    names the module's imports may resolve a callee to; `callee` is what rules see."""

    callee: str
    names: tuple[str, ...]
    dialect: Dialect | None = None


@dataclass(frozen=True, slots=True)
class ConfigMethod:
    """``<receiver>.<method>(...)`` that configures a driver. The receiver's type is
    unknown, so the call counts only in a module that imports one of `packages`, and
    only with one of `keywords` given (None: with any argument)."""

    method: str
    callee: str
    packages: tuple[str, ...]
    dialect: Dialect | None = None
    keywords: tuple[str, ...] | None = None


_PG, _MY = Dialect.POSTGRES, Dialect.MYSQL
CONFIG_ENTRIES: tuple[ConfigEntry, ...] = (
    ConfigEntry(
        "psycopg.connect",
        ("psycopg.connect", "psycopg.Connection.connect", "psycopg.connection.Connection.connect"),
        _PG,
    ),
    ConfigEntry(
        "psycopg.AsyncConnection.connect",
        ("psycopg.AsyncConnection.connect", "psycopg.connection_async.AsyncConnection.connect"),
        _PG,
    ),
    ConfigEntry(
        "psycopg_pool.ConnectionPool",
        tuple(
            f"psycopg_pool.{name}"
            for name in (
                "ConnectionPool",
                "AsyncConnectionPool",
                "NullConnectionPool",
                "AsyncNullConnectionPool",
            )
        ),
        _PG,
    ),
    ConfigEntry(
        "psycopg.ServerCursor",
        ("psycopg.ServerCursor", "psycopg.AsyncServerCursor"),
        _PG,
    ),
    ConfigEntry("psycopg2.connect", ("psycopg2.connect", "psycopg2cffi.connect"), _PG),
    ConfigEntry(
        "psycopg2.pool",
        ("psycopg2.pool.SimpleConnectionPool", "psycopg2.pool.ThreadedConnectionPool"),
        _PG,
    ),
    ConfigEntry("asyncpg.connect", ("asyncpg.connect", "asyncpg.connection.connect"), _PG),
    ConfigEntry(
        "asyncpg.create_pool", ("asyncpg.create_pool", "asyncpg.pool.create_pool"), _PG
    ),
    ConfigEntry(
        "sqlalchemy.create_engine",
        (
            "sqlalchemy.create_engine",
            "sqlalchemy.engine.create_engine",
            "sqlmodel.create_engine",
            "sqlalchemy.ext.asyncio.create_async_engine",
            "sqlalchemy.ext.asyncio.engine.create_async_engine",
        ),
    ),
    ConfigEntry(
        "sqlalchemy.event.listen",
        (
            "sqlalchemy.event.listen",
            "sqlalchemy.event.listens_for",
            "sqlalchemy.event.api.listen",
            "sqlalchemy.event.api.listens_for",
        ),
    ),
    ConfigEntry(
        "django.connection_created",
        (
            "django.db.backends.signals.connection_created.connect",
            "django.dispatch.receiver",
            "django.dispatch.dispatcher.receiver",
        ),
    ),
    ConfigEntry("pymysql.connect", ("pymysql.connect", "pymysql.Connect"), _MY),
    ConfigEntry("MySQLdb.connect", ("MySQLdb.connect", "MySQLdb.Connect"), _MY),
    ConfigEntry("aiomysql.connect", ("aiomysql.connect", "aiomysql.create_pool"), _MY),
    ConfigEntry(
        "mysql.connector.connect",
        (
            "mysql.connector.connect",
            "mysql.connector.aio.connect",
            "mysql.connector.pooling.MySQLConnectionPool",
        ),
        _MY,
    ),
)

#: In order: a call is the first entry for its method whose packages the module
#: imports and whose keywords it gives.
CONFIG_METHODS: tuple[ConfigMethod, ...] = (
    # mysql-connector `cnx.cursor(prepared=True)` (PIN707).
    ConfigMethod(
        "cursor",
        "mysql.connector.connection.cursor",
        ("mysql.connector",),
        _MY,
        ("prepared", "cursor_class"),
    ),
    # psycopg 2 and 3 `conn.cursor(name)`: a server-side cursor (PIN704).
    ConfigMethod("cursor", "psycopg.Connection.cursor", ("psycopg",), _PG),
    ConfigMethod("cursor", "psycopg2.connection.cursor", ("psycopg2", "psycopg2cffi"), _PG),
    # psycopg 3 `execute(query, prepare=True)` (PIN702).
    ConfigMethod("execute", "psycopg.Cursor.execute", ("psycopg",), _PG, ("prepare",)),
    # asyncpg `Connection.prepare(query)` (PIN703).
    ConfigMethod("prepare", "asyncpg.Connection.prepare", ("asyncpg",), _PG),
    # SQLAlchemy streaming (PIN704).
    ConfigMethod(
        "execution_options",
        "sqlalchemy.execution_options",
        ("sqlalchemy", "sqlmodel"),
        None,
        ("stream_results", "yield_per"),
    ),
    ConfigMethod("yield_per", "sqlalchemy.yield_per", ("sqlalchemy", "sqlmodel")),
)

CONFIG_BY_NAME: dict[str, ConfigEntry] = {n: e for e in CONFIG_ENTRIES for n in e.names}
#: The attribute names under which a configuring call is spelled (``psycopg.connect``,
#: ``event.listens_for``, ``conn.cursor``): the traversal records these calls.
CONFIG_ATTRIBUTES: frozenset[str] = frozenset(
    {n.rpartition(".")[2] for n in CONFIG_BY_NAME} | {m.method for m in CONFIG_METHODS}
)
#: Module-level settings names that configure a framework (Django's `DATABASES`).
SETTINGS_NAMES: frozenset[str] = frozenset({"DATABASES"})
#: Attribute names that may start a transaction (``session.begin``, ``conn.autocommit``,
#: ``psycopg2.connect``, ``conn.transaction``): the traversal records where they occur,
#: so that PIN501 models only the functions holding one (`pinlint.extract.flow`).
TRANSACTION_ATTRIBUTES: frozenset[str] = frozenset(
    {"begin", "connect", "autocommit", "transaction"}
)


def sink_names() -> frozenset[str]:
    """Every identifier whose absence from a file proves it holds no SQL site."""
    return frozenset(METHODS_BY_NAME) | frozenset(FUNCTIONS_BY_NAME)


def function_sink_packages() -> frozenset[str]:
    """The packages through whose import ``alias.text(...)`` is a function sink."""
    return frozenset(p for f in FUNCTION_SINKS for p in f.packages)


def config_names() -> frozenset[str]:
    """Every identifier whose absence (called, or aliased in an import) proves a file
    configures no driver or framework; `SETTINGS_NAMES` are assigned, not called."""
    return CONFIG_ATTRIBUTES


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
