"""Which functions of a module can send SQL, found with `ast`; and the module with
all the others blanked out.

The dataflow (`pinlint.extract.dataflow`) needs a parsed module: its module-level
bindings, its class bodies, and the functions whose calls send SQL, directly or
through a wrapper. A libcst parse costs about ten times CPython's, and in a module
that sends SQL most functions do not. So `Outline` reads the module with `ast` and
`Outline.reach` finds the functions that matter; `blank` gives the module text with
every other function (decorators and signature included) replaced by ``def name():
pass`` and empty lines. The name stays bound; no other line or column moves, so a
libcst parse of the blanked text gives the sites, spans and related locations of
the whole module at a fraction of the cost.

*Units* are the functions defined in the module body or in a class body (nested
ones, at any depth of ``if``/``try``/class, included); a function defined inside
another belongs to it. A unit is *needed* when its lines mention:

* a sink name called (``execute(``, ``text(``...; not ``def execute(``; a function
  sink after a dot, ``x.text(``, only in a module importing from its package) or the
  alias of an imported function sink, in the shape of a call;
* a *trigger*: the name of a wrapper of this module, a name assigned from one
  (``run = db.run_sql``), or a wrapper of another module of the tree as this module
  imports it (`pinlint.project` supplies those: ``run``, ``db.run_sql`` for a module
  alias, ``Repo`` with the methods it brings). A class's name marks nothing by
  itself: a class is reached through its wrapper methods' names (``repo.run(...)``,
  ``self.run(...)`` in ``class Mine(Repo)``), which its mention makes triggers, unless
  making an instance calls one (``__init__``);
* an attribute that a needed unit reads from ``self``/``cls``, or from anything
  when it names a class of the module (``q = Query(); q.sql``): the methods that
  assign it on ``self`` are kept too.

A needed unit is a *wrapper* when it has parameters (besides a bound ``self``/
``cls``) and calls a sink or trigger with an argument made of more than literals,
module-level names and ``self`` (`Outline.passes_on`): only then may what its
caller passes reach SQL. Mentions are whole words, anywhere on the unit's lines (a
docstring too): a false mention keeps a body that was not needed, never the
reverse. `Reach.exports` are the module's names that may lead another module to
SQL: wrapper functions, classes with wrapper methods (with those methods), names
assigned from a trigger, and what it re-imports from other modules (not ``import
x`` aliases).
"""

from __future__ import annotations

import ast
import re
import warnings
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pinlint.extract.drivers import FUNCTIONS_BY_NAME, function_sink_packages, sink_names
from pinlint.extract.source import Source

#: False: never blank (`pinlint.project` parses modules whole; the tests compare).
BLANK = True
#: Names whose call sends SQL (attribute or function sinks).
SINK_WORDS = sink_names()
_FUNCTION_PACKAGES = function_sink_packages()
#: Exports of a module: name -> the method names it brings (a class's wrappers).
Exports = Mapping[str, frozenset[str]]
_NO_MEMBERS: frozenset[str] = frozenset()
#: Methods that making an instance calls.
_CONSTRUCTORS = frozenset({"__init__", "__new__", "__call__", "__post_init__"})
_CALL_AFTER = re.compile(r"\s*[(#\\]")
_SELF_ASSIGN = re.compile(r"\bself\.(\w+)\s*(?:[-+*/%&|^@]|//|\*\*|>>|<<)?=(?!=)")
_NESTED_BODIES = ("body", "orelse", "finalbody")
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Unit:
    """A function of the module body or of a class body."""

    name: str
    owner: str | None  # the class that defines it, for a method
    top_class: str | None  # the module-level class it is in, if any
    first: int  # its first line (first decorator included)
    last: int
    body: int  # the line of its first body statement; 0 when that is the header line
    params: frozenset[str]  # the parameters a caller passes (not a bound `self`/`cls`)


@dataclass(frozen=True, slots=True)
class _Statement:
    """A module-level statement that is neither a definition nor an import."""

    first: int
    last: int
    targets: tuple[str, ...]  # the names it assigns (simple assignments only)


