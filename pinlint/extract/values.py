"""Evaluate the arguments of configuring calls into small `pinlint.model.Value`s.

Configuration is mostly written as literals: ``prepare_threshold=None``,
``connect_args={"statement_cache_size": 0}``, a DSN string, a Django ``DATABASES``
dict. This module reads those, and follows what a reader of the module alone can
follow: a module-level name bound once to a literal or a dict (``**DB_KWARGS``,
``connect_args=CONNECT_ARGS``), ``dict(a=1)`` calls, and ``**`` expansion of a known
dict inside a dict display or a call. Anything else is kept as a `ValueKind.NAME`
(a dotted name resolved through the imports, with the methods of a class defined in
the module) or `ValueKind.OTHER`, so rules can tell "given, value unknown" from
"not given".

Evaluation happens in two steps because positions are computed once for the whole
module (`pinlint.extract.positions`): `Evaluator` builds `Raw` trees that keep their
libcst nodes, and `Raw.value` turns one into a `Value` once the ranges are known.
"""

from __future__ import annotations

import warnings
from ast import literal_eval
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import CodeRange

from pinlint.extract.strings import evaluate
from pinlint.extract.visitor import Imports, callee_parts
from pinlint.model import RelatedLocation, Span, Value, ValueKind

#: How many module-level names one value may go through (`A = B`, `B = {...}`).
_MAX_DEPTH = 8
_SCALARS = {"True": True, "False": False, "None": None}


@dataclass(slots=True)
class Raw:
    """A `Value` before positions are known: the same fields, plus the nodes."""

    kind: ValueKind
    node: cst.CSTNode | None = None
    literal: str | int | float | bool | None = None
    entries: list[tuple[str, Raw]] = field(default_factory=list)
    open: bool = False
    partial: bool = False
    name: str | None = None
    methods: tuple[str, ...] | None = None
    shared: bool = False
    #: The module-level assignments this value was read through, with the name.
    definitions: list[tuple[str, cst.CSTNode]] = field(default_factory=list)

    def get(self, key: str) -> Raw | None:
        for name, value in reversed(self.entries):
            if name == key:
                return value
        return None

    def nodes(self) -> Iterator[cst.CSTNode]:
        """Every node whose range the `Value` needs."""
        stack: list[Raw] = [self]
        while stack:
            raw = stack.pop()
            if raw.node is not None:
                yield raw.node
            yield from (node for _, node in raw.definitions)
            stack.extend(value for _, value in raw.entries)

    def value(self, ranges: dict[int, CodeRange]) -> Value:
        return Value(
            kind=self.kind,
            literal=self.literal,
            entries=tuple((key, raw.value(ranges)) for key, raw in self.entries),
            open=self.open,
            partial=self.partial,
            name=self.name,
            methods=self.methods,
            span=span_of(self.node, ranges),
            shared=self.shared,
        )

    def related(self, path: str, ranges: dict[int, CodeRange]) -> Iterator[RelatedLocation]:
        """Where the module-level names this value went through are defined."""
        stack: list[Raw] = [self]
        while stack:
            raw = stack.pop()
            for name, node in raw.definitions:
                span = span_of(node, ranges)
                if span is not None:
                    yield RelatedLocation(path, span, f"`{name}` is defined here")
            stack.extend(value for _, value in raw.entries)


def span_of(node: cst.CSTNode | None, ranges: dict[int, CodeRange]) -> Span | None:
    """The `Span` of a node whose range was computed, else None."""
    if node is None:
        return None
    where = ranges.get(id(node))
    if where is None:
        return None
    return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)


@dataclass(slots=True)
class Arguments:
    """The evaluated arguments of one call."""

    args: list[Raw] = field(default_factory=list)
    kwargs: list[tuple[str, Raw]] = field(default_factory=list)
    open_args: bool = False
    open_kwargs: bool = False
    #: Module-level names a ``**NAME`` expansion went through, with their statements.
    definitions: list[tuple[str, cst.CSTNode]] = field(default_factory=list)

    def keyword(self, name: str) -> Raw | None:
        for key, value in reversed(self.kwargs):
            if key == name:
                return value
        return None

    def argument(self, position: int, *keywords: str) -> Raw | None:
        if position < len(self.args):
            return self.args[position]
        for name in keywords:
            found = self.keyword(name)
            if found is not None:
                return found
        return None


