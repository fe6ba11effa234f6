"""An `ast` pass that finds the few statements libcst has to see.

libcst parses about ten times slower than CPython's own parser, and a file that
passes the gate usually holds a handful of sink calls, often none (the sink name
was in a docstring). So before libcst, `locate`:

1. parses the module with `ast` (C speed);
2. walks its *statements* for imports, building the same `Imports` table that
   `visitor.collect` builds from libcst nodes;
3. finds, in the statements whose lines mention a sink name (or an import alias
   of a function sink), the calls `collect` records and `candidates` would keep
   (the same tests on the callee), and for each one the statement libcst would
   make its *owner*: the innermost simple statement holding it, or the compound
   statement whose header holds it (the whole ``if``/``elif`` chain, decorators
   included);
4. copies those statements, line for line, into a small module: lines keep their
   text and their columns (a statement that starts after ``;`` or after ``if x:``
   on its line has what precedes it blanked with spaces), and an indented one
   sits under an ``if True:`` line so that its indentation stays valid.

`python.extract_python` runs the usual libcst pipeline (collect, candidates,
positions) over that module with the full `Imports` table, and maps the lines of
the positions back with `Lines`: the sites are the ones a libcst parse of the whole
module gives, at the same spans (the extraction tests compare the two on every
fixture). `locate` returns None, and the whole module is parsed as before, when
`ast` rejects the source (a syntax error, or syntax newer than this interpreter),
when an import statement has non-ASCII text (`ast` normalises identifiers, libcst
does not), or when a decorator is laid out in a way this pass does not cut.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from libcst.metadata import CodePosition, CodeRange

from pinlint.extract.calls import _function_sink
from pinlint.extract.drivers import FUNCTIONS_BY_NAME, METHODS_BY_NAME, is_db_module
from pinlint.extract.outline import parse
from pinlint.extract.source import Source
from pinlint.extract.visitor import Imports

_NEWLINE = re.compile(r"\r\n|\r|\n")
_CALLABLE_NAMES = frozenset(METHODS_BY_NAME) | frozenset(FUNCTIONS_BY_NAME)
_WRAPPER = "if True:\n"
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.If,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.With,
    ast.AsyncWith,
    ast.Try,
    ast.Match,
    *((ast.TryStar,) if hasattr(ast, "TryStar") else ()),
)


class CannotCut(Exception):
    """The source is laid out in a way `locate` does not handle: parse it whole."""


@dataclass(frozen=True, slots=True)
class Lines:
    """Where the lines of the small module come from in the original source."""

    starts: tuple[int, ...]  # first line of each piece in the small module (sorted)
    origins: tuple[int, ...]  # the same line in the original source

    def line(self, line: int) -> int:
        index = bisect_right(self.starts, line) - 1
        return self.origins[index] + line - self.starts[index]

    def range(self, where: CodeRange) -> CodeRange:
        return CodeRange(
            CodePosition(self.line(where.start.line), where.start.column),
            CodePosition(self.line(where.end.line), where.end.column),
        )


@dataclass(frozen=True, slots=True)
class Located:
    imports: Imports
    code: str  # the small module; "" when no statement holds a candidate call
    lines: Lines


def locate(
    text: str, tree: ast.Module | None = None, source: Source | None = None
) -> Located | None:
    """The statements of `text` that may hold a site, as a small module; None when
    the whole module must be parsed instead. `tree` and `source`, when given, are
    `text` parsed by `ast` and its `Source`."""
    if tree is None:
        tree = parse(text)
        if tree is None:
            return None
    source = source or Source(text)
    try:
        imports = import_table(tree, source)
        names = set(_CALLABLE_NAMES)
        names |= {n for n in imports.aliases if _function_sink((n,), imports) is not None}
        wanted = source.lines_of(source.words(names))
        if not wanted:
            return Located(imports, "", Lines((), ()))
        finder = _Finder(source, imports, wanted)
        finder.block(tree.body)
        return assemble(source, imports, finder.pieces)
    except CannotCut:
        return None


def import_table(tree: ast.Module, source: Source) -> Imports:
    """The import table, as `visitor.Imports.add` builds it from libcst nodes."""
    imports = Imports()
    ascii_only = source.text.isascii()
    for node in statements_on(tree.body, source.lines_of(source.words(("import",)))):
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if not ascii_only:
            start = source.offset(node.lineno, node.col_offset)
            end = source.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
            if not source.text[start:end].isascii():
                raise CannotCut  # ast normalises identifiers (NFKC); libcst keeps them
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is not None:
                    imports.bind(alias.asname, alias.name)
                else:
                    head = alias.name.split(".", 1)[0]
                    imports.bind(head, head)
                    if is_db_module(alias.name):
                        imports.db_import = True
            continue
        module = "." * node.level + (node.module or "")
        if not module.startswith(".") and is_db_module(module):
            imports.db_import = True
        if len(node.names) == 1 and node.names[0].name == "*":
            imports.star_modules.add(module)
            continue
        prefix = module if module.endswith(".") else module + "."
        for alias in node.names:
            imports.bind(alias.asname or alias.name, prefix + alias.name)
    return imports


def statements_on(body: Sequence[ast.stmt], lines: list[int]) -> Iterator[ast.stmt]:
    """The statements, nested ones included, whose lines include one of `lines`
    (sorted): an import statement holds the line of its ``import`` keyword."""
    if not lines:
        return
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        i = bisect_left(lines, node.lineno)
        if i == len(lines) or lines[i] > (node.end_lineno or node.lineno):
            continue
        yield node
        for _, value in ast.iter_fields(node):
            if isinstance(value, list) and value:
                for item in reversed(value):
                    if isinstance(item, ast.stmt):
                        stack.append(item)
                    elif isinstance(item, (ast.ExceptHandler, ast.match_case)):
                        stack.extend(reversed(item.body))


class _Finder:
    """Walks statements, keeping those that hold a call `collect` would record."""

    def __init__(self, source: Source, imports: Imports, wanted: list[int]) -> None:
        self.source = source
        self.imports = imports
        self.wanted = wanted
        self.pieces: list[tuple[int, int]] = []  # (start, end) offsets in the text

    def _mentions(self, first: int, last: int) -> bool:
        i = bisect_left(self.wanted, first)
        return i < len(self.wanted) and self.wanted[i] <= last

    def block(self, body: Sequence[ast.stmt]) -> None:
        for stmt in body:
            first = _first_line(stmt)
            if not self._mentions(first, stmt.end_lineno or stmt.lineno):
                continue
            if not isinstance(stmt, _COMPOUND):
                if self._holds_candidate([stmt]):
                    self._piece(stmt, compound=False)
                continue
            headers, blocks = _parts(stmt, self.source)
            if self._holds_candidate(headers):
                self._piece(stmt, compound=True)  # its nested statements come with it
                continue
            for nested in blocks:
                self.block(nested)

    def _holds_candidate(self, nodes: Iterable[ast.AST]) -> bool:
        for root in nodes:
            for node in ast.walk(root):
                if (
                    isinstance(node, ast.Call)
                    and (node.args or node.keywords)
                    and self._candidate(node.func)
                ):
                    return True
        return False

    def _candidate(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Attribute):
            return func.attr in _CALLABLE_NAMES
        if isinstance(func, ast.Name):
            name = func.id
            if name in FUNCTIONS_BY_NAME or name in self.imports.aliases:
                return _function_sink((name,), self.imports) is not None
        return False

    def _piece(self, stmt: ast.stmt, compound: bool) -> None:
        source = self.source
        if compound:
            start = compound_start(stmt, source)
        else:
            start = source.offset(stmt.lineno, stmt.col_offset)
        end = source.offset(stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0)
        self.pieces.append((start, end))


_DECORATOR_HEAD = re.compile(r"[ \t\f]*@[ \t\f(]*")


def _first_line(stmt: ast.stmt) -> int:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    lines: list[int] = [stmt.lineno, *(d.lineno for d in decorators)]
    return min(lines)


def compound_start(stmt: ast.stmt, source: Source) -> int:
    """Where a compound statement starts: its keyword, or the `@` of its first
    decorator, which must be the first thing on its line."""
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    first: ast.expr | ast.stmt = (
        min(decorators, key=lambda d: (d.lineno, d.col_offset)) if decorators else stmt
    )
    line: int = first.lineno
    line_start = source.starts[line - 1]
    head = source.text[line_start : source.offset(line, first.col_offset)]
    if decorators and not _DECORATOR_HEAD.fullmatch(head):
        raise CannotCut  # `@` on an earlier line than its expression, or the like
    if not decorators and head.strip(" \t\f"):
        raise CannotCut
    return line_start + len(head) - len(head.lstrip(" \t\f"))


def _parts(stmt: ast.stmt, source: Source) -> tuple[list[ast.AST], list[Sequence[ast.stmt]]]:
    """A compound statement's header nodes and its nested statement lists.

    An ``elif`` is an `ast.If` alone in the ``orelse`` of another; libcst keeps it
    in the chain of the first ``if``, so its test is part of that header.
    """
    headers: list[ast.AST] = []
    blocks: list[Sequence[ast.stmt]] = []
    node: ast.stmt | None = stmt
    while node is not None:
        following: ast.stmt | None = None
        for name, value in ast.iter_fields(node):
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                if name == "orelse" and isinstance(node, ast.If) and _is_elif(value, source):
                    following = value[0]
                else:
                    blocks.append(value)
            elif name == "handlers":
                for handler in value:
                    headers += [h for h in (handler.type,) if h is not None]
                    blocks.append(handler.body)
            elif name == "cases":
                for case in value:
                    headers += [h for h in (case.pattern, case.guard) if h is not None]
                    blocks.append(case.body)
            elif isinstance(value, ast.AST):
                headers.append(value)
            elif isinstance(value, list):
                headers += [v for v in value if isinstance(v, ast.AST)]
        node = following
    return headers, blocks


def _is_elif(orelse: list[ast.stmt], source: Source) -> bool:
    if len(orelse) != 1 or not isinstance(orelse[0], ast.If):
        return False
    node = orelse[0]
    at = source.offset(node.lineno, node.col_offset)
    return source.text.startswith("elif", at)


def assemble(source: Source, imports: Imports, pieces: list[tuple[int, int]]) -> Located:
    """The small module: each piece keeps its lines and columns."""
    text = source.text
    out: list[str] = []
    starts: list[int] = []
    origins: list[int] = []
    line = 1  # the small module's next line
    covered = -1
    for start, end in sorted(pieces):
        if end <= covered:
            continue  # inside a compound statement already taken
        covered = end
        first = bisect_right(source.starts, start)
        line_start = source.starts[first - 1]
        prefix = text[line_start:start]
        blanked = "".join(c if c in " \t\f" else " " for c in prefix)
        if blanked:
            out.append(_WRAPPER)
            line += 1
        body = blanked + text[start:end]
        out.append(body + "\n")
        starts.append(line)
        origins.append(first)
        line += len(_NEWLINE.findall(body)) + 1
    return Located(imports, "".join(out), Lines(tuple(starts), tuple(origins)))
