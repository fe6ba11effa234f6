"""Follow the SQL of one module: constants, string building, wrappers.

`ModuleAnalysis` turns the calls the traversal recorded into candidates, with the
module's binding table (`pinlint.extract.bindings`) behind `evaluate`'s lookup, and
describes the module's wrappers for its callers.

The module is analysed per *unit* (a function, a class body or the module body),
each once and only when asked for. A unit's calls give:

* sink calls (`calls.candidates`, with a lookup that knows where the call is):
  SQL with no parameter in it is a candidate; SQL holding a parameter of the
  function (a marker) is a `Flow`: the function is a wrapper. What the SQL has
  besides the parameter is still a candidate (``f"SET search_path TO {schema}"``
  pins whatever ``schema`` is), unless it is nothing but the parameter;
* calls to wrappers (this module's functions and methods, and, through the
  `Resolver`, those of other modules of the analysed tree): the arguments are
  evaluated where the call is and put into each of the wrapper's flows. The result
  is a candidate at the call (origin `WRAPPER`, with the path to the sink as its
  steps and `via`), or, when it still holds this function's own parameters, a flow
  of this function: a wrapper of a wrapper.

A function's `FunctionSummary` (its parameters and flows) is computed once and
reused by every call, here and in other modules (`summary`), so a chain of
wrappers costs one analysis per function, not one per path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from itertools import islice, product
from typing import Protocol

import libcst as cst
from libcst.metadata import CodeRange

from pinlint.extract.bindings import (
    Bindings,
    Ref,
    RefKind,
    Resolver,
    Scope,
    ScopeKind,
    ScopeNames,
    method_scope,
    parameters,
)
from pinlint.extract.building import Builder, Mapping, Seq
from pinlint.extract.calls import (
    Candidate,
    _function_sink,
    argument,
    candidates,
    lower_by,
)
from pinlint.extract.drivers import (
    DJANGO_EXTRA_SELECT,
    DJANGO_EXTRA_WHERE,
    METHODS_BY_NAME,
    Shape,
)
from pinlint.extract.outline import Outline
from pinlint.extract.positions import node_ranges
from pinlint.extract.strings import (
    MAX_VARIANTS,
    OPAQUE,
    Evaluated,
    Kind,
    Step,
    evaluate,
    merged,
    pack,
    variants,
)
from pinlint.extract.summary import (
    Flow,
    FunctionSummary,
    MethodKind,
    Param,
    ParamKind,
    has_markers,
    markers_in,
    only_holes,
    substitute,
    unmark,
)
from pinlint.extract.visitor import CallRecord, Collected, Imports, callee_parts
from pinlint.model import HOLE, Dialect, Origin, RelatedLocation, Span

#: The longest wrapper chain followed.
MAX_CHAIN = 8


class ProjectView(Resolver, Protocol):
    """What extraction of one file asks the analysed tree (`pinlint.project`)."""

    #: The file's dotted module name, when it is in a package of the tree.
    module_name: str | None

    def imported(self, outline: Outline) -> dict[str, frozenset[str]]:
        """The names the file's imports bind to wrappers of the tree (local name ->
        the method names it brings; `pinlint.extract.outline`)."""
        ...

    def dependencies(self) -> tuple[tuple[str, str], ...]:
        """(path, content hash) of every module whose summary was used so far."""
        ...


def needs_bindings(collected: Collected) -> bool:
    """Whether a sink call's SQL is more than literals: a name, a call, an f-string
    field, ``%``... (then the whole module is needed to follow it)."""
    imports = collected.imports
    for record in (*collected.name_calls, *collected.attribute_calls):
        func = record.call.func
        parts = callee_parts(func)
        found = _function_sink(parts, imports) if parts is not None else None
        args = record.call.args
        nodes: list[cst.BaseExpression | None] = []
        if found is not None:
            nodes.append(argument(args, found[0].position, found[0].keywords))
        elif isinstance(func, cst.Attribute):
            method = METHODS_BY_NAME.get(func.attr.value)
            if method is None:
                continue
            if method.shape is Shape.DJANGO_EXTRA:
                select = argument(args, DJANGO_EXTRA_SELECT[1], (DJANGO_EXTRA_SELECT[0],))
                where = argument(args, DJANGO_EXTRA_WHERE[1], (DJANGO_EXTRA_WHERE[0],))
                if isinstance(select, cst.Dict):
                    nodes += [e.value for e in select.elements if isinstance(e, cst.DictElement)]
                elif select is not None:
                    return True
                if isinstance(where, (cst.List, cst.Tuple)):
                    nodes += [e.value for e in where.elements if isinstance(e, cst.Element)]
                elif where is not None:
                    return True
            else:
                nodes.append(argument(args, method.position, method.keywords))
        if any(node is not None and not _literal(node) for node in nodes):
            return True
    return False


def _literal(node: cst.BaseExpression) -> bool:
    """A string written out whole: literals, their concatenation, f-strings without fields."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, (cst.ConcatenatedString, cst.BinaryOperation)):
            if isinstance(item, cst.BinaryOperation) and not isinstance(item.operator, cst.Add):
                return False
            stack += [item.left, item.right]
        elif isinstance(item, cst.FormattedString):
            if not all(isinstance(p, cst.FormattedStringText) for p in item.parts):
                return False
        elif not isinstance(item, cst.SimpleString) and type(item).__name__ != "TemplatedString":
            return False  # (a t-string's fields are bound as values whatever they hold)
    return True