@dataclass
class Outline:
    """The units, classes, statements and imports of one module (see the module
    docstring); `of` returns None when `ast` rejects the text."""

    source: Source
    tree: ast.Module
    units: list[Unit] = field(default_factory=list)
    #: Module-level classes: name -> (first line, last line).
    classes: dict[str, tuple[int, int]] = field(default_factory=dict)
    statements: list[_Statement] = field(default_factory=list)
    #: local name -> what it is bound to (``a.b`` for ``from a import b``; relative
    #: ones keep their dots), every scope flattened.
    aliases: dict[str, set[str]] = field(default_factory=dict)
    #: ``import a.b.c`` without ``as``: the dotted names (``a`` is what is bound).
    dotted: list[str] = field(default_factory=list)
    stars: list[str] = field(default_factory=list)
    #: Names bound by ``import x`` statements (not ``from x import y``).
    plain_imports: set[str] = field(default_factory=set)
    import_lines: set[int] = field(default_factory=set)
    #: The function node of each unit, and what each unit calls (see `calls`).
    nodes: list[ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=list)
    _calls: dict[int, dict[str, bool]] = field(default_factory=dict)
    #: Names bound at module level (assignments, definitions; imports are `aliases`).
    module_names: set[str] = field(default_factory=set)
    _unit_firsts: list[int] = field(default_factory=list)
    _statement_firsts: list[int] = field(default_factory=list)
    _class_firsts: list[int] = field(default_factory=list)
    _class_spans: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def of(cls, text: str, tree: ast.Module | None = None) -> Outline | None:
        if tree is None:
            tree = parse(text)
            if tree is None:
                return None
        outline = cls(Source(text), tree)
        outline._walk(tree.body, None, None, module_level=True)
        order = sorted(range(len(outline.units)), key=lambda i: outline.units[i].first)
        outline.units = [outline.units[i] for i in order]
        outline.nodes = [outline.nodes[i] for i in order]
        outline.statements.sort(key=lambda s: s.first)
        outline._unit_firsts = [u.first for u in outline.units]
        outline._statement_firsts = [s.first for s in outline.statements]
        spans = sorted((first, last, name) for name, (first, last) in outline.classes.items())
        outline._class_firsts = [first for first, _, _ in spans]
        outline._class_spans = [(name, last) for _, last, name in spans]
        return outline

    # -- building ------------------------------------------------------------------------

    def _walk(
        self,
        body: Sequence[ast.stmt],
        owner: str | None,
        top_class: str | None,
        *,
        module_level: bool,
    ) -> None:
        for stmt in body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.units.append(_unit(stmt, owner, top_class, self.source))
                self.nodes.append(stmt)
                if module_level:
                    self.module_names.add(stmt.name)
            elif isinstance(stmt, ast.ClassDef):
                if module_level:
                    self.module_names.add(stmt.name)
                    self.classes[stmt.name] = (_first_line(stmt), stmt.end_lineno or stmt.lineno)
                self._walk(stmt.body, stmt.name, top_class or stmt.name, module_level=False)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt)
            else:
                if module_level:
                    targets = _targets(stmt)
                    self.statements.append(
                        _Statement(stmt.lineno, stmt.end_lineno or stmt.lineno, targets)
                    )
                    self.module_names.update(targets)
                self._nested(stmt, owner, top_class, module_level=module_level)

    def _nested(
        self, stmt: ast.stmt, owner: str | None, top_class: str | None, *, module_level: bool
    ) -> None:
        """Definitions and imports inside ``if``/``try``/``with``/loops/``match``."""
        blocks: list[Sequence[ast.stmt]] = []
        for name in _NESTED_BODIES:
            value = getattr(stmt, name, None)
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                blocks.append(value)
        for handler in getattr(stmt, "handlers", ()):
            blocks.append(handler.body)
        for case in getattr(stmt, "cases", ()):
            blocks.append(case.body)
        for block in blocks:
            self._walk(block, owner, top_class, module_level=module_level)

    def _import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        self.import_lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.plain_imports.add(alias.asname or alias.name.split(".", 1)[0])
                if alias.asname is not None:
                    self.aliases.setdefault(alias.asname, set()).add(alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    self.aliases.setdefault(head, set()).add(head)
                    if "." in alias.name:
                        self.dotted.append(alias.name)
            return
        module = "." * stmt.level + (stmt.module or "")
        if len(stmt.names) == 1 and stmt.names[0].name == "*":
            self.stars.append(module)
            return
        prefix = module if module.endswith(".") else module + "."
        for alias in stmt.names:
            self.aliases.setdefault(alias.asname or alias.name, set()).add(prefix + alias.name)

    # -- questions -----------------------------------------------------------------------

    def sink_aliases(self) -> set[str]:
        """Local names bound by an import to a function sink (``text as T``)."""
        return {
            local
            for local, targets in self.aliases.items()
            if any(t.rpartition(".")[2] in FUNCTIONS_BY_NAME for t in targets)
        }

    def _imports_function_packages(self) -> bool:
        """Whether the module imports from a package of a function sink (then
        ``alias.text(...)`` may be one; see `pinlint.extract.gate`)."""
        names = [*(t for targets in self.aliases.values() for t in targets), *self.stars]
        return any(name.lstrip(".").partition(".")[0] in _FUNCTION_PACKAGES for name in names)

    def mentions(self, word: str, *, call: bool = False) -> list[int]:
        """The lines (not import statements) where `word` occurs as a whole word;
        with `call`, only where a ``(`` (or a comment or continuation) follows it and
        ``def`` does not precede it, and for a function sink (``text``), not after a
        dot unless the module imports from its package."""
        source = self.source
        head, _, tail = word.rpartition(".")
        offsets = source.words((tail,))
        if head:  # ``module.name``: the name must follow ``module.`` (blanks around the dot)
            offsets = [at for at in offsets if _follows(source.text, at, head.split("."))]
        elif call:
            text = source.text
            end = len(word)
            dotted = word not in FUNCTIONS_BY_NAME or self._imports_function_packages()
            offsets = [
                at
                for at in offsets
                if _CALL_AFTER.match(text, at + end)
                and not _defined_at(text, at)
                and (dotted or not _after_dot(text, at))
            ]
        return [line for line in source.lines_of(offsets) if line not in self.import_lines]

    def unit_at(self, line: int) -> int | None:
        """The index of the unit whose lines hold `line` (units never overlap)."""
        i = bisect_right(self._unit_firsts, line) - 1
        if i >= 0 and self.units[i].last >= line:
            return i
        return None

    def class_at(self, line: int) -> str | None:
        """The module-level class whose lines hold `line`."""
        i = bisect_right(self._class_firsts, line) - 1
        if i >= 0:
            name, last = self._class_spans[i]
            if last >= line:
                return name
        return None

    def statement_at(self, line: int) -> _Statement | None:
        i = bisect_right(self._statement_firsts, line) - 1
        if i >= 0 and self.statements[i].last >= line:
            return self.statements[i]
        return None

    def passes_on(self, index: int, name: str) -> bool:
        """Whether unit `index` calls `name` (``name(...)``, ``x.name(...)``) with an
        argument that may hold what its caller passed: one with a name in it that is
        not ``self``/``cls``, a module-level name or an import (a parameter, a local),
        or a ``*``/``**`` unpacking. Only such a call can make the unit a wrapper."""
        calls = self._calls.get(index)
        if calls is None:
            calls = self._calls[index] = self._call_table(index)
        return calls.get(name.rpartition(".")[2], False)

    def _call_table(self, index: int) -> dict[str, bool]:
        unit = self.units[index]
        fixed = (self.module_names | self.aliases.keys() | {"self", "cls"}) - unit.params
        table: dict[str, bool] = {}
        for node in ast.walk(self.nodes[index]):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else None
            )
            if name is None or table.get(name):
                continue
            table[name] = any(
                _variable(arg, fixed) for arg in (*node.args, *(k.value for k in node.keywords))
            ) or any(k.arg is None for k in node.keywords)
        return table

    def reach(self, imported: Exports | None = None) -> Reach:
        """The needed units and the exports, given the wrappers this module imports
        (`imported`: local name -> the method names it brings)."""
        return _reach(self, dict(imported or {}))


