"""Evaluate the string expression passed to a sink into SQL text.

Handled here: plain string literals (any prefix but bytes), implicit concatenation,
``+``, f-strings and t-strings, all optionally parenthesised. A `Lookup` answers
for every other sub-expression (a name, an attribute, a call, ``%``):
`pinlint.extract.building` evaluates the string-building calls and operators, and
`pinlint.extract.bindings` the names. Without a lookup those are unknown.

An unknown operand of ``+`` and an unknown f-string field become
`pinlint.model.HOLE` (a t-string field always does: drivers bind it as a value), so
``"SET search_path TO " + schema`` is still a ``SET``; an expression with no known
part at all evaluates to ``None`` and is not a site.

A value may be one of several strings (a name bound differently on two paths): an
`Evaluated` carries the others in `alternatives`, `variants` lists them all, and
`combine` builds every combination of its parts' variants (at most `MAX_VARIANTS`).
"""

from __future__ import annotations

import warnings
from ast import literal_eval
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from itertools import islice, product
from typing import Any, cast

import libcst as cst

from pinlint.model import HOLE, Origin, RelatedLocation

# t-strings (PEP 750) exist from libcst 1.8; older versions simply never produce them.
_TEMPLATE = getattr(cst, "TemplatedString", None)
_FORMATTED: tuple[type[cst.BaseExpression], ...] = (
    (cst.FormattedString, _TEMPLATE) if _TEMPLATE is not None else (cst.FormattedString,)
)
_TEXT_PARTS: tuple[type[cst.CSTNode], ...] = tuple(
    t for t in (cst.FormattedStringText, getattr(cst, "TemplatedStringText", None)) if t is not None
)

#: Stands in for a self-documenting field (``f"{x=}"``) while the literal parts are
#: evaluated; a private-use character, so it cannot be confused with ``HOLE``.
_SELF_DOC = "\ue000"
#: Stand for the fields of an f-string whose values a lookup gave, while the literal
#: parts are evaluated (private-use characters, distinct from `_SELF_DOC`, `HOLE` and
#: the parameter markers of `pinlint.extract.bindings`).
_FIELD_BASE = 0xE010
_MAX_FIELDS = 0xE0F0 - _FIELD_BASE
_EMPTY = cst.Module(body=[])
#: The most variants a value keeps; further combinations are not analysed.
MAX_VARIANTS = 16


class Kind(Enum):
    """What a string value is at run time."""

    STR = "str"
    #: A psycopg ``sql.Composable`` (``SQL``, ``Composed``, ``Identifier``, ...):
    #: ``.format`` quotes plain arguments as literals.
    COMPOSABLE = "composable"
    #: A SQLAlchemy ``text()`` / ``DDL()`` object: the call that made it is the site,
    #: so executing it later is not another one.
    CLAUSE = "clause"


@dataclass(frozen=True, slots=True)
class Step:
    """A place that explains where a value came from or went: a constant's definition,
    a wrapper's call. Either a node of the module being analysed (its span is computed
    with the sites') or a location already resolved in another module."""

    message: str
    node: cst.CSTNode | None = None
    location: RelatedLocation | None = None


@dataclass(frozen=True, slots=True)
class Evaluated:
    """The text of a string expression.

    `built`: the text was assembled (``+``, f-string fields, ``%``, ``.format``), so
    the origin is `Origin.BUILT`. `holes`: some part could not be evaluated and stands
    as `HOLE` in `text`, so the confidence is lowered. `origin`: set to
    `Origin.CONSTANT` / `Origin.IMPORTED_CONSTANT` when the text came through a name;
    `steps` say where (definitions, outermost first). `drop`: further confidence
    steps down (a value resolved in another module). `opaque`: nothing of the value
    is known (it stands in a combination as one `HOLE`). `alternatives`: the other
    values the expression may have on other paths.
    """

    text: str
    built: bool = False
    holes: bool = False
    origin: Origin | None = None
    steps: tuple[Step, ...] = ()
    drop: int = 0
    opaque: bool = False
    kind: Kind = Kind.STR
    alternatives: tuple[Evaluated, ...] = ()


#: A value of which nothing is known.
OPAQUE = Evaluated(HOLE, holes=True, opaque=True)

