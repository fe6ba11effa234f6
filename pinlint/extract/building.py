"""String building: the calls and operators that make SQL text out of parts.

`Builder` is the `pinlint.extract.strings.Lookup` that extraction passes to
`evaluate`. It evaluates, with every unknown part a `HOLE`:

* ``template % args`` (a tuple, a dict, or one value; ``%s`` takes the argument's
  text, every other conversion is a HOLE) and ``template.format(...)`` /
  ``.format_map({...})`` (plain fields take the argument's text; a format spec, a
  conversion or an attribute/index in the field name make a HOLE);
* ``sep.join([...])`` of a list, tuple or set literal, or of a name bound to one
  (an appended-to or starred one adds ``sep`` and a HOLE); ``sep.join(<generator>)``
  gives one element (SQL built in a loop of unknown length: each kind of element
  is analysed once);
* ``.strip()`` and friends, ``.replace(a, b)``, ``.upper()``/``.lower()``, ``str(x)``,
  ``textwrap.dedent``, ``inspect.cleandoc``;
* ``x if c else y`` and ``x or y``: both are variants;
* ``NAME[key]`` of a dict, list or tuple literal bound to a name (an unknown key
  gives every item);
* psycopg's ``sql.SQL``, ``sql.Composed``, ``sql.Identifier`` (double-quoted),
  ``sql.Literal`` (single-quoted when known), ``sql.Placeholder`` and their
  ``.format``/``.join``;
* the function sinks (SQLAlchemy ``text()``, ``DDL()``, Django ``RawSQL``): their
  value is `Kind.CLAUSE`, because the call itself is the site.

Names and attributes are answered by a `Names` (`pinlint.extract.bindings`), which
may also give the non-string values bound to a name: a `Seq` or a `Mapping`.
"""

from __future__ import annotations

import inspect
import re
import string
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import islice, product
from typing import Protocol

import libcst as cst

from pinlint.extract.strings import (
    MAX_VARIANTS,
    OPAQUE,
    Evaluated,
    Kind,
    combine,
    evaluate,
    merged,
    pack,
    variants,
)
from pinlint.extract.visitor import Imports, callee_parts
from pinlint.model import HOLE


@dataclass(frozen=True, slots=True)
class Seq:
    """A list, tuple or set whose items are known (None: an item that is not a string).

    `open`: more items of unknown value may be there (a starred item, an append in
    a loop, an ``extend`` of something unknown).
    """

    items: tuple[Evaluated | None, ...]
    open: bool = False


@dataclass(frozen=True, slots=True)
class Mapping:
    """A dict literal with string keys (None: a value that is not a string)."""

    items: tuple[tuple[str, Evaluated | None], ...]
    open: bool = False


class Names(Protocol):
    """What a name or a dotted attribute stands for where it is used."""

    def values(self, node: cst.Name | cst.Attribute) -> Sequence[object] | None:
        """The values it may have (`Evaluated`, `Seq`, `Mapping`, or anything else
        for a value that is not a string); None when nothing is known."""
        ...


class _Shadowed:
    """`Names` with some names hidden (the targets of a comprehension)."""

    def __init__(self, inner: Names | None, hidden: frozenset[str]) -> None:
        self.inner = inner
        self.hidden = hidden

    def values(self, node: cst.Name | cst.Attribute) -> Sequence[object] | None:
        head: cst.BaseExpression = node
        while isinstance(head, cst.Attribute):
            head = head.value
        if isinstance(head, cst.Name) and head.value in self.hidden:
            return None
        return self.inner.values(node) if self.inner is not None else None