@dataclass
class Reach:
    """What `Outline.reach` found."""

    needed: set[int]
    exports: dict[str, frozenset[str]]
    #: Whether code outside the module's own sink calls mentions a trigger from
    #: another module (a wrapper call the file's own gate does not see).
    uses_imported: bool
    #: Attribute names that blanked methods assign on ``self``.
    blanked_assigns: frozenset[str]
    #: What to blank (`blank`): each unit that is not needed, decorators and
    #: signature included, becomes ``def name(): pass``.
    spans: tuple[tuple[int, int, str], ...]


def blank(text: str, spans: Iterable[tuple[int, int, str]]) -> str:
    """`text` with the lines of each (first, last, code) span of `spans` (sorted,
    disjoint) blanked: the first line keeps its indentation followed by `code`, the
    others only their line ends, so that no other line or column moves."""
    starts = Source(text).starts
    out: list[str] = []
    at = 0
    for first, last, code in spans:
        begin = starts[first - 1]
        stop = starts[last] if last < len(starts) else len(text)
        body = text[begin:stop]
        indent = body[: len(body) - len(body.lstrip(" \t\f"))]
        out += (text[at:begin], indent, code, *_LINE_END.findall(body))
        at = stop
    if not out:
        return text
    out.append(text[at:])
    return "".join(out)