#: Answers for sub-expressions this module cannot evaluate (names, calls, ...).
Lookup = Callable[[cst.BaseExpression], "Evaluated | None"]

_ORIGIN_RANK = {None: 0, Origin.CONSTANT: 1, Origin.IMPORTED_CONSTANT: 2}


def stronger_origin(a: Origin | None, b: Origin | None) -> Origin | None:
    """The origin that says more about a combination: imported > constant > none."""
    return a if _ORIGIN_RANK.get(a, 0) >= _ORIGIN_RANK.get(b, 0) else b


def variants(value: Evaluated) -> tuple[Evaluated, ...]:
    """`value` and its alternatives, each without alternatives of its own."""
    if not value.alternatives:
        return (value,)
    return (replace(value, alternatives=()), *value.alternatives)


def pack(values: Iterable[Evaluated | None]) -> Evaluated | None:
    """One value standing for all the variants of `values` (None for none).

    Duplicate texts are kept once; known variants come before opaque ones, and the
    first is the value a caller that ignores alternatives sees.
    """
    known: list[Evaluated] = []
    opaque: list[Evaluated] = []
    seen: set[tuple[str, Kind, bool]] = set()
    for value in values:
        if value is None:
            continue
        for each in variants(value):
            key = (each.text, each.kind, each.opaque)
            if key in seen:
                continue
            seen.add(key)
            (opaque if each.opaque else known).append(each)
    every = (known + opaque)[:MAX_VARIANTS]
    if not every:
        return None
    first = every[0]
    return replace(first, alternatives=tuple(every[1:])) if len(every) > 1 else first


def merged(parts: Sequence[Evaluated], text: str, *, built: bool) -> Evaluated:
    """One combination of single-variant `parts` into `text`: flags, origin and steps."""
    steps: list[Step] = []
    origin: Origin | None = None
    for part in parts:
        origin = stronger_origin(origin, part.origin)
        steps.extend(s for s in part.steps if s not in steps)
    return Evaluated(
        text,
        built=built or any(p.built for p in parts),
        holes=any(p.holes for p in parts),
        origin=origin,
        steps=tuple(steps),
        drop=max((p.drop for p in parts), default=0),
        opaque=bool(parts) and all(p.opaque for p in parts),
        kind=Kind.COMPOSABLE if any(p.kind is Kind.COMPOSABLE for p in parts) else Kind.STR,
    )


def combine(
    parts: Sequence[Evaluated],
    *,
    built: bool,
    join: Callable[[Sequence[str]], str] = "".join,
) -> Evaluated | None:
    """Every combination of the parts' variants, joined with `join`, packed."""
    options = [variants(p) for p in parts]
    out = [
        merged(combo, join([p.text for p in combo]), built=built)
        for combo in islice(product(*options), MAX_VARIANTS)
    ]
    return pack(out)


def evaluate(node: cst.BaseExpression, lookup: Lookup | None = None) -> Evaluated | None:
    """The text `node` evaluates to, or None if it is not an evaluable ``str``."""
    if isinstance(node, cst.SimpleString):
        return _simple(node)
    if isinstance(node, _FORMATTED):
        return _formatted(node, lookup)
    if isinstance(node, cst.ConcatenatedString):
        return _join(_flatten_concat(node), lookup, built=False)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _join(_flatten_add(node), lookup, built=True)
    return lookup(node) if lookup is not None else None


def _join(
    parts: Sequence[cst.BaseExpression], lookup: Lookup | None, *, built: bool
) -> Evaluated | None:
    """The parts concatenated; an unknown part is a HOLE, all unknown is None."""
    values: list[Evaluated] = []
    known = False
    for part in parts:
        if isinstance(part, (cst.Integer, cst.Float, cst.Imaginary)) or (
            isinstance(part, cst.SimpleString) and "b" in part.prefix.lower()
        ):
            return None  # not a str: the whole expression is not one either
        value = evaluate(part, lookup)
        if value is None or (value.opaque and not value.alternatives):
            values.append(OPAQUE)
        else:
            values.append(value)
            known = True
    if not known:
        return None
    return combine(values, built=built)


def _flatten_concat(node: cst.ConcatenatedString) -> list[cst.BaseExpression]:
    """The strings of ``"a" "b" f"c"``, left to right, without recursion."""
    out: list[cst.BaseExpression] = []
    stack: list[cst.BaseExpression] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.ConcatenatedString):
            stack.append(item.right)
            stack.append(item.left)
        else:
            out.append(item)
    return out


