"""Turn the calls the traversal recorded into SQL candidates.

A candidate is a string expression passed to a sink, its evaluated text, the sink's
name and the confidence; its position is computed later, only for candidates. The
rules for each sink (which argument, which keywords, which text shape) are the data
in `pinlint.extract.drivers`; this module only applies them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

import libcst as cst

from pinlint.extract.drivers import (
    DJANGO_EXTRA_SELECT,
    DJANGO_EXTRA_WHERE,
    FUNCTIONS_BY_NAME,
    METHODS_BY_NAME,
    Binding,
    FunctionSink,
    Shape,
    confidence_for,
    function_confidence,
    lower,
)
from pinlint.extract.strings import Evaluated, Kind, Lookup, Step, evaluate, variants
from pinlint.extract.visitor import CallRecord, Collected, Imports, callee_parts
from pinlint.model import HOLE, Confidence, Dialect, Origin

_PROC_ARGS_KEYWORDS = ("parameters", "params", "args")


@dataclass(frozen=True, slots=True)
class Candidate:
    """An SQL string found at a sink, before positions are known."""

    node: cst.BaseExpression  # the string expression (its range is the site's span)
    owner: cst.CSTNode  # the statement or header holding the call
    text: str
    origin: Origin
    confidence: Confidence
    sink: str
    #: Where the text came from and where it went (constant definitions, the calls
    #: of the wrappers it goes through), in order.
    steps: tuple[Step, ...] = ()
    #: For SQL passed to a wrapper: the wrappers, then the sink (``run()``, ``cursor.execute``).
    via: tuple[str, ...] = ()
    #: For SQL passed to a wrapper: the wrapper's own SQL, with the caller's part a HOLE.
    callee_text: str | None = None
    #: The dialect of the module holding the sink call, when it is another module.
    dialect: Dialect | None = None
    #: The sink call's confidence before lowering for the text's provenance.
    base: Confidence | None = None
    #: The value the text was evaluated to (one variant).
    value: Evaluated | None = None


#: Gives the lookup to evaluate one call's arguments with (its scope, its statement).
LookupFor = Callable[[CallRecord], "Lookup | None"]


def candidates(
    collected: Collected, lookup: Lookup | None = None, *, context: LookupFor | None = None
) -> list[Candidate]:
    """Every SQL string passed to a sink among the recorded calls.

    `lookup` evaluates what `evaluate` cannot; `context`, when given, gives one per
    call instead (the dataflow's, which depends on where the call is).
    """
    imports = collected.imports
    out: list[Candidate] = []
    for record in collected.name_calls:
        name = record.call.func
        assert isinstance(name, cst.Name)
        if name.value in FUNCTIONS_BY_NAME or name.value in imports.aliases:
            found = _function_sink((name.value,), imports)
            if found is not None:
                here = context(record) if context is not None else lookup
                out.extend(_function_call(record, *found, imports, here))
    for record in collected.attribute_calls:
        here = context(record) if context is not None else lookup
        parts = callee_parts(record.call.func)
        found = _function_sink(parts, imports) if parts is not None else None
        if found is not None:
            out.extend(_function_call(record, *found, imports, here))
        else:
            out.extend(_method_call(record, imports, here))
    return out


def _function_sink(parts: tuple[str, ...], imports: Imports) -> tuple[FunctionSink, Binding] | None:
    """Which function sink a dotted callee is, and how sure the imports make us.

    ``sa.text`` / ``T`` resolved to ``sqlalchemy.text``: SINK. A bare name bound to
    some other module's ``text``: OTHER. A bare ``text`` no import binds: UNBOUND
    (SINK under ``from sqlalchemy import *``). An attribute call on anything else
    (``label.text(...)``) is not a sink.
    """
    bare = len(parts) == 1
    other: FunctionSink | None = None
    for qualified in imports.resolve(parts):
        sink = FUNCTIONS_BY_NAME.get(qualified.rpartition(".")[2])
        if sink is None:
            continue
        if "." in qualified and qualified.partition(".")[0] in sink.packages:
            return sink, Binding.SINK
        if bare and parts[0] in imports.aliases:
            other = sink
    if other is not None:
        return other, Binding.OTHER
    if not bare or parts[0] not in FUNCTIONS_BY_NAME or parts[0] in imports.aliases:
        return None
    sink = FUNCTIONS_BY_NAME[parts[0]]
    if any(module.partition(".")[0] in sink.packages for module in imports.star_modules):
        return sink, Binding.SINK
    return sink, Binding.UNBOUND


def _function_call(
    record: CallRecord,
    sink: FunctionSink,
    binding: Binding,
    imports: Imports,
    lookup: Lookup | None,
) -> Iterator[Candidate]:
    arg = argument(record.call.args, sink.position, sink.keywords)
    if arg is None:
        return
    value = evaluate(arg, lookup)
    if value is None:
        return
    base = function_confidence(binding, db_import=imports.db_import)
    yield from _candidates(record, arg, value, sink.sink, base)


def _method_call(
    record: CallRecord, imports: Imports, lookup: Lookup | None
) -> Iterator[Candidate]:
    func = record.call.func
    assert isinstance(func, cst.Attribute)
    method = METHODS_BY_NAME.get(func.attr.value)
    if method is None:
        return
    base = confidence_for(method.tier, db_import=imports.db_import)
    args = record.call.args
    if method.shape is Shape.SQL:
        arg = argument(args, method.position, method.keywords)
        value = evaluate(arg, lookup) if arg is not None else None
        if arg is not None and value is not None:
            yield from _candidates(record, arg, value, method.sink, base)
    elif method.shape is Shape.PROCNAME:
        arg = argument(args, method.position, method.keywords)
        value = evaluate(arg, lookup) if arg is not None else None
        if arg is not None and value is not None:
            holes = _proc_arguments(argument(args, 1, _PROC_ARGS_KEYWORDS))
            yield from _candidates(
                record, arg, value, method.sink, base, lambda t: f"SELECT {t}({holes})", True
            )
    elif method.shape is Shape.DJANGO_EXTRA:
        select = argument(args, DJANGO_EXTRA_SELECT[1], (DJANGO_EXTRA_SELECT[0],))
        if isinstance(select, cst.Dict):
            for element in select.elements:
                if isinstance(element, cst.DictElement):
                    yield from _fragment(
                        record, element.value, "SELECT ", method.sink, base, lookup
                    )
        where = argument(args, DJANGO_EXTRA_WHERE[1], (DJANGO_EXTRA_WHERE[0],))
        if isinstance(where, (cst.List, cst.Tuple)):
            for item in where.elements:
                if isinstance(item, cst.Element):
                    yield from _fragment(
                        record, item.value, "SELECT 1 WHERE ", method.sink, base, lookup
                    )


def _fragment(
    record: CallRecord,
    node: cst.BaseExpression,
    prefix: str,
    sink: str,
    base: Confidence,
    lookup: Lookup | None,
) -> Iterator[Candidate]:
    """A Django ``extra`` fragment, wrapped so that the SQL layer can parse it.

    The origin is the fragment's own: the wrapper is framing, not built SQL.
    """
    value = evaluate(node, lookup)
    if value is not None:
        yield from _candidates(record, node, value, sink, base, lambda t: prefix + t)


def _proc_arguments(node: cst.BaseExpression | None) -> str:
    """One HOLE per argument of a literal list or tuple, else a single HOLE."""
    if node is None:
        return ""
    if isinstance(node, (cst.List, cst.Tuple)) and all(
        isinstance(e, cst.Element) for e in node.elements
    ):
        return ", ".join(HOLE for _ in node.elements)
    return HOLE


def _candidates(
    record: CallRecord,
    node: cst.BaseExpression,
    value: Evaluated,
    sink: str,
    base: Confidence,
    frame: Callable[[str], str] | None = None,
    framed_is_built: bool = False,
) -> Iterator[Candidate]:
    """One candidate per variant of `value` that is known text.

    `frame` puts the text in the statement the driver sends (``callproc``, Django's
    ``extra`` fragments). A `Kind.CLAUSE` value (a ``text()`` object) is skipped: the
    call that made it is the site.
    """
    for variant in variants(value):
        if variant.opaque or variant.kind is Kind.CLAUSE:
            continue
        if frame is not None:
            variant = replace(
                variant, text=frame(variant.text), built=variant.built or framed_is_built
            )
        yield Candidate(
            node=node,
            owner=record.owner,
            text=variant.text,
            origin=origin_of(variant),
            confidence=lower_by(base, variant.drop + (1 if variant.holes else 0)),
            sink=sink,
            steps=variant.steps,
            base=base,
            value=variant,
        )


def origin_of(value: Evaluated) -> Origin:
    """How a text was obtained: imported > built > constant > literal."""
    if value.origin is Origin.IMPORTED_CONSTANT:
        return Origin.IMPORTED_CONSTANT
    if value.built:
        return Origin.BUILT
    return value.origin or Origin.LITERAL


def lower_by(confidence: Confidence, steps: int) -> Confidence:
    """`confidence` lowered `steps` times (never below LOW)."""
    for _ in range(steps):
        confidence = lower(confidence)
    return confidence


def argument(
    args: Sequence[cst.Arg], position: int, keywords: tuple[str, ...]
) -> cst.BaseExpression | None:
    """The argument at `position`, or given by one of `keywords`; None if unknowable.

    A ``*args`` before `position` makes the position unknowable.
    """
    index = 0
    for arg in args:
        if arg.keyword is not None or arg.star == "**":
            continue
        if arg.star == "*":
            break
        if index == position:
            return arg.value
        index += 1
    for arg in args:
        if arg.keyword is not None and arg.keyword.value in keywords:
            return arg.value
    return None
