"""``extract_python``: from the bytes of a Python file to its SQL sites.

Pipeline, cheapest first, each step only for what the previous one found:

1. decode per PEP 263 (``tokenize.detect_encoding``);
2. parse with `ast` and cut out the statements that hold a candidate call
   (`pinlint.extract.prepass`): usually none or a few;
3. parse those with libcst, and walk them once collecting candidate calls
   (`pinlint.extract.visitor`), no metadata providers;
4. match calls to sinks and evaluate their string arguments (`pinlint.extract.calls`).
   When a sink's argument is more than a literal, or the file calls a wrapper of
   another module of the tree, names, string building and wrappers are followed
   through the module (and, with a `ProjectView`, the other modules of the analysed
   tree; `pinlint.extract.dataflow`): then libcst parses the module with the bodies
   of the functions that cannot send SQL blanked (`pinlint.extract.outline`), or
   the whole module when `ast` rejects the source; a large module in pieces
   (`parse_module`), after the `ast` tree is let go;
5. only if a site was found, compute the ranges of the reported strings and their
   statements (`pinlint.extract.positions`), in one partial code generation pass.

Spans follow `pinlint.model.Span`: 1-based lines, 1-based columns counted in
characters (a tab is one), and ``end_col`` is the column just *after* the last
character (exclusive, like SARIF's ``endColumn``), so a one-line string has
``end_col - col == len(source_text)``. The span covers the string expression itself:
parentheses around it are outside, implicit concatenation and ``+`` are inside.
For a Django ``extra`` fragment the span is the fragment, while the text carries the
``SELECT ...`` wrapper; for ``callproc`` the span is the procedure name.

Nothing here raises: a file that does not decode, does not parse, or trips a bug
comes back as an `Extraction` holding a `Problem`.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Sequence
from dataclasses import replace

import libcst as cst
from libcst.metadata import CodeRange

from pinlint.extract import outline as outlines
from pinlint.extract.calls import Candidate, candidates
from pinlint.extract.config import configuration, needs_whole_module
from pinlint.extract.dataflow import ModuleAnalysis, ProjectView, needs_bindings, span_of
from pinlint.extract.dialect import module_dialect
from pinlint.extract.flow import function_flows
from pinlint.extract.outline import parse
from pinlint.extract.positions import node_ranges
from pinlint.extract.prepass import CannotCut, Lines, Located, import_table, locate
from pinlint.extract.source import Source
from pinlint.extract.visitor import Imports, collect
from pinlint.model import Dialect, Extraction, Problem, RelatedLocation, Span, SqlSite

_START = Span(1, 1, 1, 1)
#: The size of the pieces `parse_module` parses a large module in (characters).
PIECE_CHARS = 16 * 1024
#: What a line that starts a statement at column 0 cannot start with.
_NOT_A_START = frozenset({"", " ", "\t", "\f", "#", "\r", "\n"})
#: Give libcst only the statements `prepass.locate` finds, or the module with the
#: functions that cannot send SQL blanked (`outline`); False: always the whole
#: module; the tests compare the two).
FAST = True


def extract_python(source: bytes, path: str, project: ProjectView | None = None) -> Extraction:
    """Every SQL string that the code in `source` passes to a known sink.

    `path` is copied into the sites as given. Sites come sorted by span; spans use
    1-based lines and columns with an exclusive end column (see the module
    docstring). `project` answers for the other modules of the analysed tree
    (imported constants and wrappers). Never raises: failures come back as
    `Extraction.problems`.
    """
    try:
        return _with_flows(_extract(source, path, project), source, path)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also a pyo3 PanicException from the native parser
        return Extraction(problems=(Problem("internal", _one_line(exc), _START),))


def _extract(source: bytes, path: str, project: ProjectView | None = None) -> Extraction:
    if not source.strip():
        return Extraction()
    text_or_problem = decode(source)
    if isinstance(text_or_problem, Problem):
        return Extraction(problems=(text_or_problem,))
    text = text_or_problem
    tree = parse(text) if FAST else None
    outline = outlines.Outline.of(text, tree) if tree is not None else None
    located = locate(text, tree, outline.source) if outline is not None else None
    if located is not None and needs_whole_module(text, located.imports):
        located = outline = None  # driver configuration: hooks, module-level dicts, settings
    reach = None
    if outline is not None:
        reach = outline.reach(project.imported(outline) if project is not None else None)
    calls_wrappers = reach is not None and reach.uses_imported
    if located is not None and not calls_wrappers:
        if not located.code:
            return Extraction()
        found = _literal_sites(located, text, path)
        if found is not None:
            return found
    # Names, building and wrappers are followed through the whole module; the
    # functions that cannot send SQL are blanked first (`outline`), and the import
    # table is the whole module's (imports inside blanked functions count too).
    imports = located.imports if located is not None else None
    if reach is not None and imports is None and tree is not None:
        imports = whole_imports(text, tree)
    blanked = text
    if reach is not None and imports is not None:
        blanked = outlines.blank(text, reach.spans)
    # The `ast` tree and the outline are done with: freed before libcst parses the
    # module (for a large module they take a quarter of what libcst's tree takes).
    starts = statement_starts(tree) if tree is not None else []
    del tree, outline
    for code in dict.fromkeys((blanked, text)):
        try:
            module = parse_module(code, starts)
        except cst.ParserSyntaxError as exc:
            problem = _syntax_problem(exc)
        else:
            whole = code is text
            return _sites(module, text, path, None if whole else imports, project=project)
    return Extraction(problems=(problem,))


def _literal_sites(located: Located, text: str, path: str) -> Extraction | None:
    """The sites of the statements `locate` cut out, when their SQL is literals only;
    None when the module must be analysed whole. (A function of its own, so that the
    small module's tree is freed before the whole one is parsed.)"""
    try:
        pieces = cst.parse_module(located.code)
    except cst.ParserSyntaxError:
        return None  # the statements did not cut cleanly: parse the module
    cut = collect(pieces)
    cut.imports = located.imports
    if needs_bindings(cut):
        return None
    return _sites(pieces, text, path, located.imports, located.lines)


def statement_starts(tree: ast.Module) -> list[int]:
    """The first line (its first decorator's) of each module-level statement of `tree`
    that starts on a line of its own: where `parse_module` may cut the module."""
    out: list[int] = []
    end = 0
    for stmt in tree.body:
        decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
        first = min([stmt.lineno, *(d.lineno for d in decorators)])
        if first > end:
            out.append(first)
        end = max(end, stmt.end_lineno or stmt.lineno)
    return out


def parse_module(code: str, starts: Sequence[int] = ()) -> cst.Module:
    """`cst.parse_module(code)`, parsed in pieces when the module is large.

    While it parses, libcst's native parser holds about 0.4 MB per KB of source (its
    tokens and memo tables, besides the tree it returns), and the C allocator keeps
    that memory once it is freed: parsed whole, a 200 KB module costs a process 80
    MB. Cut at module-level statements (`starts`: lines, from `statement_starts`)
    into pieces of about `PIECE_CHARS`, it costs that for one piece at a time. The
    pieces' statements make the module the whole parse gives (the tests compare
    them with ``deep_equals``): comments and blank lines that end a piece (its
    footer) lead the next piece's first statement. A piece that does not fit (a
    header of its own, another default indentation or newline, a syntax error) makes
    it parse the module whole, as before.
    """
    if len(code) < 2 * PIECE_CHARS or not starts:
        return cst.parse_module(code)
    offsets = Source(code).starts
    cuts: list[int] = []
    begin = 0
    for line in starts:
        at = offsets[line - 1] if line <= len(offsets) else len(code)
        if (
            at - begin >= PIECE_CHARS
            and len(code) - at >= PIECE_CHARS // 2
            and code[at : at + 1] not in _NOT_A_START  # a statement at column 0
        ):
            cuts.append(at)
            begin = at
    if not cuts:
        return cst.parse_module(code)
    try:
        bounds = zip((0, *cuts), (*cuts, len(code)), strict=True)
        pieces = [cst.parse_module(code[a:b]) for a, b in bounds]
    except cst.ParserSyntaxError:
        return cst.parse_module(code)  # (for the error's position in the whole module)
    first = pieces[0]
    body = list(first.body)
    footer = first.footer
    for piece in pieces[1:]:
        if (
            piece.header
            or not piece.body
            or piece.default_indent != first.default_indent
            or piece.default_newline != first.default_newline
        ):
            return cst.parse_module(code)
        head = piece.body[0]
        if footer:
            head = head.with_changes(leading_lines=(*footer, *head.leading_lines))
        body += (head, *piece.body[1:])
        footer = piece.footer
    return first.with_changes(
        body=tuple(body), footer=footer, has_trailing_newline=pieces[-1].has_trailing_newline
    )


def whole_imports(text: str, tree: ast.Module | None = None) -> Imports | None:
    """The import table of every scope of `text`, from `ast` (as `collect` builds it
    from a whole libcst module); None when `ast` cannot give it."""
    if tree is None:
        tree = parse(text)
    if tree is None:
        return None
    try:
        return import_table(tree, Source(text))
    except CannotCut:
        return None


def _sites(
    module: cst.Module,
    text: str,
    path: str,
    imports: Imports | None = None,
    lines: Lines | None = None,
    project: ProjectView | None = None,
) -> Extraction:
    """The sites of `module`: the whole file, or the statements `locate` cut out of
    it (then with the file's `imports`, and `lines` to map positions back)."""
    collected = collect(module)
    if imports is not None:
        collected.imports = imports
    if lines is None:  # the whole module: follow names, building and wrappers
        analysis = ModuleAnalysis(
            module,
            collected,
            module_dialect(collected.imports, text),
            project,
            project.module_name if project is not None else None,
        )
        found = analysis.candidates()
    else:
        found = candidates(collected)
    dependencies = project.dependencies() if project is not None else ()
    configures = lines is None and needs_whole_module(text, collected.imports)
    config = configuration(collected, module) if configures else None
    if not found and config is None:
        return Extraction(dependencies=dependencies)
    wanted = [n for c in found for n in (c.node, c.owner)]
    wanted += [s.node for c in found for s in c.steps if s.node is not None]
    ranges = node_ranges(module, wanted + (config.nodes if config is not None else []))
    if lines is not None:
        ranges = {key: lines.range(where) for key, where in ranges.items()}
    dialect = module_dialect(collected.imports, text)
    sites = [_site(c, ranges, path, dialect) for c in found]
    kept = sorted((s for s in sites if s is not None), key=lambda s: (s.span, s.sink))
    pairs = list(zip(found, sites, strict=True))
    calls = config.build(ranges, path, dialect, pairs) if config is not None else ()
    return Extraction(sites=tuple(kept), calls=calls, dependencies=dependencies)


def _with_flows(extraction: Extraction, source: bytes, path: str) -> Extraction:
    """`extraction` with the control flow of the functions that may open a
    transaction (PIN501), which `pinlint.extract.flow` parses on their own."""
    if extraction.problems or not source.strip():
        return extraction
    text = decode(source)
    flows = function_flows(text, path) if isinstance(text, str) else ()
    return replace(extraction, flows=flows) if flows else extraction


def decode(source: bytes) -> str | Problem:
    """`source` decoded as PEP 263 says, or a ``decode`` problem."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError as exc:  # an unknown cookie, or undecodable first lines
        return Problem("decode", f"cannot determine the source encoding: {exc}", _START)
    try:
        return source.decode(encoding)
    except UnicodeDecodeError as exc:
        line = source.count(b"\n", 0, exc.start) + 1
        message = f"not valid {encoding} at line {line}: {exc.reason}"
        return Problem("decode", message, _START)


def _syntax_problem(exc: cst.ParserSyntaxError) -> Problem:
    line, col = exc.editor_line, exc.editor_column
    return Problem("syntax", " ".join(exc.message.split()), Span(line, col, line, col))


def _site(
    candidate: Candidate, ranges: dict[int, CodeRange], path: str, dialect: Dialect | None
) -> SqlSite | None:
    where = ranges.get(id(candidate.node))
    if where is None:  # no syntactic range: cannot happen for string expressions
        return None
    span = span_of(where)
    owner = ranges.get(id(candidate.owner))
    related: list[RelatedLocation] = []
    for step in candidate.steps:
        if step.location is not None:
            related.append(step.location)
        elif step.node is not None and id(step.node) in ranges:
            related.append(RelatedLocation(path, span_of(ranges[id(step.node)]), step.message))
    return SqlSite(
        path=path,
        span=span,
        text=candidate.text,
        origin=candidate.origin,
        confidence=candidate.confidence,
        sink=candidate.sink,
        statement_line=owner.start.line if owner is not None else span.line,
        related=tuple(related),
        dialect=candidate.dialect or dialect,
        via=candidate.via,
        callee_text=candidate.callee_text,
    )


def _one_line(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
