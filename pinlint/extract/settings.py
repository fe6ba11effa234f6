"""Django settings modules: each `DATABASES` entry as a configuring "call".

A module that assigns ``DATABASES`` at module level (``settings.py``, or a module of
a ``settings/`` package) configures Django's database connections. Each entry whose
``ENGINE`` names a PostgreSQL or MySQL backend becomes a `Pending` call with the
callee ``django.DATABASES``: the alias and the entry's dict as its arguments, the
entry's keys (``OPTIONS``, ``DISABLE_SERVER_SIDE_CURSORS``, ``TIME_ZONE``, ...) as
its keywords. The module-level ``USE_TZ`` and ``TIME_ZONE`` go with it as context,
because Django's time-zone statement on connect depends on them; a setting this
module does not assign is unknown when the module star-imports other settings
(``from .base import *``), and Django's default otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from pinlint.extract.values import Arguments, Evaluator, Raw
from pinlint.extract.visitor import Imports
from pinlint.model import Dialect, ValueKind

if TYPE_CHECKING:
    from pinlint.extract.config import Pending

#: Module-level settings a database entry's verdict depends on.
CONTEXT_SETTINGS = ("USE_TZ", "TIME_ZONE")


def engine_dialect(engine: str) -> Dialect | None:
    """The dialect of a Django ``ENGINE`` (third-party backends wrapping Django's
    count too: ``django_prometheus.db.backends.postgresql``)."""
    last = engine.rsplit(".", 1)[-1].lower()
    if "postgres" in last or "postgis" in last:
        return Dialect.POSTGRES
    if "mysql" in last:
        return Dialect.MYSQL
    return None


def django_databases(module: cst.Module, evaluator: Evaluator, imports: Imports) -> list[Pending]:
    """One `Pending` per PostgreSQL or MySQL entry of a module-level `DATABASES`."""
    from pinlint.extract.config import Pending

    out: list[Pending] = []
    changes = _later_changes(module, evaluator)
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            value = _databases_value(small)
            if value is None:
                continue
            databases = evaluator.value(value)
            if databases.kind is not ValueKind.DICT:
                continue
            context = _context(evaluator, imports)
            for alias, entry in databases.entries:
                if entry.kind is not ValueKind.DICT or entry.node is None:
                    continue
                if alias in changes.opened or None in changes.opened:
                    entry.open = True
                entry.entries.extend(changes.keys.get(alias, ()))
                engine = entry.get("ENGINE")
                if engine is None or not isinstance(engine.literal, str):
                    continue
                dialect = engine_dialect(engine.literal)
                if dialect is None:
                    continue
                arguments = Arguments(
                    args=[Raw(ValueKind.LITERAL, literal=alias), entry],
                    kwargs=list(entry.entries),
                    open_kwargs=entry.open,
                )
                out.append(
                    Pending(
                        "django.DATABASES",
                        entry.node,
                        small,
                        arguments,
                        dialect,
                        context=list(context),
                    )
                )
    return out


@dataclass(slots=True)
class _Changes:
    """What module-level statements after the `DATABASES` display change in it:
    ``DATABASES["default"]["KEY"] = value`` sets a key; anything else that reaches
    into it (``DATABASES["default"].update(...)``, a deeper subscript) makes the
    entry (None: every entry) unknown."""

    keys: dict[str, list[tuple[str, Raw]]] = field(default_factory=dict)
    opened: set[str | None] = field(default_factory=set)


def _later_changes(module: cst.Module, evaluator: Evaluator) -> _Changes:
    changes = _Changes()
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    path = _subscripts(target.target)
                    if path is None:
                        continue
                    if len(path) == 2 and path[0] is not None and path[1] is not None:
                        value = evaluator.value(small.value)
                        changes.keys.setdefault(path[0], []).append((path[1], value))
                    elif len(path) != 1:
                        changes.opened.add(path[0])
            elif isinstance(small, (cst.Expr, cst.AugAssign)):
                node = small.value if isinstance(small, cst.Expr) else small.target
                for alias in _reached(node):
                    changes.opened.add(alias)
    return changes


def _subscripts(node: cst.BaseExpression) -> list[str | None] | None:
    """``DATABASES["a"]["b"]`` -> ["a", "b"] (None for a key that is not a string
    literal); None when `node` is not a subscript of `DATABASES`."""
    keys: list[str | None] = []
    while isinstance(node, cst.Subscript):
        index = node.slice[0].slice if len(node.slice) == 1 else None
        key = None
        if isinstance(index, cst.Index) and isinstance(index.value, cst.SimpleString):
            evaluated = index.value.evaluated_value
            key = evaluated if isinstance(evaluated, str) else None
        keys.append(key)
        node = node.value
    if not keys or not _is_databases(node):
        return None
    return list(reversed(keys))


def _reached(node: cst.CSTNode) -> Iterator[str | None]:
    """The entries an expression statement reaches into (a method call on
    ``DATABASES[...]``), None for the whole dict."""
    stack: list[cst.CSTNode] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.Attribute):
            path = _subscripts(item.value)
            if path is not None:
                yield path[0] if path else None
            elif _is_databases(item.value):
                yield None
        if isinstance(item, cst.Subscript):
            path = _subscripts(item)
            if path is not None:
                yield path[0]
                continue
        stack.extend(item.children)


def _databases_value(small: cst.BaseSmallStatement) -> cst.BaseExpression | None:
    if isinstance(small, cst.Assign):
        if len(small.targets) == 1 and _is_databases(small.targets[0].target):
            return small.value
    elif isinstance(small, cst.AnnAssign) and _is_databases(small.target):
        return small.value
    return None


def _is_databases(target: cst.BaseExpression) -> bool:
    return isinstance(target, cst.Name) and target.value == "DATABASES"


def _context(evaluator: Evaluator, imports: Imports) -> list[tuple[str, Raw]]:
    out = []
    for name in CONTEXT_SETTINGS:
        bound = evaluator.constants.get(name)
        if bound is not None:
            out.append((name, evaluator.value(bound[0])))
        elif imports.star_modules:
            out.append((name, Raw(ValueKind.OTHER)))
    return out
