"""What the names of a module stand for: a per-scope binding table, flow-sensitive.

`Bindings` answers, for a name (or ``self.attr``, ``Class.attr``, ``module.NAME``) used
at a statement, every value it may have there. It is built from the statements of
the module, never from its expressions: one walk over the statement lists
(`_scan`) finds the scopes (module, classes, functions), which statement belongs to
which, and the names each scope binds (so a name is local, global or free as
Python decides). A scope's statements are then *interpreted* on demand, once, in
order: an environment maps each name to the values it may hold on the paths that
reach the statement; ``if``/``else``, ``try`` and ``match`` branches are merged
(a name bound differently on two paths has both values); a ``return`` or ``raise``
ends its path; a loop body is run twice, and a string that grows in the loop (``sql
+= ...``) becomes its first value followed by a HOLE. The environment before each
statement that holds a recorded call is kept (a *snapshot*), so ``sql`` reassigned
to a harmless query before ``execute(sql)`` is the harmless query.

Values are `Evaluated` strings (their `steps` say where they were assigned), `Seq`
and `Mapping` (list/tuple/dict literals of strings, appended to), `Ref`s (a module,
a function, a class, an instance of a class, something imported, what calling
something imported returned), `Deferred` values and `OPAQUE`. A function's
parameters hold *markers* (`pinlint.extract.summary.marker`) so that what reaches a
sink can be told to come from a parameter; a default adds its value.

The interpretation reads nothing from other modules: an imported name stays a
`Ref`, and an assigned expression that needs another module (``PREFIX + q.LOCK``,
``self.x`` inherited from an imported class) is kept as a `Deferred` (the
expression and the environment there), computed only if it is read where SQL is
sent (`ScopeNames` with ``far``). Most assignments never are, so checking a file
does not read the modules behind every name it uses.

What is not followed (the name is then unknown, and unknown parts are HOLEs):
values from other functions' return values, ``global`` rebinding in another
function, walrus assignments, attributes of objects other than ``self``, classes
and instances created in view, container mutation other than ``append``/
``extend``/``insert``/``update``, loops over a sequence defined in another module,
``exec``/``eval``/``getattr`` with computed names, and anything read at run time
(environment, files, network).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Protocol

import libcst as cst

from pinlint.extract.building import Builder, Mapping, Seq, bound_names, comprehension_targets
from pinlint.extract.strings import (
    OPAQUE,
    Evaluated,
    Step,
    evaluate,
    stronger_origin,
    variants,
)
from pinlint.extract.summary import (
    MAX_PARAMS,
    FunctionSummary,
    MethodKind,
    ParamKind,
    has_markers,
    marker,
    only_holes,
    unmark,
)
from pinlint.extract.visitor import Imports, callee_parts, type_info
from pinlint.model import HOLE, Origin

#: The most values a name keeps on merged paths.
MAX_ALTERNATIVES = 16
#: The most definition steps a value carries.
MAX_STEPS = 6
#: How deep class bases and attribute chains are followed.
MAX_DEPTH = 8

Env = dict[str, tuple[object, ...]]


class ScopeKind(Enum):
    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"


class RefKind(Enum):
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"
    INSTANCE = "instance"  # an instance of a class (``repo = Repo()``, ``self``)
    #: Something imported: resolved when it is read where SQL could come from it, or
    #: kept when the analysed tree does not define it.
    IMPORT = "import"
    #: What calling something imported returned (an instance, if it is a class of the
    #: tree): resolved only when a method is called on it.
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class Ref:
    """A name bound to something other than a string.

    `target` is a scope's qualified name in this module (`local`) or an absolute
    qualified name (``app.db.Repo``) in another module of the tree.
    """

    kind: RefKind
    target: str
    local: bool = False


#: Stands for what a lookup left for later because it needs other modules.
SKIPPED = Ref(RefKind.IMPORT, "")


@dataclass(eq=False, slots=True)
class Deferred:
    """An assigned value that depends on other modules: the expression and the
    environment where it was assigned, evaluated (once) only if it is read where SQL
    is sent. So interpreting a function never reads another module for a value that
    goes nowhere near a database."""

    node: cst.BaseExpression
    #: The `Scope.key` of the scope it was assigned in: not the scope itself, whose
    #: environments hold this value (a reference cycle: the module's tree would wait
    #: for the cyclic garbage collector).
    scope: str
    env: Env
    #: (name, target node, verb) of the assignment, for its step; see `_named`.
    label: tuple[str, cst.CSTNode, str] | None = None
    #: Read from an enclosing function: the parameters in it are unknown here.
    unmarked: bool = False
    result: tuple[object, ...] | None = None


class MemberKind(Enum):
    CONSTANT = "constant"
    MODULE = "module"
    FUNCTION = "function"
    CLASS = "class"


@dataclass(frozen=True, slots=True)
class Member:
    """What an absolute qualified name is in the analysed tree."""

    kind: MemberKind
    qualified: str
    values: tuple[object, ...] = ()  # CONSTANT: with origin and confidence drop applied
    function: FunctionSummary | None = None
    #: Confidence steps down for using it: 1 when the module name was ambiguous.
    drop: int = 0


class Resolver(Protocol):
    """Cross-module answers (`pinlint.project`); extraction works without one."""

    def absolute(self, name: str) -> str | None:
        """An import target made absolute (``.queries.X`` -> ``app.queries.X``)."""
        ...

    def member(self, qualified: str) -> Member | None: ...

    def may_wrap(self, qualified: str) -> bool:
        """False only when `qualified` (``module.function``, ``module.Class.method``)
        cannot be a wrapper, by what its module exports (`pinlint.extract.outline`)."""
        ...

    def method(self, class_qualified: str, name: str) -> FunctionSummary | None: ...

    def class_attribute(self, class_qualified: str, name: str) -> tuple[object, ...] | None: ...


@dataclass(eq=False, slots=True)
class Scope:
    """A module, class or function body. Scopes point up (`parent`), not down:
    `children` holds keys into `Bindings.scopes`, so that scopes make no reference
    cycle and a module's tree is freed as soon as its `Bindings` is dropped."""

    node: cst.Module | cst.ClassDef | cst.FunctionDef
    kind: ScopeKind
    parent: Scope | None
    qualname: str
    #: Unique in the module (a redefined function gets ``name#2``).
    key: str = ""
    bound: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)
    #: The classes and functions defined directly in this scope: name -> `key`.
    children: dict[str, str] = field(default_factory=dict)
    #: For a function defined in a class body: how it is called, and the name of the
    #: parameter bound to the instance (or class).
    method: MethodKind | None = None
    receiver: str | None = None
    #: Filled by the interpretation: environments before the interesting statements,
    #: and the environment on the way out.
    snapshots: dict[int, Env] = field(default_factory=dict)
    final: Env | None = None
    state: int = 0  # 0: not interpreted, 1: running, 2: done

    @property
    def display(self) -> str:
        return self.qualname.replace(".<locals>", "") + "()"


