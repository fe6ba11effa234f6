"""Driver and framework configuration: from the traversal's records to `CallSite`s.

The traversal (`pinlint.extract.visitor`) records every call spelled like a
configuring entry point (`drivers.CONFIG_ATTRIBUTES`, and every bare-name call) and
every function and class definition. Here, once the module's imports are known:

* a callee that the imports resolve to a `drivers.CONFIG_ENTRIES` name is that entry
  (``from psycopg import connect as pg_connect``, ``import asyncpg as apg``);
* ``<receiver>.<method>(...)`` is a `drivers.CONFIG_METHODS` entry when the module
  imports its driver (``conn.cursor("c")`` in a psycopg module);
* a SQLAlchemy ``event.listens_for``/``event.listen`` registration, or a Django
  ``connection_created`` receiver, is linked to the function it registers, and the
  SQL sites inside that function become the `CallSite.sql` of the registration;
* an ``init_command`` of a MySQL driver (given to the call, in SQLAlchemy's
  ``connect_args``, or in Django's ``OPTIONS``) becomes a SQL site of its own;
* Django ``DATABASES`` entries come from `pinlint.extract.settings`.

Arguments are evaluated by `pinlint.extract.values`. Nothing here judges: whether
``prepare_threshold`` is missing, or a hook's SQL pins, is for the rules.

The prepass (`pinlint.extract.prepass`) gives libcst only the statements holding SQL
sinks; configuration needs the whole module (module-level dicts, hook bodies,
connection classes). `needs_whole_module` says when a module may hold any, from its
imports and a word search, so that the rest keep the fast path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange

from pinlint.extract.calls import Candidate
from pinlint.extract.drivers import CONFIG_BY_NAME, CONFIG_METHODS, ConfigMethod
from pinlint.extract.settings import django_databases
from pinlint.extract.values import Arguments, Evaluator, Raw, span_of
from pinlint.extract.visitor import CallRecord, Collected, Imports, callee_parts
from pinlint.model import (
    CallSite,
    Confidence,
    Dialect,
    Origin,
    RelatedLocation,
    SqlSite,
    ValueKind,
)

#: Per driver package: words that must occur for a module importing it to configure it.
_TRIGGERS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = (
    (
        ("psycopg", "psycopg2", "psycopg2cffi", "psycopg_pool"),
        re.compile(
            r"\b(?:connect|ConnectionPool|AsyncConnectionPool|NullConnectionPool"
            r"|AsyncNullConnectionPool|SimpleConnectionPool|ThreadedConnectionPool"
            r"|ServerCursor|AsyncServerCursor)\b|\bcursor\s*\(\s*[^)\s]|\bprepare\s*="
        ),
    ),
    (("asyncpg",), re.compile(r"\b(?:connect|create_pool|prepare)\b")),
    (
        ("sqlalchemy", "sqlmodel"),
        re.compile(
            r"\b(?:create_engine|create_async_engine|listens_for|listen|stream_results"
            r"|yield_per)\b"
        ),
    ),
    (
        ("pymysql", "MySQLdb", "aiomysql", "mysql.connector", "mysql"),
        re.compile(
            r"\b(?:connect|Connect|create_pool|MySQLConnectionPool|prepared|cursor_class)\b"
        ),
    ),
    (("django",), re.compile(r"\bconnection_created\b")),
)
#: A module-level assignment of a settings name (Django's `DATABASES`).
_SETTINGS = re.compile(r"^DATABASES\s*[:=]", re.MULTILINE)
#: SQLAlchemy URL schemes and the dialect they name.
_URL_DIALECT = re.compile(r"^\s*(postgres(?:ql)?|mysql|mariadb)(?:\+\w+)?://")
#: Keys whose value is SQL a MySQL driver runs on every new connection.
INIT_SQL_KEYS = ("init_command",)
#: The Django signal a receiver must listen to.
_CONNECTION_CREATED = "django.db.backends.signals.connection_created"


def needs_whole_module(text: str, imports: Imports) -> bool:
    """Whether the module may configure a driver or framework, so that extraction
    must parse all of it (the prepass keeps only SQL sink statements)."""
    if _SETTINGS.search(text):
        return True
    modules = {t for targets in imports.aliases.values() for t in targets}
    modules |= imports.star_modules
    for packages, words in _TRIGGERS:
        if any(_within(m, packages) for m in modules) and words.search(text):
            return True
    return False


def _within(module: str, packages: Iterable[str]) -> bool:
    parts = module.lstrip(".").split(".")
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return not module.startswith(".") and any(p in prefixes for p in packages)


@dataclass(slots=True)
class Pending:
    """A configuring call (or settings entry) before positions are known."""

    callee: str
    node: cst.CSTNode  # the call, or a settings entry's dict display
    owner: cst.CSTNode  # the statement holding it
    arguments: Arguments
    dialect: Dialect | None = None
    #: The function a hook registration registers.
    hook: cst.FunctionDef | None = None
    #: SQL strings the configuration runs on each connection (`init_command`).
    init_sql: list[Raw] = field(default_factory=list)
    context: list[tuple[str, Raw]] = field(default_factory=list)

    def nodes(self) -> Iterator[cst.CSTNode]:
        yield self.node
        yield self.owner
        for raw in (*self.arguments.args, *(v for _, v in self.arguments.kwargs)):
            yield from raw.nodes()
        for _, raw in self.context:
            yield from raw.nodes()
        yield from (node for _, node in self.arguments.definitions)


@dataclass(slots=True)
class Configuration:
    """The configuring calls of one module, waiting for positions."""

    pending: list[Pending]
    #: For each hook function: the ids of the statements in its body.
    bodies: dict[int, frozenset[int]]

    @property
    def nodes(self) -> list[cst.CSTNode]:
        return [node for p in self.pending for node in p.nodes()]

    def build(
        self,
        ranges: dict[int, CodeRange],
        path: str,
        module_dialect: Dialect | None,
        sites: Sequence[tuple[Candidate, SqlSite | None]],
    ) -> tuple[CallSite, ...]:
        """The `CallSite`s, with `sites` (the module's SQL sites and the candidates
        they came from) linked to the hooks whose bodies hold them."""
        out = []
        for pending in self.pending:
            span = span_of(pending.node, ranges)
            owner = span_of(pending.owner, ranges)
            if span is None:
                continue
            statement_line = owner.line if owner is not None else span.line
            dialect = pending.dialect or module_dialect
            args = pending.arguments
            sql: list[SqlSite] = []
            function = None
            if pending.hook is not None:
                function = pending.hook.name.value
                body = self.bodies.get(id(pending.hook), frozenset())
                sql = [s for c, s in sites if s is not None and id(c.owner) in body]
            for raw in pending.init_sql:
                site = _init_site(raw, pending.callee, path, statement_line, ranges)
                if site is not None:
                    sql.append(site)
            related = [
                *(
                    r
                    for raw in (*args.args, *(v for _, v in args.kwargs))
                    for r in raw.related(path, ranges)
                ),
                *(r for _, raw in pending.context for r in raw.related(path, ranges)),
            ]
            for name, node in args.definitions:
                where = span_of(node, ranges)
                if where is not None:
                    related.append(RelatedLocation(path, where, f"`{name}` is defined here"))
            out.append(
                CallSite(
                    path=path,
                    span=span,
                    callee=pending.callee,
                    statement_line=statement_line,
                    args=tuple(raw.value(ranges) for raw in args.args),
                    kwargs=tuple((k, raw.value(ranges)) for k, raw in args.kwargs),
                    open_args=args.open_args,
                    open_kwargs=args.open_kwargs,
                    confidence=Confidence.HIGH,
                    dialect=dialect,
                    function=function,
                    sql=tuple(sql),
                    context=tuple((k, raw.value(ranges)) for k, raw in pending.context),
                    related=tuple(dict.fromkeys(related)),
                )
            )
        out.sort(key=lambda c: (c.span, c.callee))
        return tuple(out)


def _init_site(
    raw: Raw, callee: str, path: str, statement_line: int, ranges: dict[int, CodeRange]
) -> SqlSite | None:
    span = span_of(raw.node, ranges)
    if span is None or not isinstance(raw.literal, str):
        return None
    return SqlSite(
        path=path,
        span=span,
        text=raw.literal,
        origin=Origin.CONFIG,
        confidence=Confidence.MEDIUM if raw.partial else Confidence.HIGH,
        sink=f"{callee}(init_command)",
        statement_line=statement_line,
        dialect=Dialect.MYSQL,
    )


def configuration(collected: Collected, module: cst.Module) -> Configuration | None:
    """The configuring calls and settings of a module, or None when it has none."""
    imports = collected.imports
    evaluator = Evaluator(module, imports, collected.definitions)
    decorated: dict[int, cst.FunctionDef] = {}
    for definition in collected.definitions:
        if isinstance(definition, cst.FunctionDef):
            for decorator in definition.decorators:
                decorated[id(decorator.decorator)] = definition
    pending: list[Pending] = []
    seen: set[int] = set()
    for record in (*collected.name_calls, *collected.config_calls):
        if id(record.call) in seen:
            continue
        found = _entry_call(record, imports, evaluator, decorated)
        if found is None:
            found = _method_call(record, imports, evaluator)
        if found is not None:
            seen.add(id(record.call))
            pending.append(found)
    pending.extend(django_databases(module, evaluator, imports))
    for item in pending:
        item.init_sql.extend(_init_sql(item))
    if not pending:
        return None
    bodies = {id(p.hook): _body_ids(p.hook) for p in pending if p.hook is not None}
    return Configuration(pending, bodies)


def _entry_call(
    record: CallRecord,
    imports: Imports,
    evaluator: Evaluator,
    decorated: dict[int, cst.FunctionDef],
) -> Pending | None:
    parts = callee_parts(record.call.func)
    if parts is None:
        return None
    entry = None
    for qualified in sorted(imports.resolve(parts)):
        entry = CONFIG_BY_NAME.get(qualified)
        if entry is not None:
            break
    if entry is None:
        return None
    arguments = evaluator.arguments(record.call)
    found = Pending(entry.callee, record.call, record.owner, arguments, entry.dialect)
    if entry.callee == "sqlalchemy.create_engine":
        url = arguments.argument(0, "url")
        text = url.literal if url is not None and isinstance(url.literal, str) else ""
        match = _URL_DIALECT.match(text)
        if match:
            found.dialect = Dialect.MYSQL if match.group(1) in ("mysql", "mariadb") else None
            found.dialect = found.dialect or Dialect.POSTGRES
    elif entry.callee == "sqlalchemy.event.listen":
        found.hook = decorated.get(id(record.call)) or _function_argument(
            arguments, evaluator, 2, "fn"
        )
    elif entry.callee == "django.connection_created":
        if parts[-1] == "receiver":
            if not _is_connection_created(arguments.argument(0, "signal"), imports):
                return None
            found.hook = decorated.get(id(record.call))
        else:
            found.hook = _function_argument(arguments, evaluator, 0, "receiver")
    return found


def _is_connection_created(raw: Raw | None, imports: Imports) -> bool:
    """`@receiver(connection_created)` or `@receiver([connection_created, ...])`."""
    if raw is None or raw.node is None:
        return False
    node = raw.node
    signals = (
        [e.value for e in node.elements if isinstance(e, cst.Element)]
        if isinstance(node, (cst.List, cst.Tuple))
        else [node]
    )
    for signal in signals:
        parts = callee_parts(signal) if isinstance(signal, cst.BaseExpression) else None
        if parts is not None and _CONNECTION_CREATED in imports.resolve(parts):
            return True
    return False


def _function_argument(
    arguments: Arguments, evaluator: Evaluator, position: int, keyword: str
) -> cst.FunctionDef | None:
    raw = arguments.argument(position, keyword)
    if raw is None or not isinstance(raw.node, cst.Name):
        return None
    return evaluator.functions.get(raw.node.value)


def _method_call(record: CallRecord, imports: Imports, evaluator: Evaluator) -> Pending | None:
    func = record.call.func
    if not isinstance(func, cst.Attribute):
        return None
    method = func.attr.value
    given = {a.keyword.value for a in record.call.args if a.keyword is not None}
    for entry in CONFIG_METHODS:
        if entry.method != method or not _imports_any(imports, entry):
            continue
        if entry.keywords is None:
            if not record.call.args:
                continue
        elif not given & set(entry.keywords):
            continue
        arguments = evaluator.arguments(record.call)
        return Pending(entry.callee, record.call, record.owner, arguments, entry.dialect)
    return None


def _imports_any(imports: Imports, entry: ConfigMethod) -> bool:
    modules = {t for targets in imports.aliases.values() for t in targets}
    modules |= imports.star_modules
    packages = entry.packages
    if "mysql.connector" in packages and "mysql" in modules:
        return True  # `import mysql.connector` binds only `mysql`
    return any(_within(m, packages) for m in modules)


def _init_sql(pending: Pending) -> Iterator[Raw]:
    """The `init_command` strings of a MySQL connection's configuration."""
    if pending.dialect is not Dialect.MYSQL:
        return
    args = pending.arguments
    holders: list[Raw | None] = []
    if pending.callee == "sqlalchemy.create_engine":
        holders.append(args.keyword("connect_args"))
    elif pending.callee == "django.DATABASES":
        holders.append(args.keyword("OPTIONS"))
    else:
        for key in INIT_SQL_KEYS:
            value = args.keyword(key)
            if value is not None and isinstance(value.literal, str):
                yield value
        return
    for holder in holders:
        if holder is None or holder.kind is not ValueKind.DICT:
            continue
        for key in INIT_SQL_KEYS:
            value = holder.get(key)
            if value is not None and isinstance(value.literal, str):
                yield value


def _body_ids(function: cst.FunctionDef) -> frozenset[int]:
    """The ids of every node in a function's body (its statements among them)."""
    ids: set[int] = set()
    stack: list[cst.CSTNode] = [function.body]
    while stack:
        node = stack.pop()
        ids.add(id(node))
        stack.extend(node.children)
    return frozenset(ids)