@dataclass(slots=True)
class _Unit:
    """What one unit's calls gave (see the module docstring)."""

    candidates: list[Candidate] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    #: Calls that pass nothing but the function's own parameters on: they only make
    #: flows, worked out when the function's summary is asked for.
    pending: list[CallRecord] = field(default_factory=list)
    flows_done: bool = False


@dataclass(slots=True)
class _Records:
    name_calls: list[CallRecord] = field(default_factory=list)
    attribute_calls: list[CallRecord] = field(default_factory=list)
    method_calls: list[CallRecord] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Callee:
    summary: FunctionSummary
    bound: bool  # the first parameter is bound by the call (a method through an instance)
    drop: int  # confidence steps down: an ambiguous module name, or matched by method name only


class ModuleAnalysis:
    """The dataflow of one parsed module; see the module docstring."""

    def __init__(
        self,
        module: cst.Module,
        collected: Collected,
        dialect: Dialect | None,
        resolver: Resolver | None = None,
        module_name: str | None = None,
    ) -> None:
        self.module = module
        self.collected = collected
        self.dialect = dialect
        self.resolver = resolver
        self.module_name = module_name
        imports = collected.imports
        self.by_unit: dict[int, _Records] = {}
        records = [
            *collected.name_calls,
            *collected.attribute_calls,
            *getattr(collected, "method_calls", ()),
        ]
        self.bindings = Bindings(
            module,
            imports,
            {id(r.owner) for r in records},
            resolver,
            # (not a bound method: the bindings would point back at this analysis)
            partial(_sink_argument, imports),
        )
        for kind, group in (
            ("name_calls", collected.name_calls),
            ("attribute_calls", collected.attribute_calls),
            ("method_calls", getattr(collected, "method_calls", ())),
        ):
            for record in group:
                scope = self.bindings.scope_of.get(id(record.owner), self.bindings.root)
                getattr(self.by_unit.setdefault(id(scope), _Records()), kind).append(record)
        self._units: dict[int, _Unit] = {}
        self._running: set[int] = set()
        self._summaries: dict[str, FunctionSummary] = {}
        self._methods_by_name: dict[str, list[_Callee]] = {}
        self._flowing: set[int] = set()

    # -- what extraction asks --------------------------------------------------------

    def candidates(self) -> list[Candidate]:
        """Every candidate of the module, each unit analysed once."""
        out: list[Candidate] = []
        scopes = {id(s): s for s in self.bindings.scopes.values()}
        for key in self.by_unit:
            scope = scopes.get(key)
            if scope is not None:
                out.extend(self.unit(scope).candidates)
        return out

    def unit(self, scope: Scope) -> _Unit:
        key = id(scope)
        done = self._units.get(key)
        if done is not None:
            return done
        if key in self._running:
            return _Unit()  # a recursive call: its flows are being computed
        self._running.add(key)
        try:
            result = self._analyse(scope)
        finally:
            self._running.discard(key)
        self._units[key] = result
        return result

    def flows(self, scope: Scope) -> list[Flow]:
        """Every flow of function `scope`, the pending calls worked out (once)."""
        unit = self.unit(scope)
        if unit.flows_done or id(scope) in self._running:
            return unit.flows
        self._flowing.add(id(scope))
        try:
            for record in unit.pending:
                self._wrapper_call(scope, record, unit, flows=True)
        finally:
            self._flowing.discard(id(scope))
        unit.pending = []
        unit.flows_done = True
        return unit.flows

    # -- one unit ---------------------------------------------------------------------

    def _analyse(self, scope: Scope) -> _Unit:
        records = self.by_unit.get(id(scope))
        result = _Unit()
        if records is None:
            return result
        # ``repo.execute(sql)`` on an object of a class of the tree is that class's
        # method, whatever the drivers call theirs.
        sinks: list[CallRecord] = []
        for record in records.attribute_calls:
            callees = self._callees(scope, record, guess=False, far=True)
            if callees:
                self._wrapper_call(scope, record, result, callees)
            else:
                sinks.append(record)
        view = Collected(
            imports=self.collected.imports,
            attribute_calls=sinks,
            name_calls=records.name_calls,
        )
        for candidate in candidates(view, context=lambda r: self.lookup(scope, r)):
            self._sink(scope, candidate, result)
        imports = self.collected.imports
        for record in records.name_calls:
            func = record.call.func
            assert isinstance(func, cst.Name)
            if _function_sink((func.value,), imports) is None:
                self._wrapper_call(scope, record, result)
        for record in records.method_calls:
            self._wrapper_call(scope, record, result)
        return result

    def lookup(self, scope: Scope, record: CallRecord, *, far: bool = True) -> Builder:
        """The lookup that evaluates `record`'s arguments where the call is (`far`: with
        what other modules define; see `bindings.ScopeNames`)."""
        return self.bindings.builder(self._names(scope, record, far=far))

    def _names(self, scope: Scope, record: CallRecord, *, far: bool = True) -> ScopeNames:
        env = self.bindings.env_at(scope, record.owner)
        hidden = self.bindings.hidden(record.owner, record.call)
        return ScopeNames(self.bindings, scope, env, hidden, far=far)

    def _sink(self, scope: Scope, candidate: Candidate, result: _Unit) -> None:
        text = candidate.text
        if not has_markers(text):
            result.candidates.append(replace(candidate, dialect=candidate.dialect or self.dialect))
            return
        if scope.kind is ScopeKind.FUNCTION and candidate.value is not None:
            hop = Step(f"{scope.display} sends it to {candidate.sink}", node=candidate.node)
            result.flows.append(
                Flow(
                    value=candidate.value,
                    sink=candidate.sink,
                    confidence=candidate.base or candidate.confidence,
                    steps=(hop,),
                    via=(scope.display, candidate.sink),
                    dialect=self.dialect,
                )
            )
        local = unmark(text)
        if not only_holes(local):
            result.candidates.append(replace(candidate, text=local, dialect=self.dialect))

    # -- calls to wrappers ----------------------------------------------------------

    def _wrapper_call(
        self,
        scope: Scope,
        record: CallRecord,
        result: _Unit,
        callees: list[_Callee] | None = None,
        *,
        flows: bool = False,
    ) -> None:
        """A call that may go to a wrapper. `flows`: also when it passes nothing but
        the function's own parameters (see `_Unit.pending`)."""
        if not record.call.args:
            return
        if callees is None:
            # First what is passed, without reading other modules: a call that passes
            # nothing that could be SQL is not looked into.
            names = self._names(scope, record, far=False)
            local = self.bindings.builder(names)
            passed = [evaluate(a.value, local) for a in record.call.args if not a.star]
            texts = [v for v in passed if _has_text(v)]
            if not texts and not names.deferred:
                return
            if not flows and not names.deferred and not any(_own_text(v) for v in texts):
                result.pending.append(record)
                return
            far = names.deferred or any(_sqlish(v) for v in texts)
            callees = self._callees(scope, record, far=far)
        if not callees:
            return
        lookup = self.lookup(scope, record)
        for callee in callees:
            bound = bind_arguments(record.call, callee.summary, callee.bound)
            for flow in callee.summary.flows:
                if len(flow.via) > MAX_CHAIN or (
                    scope.kind is ScopeKind.FUNCTION and scope.display in flow.via
                ):
                    continue  # too long, or back through this function (recursion)
                self._through(scope, record, lookup, callee, flow, bound, result)

    def _through(
        self,
        scope: Scope,
        record: CallRecord,
        lookup: Builder,
        callee: _Callee,
        flow: Flow,
        bound: dict[int, cst.BaseExpression],
        result: _Unit,
    ) -> None:
        """The call `record` sends its arguments through `flow` of `callee`."""
        needed = markers_in(flow.value.text)
        values: list[Evaluated] = []
        nodes: list[cst.BaseExpression] = []
        for index in needed:
            node = bound.get(index)
            value = evaluate(node, lookup) if node is not None else None
            if value is None or all(v.opaque for v in variants(value)):
                params = callee.summary.params
                default = params[index].default if index < len(params) else None
                values.append(default if node is None and default is not None else OPAQUE)
                continue
            values.append(value)
            nodes.append(node)  # type: ignore[arg-type]
        if not nodes:
            return  # the caller adds nothing known: the wrapper's own site covers it
        where = nodes[0]
        callee_text = unmark(flow.value.text)
        own = scope.kind is ScopeKind.FUNCTION
        for combo in islice(product(*(variants(v) for v in values)), MAX_VARIANTS):
            if any(v.kind is Kind.CLAUSE for v in combo):
                continue  # a text() object: its own call is the site
            table = {i: v.text for i, v in zip(needed, combo, strict=True)}
            text = substitute(flow.value.text, table)
            value = merged([flow.value, *combo], text, built=flow.value.built)
            value = replace(value, holes=HOLE in text or has_markers(text))
            arguments: list[Step] = []
            for v in combo:
                arguments.extend(s for s in v.steps if s not in arguments)
            if own and has_markers(text):
                hop = Step(f"{scope.display} passes it to {callee.summary.display}", node=where)
                result.flows.append(
                    Flow(
                        value=replace(value, steps=tuple(arguments) + flow.value.steps),
                        sink=flow.sink,
                        confidence=flow.confidence,
                        steps=(hop, *flow.steps),
                        via=(scope.display, *flow.via),
                        dialect=flow.dialect,
                    )
                )
                text = unmark(text)
                if only_holes(text):
                    continue
            holes = value.holes or has_markers(text)
            steps = _unique_steps([*arguments, *flow.steps, *flow.value.steps])
            result.candidates.append(
                Candidate(
                    node=where,
                    owner=record.owner,
                    text=text,
                    origin=Origin.WRAPPER,
                    confidence=lower_by(
                        flow.confidence, callee.drop + value.drop + (1 if holes else 0)
                    ),
                    sink=flow.sink,
                    steps=steps,
                    via=flow.via,
                    callee_text=callee_text,
                    dialect=flow.dialect or self.dialect,
                    base=flow.confidence,
                    value=value,
                )
            )

    def _callees(
        self, scope: Scope, record: CallRecord, *, guess: bool = True, far: bool = True
    ) -> list[_Callee]:
        """The wrappers a call may go to. `guess`: for a method called on an object of
        unknown type, this module's wrapper methods of that name (one step less sure).
        `far`: look in other modules too (asked only when what is passed looks like
        SQL: an import is resolved, and its module read, only then)."""
        func = record.call.func
        env = self.bindings.env_at(scope, record.owner)
        names = ScopeNames(self.bindings, scope, env, frozenset())
        out: list[_Callee] = []
        if isinstance(func, cst.Name):
            for value in names.values(func, resolve=False) or ():
                if isinstance(value, Ref) and value.kind is RefKind.IMPORT:
                    if not far or not self._may_wrap(self.bindings.absolute(value.target)):
                        continue
                    resolved: Sequence[object] = self.bindings._import_values(value.target)
                else:
                    resolved = (value,)
                for each in resolved:
                    found = self._function_ref(each)
                    if found is not None:
                        out.append(found)
            return out
        if not isinstance(func, cst.Attribute):
            return out
        attr = func.attr.value
        receiver = func.value
        method = method_scope(scope)
        if (
            method is not None
            and isinstance(receiver, cst.Name)
            and receiver.value == method.receiver
            and method.parent is not None
        ):
            found = self._local_method(method.parent, attr, through_instance=True)
            if found is not None:
                return [found]
            return self._by_name(attr) if guess else out
        if isinstance(receiver, cst.Call) and isinstance(receiver.func, (cst.Name, cst.Attribute)):
            # ``Repo(conn).run_sql(...)``: a method of the instance just made.
            made = [
                Ref(RefKind.INSTANCE, v.target, v.local)
                if v.kind is RefKind.CLASS
                else Ref(RefKind.RESULT, v.target)
                for v in names.values(receiver.func, resolve=False) or ()
                if isinstance(v, Ref) and v.kind in (RefKind.CLASS, RefKind.IMPORT)
            ]
            for value in made:
                if value.local or far:
                    found = self._attribute_ref(value, attr)
                    if found is not None:
                        out.append(found)
            if made:
                return out
        heads = (
            names.values(receiver, resolve=False)
            if isinstance(receiver, (cst.Name, cst.Attribute))
            else None
        )
        if heads is None:
            if isinstance(receiver, (cst.Name, cst.Attribute)) and callee_parts(receiver):
                return out  # an unbound name or an attribute of something unknown
            return self._by_name(attr) if guess else out
        unknown = False
        for value in heads:
            if isinstance(value, Ref):
                if not value.local and not far:
                    continue  # in another module: only for SQL-looking arguments
                found = self._attribute_ref(value, attr)
                if found is not None:
                    out.append(found)
            elif isinstance(value, Evaluated) and (value.opaque or only_holes(value.text)):
                unknown = True  # a parameter, a call's result: its type is not known
        if not out and any(isinstance(v, Ref) and v.kind is RefKind.RESULT for v in heads):
            unknown = False  # what a call to an imported function gave, if not a class
        if not out and unknown and guess:
            return self._by_name(attr)
        return out

    def _function_ref(self, value: object) -> _Callee | None:
        if not isinstance(value, Ref) or value.kind is not RefKind.FUNCTION:
            return None
        if value.local:
            summary = self.function_summary(value.target)
            return _Callee(summary, False, 0) if summary is not None and summary.flows else None
        if self.resolver is None or not self._may_wrap(value.target):
            return None
        member = self.resolver.member(value.target)
        if member is not None and member.function is not None and member.function.flows:
            return _Callee(member.function, False, member.drop)
        return None

    def _may_wrap(self, qualified: str | None) -> bool:
        """Whether a name of another module can be a wrapper (the outline's answer,
        before anything is parsed: `Resolver.may_wrap`)."""
        if qualified is None:
            return False
        return self.resolver is None or self.resolver.may_wrap(qualified)

    def _attribute_ref(self, value: Ref, attr: str) -> _Callee | None:
        if value.kind is RefKind.RESULT:
            absolute = self.bindings.absolute(value.target)
            if not value.local and not self._may_wrap(absolute and f"{absolute}.{attr}"):
                return None  # (what an imported callable returned, if it is a class)
            made = self.bindings.result_class(value)
            return self._attribute_ref(made, attr) if made is not None else None
        if value.kind in (RefKind.MODULE, RefKind.IMPORT) and self.resolver is not None:
            if not self._may_wrap(f"{value.target}.{attr}"):
                return None
            member = self.resolver.member(f"{value.target}.{attr}")
            if member is None or member.function is None or not member.function.flows:
                return None
            summary = member.function
            return _Callee(summary, summary.method is MethodKind.CLASS, member.drop)
        if value.kind in (RefKind.CLASS, RefKind.INSTANCE):
            instance = value.kind is RefKind.INSTANCE
            if value.local:
                scope = self.bindings.scopes.get(value.target)
                if scope is None:
                    return None
                return self._local_method(scope, attr, through_instance=instance)
            if self.resolver is None or not self._may_wrap(f"{value.target}.{attr}"):
                return None
            method = self.resolver.method(value.target, attr)
            if method is None or not method.flows:
                return None
            return _Callee(method, _binds_first(method, instance), 0)
        return None

    def _local_method(self, cls: Scope, name: str, *, through_instance: bool, depth: int = 0) -> _Callee | None:
        child = self.bindings.child(cls, name)
        if child is not None and child.kind is ScopeKind.FUNCTION:
            summary = self.function_summary(child.key)
            if summary is None or not summary.flows:
                return None
            return _Callee(summary, _binds_first(summary, through_instance), 0)
        if depth > 8:
            return None
        for base in self.bindings.bases(cls):
            if base.local:
                scope = self.bindings.scopes.get(base.target)
                if scope is not None:
                    found = self._local_method(
                        scope, name, through_instance=through_instance, depth=depth + 1
                    )
                    if found is not None:
                        return found
            elif self.resolver is not None and self._may_wrap(f"{base.target}.{name}"):
                summary = self.resolver.method(base.target, name)
                if summary is not None and summary.flows:
                    return _Callee(summary, _binds_first(summary, through_instance), 0)
        return None

    def _by_name(self, name: str) -> list[_Callee]:
        """Wrapper methods called `name` of this module's classes, for a call on an
        object of unknown type (one step less sure). Not those of imported classes:
        finding them would mean reading every module the file imports."""
        found = self._methods_by_name.get(name)
        if found is not None:
            return found
        found = []
        for scope in list(self.bindings.scopes.values()):
            if (
                scope.kind is ScopeKind.FUNCTION
                and scope.method in (MethodKind.INSTANCE, MethodKind.CLASS)
                and scope.qualname.rpartition(".")[2] == name
                and scope.parent is not None
                and scope.parent.kind is ScopeKind.CLASS
            ):
                summary = self.function_summary(scope.key)
                if summary is not None and summary.flows:
                    found.append(_Callee(summary, True, 1))
        self._methods_by_name[name] = found
        return found

    # -- summaries -------------------------------------------------------------------

    def function_summary(self, key: str) -> FunctionSummary | None:
        """The summary of this module's function `key` (a scope key; None if it is no
        function)."""
        found = self._summaries.get(key)
        if found is not None:
            return found
        scope = self.bindings.scopes.get(key)
        if scope is None or scope.kind is not ScopeKind.FUNCTION:
            return None
        assert isinstance(scope.node, cst.FunctionDef)
        complete = id(scope) not in self._running and id(scope) not in self._flowing
        flows = self.flows(scope) if complete else self.unit(scope).flows
        params: list[Param] = []
        outer = scope.parent
        for param, kind in parameters(scope.node):
            default = None
            if param.default is not None and outer is not None:
                names = ScopeNames(self.bindings, outer, None, frozenset())
                default = evaluate(param.default, self.bindings.builder(names))
            params.append(Param(param.name.value, kind, default, param.default is not None))
        summary = FunctionSummary(
            scope.qualname, self.module_name, tuple(params), scope.method, tuple(_unique_flows(flows))
        )
        if complete:
            self._summaries[key] = summary
        return summary

    # -- what other modules ask, one member at a time ----------------------------------

    def export(self, name: str) -> tuple[str, object] | None:
        """What module-level `name` is: ``("function", summary)``, ``("class", key)``,
        ``("constant", values)``, ``("import", qualified)``, or None."""
        root = self.bindings.final(self.bindings.root) or {}
        values = root.get(name)
        if not values:
            return None
        values = self.bindings.undefer(values)
        for value in values:
            if isinstance(value, Ref) and value.local and value.kind is RefKind.FUNCTION:
                summary = self.function_summary(value.target)
                return ("function", summary) if summary is not None else None
            if isinstance(value, Ref) and value.local and value.kind is RefKind.CLASS:
                return ("class", value.target)
        kept = tuple(v for v in values if _is_data(v))
        if kept:
            return ("constant", kept)
        for value in values:
            if isinstance(value, Ref) and value.kind is RefKind.IMPORT:
                absolute = self.bindings.absolute(value.target)
                if absolute is not None:
                    return ("import", absolute)
        return None

    def star_imports(self) -> tuple[str, ...]:
        found = (self.bindings.absolute(s) for s in self.collected.imports.star_modules)
        return tuple(a for a in found if a)

    def class_bases(self, key: str) -> tuple[str, ...]:
        """The known bases of class `key`, as absolute qualified names."""
        scope = self.bindings.scopes.get(key)
        if scope is None or scope.kind is not ScopeKind.CLASS:
            return ()
        bases = []
        for base in self.bindings.bases(scope):
            if base.local:
                local = self.bindings.scopes.get(base.target)
                qualname = local.qualname if local is not None else base.target
                bases.append(f"{self.module_name}.{qualname}" if self.module_name else qualname)
            else:
                bases.append(base.target)
        return tuple(bases)

    def class_method(self, key: str, name: str) -> FunctionSummary | None:
        """The summary of method `name` defined in class `key` itself."""
        scope = self.bindings.scopes.get(key)
        child = self.bindings.child(scope, name) if scope is not None else None
        if child is None or child.kind is not ScopeKind.FUNCTION:
            return None
        return self.function_summary(child.key)

    def class_attribute(self, key: str, name: str) -> tuple[object, ...] | None:
        """Attribute `name` of class `key` itself: its class body, or what its methods
        assign to ``self.<name>``."""
        scope = self.bindings.scopes.get(key)
        if scope is None or scope.kind is not ScopeKind.CLASS:
            return None
        table = self.bindings.final(scope) or {}
        found = (*table.get(name, ()), *self.bindings.instance_attribute(scope, name))
        values = [v for v in self.bindings.undefer(found) if _is_data(v)]
        return tuple(values) or None

    def located(self, path: str, values: Sequence[object]) -> tuple[object, ...]:
        """`values` with every step resolved to a location in `path`."""
        return _Resolve(self.module, path, _steps_of_values(values)).values(values)

    def located_function(self, path: str, summary: FunctionSummary) -> FunctionSummary:
        """`summary` with every step resolved to a location in `path`."""
        return _Resolve(self.module, path, _steps_of_function(summary)).function(summary)