def _flatten_add(node: cst.BinaryOperation) -> list[cst.BaseExpression]:
    """The operands of ``a + b + c`` (a left-deep tree, or parenthesised), in order."""
    out: list[cst.BaseExpression] = []
    stack: list[cst.BaseExpression] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, cst.BinaryOperation) and isinstance(item.operator, cst.Add):
            stack.append(item.right)
            stack.append(item.left)
        else:
            out.append(item)
    return out


def _literal(code: str) -> object:
    with warnings.catch_warnings():
        # Invalid escapes ("\d") warn but evaluate to themselves, as at run time.
        warnings.simplefilter("ignore")
        return literal_eval(code)


def _simple(node: cst.SimpleString) -> Evaluated | None:
    if "b" in node.prefix.lower():
        return None
    try:
        value = _literal(node.value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    return Evaluated(value) if isinstance(value, str) else None


def _formatted(node: Any, lookup: Lookup | None = None) -> Evaluated | None:
    """Literal parts evaluated as the interpreter would; fields as the lookup says.

    `node` is a ``FormattedString`` or a ``TemplatedString`` (typed loosely because
    the latter only exists in recent libcst versions). A field is replaced by the
    value `lookup` gives for its expression when it is plain (no ``!r``, no format
    spec, not self-documenting, not in a t-string), else it is a HOLE.
    """
    prefix = node.prefix
    plain_prefix = "".join(c for c in prefix if c.lower() not in "ft")
    quote = node.start[len(prefix) :]
    template = "t" in prefix.lower()
    pieces: list[str] = []
    shown: list[str] = []  # the source text of self-documenting fields, in order
    values: list[Evaluated] = []  # the fields a lookup evaluated, in order
    fields = 0
    literal_text = ""
    for part in node.parts:
        if isinstance(part, _TEXT_PARTS):
            literal = cast(cst.FormattedStringText, part).value
            literal_text += literal
            pieces.append(literal.replace("{{", "{").replace("}}", "}"))
            continue
        # A field: FormattedStringExpression or TemplatedStringExpression.
        fields += 1
        if part.equal is not None:
            shown.append(
                "".join(
                    _EMPTY.code_for_node(n)
                    for n in (
                        part.whitespace_before_expression,
                        part.expression,
                        part.whitespace_after_expression,
                        part.equal,
                    )
                )
            )
            pieces.append(_SELF_DOC)
            continue
        value = None
        if (
            lookup is not None
            and not template
            and part.conversion in (None, "s")
            and part.format_spec is None
            and len(values) < _MAX_FIELDS
        ):
            value = evaluate(part.expression, lookup)
        if value is None or (value.opaque and not value.alternatives):
            pieces.append(HOLE)
        else:
            pieces.append(chr(_FIELD_BASE + len(values)))
            values.append(value)
    if any(_FIELD_BASE <= ord(c) < _FIELD_BASE + _MAX_FIELDS for c in literal_text):
        values = []  # the literal itself holds our placeholders: settle for bare holes
        pieces = [HOLE if len(p) == 1 and _FIELD_BASE <= ord(p) < 0xE0F0 else p for p in pieces]
    raw = "".join(pieces)
    try:
        text = _literal(plain_prefix + quote + raw + node.end)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        text = raw  # keep the source text rather than losing the site
    if not isinstance(text, str):
        return None
    if shown:
        chunks = text.split(_SELF_DOC)
        if len(chunks) == len(shown) + 1:
            text = chunks[0] + "".join(
                f"{src}{HOLE}{rest}" for src, rest in zip(shown, chunks[1:], strict=True)
            )
        else:  # the literal itself held the marker: settle for bare holes
            text = text.replace(_SELF_DOC, HOLE)
    holes = fields > len(values)
    if not values:
        return Evaluated(text, built=fields > 0, holes=holes)
    own = Evaluated(text, built=True, holes=holes)
    out = []
    for combo in islice(product(*(variants(v) for v in values)), MAX_VARIANTS):
        table = {_FIELD_BASE + i: v.text for i, v in enumerate(combo)}
        out.append(merged([own, *combo], text.translate(table), built=True))
    return pack(out)