_PSYCOPG = ("psycopg", "psycopg2", "psycopg2cffi")
_STRIP = frozenset({"strip", "lstrip", "rstrip"})
_CASE = {"upper": str.upper, "lower": str.lower}
_TEXT_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "textwrap.dedent": textwrap.dedent,
    "inspect.cleandoc": inspect.cleandoc,
}
_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?(?P<flags>[#0\- +]*)(?P<width>\*|\d+)?"
    r"(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<conversion>.)",
    re.DOTALL,
)


class Builder:
    """The lookup for string-building expressions; names go to `names`."""

    __slots__ = ("function_sink", "imports", "names")

    def __init__(
        self,
        imports: Imports,
        names: Names | None,
        function_sink: Callable[[tuple[str, ...]], tuple[int, tuple[str, ...]] | None]
        | None = None,
    ) -> None:
        self.imports = imports
        self.names = names
        #: The argument (position, keywords) of a function sink a callee names, if any.
        self.function_sink = function_sink

    def __call__(self, node: cst.BaseExpression) -> Evaluated | None:
        kind = type(node)
        if kind is cst.Name or kind is cst.Attribute:
            return self._name(node)  # type: ignore[arg-type]
        if kind is cst.Call:
            return self._call(node)  # type: ignore[arg-type]
        if kind is cst.BinaryOperation:
            assert isinstance(node, cst.BinaryOperation)
            if isinstance(node.operator, cst.Modulo):
                return self._percent(node)
            return None
        if kind is cst.IfExp:
            assert isinstance(node, cst.IfExp)
            return self._either([node.body, node.orelse])
        if kind is cst.BooleanOperation:
            assert isinstance(node, cst.BooleanOperation)
            if isinstance(node.operator, cst.Or):
                return self._either([node.left, node.right])
            return None
        if kind is cst.Subscript:
            return self._subscript(node)  # type: ignore[arg-type]
        return None

    # -- names ------------------------------------------------------------------------

    def values(self, node: cst.BaseExpression) -> Sequence[object] | None:
        """Every value `node` may have, strings evaluated, sequences and dicts as such."""
        if isinstance(node, (cst.Name, cst.Attribute)) and self.names is not None:
            found = self.names.values(node)
            if found is not None:
                return found
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            return [self.sequence(node)]
        if isinstance(node, cst.Dict):
            mapping = self.mapping(node)
            return [mapping] if mapping is not None else None
        value = evaluate(node, self)
        return variants(value) if value is not None else None

    def _name(self, node: cst.Name | cst.Attribute) -> Evaluated | None:
        if self.names is None:
            return None
        found = self.names.values(node)
        if found is None:
            return None
        strings = [v if isinstance(v, Evaluated) else OPAQUE for v in found]
        value = pack(strings)
        if value is None or all(v.opaque for v in variants(value)):
            return None
        return value

    def _either(self, nodes: Sequence[cst.BaseExpression]) -> Evaluated | None:
        found = [evaluate(n, self) for n in nodes]
        if all(v is None for v in found):
            return None
        return pack(v if v is not None else OPAQUE for v in found)

    # -- sequences and dicts ---------------------------------------------------------

    def sequence(self, node: cst.List | cst.Tuple | cst.Set) -> Seq:
        items: list[Evaluated | None] = []
        is_open = False
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                is_open = True
                continue
            items.append(evaluate(element.value, self))
        return Seq(tuple(items), is_open)

    def mapping(self, node: cst.Dict) -> Mapping | None:
        items: list[tuple[str, Evaluated | None]] = []
        is_open = False
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                is_open = True
                continue
            key = evaluate(element.key)
            if key is None or key.holes:
                return None
            items.append((key.text, evaluate(element.value, self)))
        return Mapping(tuple(items), is_open)

    def _subscript(self, node: cst.Subscript) -> Evaluated | None:
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return None
        key_node = node.slice[0].slice.value
        containers = self.values(node.value)
        if not containers:
            return None
        key = evaluate(key_node, self)
        index = _integer(key_node)
        out: list[Evaluated | None] = []
        for container in containers:
            if isinstance(container, Mapping):
                known = key is not None and not key.holes and not key.alternatives
                if known:
                    assert key is not None
                    out += [v for k, v in container.items if k == key.text]
                else:  # any of the values may be chosen
                    out += [_lowered(v) for _, v in container.items]
            elif isinstance(container, Seq):
                if index is not None and -len(container.items) <= index < len(container.items):
                    out.append(container.items[index])
                elif index is None:
                    out += [_lowered(v) for v in container.items]
        return pack(out)

    # -- calls -----------------------------------------------------------------------

    def _call(self, node: cst.Call) -> Evaluated | None:
        func = node.func
        if isinstance(func, cst.Attribute):
            found = self._method(node, func)
            if found is not None:
                return found
        parts = callee_parts(func)
        if parts is None:
            return None
        if self.function_sink is not None:
            sink = self.function_sink(parts)
            if sink is not None:
                return self._clause(node, *sink)
        qualified = self.imports.resolve(parts)
        for name in qualified:
            transform = _TEXT_FUNCTIONS.get(name)
            if transform is not None:
                return self._map(_positional(node, 0), transform)
            head, _, last = name.rpartition(".")
            if head.partition(".")[0] in _PSYCOPG and head.endswith("sql"):
                return self._psycopg(node, last)
        if parts == ("str",) and "str" not in self.imports.aliases:
            arg = _positional(node, 0)
            return evaluate(arg, self) if arg is not None and len(node.args) == 1 else None
        return None

    def _clause(self, node: cst.Call, position: int, keywords: tuple[str, ...]) -> Evaluated | None:
        from pinlint.extract.calls import argument

        arg = argument(node.args, position, keywords)
        value = evaluate(arg, self) if arg is not None else None
        if value is None:
            return None
        return pack(replace(v, kind=Kind.CLAUSE) for v in variants(value))

    def _method(self, node: cst.Call, func: cst.Attribute) -> Evaluated | None:
        name = func.attr.value
        if (
            name in ("format", "format_map", "join", "replace", "get")
            or name in _STRIP
            or (name in _CASE)
        ):
            pass
        else:
            return None
        if name == "get":
            return self._get(node, func.value)
        receiver = evaluate(func.value, self)
        if receiver is None or all(v.opaque for v in variants(receiver)):
            return None
        if any(v.kind is Kind.CLAUSE for v in variants(receiver)):
            return None
        if name == "format":
            return self._format(receiver, node.args)
        if name == "format_map":
            arg = _positional(node, 0)
            if arg is None:
                return None
            return self._format(receiver, [cst.Arg(value=arg, star="**")])
        if name == "join":
            arg = _positional(node, 0)
            return self._joined(receiver, arg) if arg is not None else None
        if name == "replace":
            return self._replace(receiver, node)
        if name in _STRIP:
            chars = _positional(node, 0)
            if chars is None:
                return pack(_apply(v, getattr(str, name)) for v in variants(receiver))
            strip_chars = evaluate(chars)
            if strip_chars is None or strip_chars.holes:
                return None
            return pack(
                _apply(v, lambda t, c=strip_chars.text: getattr(t, name)(c))  # type: ignore[misc]
                for v in variants(receiver)
            )
        return pack(_apply(v, _CASE[name]) for v in variants(receiver))

    def _get(self, node: cst.Call, receiver: cst.BaseExpression) -> Evaluated | None:
        key_node = _positional(node, 0)
        containers = self.values(receiver) if key_node is not None else None
        if not containers or key_node is None:
            return None
        key = evaluate(key_node, self)
        out: list[Evaluated | None] = []
        for container in containers:
            if not isinstance(container, Mapping):
                continue
            if key is not None and not key.holes and not key.alternatives:
                out += [v for k, v in container.items if k == key.text]
            else:
                out += [_lowered(v) for _, v in container.items]
        default = _positional(node, 1)
        if default is not None:
            out.append(evaluate(default, self))
        return pack(out)

    def _map(
        self, arg: cst.BaseExpression | None, transform: Callable[[str], str]
    ) -> Evaluated | None:
        if arg is None:
            return None
        value = evaluate(arg, self)
        if value is None:
            return None
        return pack(_apply(v, transform) for v in variants(value))

    def _replace(self, receiver: Evaluated, node: cst.Call) -> Evaluated | None:
        old_node, new_node = _positional(node, 0), _positional(node, 1)
        if old_node is None or new_node is None or len(node.args) != 2:
            return None
        old = evaluate(old_node, self)
        if old is None or old.holes or old.alternatives or not old.text:
            return None
        new = evaluate(new_node, self) or OPAQUE
        out = []
        for base, each in islice(product(variants(receiver), variants(new)), MAX_VARIANTS):
            if old.text not in base.text:
                out.append(base)
                continue
            out.append(merged([base, each], base.text.replace(old.text, each.text), built=True))
        return pack(out)

    # -- % and .format ---------------------------------------------------------------

    def _percent(self, node: cst.BinaryOperation) -> Evaluated | None:
        template = evaluate(node.left, self)
        if template is None or all(v.opaque or v.kind is not Kind.STR for v in variants(template)):
            return None
        right = node.right
        positional: list[Evaluated] | None = None
        named: dict[str, Evaluated] | None = None
        single: Evaluated | None = None
        if isinstance(right, cst.Tuple):
            positional = [_or_opaque(evaluate(e.value, self)) for e in right.elements]
            if any(isinstance(e, cst.StarredElement) for e in right.elements):
                positional = None  # the arity is unknown: every conversion is a HOLE
        else:
            containers = self.values(right)
            mappings = [c for c in containers or () if isinstance(c, Mapping)]
            seqs = [c for c in containers or () if isinstance(c, Seq)]
            if len(mappings) == 1 and not mappings[0].open:
                named = {k: _or_opaque(v) for k, v in mappings[0].items}
            elif len(seqs) == 1 and not seqs[0].open:
                positional = [_or_opaque(v) for v in seqs[0].items]
            else:
                single = _or_opaque(evaluate(right, self))
        out: list[Evaluated] = []
        for base in variants(template):
            if base.opaque or base.kind is not Kind.STR:
                continue
            for args, kwargs, one in _combinations(positional, named, single):
                out.append(_percent_format(base, args, kwargs, one))
        return pack(out)

    def _format(self, receiver: Evaluated, args: Sequence[cst.Arg]) -> Evaluated | None:
        positional: list[Evaluated] = []
        named: dict[str, Evaluated] = {}
        unknown_named = False
        unknown_positional = False
        for arg in args:
            if arg.star == "*":
                unknown_positional = True
            elif arg.star == "**":
                containers = self.values(arg.value)
                mappings = [c for c in containers or () if isinstance(c, Mapping)]
                if len(mappings) == 1:
                    named.update({k: _or_opaque(v) for k, v in mappings[0].items})
                    unknown_named = unknown_named or mappings[0].open
                else:
                    unknown_named = True
            elif arg.keyword is not None:
                named[arg.keyword.value] = _or_opaque(self._argument(arg.value, receiver))
            elif not unknown_positional:
                positional.append(_or_opaque(self._argument(arg.value, receiver)))
        out: list[Evaluated] = []
        for base in variants(receiver):
            if base.opaque:
                continue
            for each, keywords, _ in _combinations(positional, named, None):
                formatted = _brace_format(base, each or [], keywords or {})
                if formatted is not None:
                    out.append(formatted)
        return pack(out)

    def _argument(self, node: cst.BaseExpression, receiver: Evaluated) -> Evaluated | None:
        """A ``.format`` argument; psycopg's ``SQL.format`` quotes plain strings."""
        value = evaluate(node, self)
        if value is None or receiver.kind is not Kind.COMPOSABLE:
            return value
        return pack(
            v
            if v.kind is Kind.COMPOSABLE or v.opaque
            else _apply(v, _quote_literal, Kind.COMPOSABLE)
            for v in variants(value)
        )

    def _joined(self, separator: Evaluated, node: cst.BaseExpression) -> Evaluated | None:
        if isinstance(node, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
            inner = Builder(
                self.imports,
                _Shadowed(self.names, comprehension_targets(node.for_in)),
                self.function_sink,
            )
            element = evaluate(node.elt, inner)
            if element is None:
                return None
            return pack(replace(v, built=True, holes=True) for v in variants(element))
        seqs = [c for c in self.values(node) or () if isinstance(c, Seq)]
        if not seqs:
            return None
        out: list[Evaluated] = []
        for seq in seqs[:MAX_VARIANTS]:
            items = [_or_opaque(v) for v in seq.items]
            if seq.open:
                items.append(OPAQUE)
            if not items:
                continue
            for sep in variants(separator):
                joined = combine(items, built=True, join=sep.text.join)
                if joined is not None:
                    out += [merged([sep, v], v.text, built=True) for v in variants(joined)]
        return pack(out)

    # -- psycopg.sql -----------------------------------------------------------------

    def _psycopg(self, node: cst.Call, name: str) -> Evaluated | None:
        if name == "SQL":
            value = self._map(_positional(node, 0), lambda t: t)
            return _as_composable(value)
        if name == "Identifier":
            parts = [_or_opaque(evaluate(a.value, self)) for a in node.args if a.keyword is None]
            if not parts or any(a.star for a in node.args):
                return _as_composable(OPAQUE)
            quoted = [_apply(p, _quote_identifier) if not p.opaque else p for p in parts]
            return _as_composable(combine(quoted, built=True, join=".".join))
        if name == "Literal":
            value = evaluate(_positional(node, 0) or cst.Name("None"), self)
            if value is None:
                return _as_composable(OPAQUE)
            return _as_composable(pack(_apply(v, _quote_literal) for v in variants(value)))
        if name == "Placeholder":
            arg = _positional(node, 0)
            label = evaluate(arg) if arg is not None else None
            text = "%s" if label is None else f"%({label.text})s"
            return Evaluated(text, kind=Kind.COMPOSABLE)
        if name == "Composed":
            arg = _positional(node, 0)
            if arg is None:
                return None
            joined = self._joined(Evaluated(""), arg)
            return _as_composable(joined)
        return None


# -- helpers ------------------------------------------------------------------------


def _positional(node: cst.Call, index: int) -> cst.BaseExpression | None:
    position = 0
    for arg in node.args:
        if arg.keyword is not None or arg.star:
            continue
        if position == index:
            return arg.value
        position += 1
    return None


def _integer(node: cst.BaseExpression) -> int | None:
    if isinstance(node, cst.Integer):
        return int(node.value, 0)
    if (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Minus)
        and isinstance(node.expression, cst.Integer)
    ):
        return -int(node.expression.value, 0)
    return None


def comprehension_targets(for_in: cst.CompFor) -> frozenset[str]:
    """The names the `for` clauses of a comprehension bind."""
    names: set[str] = set()
    current: cst.CompFor | None = for_in
    while current is not None:
        names |= bound_names(current.target)
        current = current.inner_for_in
    return frozenset(names)


def bound_names(target: cst.BaseExpression) -> set[str]:
    """The names an assignment target binds (``a``, ``a, (b, *c)``)."""
    out: set[str] = set()
    stack: list[cst.BaseExpression] = [target]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Name):
            out.add(node.value)
        elif isinstance(node, (cst.Tuple, cst.List)):
            stack.extend(e.value for e in node.elements)
        elif isinstance(node, cst.StarredElement):
            stack.append(node.value)
    return out