# -- binding arguments ------------------------------------------------------------------


def _sink_argument(
    imports: Imports, parts: tuple[str, ...]
) -> tuple[int, tuple[str, ...]] | None:
    """The argument (position, keywords) of the function sink `parts` names, if any."""
    found = _function_sink(parts, imports)
    if found is None:
        return None
    return found[0].position, found[0].keywords


def bind_arguments(call: cst.Call, summary: FunctionSummary, bound: bool) -> dict[int, cst.BaseExpression]:
    """Which argument expression each parameter (by index) gets; unknowable ones are left out."""
    params = list(enumerate(summary.params))
    if bound and params:
        params = params[1:]
    positional = [
        (i, p) for i, p in params if p.kind in (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL)
    ]
    by_name = {
        p.name: i for i, p in params if p.kind in (ParamKind.POSITIONAL, ParamKind.KEYWORD_ONLY)
    }
    out: dict[int, cst.BaseExpression] = {}
    position = 0
    starred = False
    for arg in call.args:
        if arg.star == "**":
            continue
        if arg.star == "*":
            starred = True
            continue
        if arg.keyword is not None:
            index = by_name.get(arg.keyword.value)
            if index is not None:
                out[index] = arg.value
            continue
        if starred:
            continue
        if position < len(positional):
            out[positional[position][0]] = arg.value
        position += 1
    return out