_COMPOUND_BODIES = frozenset({"body", "orelse", "handlers", "finalbody", "cases"})
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class Bindings:
    """The binding table of one module; see the module docstring."""

    def __init__(
        self,
        module: cst.Module,
        imports: Imports,
        interest: set[int],
        resolver: Resolver | None = None,
        function_sink: Callable[[tuple[str, ...]], tuple[int, tuple[str, ...]] | None]
        | None = None,
    ) -> None:
        self.module = module
        self.imports = imports
        self.interest = interest
        self.resolver = resolver
        self.function_sink = function_sink
        #: The scope of each statement of `interest` (the others are not asked about).
        self.scope_of: dict[int, Scope] = {}
        self.root = Scope(module, ScopeKind.MODULE, None, "")
        #: Every scope by its unique key, in the order of the source.
        self.scopes: dict[str, Scope] = {"": self.root}
        self.scope_by_node: dict[int, Scope] = {id(module): self.root}
        self._scan_block(module.body, self.root)

    # -- the scan -----------------------------------------------------------------------

    def _belongs(self, node: cst.CSTNode, scope: Scope) -> None:
        if id(node) in self.interest:
            self.scope_of[id(node)] = scope

    def _scan_block(self, body: Sequence[cst.CSTNode], scope: Scope) -> None:
        for stmt in body:
            self._scan_statement(stmt, scope)

    def _scan_suite(self, suite: cst.BaseSuite, scope: Scope) -> None:
        if isinstance(suite, cst.IndentedBlock):
            self._scan_block(suite.body, scope)
        else:
            assert isinstance(suite, cst.SimpleStatementSuite)
            for small in suite.body:
                self._belongs(small, scope)
                self._scan_small(small, scope)

    def _scan_statement(self, stmt: cst.CSTNode, scope: Scope) -> None:
        self._belongs(stmt, scope)
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                self._belongs(small, scope)
                self._scan_small(small, scope)
        elif isinstance(stmt, cst.FunctionDef):
            self._scan_function(stmt, scope)
        elif isinstance(stmt, cst.ClassDef):
            scope.bound.add(stmt.name.value)
            for decorator in stmt.decorators:
                self._belongs(decorator, scope)
            child = self._child(stmt, ScopeKind.CLASS, scope)
            self._scan_suite(stmt.body, child)
        elif isinstance(stmt, cst.If):
            self._scan_suite(stmt.body, scope)
            if isinstance(stmt.orelse, cst.If):
                self._scan_statement(stmt.orelse, scope)
            elif stmt.orelse is not None:
                self._scan_suite(stmt.orelse.body, scope)
        elif isinstance(stmt, (cst.For, cst.While)):
            if isinstance(stmt, cst.For):
                scope.bound |= bound_names(stmt.target)
            self._scan_suite(stmt.body, scope)
            if stmt.orelse is not None:
                self._scan_suite(stmt.orelse.body, scope)
        elif isinstance(stmt, (cst.Try, cst.TryStar)):
            self._scan_suite(stmt.body, scope)
            for handler in stmt.handlers:
                self._belongs(handler, scope)
                if handler.name is not None:
                    scope.bound |= bound_names(handler.name.name)
                self._scan_suite(handler.body, scope)
            if stmt.orelse is not None:
                self._scan_suite(stmt.orelse.body, scope)
            if stmt.finalbody is not None:
                self._scan_suite(stmt.finalbody.body, scope)
        elif isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    scope.bound |= bound_names(item.asname.name)
            self._scan_suite(stmt.body, scope)
        elif isinstance(stmt, cst.Match):
            for case in stmt.cases:
                self._belongs(case, scope)
                scope.bound |= _pattern_names(case.pattern)
                self._scan_suite(case.body, scope)

    def _scan_function(self, stmt: cst.FunctionDef, scope: Scope) -> None:
        scope.bound.add(stmt.name.value)
        for decorator in stmt.decorators:
            self._belongs(decorator, scope)
        child = self._child(stmt, ScopeKind.FUNCTION, scope)
        params = _parameters(stmt.params)
        child.bound |= {p.name.value for p, _ in params}
        if scope.kind is ScopeKind.CLASS:
            decorators = {_decorator_name(d) for d in stmt.decorators}
            if "staticmethod" in decorators:
                child.method = MethodKind.STATIC
            else:
                child.method = (
                    MethodKind.CLASS if "classmethod" in decorators else MethodKind.INSTANCE
                )
                positional = [p for p, kind in params if kind in _POSITIONAL]
                child.receiver = positional[0].name.value if positional else None
        self._scan_suite(stmt.body, child)
        child.bound -= child.globals

    def _child(self, node: cst.ClassDef | cst.FunctionDef, kind: ScopeKind, parent: Scope) -> Scope:
        name = node.name.value
        if parent.kind is ScopeKind.FUNCTION:
            qualname = f"{parent.qualname}.<locals>.{name}"
        else:
            qualname = f"{parent.qualname}.{name}" if parent.qualname else name
        key = qualname
        while key in self.scopes:
            key = f"{qualname}#{len(self.scopes)}"
        child = Scope(node, kind, parent, qualname, key)
        parent.children[name] = key
        self.scopes[key] = child
        self.scope_by_node[id(node)] = child
        return child

    def _scan_small(self, small: cst.BaseSmallStatement, scope: Scope) -> None:
        if isinstance(small, cst.Assign):
            for target in small.targets:
                scope.bound |= bound_names(target.target)
        elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            scope.bound |= bound_names(small.target)
        elif isinstance(small, (cst.Import, cst.ImportFrom)):
            scope.bound |= {name for name, _ in self._import_bindings(small)}
        elif isinstance(small, cst.Del):
            scope.bound |= bound_names(small.target)
        elif isinstance(small, cst.Global):
            scope.globals |= {n.name.value for n in small.names}
        elif isinstance(small, cst.Nonlocal):
            scope.nonlocals |= {n.name.value for n in small.names}

    # -- imports --------------------------------------------------------------------------

    def _import_bindings(self, node: cst.Import | cst.ImportFrom) -> list[tuple[str, str]]:
        """(name, qualified target) for each name an import statement binds."""
        out: list[tuple[str, str]] = []
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = alias.evaluated_name
                asname = alias.evaluated_alias
                if asname is not None:
                    out.append((asname, dotted))
                else:
                    head = dotted.split(".", 1)[0]
                    out.append((head, head))
            return out
        if isinstance(node.names, cst.ImportStar):
            return out
        module = "." * len(node.relative)
        if node.module is not None:
            module += _dotted(node.module)
        prefix = module if module.endswith(".") else module + "."
        for alias in node.names:
            out.append(
                (alias.evaluated_alias or alias.evaluated_name, prefix + alias.evaluated_name)
            )
        return out

    def child(self, scope: Scope, name: str) -> Scope | None:
        """The class or function `name` defined directly in `scope`."""
        key = scope.children.get(name)
        return self.scopes[key] if key is not None else None

    def absolute(self, name: str) -> str | None:
        if not name.startswith("."):
            return name
        return self.resolver.absolute(name) if self.resolver is not None else None

    # -- interpretation -----------------------------------------------------------------

    def run(self, scope: Scope) -> None:
        """Interpret `scope` (once); a scope being interpreted is not entered again."""
        if scope.state:
            return
        scope.state = 1
        runner = _Run(self, scope)
        try:
            if scope.kind is ScopeKind.FUNCTION:
                assert isinstance(scope.node, cst.FunctionDef)
                env = runner.parameters(scope.node)
                out = runner.suite(scope.node.body, env)
            elif scope.kind is ScopeKind.CLASS:
                assert isinstance(scope.node, cst.ClassDef)
                out = runner.suite(scope.node.body, {})
            else:
                assert isinstance(scope.node, cst.Module)
                out = runner.block(scope.node.body, {})
            scope.final = _merge(out, *runner.exits) or {}
        finally:
            scope.state = 2

    def final(self, scope: Scope) -> Env | None:
        self.run(scope)
        return scope.final

    def env_at(self, scope: Scope, owner: cst.CSTNode) -> Env | None:
        """The environment of `scope` before statement `owner` (the final one if the
        statement was never reached)."""
        self.run(scope)
        found = scope.snapshots.get(id(owner))
        return found if found is not None else scope.final

    # -- names ----------------------------------------------------------------------------

    def names(
        self,
        scope: Scope,
        env: Env | None,
        hidden: frozenset[str] = frozenset(),
        *,
        far: bool = True,
    ) -> ScopeNames:
        return ScopeNames(self, scope, env, hidden, far=far)

    def builder(self, names: ScopeNames) -> Builder:
        return Builder(self.imports, names, self.function_sink)

    def name_values(
        self, scope: Scope, name: str, env: Env | None, *, resolve: bool = True
    ) -> tuple[object, ...] | None:
        """What `name` may be in `scope`, whose environment at the use is `env`.

        `resolve`: look imported names up in the analysed tree now (else they stay
        `RefKind.IMPORT`, for an assignment whose value may never be read as SQL)."""
        current: Scope | None = scope
        here = env
        while current is not None:
            if current.kind is ScopeKind.CLASS and current is not scope:
                current, here = current.parent, None
                continue
            if name in current.globals:
                return self.name_values(self.root, name, None)
            if name in current.bound and name not in current.nonlocals:
                table = here if here is not None and current is scope else self.final(current)
                found = table.get(name) if table is not None else None
                if found is None:
                    return None
                if current is not scope and current.kind is ScopeKind.FUNCTION:
                    found = tuple(
                        _without_markers(v) for v in found
                    )  # another function's parameters
                return self._resolved(found) if resolve else found
            current, here = current.parent, None
        for star in self.imports.star_modules:
            absolute = self.absolute(star)
            if absolute is not None and self.resolver is not None:
                member = self.resolver.member(f"{absolute}.{name}")
                if member is not None:
                    return self._member_values(member)
        return None

    def _resolved(self, values: tuple[object, ...]) -> tuple[object, ...]:
        """`values` with imported names looked up and deferred values computed."""
        if not any(_needs_far(v) for v in values):
            return values
        out: list[object] = []
        for value in values:
            if value is SKIPPED:
                out.append(OPAQUE)
            elif isinstance(value, Ref) and value.kind is RefKind.IMPORT:
                out.extend(self._import_values(value.target))
            elif isinstance(value, Deferred):
                out.extend(self.undeferred(value))
            else:
                out.append(value)
        return tuple(out)

    def undeferred(self, deferred: Deferred) -> tuple[object, ...]:
        """The values of a `Deferred`, computed once, with other modules."""
        if deferred.result is None:
            deferred.result = (OPAQUE,)  # a value that needs itself is unknown
            scope = self.scopes[deferred.scope]
            names = ScopeNames(self, scope, deferred.env, frozenset(), far=True)
            found = evaluate(deferred.node, self.builder(names))
            values: tuple[object, ...] = variants(found) if found is not None else (OPAQUE,)
            if deferred.unmarked:
                values = tuple(_without_markers(v) for v in values)
            if deferred.label is not None:
                values = _named(values, *deferred.label)
            deferred.result = values
        return deferred.result

    def undefer(self, values: tuple[object, ...]) -> tuple[object, ...]:
        """`values` with deferred ones computed (imported names left as they are)."""
        if not any(isinstance(v, Deferred) for v in values):
            return values
        out: list[object] = []
        for value in values:
            out.extend(self.undeferred(value) if isinstance(value, Deferred) else (value,))
        return tuple(out)

    def _import_values(self, target: str) -> tuple[object, ...]:
        absolute = self.absolute(target)
        if absolute is None or self.resolver is None:
            return (Ref(RefKind.IMPORT, absolute or target),)
        member = self.resolver.member(absolute)
        if member is None:
            return (Ref(RefKind.IMPORT, absolute),)
        return self._member_values(member)

    def _member_values(self, member: Member) -> tuple[object, ...]:
        if member.kind is MemberKind.CONSTANT:
            return member.values
        kind = {
            MemberKind.MODULE: RefKind.MODULE,
            MemberKind.FUNCTION: RefKind.FUNCTION,
            MemberKind.CLASS: RefKind.CLASS,
        }[member.kind]
        return (Ref(kind, member.qualified),)

    def attribute_values(
        self, scope: Scope, node: cst.Attribute, env: Env | None, *, resolve: bool = True
    ) -> tuple[object, ...] | None:
        """What ``a.b.c`` may be: ``self.x``, ``Class.X``, ``module.NAME``; `resolve` as
        for `name_values` (without it, nothing is looked up in other modules)."""
        parts = callee_parts(node)
        if parts is None:
            return None
        head, rest = parts[0], parts[1:]
        method = method_scope(scope)
        if method is not None and method.receiver == head and head not in scope.globals:
            if len(rest) != 1:
                return None
            key = "self." + rest[0]
            if method is scope and env is not None and key in env:
                return self._resolved(env[key]) if resolve else env[key]
            assert method.parent is not None
            kind = RefKind.CLASS if method.method is MethodKind.CLASS else RefKind.INSTANCE
            ref = Ref(kind, method.parent.key, local=True)
            found = self.class_attribute(ref, rest[0], remote=resolve)
            if found is None and not resolve:
                return (SKIPPED,) if self._far_bases(method.parent) else (OPAQUE,)
            return found
        heads = self.name_values(scope, head, env, resolve=False)
        if not heads:
            return None
        out: list[object] = []
        for value in heads:
            if isinstance(value, Ref) and value.kind in (RefKind.MODULE, RefKind.IMPORT):
                target = value.target + "." + ".".join(rest)
                out.extend(
                    self._import_values(target) if resolve else (Ref(RefKind.IMPORT, target),)
                )
            elif isinstance(value, Ref) and value.kind is RefKind.RESULT:
                if not resolve:
                    out.append(SKIPPED)
                    continue
                found = self.result_attribute(value, rest[0]) if len(rest) == 1 else None
                out.extend(found or (OPAQUE,))
            elif isinstance(value, Ref) and value.kind in (RefKind.CLASS, RefKind.INSTANCE):
                found = (
                    self.class_attribute(value, rest[0], remote=resolve) if len(rest) == 1 else None
                )
                if found is None and not resolve and self._far_class(value):
                    out.append(SKIPPED)
                else:
                    out.extend(found or (OPAQUE,))
            elif isinstance(value, Deferred):
                if not resolve:
                    out.append(SKIPPED)
                    continue
                for each in self.undeferred(value):
                    if isinstance(each, Ref) and each.kind in (RefKind.CLASS, RefKind.INSTANCE):
                        out.extend(self.class_attribute(each, rest[0]) or (OPAQUE,))
                    else:
                        out.append(OPAQUE)
            else:
                out.append(OPAQUE)
        return tuple(out) or None

    def _far_class(self, ref: Ref) -> bool:
        """Whether an attribute of class `ref` may be defined in another module."""
        if not ref.local:
            return True
        scope = self.scopes.get(ref.target)
        return scope is not None and scope.kind is ScopeKind.CLASS and self._far_bases(scope)

    def _far_bases(self, scope: Scope, depth: int = 0) -> bool:
        """Whether class `scope` has a base class that is not defined in this module."""
        if depth > MAX_DEPTH or not isinstance(scope.node, cst.ClassDef) or scope.parent is None:
            return False
        names = self.names(scope.parent, None, far=False)
        for base in scope.node.bases:
            if base.keyword is not None or not isinstance(base.value, (cst.Name, cst.Attribute)):
                continue
            for value in names.values(base.value) or ():
                if isinstance(value, Ref) and value.kind is RefKind.CLASS and value.local:
                    local = self.scopes.get(value.target)
                    if local is not None and self._far_bases(local, depth + 1):
                        return True
                elif isinstance(value, Ref):
                    return True
        return False

    def result_class(self, ref: Ref) -> Ref | None:
        """The class a `RefKind.RESULT` is an instance of, if its callee is a class."""
        for value in self._import_values(ref.target):
            if isinstance(value, Ref) and value.kind is RefKind.CLASS:
                return Ref(RefKind.INSTANCE, value.target, value.local)
        return None

    def result_attribute(self, ref: Ref, name: str) -> tuple[object, ...] | None:
        instance = self.result_class(ref)
        return self.class_attribute(instance, name) if instance is not None else None

    def class_attribute(
        self, ref: Ref, name: str, depth: int = 0, *, remote: bool = True
    ) -> tuple[object, ...] | None:
        """A class attribute, or an attribute its methods assign on ``self`` (for an
        instance), looked up through the bases (`remote`: also in other modules)."""
        if depth > MAX_DEPTH:
            return None
        if not ref.local:
            if self.resolver is None or not remote:
                return None
            found = self.resolver.class_attribute(ref.target, name)
            return found
        scope = self.scopes.get(ref.target)
        if scope is None or scope.kind is not ScopeKind.CLASS:
            return None
        out: list[object] = []
        table = self.final(scope)
        if table is not None and name in table:
            out.extend(table[name])
        out.extend(self.instance_attribute(scope, name))
        if out:
            return self._resolved(tuple(out)) if remote else tuple(out)
        for base in self.bases(scope, far=remote):
            found = self.class_attribute(base, name, depth + 1, remote=remote)
            if found:
                return found
        return None

    def instance_attribute(self, scope: Scope, name: str) -> list[object]:
        """What the methods of class `scope` assign to ``self.<name>``."""
        out: list[object] = []
        key = "self." + name
        for child in [self.scopes[k] for k in scope.children.values()]:
            if child.kind is not ScopeKind.FUNCTION or child.method is not MethodKind.INSTANCE:
                continue
            if child.state == 1:
                continue
            table = self.final(child)
            if table is not None and key in table:
                out.extend(_without_markers(v) for v in table[key])
        return out

    def bases(self, scope: Scope, *, far: bool = True) -> Iterator[Ref]:
        """The base classes of class `scope` that are known (local, or, with `far`, in
        the tree)."""
        assert isinstance(scope.node, cst.ClassDef) and scope.parent is not None
        for base in scope.node.bases:
            if base.keyword is not None or not isinstance(base.value, (cst.Name, cst.Attribute)):
                continue
            names = self.names(scope.parent, None, far=far)
            for value in names.values(base.value) or ():
                if isinstance(value, Ref) and value.kind is RefKind.CLASS:
                    yield value

    # -- lambdas and comprehensions --------------------------------------------------

    def hidden(self, owner: cst.CSTNode, call: cst.CSTNode) -> frozenset[str]:
        """The names that lambdas and comprehensions around `call` (inside the statement
        `owner`) bind: they are not the scope's."""
        stack: list[tuple[cst.CSTNode, frozenset[str]]] = [(owner, frozenset())]
        compound = isinstance(owner, cst.BaseCompoundStatement)
        while stack:
            node, hidden = stack.pop()
            if node is call:
                return hidden
            if isinstance(node, cst.Lambda):
                hidden = hidden | {p.name.value for p, _ in _parameters(node.params)}
            elif isinstance(node, _COMPREHENSIONS):
                hidden = hidden | comprehension_targets(node.for_in)
            info = type_info(type(node))
            for name in info.fields:
                if compound and node is owner and name in _COMPOUND_BODIES:
                    continue
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    stack.append((value, hidden))
                elif isinstance(value, (list, tuple)):
                    stack.extend((v, hidden) for v in value if isinstance(v, cst.CSTNode))
        return frozenset()