class Evaluator:
    """Reads values in one module: its imports, its module-level names, its classes."""

    def __init__(
        self,
        module: cst.Module,
        imports: Imports,
        definitions: Sequence[cst.FunctionDef | cst.ClassDef] = (),
    ) -> None:
        self.imports = imports
        self.constants = module_constants(module)
        classes: dict[str, list[cst.ClassDef]] = {}
        functions: dict[str, list[cst.FunctionDef]] = {}
        for node in definitions:
            if isinstance(node, cst.ClassDef):
                classes.setdefault(node.name.value, []).append(node)
            else:
                functions.setdefault(node.name.value, []).append(node)
        #: Names defined once in the module (a name defined twice is ambiguous).
        self.classes = {k: v[0] for k, v in classes.items() if len(v) == 1}
        self.functions = {k: v[0] for k, v in functions.items() if len(v) == 1}

    def value(self, node: cst.BaseExpression, depth: int = 0) -> Raw:
        """What `node` evaluates to, as far as the module tells."""
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)) or (
            isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add)
        ):
            text = evaluate(node)
            if text is not None:
                return Raw(ValueKind.LITERAL, node, text.text, partial=text.holes)
            return Raw(ValueKind.OTHER, node)
        if isinstance(node, (cst.Integer, cst.Float)):
            return Raw(ValueKind.LITERAL, node, _number(node.value))
        if (
            isinstance(node, cst.UnaryOperation)
            and isinstance(node.operator, cst.Minus)
            and isinstance(node.expression, (cst.Integer, cst.Float))
        ):
            number = _number(node.expression.value)
            return Raw(ValueKind.LITERAL, node, -number if number is not None else None)
        if isinstance(node, cst.Name):
            return self._name(node, depth)
        if isinstance(node, cst.Attribute):
            parts = callee_parts(node)
            if parts is None:
                return Raw(ValueKind.OTHER, node)
            return Raw(ValueKind.NAME, node, name=_first(self.imports.resolve(parts)))
        if isinstance(node, cst.Dict):
            return self._dict(node, depth)
        if isinstance(node, cst.Call) and self._is_dict_call(node):
            return self._dict_call(node, depth)
        return Raw(ValueKind.OTHER, node)

    def arguments(self, call: cst.Call, depth: int = 0) -> Arguments:
        """The positional and keyword arguments of `call`; a known ``**dict`` is
        merged into the keywords, an unknown one makes them open."""
        out = Arguments()
        for arg in call.args:
            if arg.star == "*":
                out.open_args = True
            elif arg.star == "**":
                expanded = self.value(arg.value, depth)
                if expanded.kind is ValueKind.DICT:
                    out.kwargs.extend(expanded.entries)
                    out.open_kwargs = out.open_kwargs or expanded.open
                    out.definitions.extend(expanded.definitions)
                else:
                    out.open_kwargs = True
            elif arg.keyword is not None:
                out.kwargs.append((arg.keyword.value, self.value(arg.value, depth)))
            elif not out.open_args:
                out.args.append(self.value(arg.value, depth))
        return out

    def _name(self, node: cst.Name, depth: int) -> Raw:
        if node.value in _SCALARS and node.value not in self.constants:
            return Raw(ValueKind.LITERAL, node, _SCALARS[node.value])
        bound = self.constants.get(node.value)
        if bound is not None and depth < _MAX_DEPTH and _readable(bound[0]):
            value_node, statement = bound
            raw = self.value(value_node, depth + 1)
            _mark_shared(raw)
            raw.definitions.insert(0, (node.value, statement))
            return raw
        cls = self.classes.get(node.value)
        if cls is not None and node.value not in self.imports.aliases:
            methods = tuple(s.name.value for s in cls.body.body if isinstance(s, cst.FunctionDef))
            return Raw(ValueKind.NAME, node, name=node.value, methods=methods)
        return Raw(ValueKind.NAME, node, name=_first(self.imports.resolve((node.value,))))

    def _dict(self, node: cst.Dict, depth: int) -> Raw:
        raw = Raw(ValueKind.DICT, node)
        for element in node.elements:
            if not isinstance(element, cst.DictElement):  # `**mapping`
                self._merge(raw, self.value(element.value, depth))
                continue
            key = self.value(element.key, depth)
            if isinstance(key.literal, str) and key.kind is ValueKind.LITERAL and not key.partial:
                raw.entries.append((key.literal, self.value(element.value, depth)))
            else:
                raw.open = True
        return raw

    def _is_dict_call(self, node: cst.Call) -> bool:
        return (
            isinstance(node.func, cst.Name)
            and node.func.value == "dict"
            and "dict" not in self.imports.aliases
            and "dict" not in self.constants
            and "dict" not in self.functions
            and "dict" not in self.classes
        )

    def _dict_call(self, node: cst.Call, depth: int) -> Raw:
        raw = Raw(ValueKind.DICT, node)
        for arg in node.args:
            if arg.keyword is not None:
                raw.entries.append((arg.keyword.value, self.value(arg.value, depth)))
            elif arg.star == "*":
                raw.open = True
            else:  # dict(mapping) or dict(**mapping)
                self._merge(raw, self.value(arg.value, depth))
        return raw

    @staticmethod
    def _merge(raw: Raw, expanded: Raw) -> None:
        if expanded.kind is ValueKind.DICT:
            raw.entries.extend(expanded.entries)
            raw.open = raw.open or expanded.open
            raw.definitions.extend(expanded.definitions)
        else:
            raw.open = True