def parse(text: str) -> ast.Module | None:
    """`text` parsed by `ast`; None when it rejects it (a syntax error, a null byte,
    nesting too deep for the parser)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return None


def _first_line(stmt: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    return min([stmt.lineno, *(d.lineno for d in decorators)])


def _unit(
    stmt: ast.FunctionDef | ast.AsyncFunctionDef,
    owner: str | None,
    top: str | None,
    source: Source,
) -> Unit:
    args = stmt.args
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in stmt.decorator_list)
    if owner is not None and not static and positional:
        positional = positional[1:]  # `self` or `cls`: bound by the call
    names = [*positional, *(a.arg for a in args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    first = stmt.body[0]
    line_start = source.starts[first.lineno - 1]
    own_line = not source.text[line_start : source.offset(first.lineno, first.col_offset)].strip()
    body = first.lineno if own_line and first.lineno > stmt.lineno else 0
    return Unit(
        stmt.name,
        owner,
        top,
        _first_line(stmt),
        stmt.end_lineno or stmt.lineno,
        body,
        frozenset(names),
    )


def _follows(text: str, at: int, parts: list[str]) -> bool:
    """Whether the name at `at` is preceded by ``parts[0].parts[1]...`` and a dot,
    blanks allowed around each dot, and the first part is a whole word."""
    for part in reversed(parts):
        at = _previous(text, at)
        if at < 0 or text[at] != ".":
            return False
        at = _previous(text, at)
        start = at - len(part) + 1
        if start < 0 or text[start : at + 1] != part:
            return False
        at = start
    return at == 0 or not (text[at - 1].isalnum() or text[at - 1] in "_.")


def _after_dot(text: str, at: int) -> bool:
    """Whether the name at `at` follows a dot (blanks and continuations between)."""
    at = _previous(text, at)
    return at >= 0 and text[at] == "."


def _previous(text: str, at: int) -> int:
    """The offset of the last character before `at` that is not a blank, a line end
    or a continuation backslash (-1 when there is none)."""
    at -= 1
    while at >= 0 and text[at] in " \t\f\r\n\\":
        at -= 1
    return at


def _defined_at(text: str, at: int) -> bool:
    """Whether the name at `at` follows ``def``."""
    head = text[max(0, at - 16) : at].rstrip(" \t")
    return head.endswith("def") and (len(head) == 3 or not (head[-4].isalnum() or head[-4] == "_"))


def _variable(node: ast.expr, fixed: set[str]) -> bool:
    """Whether an argument may carry what the caller passed (see `passes_on`)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id not in fixed:
            return True
        if isinstance(inner, ast.Starred):
            return True
    return False


def _targets(stmt: ast.stmt) -> tuple[str, ...]:
    if isinstance(stmt, ast.Assign):
        return tuple(t.id for t in stmt.targets if isinstance(t, ast.Name))
    if isinstance(stmt, (ast.AnnAssign, ast.AugAssign)) and isinstance(stmt.target, ast.Name):
        return (stmt.target.id,)
    return ()