class ScopeNames:
    """`building.Names` for uses in one scope, with its environment at the use.

    `far`: look in other modules (imported names, deferred values, remote base
    classes). Without it nothing is read from another module, and `deferred` says
    whether something was left out for that reason.
    """

    __slots__ = ("bindings", "deferred", "env", "far", "hidden", "scope")

    def __init__(
        self,
        bindings: Bindings,
        scope: Scope,
        env: Env | None,
        hidden: frozenset[str],
        *,
        far: bool = True,
    ) -> None:
        self.bindings = bindings
        self.scope = scope
        self.env = env
        self.hidden = hidden
        self.far = far
        self.deferred = False

    def values(
        self, node: cst.Name | cst.Attribute, *, resolve: bool | None = None
    ) -> tuple[object, ...] | None:
        far = self.far if resolve is None else resolve
        if isinstance(node, cst.Name):
            if node.value in self.hidden:
                return None
            found = self.bindings.name_values(self.scope, node.value, self.env, resolve=far)
        else:
            head: cst.BaseExpression = node
            while isinstance(head, cst.Attribute):
                head = head.value
            if isinstance(head, cst.Name) and head.value in self.hidden:
                return None
            found = self.bindings.attribute_values(self.scope, node, self.env, resolve=far)
        if not far and found and any(_needs_far(v) for v in found):
            self.deferred = True
        return found