def _binds_first(summary: FunctionSummary, through_instance: bool) -> bool:
    if summary.method is MethodKind.CLASS:
        return True
    return summary.method is MethodKind.INSTANCE and through_instance


def _has_text(value: Evaluated | None) -> bool:
    """Whether a value has some known text (a parameter's marker counts)."""
    return value is not None and any(not v.opaque for v in variants(value))


def _own_text(value: Evaluated | None) -> bool:
    """Whether a value has known text besides parameters and holes."""
    return value is not None and any(not v.opaque and not only_holes(v.text) for v in variants(value))


#: Words without which text passed to a function cannot make it send pinning SQL
#: (statement keywords, the functions the rules know, MySQL variables and comments).
_SQLISH = re.compile(
    r"(?i)\b(?:select|set|reset|with|create|listen|unlisten|discard|prepare|execute|"
    r"deallocate|declare|load|lock|flush|handler|pg_\w+|nextval|setval|currval|lastval|"
    r"set_config|get_lock|found_rows|row_count|last_insert_id)\b|@|/\*!"
)


def _sqlish(value: Evaluated | None) -> bool:
    """Whether a value holds a parameter or text that may take part in pinning SQL."""
    if value is None:
        return False
    return any(
        not v.opaque and (has_markers(v.text) or _SQLISH.search(v.text) is not None)
        for v in variants(value)
    )


