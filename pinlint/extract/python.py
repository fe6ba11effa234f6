"""``extract_python``: from the bytes of a Python file to its SQL sites.

Pipeline, cheapest first, each step only for what the previous one found:

1. decode per PEP 263 (``tokenize.detect_encoding``);
2. parse the whole module with libcst (the dominant cost);
3. one iterative walk over the tree collecting imports and candidate calls
   (`pinlint.extract.visitor`), no metadata providers;
4. match calls to sinks and evaluate their string arguments (`pinlint.extract.calls`);
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

import io
import tokenize

import libcst as cst
from libcst.metadata import CodeRange

from pinlint.extract.calls import Candidate, candidates
from pinlint.extract.dialect import module_dialect
from pinlint.extract.positions import node_ranges
from pinlint.extract.visitor import collect
from pinlint.model import Dialect, Extraction, Problem, Span, SqlSite

_START = Span(1, 1, 1, 1)


def extract_python(source: bytes, path: str) -> Extraction:
    """Every SQL string literal that the code in `source` passes to a known sink.

    `path` is copied into the sites as given. Sites come sorted by span; spans use
    1-based lines and columns with an exclusive end column (see the module
    docstring). Never raises: failures come back as `Extraction.problems`.
    """
    try:
        return _extract(source, path)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # also a pyo3 PanicException from the native parser
        return Extraction(problems=(Problem("internal", _one_line(exc), _START),))


def _extract(source: bytes, path: str) -> Extraction:
    if not source.strip():
        return Extraction()
    text_or_problem = decode(source)
    if isinstance(text_or_problem, Problem):
        return Extraction(problems=(text_or_problem,))
    try:
        module = cst.parse_module(text_or_problem)
    except cst.ParserSyntaxError as exc:
        return Extraction(problems=(_syntax_problem(exc),))
    collected = collect(module)
    found = candidates(collected)
    if not found:
        return Extraction()
    ranges = node_ranges(module, [n for c in found for n in (c.node, c.owner)])
    dialect = module_dialect(collected.imports, text_or_problem)
    sites = [_site(c, ranges, path, dialect) for c in found]
    kept = sorted((s for s in sites if s is not None), key=lambda s: (s.span, s.sink))
    return Extraction(sites=tuple(kept))


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
    span = Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
    owner = ranges.get(id(candidate.owner))
    return SqlSite(
        path=path,
        span=span,
        text=candidate.text,
        origin=candidate.origin,
        confidence=candidate.confidence,
        sink=candidate.sink,
        statement_line=owner.start.line if owner is not None else span.line,
        dialect=dialect,
    )


def _one_line(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__