@dataclass
class _Loop:
    breaks: list[Env] = field(default_factory=list)
    continues: list[Env] = field(default_factory=list)


class _Run:
    """One interpretation of one scope's statements (see the module docstring)."""

    def __init__(self, bindings: Bindings, scope: Scope) -> None:
        self.bindings = bindings
        self.scope = scope
        self.loops: list[_Loop] = []
        self.exits: list[Env] = []
        self.statement_word = "assigned" if scope.kind is ScopeKind.FUNCTION else "defined"

    # -- entry -----------------------------------------------------------------------

    def parameters(self, node: cst.FunctionDef) -> Env:
        env: Env = {}
        scope = self.scope
        outer = scope.parent
        for index, (param, kind) in enumerate(_parameters(node.params)):
            name = param.name.value
            if name == scope.receiver and index == 0:
                assert outer is not None
                ref_kind = RefKind.CLASS if scope.method is MethodKind.CLASS else RefKind.INSTANCE
                env[name] = (Ref(ref_kind, outer.key, local=True),)
                continue
            if kind in (ParamKind.VAR_POSITIONAL, ParamKind.VAR_KEYWORD) or index >= MAX_PARAMS:
                env[name] = (OPAQUE,)
                continue
            values: list[object] = [Evaluated(marker(index), holes=True)]
            if param.default is not None and outer is not None:
                default = self._evaluate_in(outer, param.default)
                if default is not None:
                    values.extend(variants(default))
            env[name] = tuple(values)
        return env

    def _evaluate_in(self, scope: Scope, node: cst.BaseExpression) -> Evaluated | None:
        names = self.bindings.names(scope, None)
        return evaluate(node, self.bindings.builder(names))

    def _local(self, env: Env) -> tuple[ScopeNames, Builder]:
        """Names and builder that read nothing from other modules (see `Deferred`)."""
        names = self.bindings.names(self.scope, env, far=False)
        return names, self.bindings.builder(names)

    # -- statements ------------------------------------------------------------------

    def snap(self, node: cst.CSTNode, env: Env) -> None:
        if id(node) in self.bindings.interest:
            self.scope.snapshots[id(node)] = dict(env)

    def suite(self, suite: cst.BaseSuite, env: Env | None) -> Env | None:
        if isinstance(suite, cst.IndentedBlock):
            return self.block(suite.body, env)
        assert isinstance(suite, cst.SimpleStatementSuite)
        for small in suite.body:
            if env is None:
                return None
            self.snap(small, env)
            env = self.small(small, env)
        return env

    def block(self, body: Sequence[cst.CSTNode], env: Env | None) -> Env | None:
        for stmt in body:
            if env is None:
                return None
            env = self.statement(stmt, env)
        return env

    def statement(self, stmt: cst.CSTNode, env: Env) -> Env | None:
        if isinstance(stmt, cst.SimpleStatementLine):
            self.snap(stmt, env)
            current: Env | None = env
            for small in stmt.body:
                if current is None:
                    return None
                self.snap(small, current)
                current = self.small(small, current)
            return current
        self.snap(stmt, env)
        if isinstance(stmt, cst.If):
            then = self.suite(stmt.body, dict(env))
            if isinstance(stmt.orelse, cst.If):
                other = self.statement(stmt.orelse, dict(env))
            elif stmt.orelse is not None:
                other = self.suite(stmt.orelse.body, dict(env))
            else:
                other = env
            return _merge(then, other)
        if isinstance(stmt, cst.For):
            return self.loop(stmt, env, stmt.target, stmt.iter)
        if isinstance(stmt, cst.While):
            return self.loop(stmt, env, None, None)
        if isinstance(stmt, (cst.Try, cst.TryStar)):
            return self.try_(stmt, env)
        if isinstance(stmt, cst.With):
            for item in stmt.items:
                if item.asname is not None:
                    for name in bound_names(item.asname.name):
                        env[name] = (OPAQUE,)
            return self.suite(stmt.body, env)
        if isinstance(stmt, cst.Match):
            outcomes: list[Env | None] = [env]
            for case in stmt.cases:
                self.snap(case, env)
                branch = dict(env)
                for name in _pattern_names(case.pattern):
                    branch[name] = (OPAQUE,)
                outcomes.append(self.suite(case.body, branch))
            return _merge(*outcomes)
        if isinstance(stmt, cst.FunctionDef):
            for decorator in stmt.decorators:
                self.snap(decorator, env)
            child = self.bindings.scope_by_node.get(id(stmt))
            target = child.key if child is not None else stmt.name.value
            env[stmt.name.value] = (Ref(RefKind.FUNCTION, target, local=True),)
            return env
        if isinstance(stmt, cst.ClassDef):
            for decorator in stmt.decorators:
                self.snap(decorator, env)
            child = self.bindings.scope_by_node.get(id(stmt))
            target = child.key if child is not None else stmt.name.value
            env[stmt.name.value] = (Ref(RefKind.CLASS, target, local=True),)
            return env
        return env

    def loop(
        self,
        stmt: cst.For | cst.While,
        env: Env,
        target: cst.BaseAssignTargetExpression | None,
        iterable: cst.BaseExpression | None,
    ) -> Env | None:
        items: tuple[object, ...] = (OPAQUE,)
        if target is not None and iterable is not None:
            items = self._items(iterable, env)

        def enter(start: Env) -> Env:
            entered = dict(start)
            if target is not None:
                names = bound_names(target)
                for name in names:
                    entered[name] = items if isinstance(target, cst.Name) else (OPAQUE,)
            return entered

        first = _Loop()
        self.loops.append(first)
        once = self.suite(stmt.body, enter(env))
        self.loops.pop()
        head = _widen(env, _merge(env, once, *first.continues) or env)
        breaks = list(first.breaks)
        end = head
        # Run the body again only when a name it reads on entry has changed (a value
        # carried from one iteration to the next); names it only binds do not count.
        if any(head.get(key) != values for key, values in env.items()):
            second = _Loop()
            self.loops.append(second)
            again = self.suite(stmt.body, enter(head))
            self.loops.pop()
            end = _widen(env, _merge(head, again, *second.continues) or head)
            breaks += second.breaks
        finished = self.suite(stmt.orelse.body, dict(end)) if stmt.orelse is not None else end
        return _merge(finished, *breaks)

    def _items(self, iterable: cst.BaseExpression, env: Env) -> tuple[object, ...]:
        """What a loop variable may be: the items of a known sequence, else unknown."""
        names, builder = self._local(env)
        if isinstance(iterable, (cst.Name, cst.Attribute)):
            # Not looked up in other modules: a loop over an imported list is not followed.
            values: Sequence[object] = names.values(iterable, resolve=False) or ()
        else:
            values = builder.values(iterable) or ()
        out: list[object] = []
        for value in values:
            if isinstance(value, Seq):
                out.extend(v if v is not None else OPAQUE for v in value.items)
                if value.open:
                    out.append(OPAQUE)
            elif isinstance(value, Mapping):
                out.extend(Evaluated(k) for k, _ in value.items)
            else:
                out.append(OPAQUE)
        return _unique(out) or (OPAQUE,)

    def try_(self, stmt: cst.Try | cst.TryStar, env: Env) -> Env | None:
        body = self.suite(stmt.body, dict(env))
        entry = _merge(env, body) or dict(env)
        outcomes: list[Env | None] = []
        if stmt.orelse is not None and body is not None:
            outcomes.append(self.suite(stmt.orelse.body, body))
        else:
            outcomes.append(body)
        for handler in stmt.handlers:
            self.snap(handler, entry)
            branch = dict(entry)
            if handler.name is not None:
                for name in bound_names(handler.name.name):
                    branch[name] = (OPAQUE,)
            outcomes.append(self.suite(handler.body, branch))
        out = _merge(*outcomes)
        if stmt.finalbody is not None:
            after = self.suite(stmt.finalbody.body, dict(out) if out is not None else dict(entry))
            return after if out is not None else None
        return out

    # -- small statements -------------------------------------------------------------

    def small(self, node: cst.BaseSmallStatement, env: Env) -> Env | None:
        if isinstance(node, cst.Assign):
            values = self.value(node.value, env)
            for target in node.targets:
                self.bind(target.target, node.value, values, env)
        elif isinstance(node, cst.AnnAssign):
            if node.value is not None:
                self.bind(node.target, node.value, self.value(node.value, env), env)
        elif isinstance(node, cst.AugAssign):
            self.augment(node, env)
        elif isinstance(node, cst.Expr):
            self.mutation(node.value, env)
        elif isinstance(node, (cst.Return, cst.Raise)):
            self.exits.append(env)
            return None
        elif isinstance(node, cst.Break):
            if self.loops:
                self.loops[-1].breaks.append(dict(env))
            return None
        elif isinstance(node, cst.Continue):
            if self.loops:
                self.loops[-1].continues.append(dict(env))
            return None
        elif isinstance(node, cst.Del):
            for name in bound_names(node.target):
                env.pop(name, None)
        elif isinstance(node, (cst.Import, cst.ImportFrom)):
            for name, imported in self.bindings._import_bindings(node):
                env[name] = (Ref(RefKind.IMPORT, imported),)
        return env

    def value(self, node: cst.BaseExpression, env: Env) -> tuple[object, ...]:
        """The values of an assigned expression (see `Deferred`)."""
        names, builder = self._local(env)
        if isinstance(node, (cst.Name, cst.Attribute)):
            # Imported names stay references: resolved if the name is read as SQL.
            return tuple(names.values(node) or ()) or (OPAQUE,)
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            sequence = builder.sequence(node)
            return (Deferred(node, self.scope.key, dict(env)),) if names.deferred else (sequence,)
        if isinstance(node, cst.Dict):
            mapping = builder.mapping(node)
            if names.deferred:
                return (Deferred(node, self.scope.key, dict(env)),)
            return (mapping,) if mapping is not None else (OPAQUE,)
        found = evaluate(node, builder)
        if names.deferred:
            return (Deferred(node, self.scope.key, dict(env)),)
        if found is not None:
            return variants(found)
        func = node.func if isinstance(node, cst.Call) else None
        if isinstance(func, (cst.Name, cst.Attribute)) and _may_be_a_class(func, self.scope):
            results: list[object] = []
            for value in names.values(func, resolve=False) or ():
                if isinstance(value, Ref) and value.kind is RefKind.CLASS:
                    results.append(Ref(RefKind.INSTANCE, value.target, value.local))
                elif isinstance(value, Ref) and value.kind is RefKind.IMPORT:
                    results.append(Ref(RefKind.RESULT, value.target))
            if results:
                return tuple(results)
        return (OPAQUE,)

    def bind(
        self,
        target: cst.BaseExpression,
        source: cst.BaseExpression | None,
        values: tuple[object, ...],
        env: Env,
    ) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = self.named(values, target.value, target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            sources = source.elements if isinstance(source, (cst.Tuple, cst.List)) else None
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            if (
                sources is not None
                and not starred
                and len(sources) == len(elements)
                and not any(isinstance(s, cst.StarredElement) for s in sources)
            ):
                for element, item in zip(elements, sources, strict=True):
                    self.bind(element.value, item.value, self.value(item.value, env), env)
            else:
                for name in bound_names(target):
                    env[name] = (OPAQUE,)
        elif isinstance(target, cst.Attribute):
            key = self._self_key(target)
            if key is not None:
                env[key] = self.named(values, _source(target), target)

    def _self_key(self, target: cst.Attribute) -> str | None:
        """``self.<attr>`` in a method: the environment key for it."""
        scope = self.scope
        if (
            scope.receiver is not None
            and isinstance(target.value, cst.Name)
            and target.value.value == scope.receiver
        ):
            return "self." + target.attr.value
        return None

    def named(self, values: tuple[object, ...], name: str, node: cst.CSTNode) -> tuple[object, ...]:
        """`values` as bound to `name` at `node`: strings get the origin and a step."""
        return _named(values, name, node, self.statement_word)

    def augment(self, node: cst.AugAssign, env: Env) -> None:
        target = node.target
        if isinstance(target, cst.Name):
            key: str | None = target.value
        elif isinstance(target, cst.Attribute):
            key = self._self_key(target)
        else:
            key = None
        if key is None:
            return
        operator = node.operator
        current = env.get(key)
        if current is None and isinstance(target, cst.Name):
            found = self.bindings.name_values(self.scope, target.value, env)
            current = found if found is not None else None
        if (
            isinstance(operator, cst.AddAssign)
            and current
            and any(isinstance(v, Seq) for v in current)
        ):
            extra = self.value(node.value, env)
            grown: list[object] = []
            for value in current:
                if not isinstance(value, Seq):
                    grown.append(OPAQUE)
                    continue
                for more in extra:
                    if isinstance(more, Seq):
                        grown.append(Seq(value.items + more.items, value.open or more.open))
                    else:
                        grown.append(Seq(value.items, True))
            env[key] = _unique(grown)
            return
        if isinstance(operator, (cst.AddAssign, cst.ModuloAssign)):
            binary = cst.Add() if isinstance(operator, cst.AddAssign) else cst.Modulo()
            expression = cst.BinaryOperation(left=target, operator=binary, right=node.value)
            names, builder = self._local(env)
            grown_text = evaluate(expression, builder)
            if names.deferred:
                env[key] = (Deferred(expression, self.scope.key, dict(env)),)
                return
            if grown_text is not None:
                env[key] = variants(grown_text)
                return
        env[key] = (OPAQUE,)

    def mutation(self, node: cst.BaseExpression, env: Env) -> None:
        """``parts.append(x)``, ``.extend([...])``, ``.insert(i, x)``, ``.update({...})``."""
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            return
        receiver = node.func.value
        if not isinstance(receiver, cst.Name) or receiver.value not in env:
            return
        method = node.func.attr.value
        if method not in ("append", "extend", "insert", "update"):
            return
        _, builder = self._local(env)
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        changed: list[object] = []
        for value in env[receiver.value]:
            if isinstance(value, Seq) and method in ("append", "insert") and args:
                item = evaluate(args[-1], builder)
                changed.append(Seq((*value.items, item), value.open))
            elif isinstance(value, Seq) and method == "extend" and args:
                more = [v for v in builder.values(args[0]) or () if isinstance(v, Seq)]
                if len(more) == 1:
                    changed.append(Seq(value.items + more[0].items, value.open or more[0].open))
                else:
                    changed.append(Seq(value.items, True))
            elif isinstance(value, Mapping) and method == "update" and args:
                more_maps = [v for v in builder.values(args[0]) or () if isinstance(v, Mapping)]
                if len(more_maps) == 1:
                    changed.append(Mapping(value.items + more_maps[0].items, value.open))
                else:
                    changed.append(Mapping(value.items, True))
            else:
                changed.append(value)
        env[receiver.value] = tuple(changed)


# -- helpers ------------------------------------------------------------------------------

_POSITIONAL = (ParamKind.POSITIONAL_ONLY, ParamKind.POSITIONAL)


def _parameters(params: cst.Parameters) -> list[tuple[cst.Param, ParamKind]]:
    """Every parameter in order, with its kind."""
    out = [(p, ParamKind.POSITIONAL_ONLY) for p in params.posonly_params]
    out += [(p, ParamKind.POSITIONAL) for p in params.params]
    if isinstance(params.star_arg, cst.Param):
        out.append((params.star_arg, ParamKind.VAR_POSITIONAL))
    out += [(p, ParamKind.KEYWORD_ONLY) for p in params.kwonly_params]
    if isinstance(params.star_kwarg, cst.Param):
        out.append((params.star_kwarg, ParamKind.VAR_KEYWORD))
    return out


def parameters(node: cst.FunctionDef) -> list[tuple[cst.Param, ParamKind]]:
    return _parameters(node.params)


def _may_be_a_class(func: cst.BaseExpression, scope: Scope) -> bool:
    """Whether a callee may name a class (``Repo(...)``, ``db.Repo(...)``): not a method
    called on ``self``, whose lookup would read the whole class."""
    head = func
    while isinstance(head, cst.Attribute):
        head = head.value
    if not isinstance(head, cst.Name):
        return False
    method = method_scope(scope)
    return not (
        method is not None and isinstance(func, cst.Attribute) and head.value == method.receiver
    )


def _decorator_name(decorator: cst.Decorator) -> str:
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        expression = expression.func
    parts = callee_parts(expression)
    return parts[-1] if parts else ""


def method_scope(scope: Scope) -> Scope | None:
    """The method `scope` is, or is nested in (a closure still sees ``self``)."""
    current: Scope | None = scope
    while current is not None and current.kind is ScopeKind.FUNCTION:
        if current.method is not None:
            return current if current.receiver is not None else None
        current = current.parent
    return None


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def _source(target: cst.Attribute) -> str:
    return f"{_dotted(target.value)}.{target.attr.value}"


def _pattern_names(pattern: cst.MatchPattern) -> set[str]:
    """The names a ``case`` pattern captures."""
    out: set[str] = set()
    stack: list[cst.CSTNode] = [pattern]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            out.add(node.name.value)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            out.add(node.rest.value)
        info = type_info(type(node))
        for name in info.fields:
            value = getattr(node, name)
            if isinstance(
                value, cst.MatchPattern | cst.MatchSequenceElement | cst.MatchMappingElement
            ):
                stack.append(value)
            elif isinstance(value, (list, tuple)):
                stack.extend(
                    v
                    for v in value
                    if isinstance(
                        v,
                        cst.MatchPattern
                        | cst.MatchSequenceElement
                        | cst.MatchMappingElement
                        | cst.MatchKeywordElement
                        | cst.MatchOrElement,
                    )
                )
    return out


def _named(
    values: tuple[object, ...], name: str, node: cst.CSTNode, verb: str
) -> tuple[object, ...]:
    """`values` as bound to `name` at `node`: strings get the origin and a step."""
    step = Step(f"`{name}` is {verb} here", node=node)
    out: list[object] = []
    for value in values:
        if isinstance(value, Evaluated) and not value.opaque and not only_holes(value.text):
            value = replace(
                value,
                origin=stronger_origin(value.origin, Origin.CONSTANT),
                steps=(step, *value.steps)[:MAX_STEPS],
            )
        elif isinstance(value, Deferred) and value.label is None:
            value = Deferred(value.node, value.scope, value.env, (name, node, verb), value.unmarked)
        out.append(value)
    return tuple(out)


def _needs_far(value: object) -> bool:
    """Whether a value can only be known with other modules."""
    if isinstance(value, Deferred):
        return True
    return isinstance(value, Ref) and value.kind in (RefKind.IMPORT, RefKind.RESULT)


def _without_markers(value: object) -> object:
    """A value seen from another function: its parameters are unknown there."""
    if isinstance(value, Deferred):
        return Deferred(value.node, value.scope, value.env, value.label, True, None)
    if isinstance(value, Evaluated) and has_markers(value.text):
        text = unmark(value.text)
        if not text.replace(HOLE, "").strip():
            return OPAQUE
        return replace(value, text=text, holes=True)
    return value


def _unique(values: Sequence[object]) -> tuple[object, ...]:
    out: list[object] = []
    for value in values:
        if value not in out:
            out.append(value)
            if len(out) == MAX_ALTERNATIVES:
                break
    return tuple(out)


def _merge(*envs: Env | None) -> Env | None:
    """The environment after paths that end in `envs` (None: a path that ended)."""
    live = [e for e in envs if e is not None]
    if not live:
        return None
    out = dict(live[0])
    for env in live[1:]:
        if env is live[0]:
            continue
        for key, values in env.items():
            old = out.get(key)
            if old is None:
                out[key] = values
            elif old != values:
                out[key] = _unique((*old, *values))
    return out


def _widen(before: Env, after: Env) -> Env:
    """A loop's effect made finite: a string that grew from a value it had before the
    loop becomes that value followed by a HOLE (appended to an unknown number of
    times), a sequence that grew becomes open."""
    out = dict(after)
    for key, values in after.items():
        old = before.get(key)
        if old is None or old == values:
            continue
        prefixes = [v for v in old if isinstance(v, Evaluated) and not v.opaque]
        widened: list[object] = []
        for value in values:
            if value in old:
                widened.append(value)
            elif isinstance(value, Evaluated) and not value.opaque:
                base = next(
                    (p for p in prefixes if value.text.startswith(p.text) and value.text != p.text),
                    None,
                )
                if base is None:
                    widened.append(value)
                else:
                    text = base.text if base.text.endswith(HOLE) else base.text + HOLE
                    widened.append(
                        replace(value, text=text, holes=True, built=True, alternatives=())
                    )
            elif isinstance(value, Seq):
                widened.append(Seq(value.items, True))
            else:
                widened.append(value)
        out[key] = _unique(widened)
    return out