def _is_data(value: object) -> bool:
    if isinstance(value, Evaluated):
        return not value.opaque and not only_holes(value.text) and value.kind is not Kind.CLAUSE
    return isinstance(value, (Seq, Mapping))


def _unique_steps(steps: Iterable[Step]) -> tuple[Step, ...]:
    out: list[Step] = []
    for step in steps:
        if step not in out:
            out.append(step)
    return tuple(out)


def _unique_flows(flows: Iterable[Flow]) -> list[Flow]:
    out: list[Flow] = []
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for flow in flows:
        key = (flow.value.text, flow.sink, flow.via)
        if key not in seen:
            seen.add(key)
            out.append(flow)
    return out


# -- resolving steps to locations ---------------------------------------------------------


def span_of(where: CodeRange) -> Span:
    """A libcst range as a `Span` (1-based columns, exclusive end)."""
    return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)


class _Resolve:
    """Replaces the nodes in steps by their locations in `path` (one positions pass)."""

    def __init__(self, module: cst.Module, path: str, steps: Iterable[Step]) -> None:
        self.path = path
        nodes = {id(s.node): s.node for s in steps if s.node is not None}
        self.ranges: dict[int, CodeRange] = node_ranges(module, nodes.values()) if nodes else {}

    def step(self, step: Step) -> Step:
        if step.node is None:
            return step
        where = self.ranges.get(id(step.node))
        if where is None:
            return Step(step.message)
        return Step(step.message, location=RelatedLocation(self.path, span_of(where), step.message))

    def evaluated(self, value: Evaluated) -> Evaluated:
        return replace(
            value,
            steps=tuple(self.step(s) for s in value.steps),
            alternatives=tuple(self.evaluated(a) for a in value.alternatives),
        )

    def value(self, value: object) -> object:
        if isinstance(value, Evaluated):
            return self.evaluated(value)
        if isinstance(value, Seq):
            return Seq(tuple(self.evaluated(i) if i is not None else None for i in value.items), value.open)
        if isinstance(value, Mapping):
            return Mapping(
                tuple((k, self.evaluated(v) if v is not None else None) for k, v in value.items),
                value.open,
            )
        return value

    def values(self, values: Sequence[object]) -> tuple[object, ...]:
        return tuple(self.value(v) for v in values)

    def function(self, summary: FunctionSummary) -> FunctionSummary:
        return replace(
            summary,
            params=tuple(
                replace(p, default=self.evaluated(p.default)) if p.default is not None else p
                for p in summary.params
            ),
            flows=tuple(
                replace(
                    f,
                    value=self.evaluated(f.value),
                    steps=tuple(self.step(s) for s in f.steps),
                )
                for f in summary.flows
            ),
        )


