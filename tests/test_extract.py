"""Extraction: fixtures with inline markers, texts, spans, confidence, problems, gate.

Every fixture line that holds a site carries ``# site: <sink>[, <sink>...]``, or the
line above carries ``# site-next: <sink>`` (for a statement whose first line ends
inside a triple-quoted string). The line is the site's ``statement_line``. The
comparison is strict both ways: a missing site and an unexpected one both fail.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

import pinlint.extract.positions as positions
import pinlint.extract.python as python_extract
from pinlint.extract import extract_python, might_matter
from pinlint.extract.calls import candidates
from pinlint.extract.drivers import FUNCTIONS_BY_NAME, METHOD_SINKS, sink_names
from pinlint.extract.visitor import collect
from pinlint.model import HOLE, Confidence, Extraction, Origin, Problem, Span, SqlSite

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
FIXTURE_FILES = sorted(FIXTURES.glob("*.py"))
_MARKER = re.compile(r"#\s*site(-next)?:\s*(.+?)\s*$")


def fixture(name: str) -> Extraction:
    path = FIXTURES / name
    return extract_python(path.read_bytes(), str(path))


def markers(path: Path) -> Counter[tuple[int, str]]:
    source = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        text = source.decode(encoding)
    except (SyntaxError, UnicodeDecodeError):
        text = source.decode("latin-1")
    expected: Counter[tuple[int, str]] = Counter()
    for number, line in enumerate(text.splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            target = number + 1 if match.group(1) else number
            for sink in match.group(2).split(","):
                expected[(target, sink.strip())] += 1
    return expected


def site_at(extraction: Extraction, line: int, sink: str | None = None) -> SqlSite:
    found = [s for s in extraction.sites if s.statement_line == line and sink in (None, s.sink)]
    assert len(found) == 1, found
    return found[0]


# -- markers: the whole behaviour of every fixture --------------------------------


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_sites_match_markers(path: Path) -> None:
    extraction = extract_python(path.read_bytes(), str(path))
    got = Counter((s.statement_line or s.span.line, s.sink) for s in extraction.sites)
    expected = markers(path)
    assert got - expected == Counter(), "unexpected sites"
    assert expected - got == Counter(), "missing sites"


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_sites_are_well_formed(path: Path) -> None:
    extraction = extract_python(path.read_bytes(), str(path))
    assert list(extraction.sites) == sorted(extraction.sites, key=lambda s: (s.span, s.sink))
    for site in extraction.sites:
        assert site.path == str(path)
        assert site.span.line <= site.span.end_line
        assert site.statement_line <= site.span.line
        assert site.span.col >= 1 and site.span.end_col >= 1


def test_markers_cover_the_fixtures() -> None:
    total = sum(sum(markers(p).values()) for p in FIXTURE_FILES)
    assert total >= 80
    assert not markers(FIXTURES / "not_executed.py")


# -- the gate -----------------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.name)
def test_gate_never_drops_a_site_bearing_fixture(path: Path) -> None:
    source = path.read_bytes()
    if extract_python(source, str(path)).sites:
        assert might_matter(source)


def test_gate_skips_files_without_sink_names() -> None:
    assert not might_matter((FIXTURES / "no_sink_names.py").read_bytes())
    assert not might_matter(b"")
    assert not might_matter(b"context = gettext('x')\ndraw(executed, textual, rawest)\n")


@pytest.mark.parametrize("name", sorted(sink_names()))
def test_gate_knows_every_sink_name(name: str) -> None:
    call = f"x.{name}('SET x = 1')\n".encode()
    if name in FUNCTIONS_BY_NAME:  # ``x.text(...)`` is a sink only through its package
        assert not might_matter(call)
        package = FUNCTIONS_BY_NAME[name].packages[0]
        assert might_matter(f"import {package} as x\n".encode() + call)
        assert might_matter(f"{name}('SET x = 1')\n".encode())
    else:
        assert might_matter(call)
    assert might_matter(f"from somewhere import {name} as alias\n".encode())
    assert might_matter(f"\u00e9{name}('x')\n".encode())  # a non-ASCII neighbour
    assert not might_matter(f"{name} = 1\n# {name} is a word\n".encode())  # not a call
    assert not might_matter(f"x.{name}_other('SET x = 1')\n".encode())


def test_gate_decodes_non_ascii_compatible_encodings() -> None:
    # In UTF-7 "+AGU-" is "e": the bytes never spell "execute".
    source = b"# coding: utf-7\nimport psycopg2\ncur.+AGU-xecute('SET x = 1')\n"
    assert b"execute" not in source
    assert might_matter(source)
    assert [s.text for s in extract_python(source, "u7.py").sites] == ["SET x = 1"]


# -- texts --------------------------------------------------------------------------


def test_implicit_concatenation_across_lines() -> None:
    extraction = fixture("implicit_concat.py")
    assert site_at(extraction, 7).text == "SET SESSION sql_mode = ''"
    assert site_at(extraction, 12).text == "SELECT GET_LOCK('a', 1)"
    assert site_at(extraction, 18).text == "SELECT 1 + 2"


def test_triple_quoted() -> None:
    assert site_at(fixture("implicit_concat.py"), 15).text == "SET @user = 'x';\nSET @other = 1"
    text = site_at(fixture("dbapi_psycopg2.py"), 24).text
    assert text == "\n    PREPARE stmt AS SELECT 1\n    "


def test_fstring_fields_become_holes() -> None:
    extraction = fixture("fstring_holes.py")
    assert site_at(extraction, 7).text == f"SET search_path TO {HOLE}"
    assert site_at(extraction, 8).text == f"SELECT {{literal braces}}, {HOLE}, '\t'"
    assert site_at(extraction, 9).text == f"SET a = {HOLE} -- b={HOLE}"
    assert site_at(extraction, 10).text == f"SELECT '\\d{HOLE}'"
    assert site_at(extraction, 12).text == f"SET x = {HOLE} AND y"
    assert site_at(extraction, 13).text == f"SELECT {HOLE}"  # a t-string
    assert site_at(extraction, 15).text == f"\n        SET search_path TO {HOLE}, public\n    "


def test_string_prefixes_and_escapes() -> None:
    extraction = fixture("dbapi_psycopg2.py")
    assert site_at(extraction, 10).text == "SET application_name = 'x'"
    assert site_at(extraction, 11).text == "SELECT '\\d'"
    assert site_at(extraction, 12).text == "SET lock_timeout = 0"  # parenthesised


def test_callproc_and_django_shapes() -> None:
    dbapi = fixture("dbapi_psycopg2.py")
    assert site_at(dbapi, 18).text == f"SELECT set_config({HOLE}, {HOLE}, {HOLE})"
    assert site_at(dbapi, 19).text == "SELECT refresh()"
    django = fixture("django_sinks.py")
    extra = sorted(s.text for s in django.sites if s.statement_line == 16)
    assert extra == [
        "SELECT 1",
        "SELECT 1 WHERE name = 'x'",
        "SELECT pg_try_advisory_lock(id)",
    ]
    assert site_at(django, 23).text == f"SELECT 1 WHERE id > {HOLE}"


def test_latin1_cookie_is_decoded() -> None:
    assert (
        site_at(fixture("latin1_cookie.py"), 6).text == "SET application_name = 'caf\u00e9 \u00b0'"
    )


# -- spans --------------------------------------------------------------------------


def test_spans() -> None:
    dbapi = fixture("dbapi_psycopg2.py")
    # cur.execute("SET search_path TO tenant_1"): the string, quotes included,
    # 1-based columns, end column just past the closing quote.
    assert site_at(dbapi, 8).span == Span(8, 13, 8, 42)
    # cur.execute(("SET lock_timeout = 0")): parentheses are outside the span.
    assert site_at(dbapi, 12).span == Span(12, 14, 12, 36)
    # Two sites on one line.
    assert [s.span for s in dbapi.sites if s.statement_line == 20] == [
        Span(20, 13, 20, 23),
        Span(20, 38, 20, 48),
    ]
    # An implicit concatenation over three lines, statement on the line above.
    site = site_at(fixture("implicit_concat.py"), 7)
    assert site.span == Span(8, 5, 10, 9)


def test_spans_with_crlf_bom_tabs_and_non_ascii() -> None:
    source = (
        "\ufeffimport psycopg2\r\n"
        "# caf\u00e9\r\n"
        "if x:\r\n"
        "\tcur.execute('\u00e9\u00e9', \"SET x\")\r\n"
        "\u00e9 = cur.execute(\r\n"
        "    'SELECT 1'\r\n"
        ")\r\n"
    ).encode("utf-8")
    extraction = extract_python(source, "crlf.py")
    assert [(s.statement_line, s.span, s.text) for s in extraction.sites] == [
        (4, Span(4, 14, 4, 18), "\u00e9\u00e9"),
        (5, Span(6, 5, 6, 15), "SELECT 1"),
    ]


def test_positions_match_position_provider() -> None:
    for path in FIXTURE_FILES:
        text = python_extract.decode(path.read_bytes())
        if isinstance(text, Problem) or path.name == "syntax_error.py":
            continue
        module = cst.parse_module(text)
        found = candidates(collect(module))
        fast = positions.node_ranges(module, [n for c in found for n in (c.node, c.owner)])
        reference = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for c in found:
            # Strings: the whole range. Statements: the start (libcst ends a compound
            # statement with its body, which the fast path does not reproduce).
            assert fast[id(c.node)] == reference[c.node], path.name
            assert fast[id(c.owner)].start == reference[c.owner].start, path.name


def test_fallback_to_position_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {p: extract_python(p.read_bytes(), "f.py") for p in FIXTURE_FILES}
    monkeypatch.setattr(positions, "CodegenState", None)
    for path, extraction in expected.items():
        assert extract_python(path.read_bytes(), "f.py") == extraction, path.name


def test_deep_concatenation() -> None:
    parts = b"\n    ".join(b'"SELECT %d "' % i for i in range(1000))
    extraction = extract_python(b"cur.execute(\n    " + parts + b")\n", "deep.py")
    assert extraction.problems == ()
    [site] = extraction.sites
    assert site.span == Span(2, 5, 1001, 18)
    assert site.text.startswith("SELECT 0 SELECT 1 ")


# -- statement lines, sinks, confidence, origin -------------------------------------


def test_statement_line_precedes_multiline_string() -> None:
    site = site_at(fixture("dbapi_psycopg2.py"), 24)
    assert (site.statement_line, site.span.line) == (24, 25)


def test_session_execute_of_text_counts_once() -> None:
    extraction = fixture("sqlalchemy_text_alias.py")
    assert [s.sink for s in extraction.sites if s.statement_line == 12] == ["sqlalchemy.text"]


@pytest.mark.parametrize(
    ("name", "line", "sink", "confidence"),
    [
        ("dbapi_psycopg2.py", 8, "cursor.execute", Confidence.HIGH),
        ("dbapi_psycopg2.py", 17, "cursor.executemany", Confidence.HIGH),
        ("dbapi_psycopg2.py", 18, "cursor.callproc", Confidence.HIGH),
        ("asyncpg_calls.py", 11, "asyncpg.fetch", Confidence.HIGH),
        ("django_sinks.py", 11, "django.raw", Confidence.HIGH),
        ("django_sinks.py", 13, "django.RawSQL", Confidence.HIGH),
        ("django_sinks.py", 23, "django.extra", Confidence.MEDIUM),  # f-string fragment
        ("sqlalchemy_text_alias.py", 13, "sqlalchemy.text", Confidence.HIGH),
        ("sqlalchemy_text_alias.py", 18, "Connection.exec_driver_sql", Confidence.HIGH),
        ("fstring_holes.py", 7, "cursor.execute", Confidence.MEDIUM),
        ("fstring_holes.py", 11, "cursor.execute", Confidence.HIGH),  # no fields
        ("no_db_import.py", 5, "cursor.execute", Confidence.MEDIUM),
        ("no_db_import.py", 6, "asyncpg.fetch", Confidence.MEDIUM),
        ("no_db_import.py", 7, "django.raw", Confidence.MEDIUM),
        ("no_db_import.py", 8, "cursor.executemany", Confidence.HIGH),
        ("no_db_import.py", 9, "cursor.callproc", Confidence.HIGH),
        ("no_db_import.py", 10, "Connection.exec_driver_sql", Confidence.HIGH),
        ("no_db_import.py", 11, "cursor.execute", Confidence.LOW),  # f-string
        ("text_unbound.py", 3, "sqlalchemy.text", Confidence.HIGH),  # star import
        ("text_unbound_no_import.py", 2, "sqlalchemy.text", Confidence.LOW),
        ("text_binding.py", 6, "sqlalchemy.text", Confidence.LOW),  # another module's text
        ("statement_lines.py", 7, "cursor.execute", Confidence.HIGH),  # sqlite3 is DB-API
    ],
)
def test_confidence(name: str, line: int, sink: str, confidence: Confidence) -> None:
    assert site_at(fixture(name), line, sink).confidence is confidence


def test_unbound_text_in_a_db_module_is_medium() -> None:
    source = b"import psycopg\nq = text('SET x = 1')\n"
    assert site_at(extract_python(source, "t.py"), 2).confidence is Confidence.MEDIUM


def test_import_after_use_still_counts() -> None:
    source = b"def f(cur):\n    cur.execute('SET x = 1')\n\nimport asyncpg\n"
    assert site_at(extract_python(source, "t.py"), 2).confidence is Confidence.HIGH


@pytest.mark.parametrize(
    ("name", "line", "origin"),
    [
        ("dbapi_psycopg2.py", 8, Origin.LITERAL),
        ("dbapi_psycopg2.py", 21, Origin.BUILT),  # "..." + "..."
        ("dbapi_psycopg2.py", 18, Origin.BUILT),  # callproc
        ("implicit_concat.py", 7, Origin.LITERAL),
        ("fstring_holes.py", 7, Origin.BUILT),
        ("fstring_holes.py", 11, Origin.LITERAL),  # an f-string without fields
        ("django_sinks.py", 22, Origin.LITERAL),
    ],
)
def test_origin(name: str, line: int, origin: Origin) -> None:
    assert all(s.origin is origin for s in fixture(name).sites if s.statement_line == line)


def test_method_sinks_have_distinct_names() -> None:
    names = [m.method for m in METHOD_SINKS]
    assert len(names) == len(set(names))


# -- problems, never exceptions ------------------------------------------------------


def test_empty_file() -> None:
    assert fixture("empty.py") == Extraction()
    assert extract_python(b"\n  \n", "blank.py") == Extraction()


def test_syntax_error_is_a_problem() -> None:
    extraction = fixture("syntax_error.py")
    assert extraction.sites == ()
    [problem] = extraction.problems
    assert isinstance(problem, Problem)
    assert problem.kind == "syntax"
    assert "\n" not in problem.message and problem.message
    assert problem.span.line >= 4


def test_undecodable_file_is_a_problem() -> None:
    [problem] = fixture("not_utf8.py").problems
    assert problem.kind == "decode"
    assert problem.span == Span(1, 1, 1, 1)
    assert "line 3" in problem.message


def test_unknown_coding_cookie_is_a_problem() -> None:
    extraction = extract_python(b"# coding: no-such-codec\ncur.execute('SET x')\n", "c.py")
    assert [p.kind for p in extraction.problems] == ["decode"]


def test_internal_error_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(module: cst.Module) -> None:
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(python_extract, "collect", boom)
    extraction = extract_python(b"cur.execute('SET x')\n", "i.py")
    assert extraction.sites == ()
    assert extraction.problems == (
        Problem("internal", "ValueError: boom second line", Span(1, 1, 1, 1)),
    )


@pytest.mark.parametrize(
    "source",
    [
        b"\x00\x01\x02",
        b"cur.execute(",
        b"cur.execute('unterminated)\n",
        b"\xef\xbb\xbf",  # a BOM alone
        b"f'{'\n",
        b"x = t'a' f'b'\n",  # libcst rejects the mix with a logic error
        b"cur.execute(f'{x!z}')\n",
        b"\tcur.execute('a')\n",
    ],
)
def test_garbage_never_raises(source: bytes) -> None:
    extraction = extract_python(source, "g.py")
    assert isinstance(extraction, Extraction)
    for problem in extraction.problems:
        assert problem.kind in {"syntax", "decode", "internal"}
