"""Evaluate the string expression passed to a sink into SQL text.

Handled now: plain string literals (any prefix but bytes), implicit concatenation,
``+`` of evaluable strings, f-strings and t-strings (each ``{...}`` field becomes
`pinlint.model.HOLE`), all optionally parenthesised. Anything else evaluates to
``None`` and is not reported. A later dataflow layer plugs in through `Lookup`: it
is asked about every sub-expression this module cannot evaluate itself (a name, an
attribute, a call) and may answer with an `Evaluated` value (a module constant) or
with ``None``.
"""

from __future__ import annotations

import warnings
from ast import literal_eval
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import libcst as cst

from pinlint.model import HOLE

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
_EMPTY = cst.Module(body=[])


@dataclass(frozen=True, slots=True)
class Evaluated:
    """The text of a string expression.

    `built`: the text was assembled at the call (``+``, f-string fields), so the
    origin is `Origin.BUILT`. `holes`: some part could not be evaluated and stands
    as `HOLE` in `text`, so the confidence is lowered.
    """

    text: str
    built: bool = False
    holes: bool = False


#: Answers for sub-expressions this module cannot evaluate (names, calls, ...).
Lookup = Callable[[cst.BaseExpression], "Evaluated | None"]


def evaluate(node: cst.BaseExpression, lookup: Lookup | None = None) -> Evaluated | None:
    """The text `node` evaluates to, or None if it is not an evaluable ``str``."""
    if isinstance(node, cst.SimpleString):
        return _simple(node)
    if isinstance(node, _FORMATTED):
        return _formatted(node)
    if isinstance(node, cst.ConcatenatedString):
        return _join(_flatten_concat(node), lookup, built=False)
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        return _join(_flatten_add(node), lookup, built=True)
    return lookup(node) if lookup is not None else None


def _join(
    parts: Sequence[cst.BaseExpression], lookup: Lookup | None, *, built: bool
) -> Evaluated | None:
    texts: list[str] = []
    holes = False
    for part in parts:
        value = evaluate(part, lookup)
        if value is None:
            return None
        texts.append(value.text)
        built = built or value.built
        holes = holes or value.holes
    return Evaluated("".join(texts), built, holes)


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


def _formatted(node: Any) -> Evaluated | None:
    """Literal parts evaluated as the interpreter would; each field becomes HOLE.

    `node` is a ``FormattedString`` or a ``TemplatedString`` (typed loosely because
    the latter only exists in recent libcst versions).
    """
    prefix = node.prefix
    plain_prefix = "".join(c for c in prefix if c.lower() not in "ft")
    quote = node.start[len(prefix) :]
    pieces: list[str] = []
    shown: list[str] = []  # the source text of self-documenting fields, in order
    fields = 0
    for part in node.parts:
        if isinstance(part, _TEXT_PARTS):
            literal = cast(cst.FormattedStringText, part).value
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
        else:
            pieces.append(HOLE)
    raw = "".join(pieces)
    try:
        value = _literal(plain_prefix + quote + raw + node.end)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        value = raw  # keep the source text rather than losing the site
    if not isinstance(value, str):
        return None
    if shown:
        chunks = value.split(_SELF_DOC)
        if len(chunks) == len(shown) + 1:
            value = chunks[0] + "".join(
                f"{src}{HOLE}{rest}" for src, rest in zip(shown, chunks[1:], strict=True)
            )
        else:  # the literal itself held the marker: settle for bare holes
            value = value.replace(_SELF_DOC, HOLE)
    return Evaluated(value, built=fields > 0, holes=fields > 0)