def _reach(outline: Outline, imported: dict[str, frozenset[str]]) -> Reach:
    units = outline.units
    needed: set[int] = set()
    exported: dict[str, set[str]] = {}
    flagged_classes: dict[str, set[str]] = {}
    wrappers: set[int] = set()
    uses_imported = False
    searched: set[str] = set()
    queue: list[tuple[str, frozenset[str], bool]] = []  # (word, members, call shape only)
    for word in SINK_WORDS | outline.sink_aliases():
        queue.append((word, _NO_MEMBERS, True))
    for word, members in imported.items():
        queue.append((word, members, False))

    foreign = set(imported)  # words that name something of another module

    def trigger(word: str, members: frozenset[str] = _NO_MEMBERS, *, far: bool = False) -> None:
        if word not in searched:
            queue.append((word, members, False))
            if far:
                foreign.add(word)

    while queue:
        word, members, call = queue.pop()
        if word in searched:
            continue
        searched.add(word)
        lines = outline.mentions(word, call=call)
        if not lines:
            continue
        for member in members:
            trigger(member, far=word in foreign)
        # A class with wrapper methods is reached through their names (``repo.run``,
        # ``self.run``), unless constructing it calls one.
        marks = not members or bool(members & _CONSTRUCTORS)
        uses_imported = uses_imported or (marks and word in foreign)
        for line in lines:
            index = outline.unit_at(line)
            if index is not None:
                if not marks:
                    continue
                needed.add(index)
                unit = units[index]
                if index not in wrappers and unit.params and outline.passes_on(index, word):
                    wrappers.add(index)
                    trigger(unit.name)
                    if unit.top_class is not None:
                        flagged_classes.setdefault(unit.top_class, set()).add(unit.name)
                    if unit.name in _CONSTRUCTORS and unit.owner is not None:
                        trigger(unit.owner)
                continue
            if call:
                continue  # a sink called in module or class code: kept, not a wrapper
            cls = outline.class_at(line)
            if cls is not None:  # class-level code (a base) names a class with wrappers
                if members:
                    flagged_classes.setdefault(cls, set()).update(members)
                    trigger(cls, members)
                continue
            statement = outline.statement_at(line)
            if statement is not None:  # ``run = db.run_sql``
                for target in statement.targets:
                    if target != "__all__":
                        exported.setdefault(target, set()).update(members)
                        trigger(target, members)
    assigns = _attribute_closure(outline, needed)
    for index in wrappers:
        unit = units[index]
        if unit.owner is None and unit.top_class is None:
            exported.setdefault(unit.name, set())
    for cls, methods in flagged_classes.items():
        if methods:
            exported.setdefault(cls, set()).update(methods)
    for word, members in imported.items():
        if word not in outline.plain_imports:  # (``import x`` makes no export of ``x``)
            exported.setdefault(word, set()).update(members)  # re-exported
    spans = tuple(
        (unit.first, unit.last, f"def {unit.name}(): pass")
        for index, unit in enumerate(units)
        if index not in needed
    )
    return Reach(
        needed,
        {name: frozenset(members) for name, members in exported.items()},
        uses_imported,
        assigns,
        spans,
    )


def _attribute_closure(outline: Outline, needed: set[int]) -> frozenset[str]:
    """Add to `needed` the methods that assign an attribute a needed unit reads; the
    attributes the remaining blanked methods assign.

    A needed unit reads ``self.X`` and ``cls.X``, and, when it names a class of the
    module (``q = Query()``), ``anything.X``; a method kept for what it assigns
    reads only ``self.X`` and ``cls.X`` (the values it assigns may be made of them)."""
    units = outline.units
    text = outline.source.text
    starts = outline.source.starts

    def bounds(unit: Unit) -> tuple[int, int]:
        stop = starts[unit.last] if unit.last < len(starts) else len(text)
        return starts[unit.first - 1], stop

    assigned: dict[int, set[str]] = {}
    for index, unit in enumerate(units):
        if unit.owner is None or index in needed:
            continue
        names = set(_SELF_ASSIGN.findall(text, *bounds(unit)))
        if names:
            assigned[index] = names
    if not assigned or not needed:
        return frozenset(n for names in assigned.values() for n in names)
    classes = re.compile(r"\b(?:" + "|".join(map(re.escape, outline.classes)) + r")\b")
    read: set[str] = set()
    for index in needed:
        begin, stop = bounds(units[index])
        read.update(_SELF_ATTRIBUTE.findall(text, begin, stop))
        if outline.classes and classes.search(text, begin, stop):
            read.update(_ANY_ATTRIBUTE.findall(text, begin, stop))
    pending = [-1]
    while pending:
        index = pending.pop()
        if index >= 0:
            read.update(_SELF_ATTRIBUTE.findall(text, *bounds(units[index])))
        for other, names in list(assigned.items()):
            if names & read:
                needed.add(other)
                pending.append(other)
                del assigned[other]
    return frozenset(n for names in assigned.values() for n in names)


_SELF_ATTRIBUTE = re.compile(r"\b(?:self|cls)\s*\.\s*([A-Za-z_]\w*)")
_ANY_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_]\w*)")