def _readable(node: cst.BaseExpression) -> bool:
    """Whether a module-level name's value is configuration worth following: a
    literal, a dict, or another name (not a call such as `create_engine(...)`)."""
    if isinstance(node, cst.Call):
        return isinstance(node.func, cst.Name) and node.func.value == "dict"
    return isinstance(
        node,
        (
            cst.SimpleString,
            cst.ConcatenatedString,
            cst.FormattedString,
            cst.Integer,
            cst.Float,
            cst.UnaryOperation,
            cst.Name,
            cst.Attribute,
            cst.Dict,
            cst.BinaryOperation,
        ),
    )


def _mark_shared(raw: Raw) -> None:
    """A value read through a module-level name, and everything inside it, is shared
    with the other users of that name."""
    stack = [raw]
    while stack:
        item = stack.pop()
        item.shared = True
        stack.extend(value for _, value in item.entries)


def module_constants(module: cst.Module) -> dict[str, tuple[cst.BaseExpression, cst.CSTNode]]:
    """Names bound exactly once at module level, by a plain assignment: name ->
    (value, statement). A name bound twice, or also by an import, a ``def``, a
    ``for`` or an augmented assignment at module level, is left out."""
    bound: dict[str, list[tuple[cst.BaseExpression, cst.CSTNode] | None]] = {}
    for statement in module.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                for name, value in _bindings(small):
                    bound.setdefault(name, []).append((value, small) if value is not None else None)
        elif isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            bound.setdefault(statement.name.value, []).append(None)
        else:  # if/try/for/with at module level: whatever they bind is ambiguous
            for name in _names_bound_in(statement):
                bound.setdefault(name, []).append(None)
    out = {}
    for name, values in bound.items():
        if len(values) == 1 and values[0] is not None:
            out[name] = values[0]
    return out


def _bindings(small: cst.BaseSmallStatement) -> Iterator[tuple[str, cst.BaseExpression | None]]:
    if isinstance(small, cst.Assign):
        for target in small.targets:
            if isinstance(target.target, cst.Name):
                yield target.target.value, (small.value if len(small.targets) == 1 else None)
            else:
                yield from ((n, None) for n in _target_names(target.target))
    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        yield small.target.value, small.value
    elif isinstance(small, cst.AugAssign) and isinstance(small.target, cst.Name):
        yield small.target.value, None
    elif isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(
        small.names, cst.ImportStar
    ):
        for alias in small.names:
            asname = alias.asname
            if asname is not None and isinstance(asname.name, cst.Name):
                yield asname.name.value, None
            else:
                yield _dotted_head(alias.name), None


def _target_names(node: cst.BaseExpression) -> Iterator[str]:
    if isinstance(node, cst.Name):
        yield node.value
    elif isinstance(node, (cst.Tuple, cst.List)):
        for element in node.elements:
            yield from _target_names(element.value)
    elif isinstance(node, cst.StarredElement):
        yield from _target_names(node.value)


def _names_bound_in(statement: cst.CSTNode) -> Iterator[str]:
    """Names assigned anywhere inside a compound module-level statement."""
    stack: list[cst.CSTNode] = [statement]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Assign):
            for target in node.targets:
                yield from _target_names(target.target)
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign)):
            yield from _target_names(node.target)
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            yield node.name.value
            continue
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            for name, _ in _bindings(node):
                yield name
            continue
        stack.extend(node.children)


def _dotted_head(node: cst.BaseExpression) -> str:
    while isinstance(node, cst.Attribute):
        node = node.value
    return node.value if isinstance(node, cst.Name) else ""


def _number(text: str) -> int | float | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            value = literal_eval(text)
        except (ValueError, SyntaxError):
            return None
    return value if isinstance(value, (int, float)) else None


def _first(names: set[str]) -> str:
    """One qualified name, deterministically (a name bound by two imports)."""
    return sorted(names)[0]