def _or_opaque(value: Evaluated | None) -> Evaluated:
    return value if value is not None else OPAQUE


def _lowered(value: Evaluated | None) -> Evaluated | None:
    """A variant chosen by a key that is not known: one step less sure."""
    if value is None:
        return None
    return pack(replace(v, drop=max(v.drop, 1)) for v in variants(value))


def _apply(
    value: Evaluated, transform: Callable[[str], str], kind: Kind | None = None
) -> Evaluated:
    if value.opaque:
        return value
    return replace(value, text=transform(value.text), kind=kind or value.kind, alternatives=())


def _as_composable(value: Evaluated | None) -> Evaluated | None:
    if value is None:
        return None
    return pack(replace(v, kind=Kind.COMPOSABLE) for v in variants(value))


def _quote_identifier(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _quote_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _combinations(
    positional: list[Evaluated] | None,
    named: dict[str, Evaluated] | None,
    single: Evaluated | None,
) -> list[tuple[list[Evaluated] | None, dict[str, Evaluated] | None, Evaluated | None]]:
    """The arguments with one variant each, for every combination (at most MAX_VARIANTS)."""
    keys = list(named) if named is not None else []
    options: list[tuple[Evaluated, ...]] = [variants(v) for v in positional or ()]
    options += [variants(named[k]) for k in keys] if named is not None else []
    options.append(variants(single) if single is not None else (OPAQUE,))
    out = []
    count = len(positional or ())
    for combo in islice(product(*options), MAX_VARIANTS):
        args = list(combo[:count]) if positional is not None else None
        kwargs = (
            dict(zip(keys, combo[count : count + len(keys)], strict=True))
            if named is not None
            else None
        )
        out.append((args, kwargs, combo[-1] if single is not None else None))
    return out


def _percent_format(
    base: Evaluated,
    positional: list[Evaluated] | None,
    named: dict[str, Evaluated] | None,
    single: Evaluated | None,
) -> Evaluated:
    """``base % args`` with single-variant arguments, flags merged."""
    used: list[Evaluated] = []
    pieces: list[str] = []
    index = 0
    last = 0
    holes = False
    text = base.text
    for match in _PERCENT.finditer(text):
        pieces.append(text[last : match.start()])
        last = match.end()
        conversion = match.group("conversion")
        if conversion == "%":
            pieces.append("%")
            continue
        key = match.group("key")
        if key is not None:
            value = named.get(key) if named is not None else None
        elif positional is not None:
            value = positional[index] if index < len(positional) else None
            index += 1
        else:
            value = single if index == 0 else None
            index += 1
        plain = conversion == "s" and not match.group("width") and not match.group("precision")
        if value is None or not plain or value.opaque:
            pieces.append(HOLE)
            holes = True
            continue
        used.append(value)
        pieces.append(value.text)
    pieces.append(text[last:])
    result = merged([base, *used], "".join(pieces), built=True)
    return replace(result, holes=result.holes or holes) if holes else result


def _brace_format(
    base: Evaluated, positional: list[Evaluated], named: dict[str, Evaluated]
) -> Evaluated | None:
    """``base.format(...)`` with single-variant arguments, flags merged."""
    try:
        parsed = list(string.Formatter().parse(base.text))
    except ValueError:
        return None
    pieces: list[str] = []
    used: list[Evaluated] = []
    holes = False
    auto = 0
    for literal, field, spec, conversion in parsed:
        pieces.append(literal)
        if field is None:
            continue
        head = re.split(r"[.\[]", field, maxsplit=1)[0]
        value: Evaluated | None
        if head == "":
            value = positional[auto] if auto < len(positional) else None
            auto += 1
        elif head.isdigit():
            number = int(head)
            value = positional[number] if number < len(positional) else None
        else:
            value = named.get(head)
        plain = head == field and not spec and conversion in (None, "s")
        if value is None or value.opaque or not plain:
            pieces.append(HOLE)
            holes = True
            continue
        used.append(value)
        pieces.append(value.text)
    result = merged([base, *used], "".join(pieces), built=True)
    if base.kind is Kind.COMPOSABLE:
        result = replace(result, kind=Kind.COMPOSABLE)
    return replace(result, holes=True) if holes else result