def _steps_of_values(values: Iterable[object]) -> Iterable[Step]:
    for value in values:
        yield from _value_steps(value)


def _steps_of_function(summary: FunctionSummary) -> Iterable[Step]:
    for flow in summary.flows:
        yield from flow.steps
        yield from _value_steps(flow.value)
    for param in summary.params:
        if param.default is not None:
            yield from _value_steps(param.default)


def _value_steps(value: object) -> Iterable[Step]:
    if isinstance(value, Evaluated):
        for each in variants(value):
            yield from each.steps
    elif isinstance(value, Seq):
        for item in value.items:
            if item is not None:
                yield from _value_steps(item)
    elif isinstance(value, Mapping):
        for _, item in value.items:
            if item is not None:
                yield from _value_steps(item)


def imported(values: tuple[object, ...], drop: int) -> tuple[object, ...]:
    """Values read from another module: origin imported, `drop` steps less sure."""
    return tuple(_imported(v, drop) for v in values)


def _imported(value: object, drop: int) -> object:
    if isinstance(value, Evaluated):
        return pack(
            replace(v, origin=Origin.IMPORTED_CONSTANT, drop=max(v.drop, drop))
            for v in variants(value)
        )
    if isinstance(value, Seq):
        return Seq(tuple(_imported(i, drop) if i is not None else None for i in value.items), value.open)  # type: ignore[misc]
    if isinstance(value, Mapping):
        return Mapping(
            tuple((k, _imported(v, drop) if v is not None else None) for k, v in value.items),  # type: ignore[misc]
            value.open,
        )
    return value
