"""The `ast` pre-pass gives libcst only some statements: the sites must be exactly
those of a libcst parse of the whole module, at the same spans."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pinlint.extract.python as python_extract
from pinlint.extract import extract_python
from pinlint.extract.prepass import locate
from pinlint.model import Extraction

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FILES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "rules").glob("*.py")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)


def both(source: bytes, path: str = "m.py") -> tuple[Extraction, Extraction]:
    fast = extract_python(source, path)
    python_extract.FAST = False
    try:
        whole = extract_python(source, path)
    finally:
        python_extract.FAST = True
    return fast, whole


def same(source: str | bytes) -> Extraction:
    data = source.encode("utf-8") if isinstance(source, str) else source
    fast, whole = both(data)
    assert fast == whole
    return fast


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_fixtures_and_examples(path: Path) -> None:
    same(path.read_bytes())


def test_the_fixtures_take_the_fast_path() -> None:
    fast = [p for p in PYTHON_FILES if _located(p.read_bytes())]
    assert len(fast) >= len(PYTHON_FILES) - 5


def _located(source: bytes) -> bool:
    text = python_extract.decode(source)
    return isinstance(text, str) and locate(text) is not None


STDLIB = Path(sysconfig.get_paths()["stdlib"])
SQLITE_CODE = sorted(
    [*(STDLIB / "sqlite3").glob("*.py"), *(STDLIB / "test" / "test_sqlite3").glob("*.py")]
)


@pytest.mark.skipif(not SQLITE_CODE, reason="no sqlite3 sources in this Python")
@pytest.mark.parametrize("path", SQLITE_CODE, ids=lambda p: p.name)
def test_real_code(path: Path) -> None:
    """CPython's sqlite3 package and its tests: hundreds of `execute` calls."""
    same(path.read_bytes())


def test_real_code_has_sites() -> None:
    if not SQLITE_CODE:
        pytest.skip("no sqlite3 sources in this Python")
    assert sum(len(same(p.read_bytes()).sites) for p in SQLITE_CODE) > 100


LAYOUTS = {
    "semicolons": 'import psycopg2\na = 1; cur.execute("SET a = 1"); b = 2\n',
    "one-line compound": 'if ready: cur.execute("SET a = 1")\nelse: cur.execute("LISTEN x")\n',
    "elif test": (
        "def f(cur):\n"
        "    if a:\n        pass\n"
        '    elif cur.execute("SET a = 1"):\n        cur.execute("LISTEN x")\n'
        '    else:\n        cur.execute("LISTEN y")\n'
    ),
    "else if": 'if a:\n    pass\nelse:\n    if cur.execute("SET a = 1"):\n        pass\n',
    "for header with a body": (
        "class A:\n    def f(self, cur):\n"
        '        for row in cur.execute("SET a = 1"):\n'
        '            cur.execute("LISTEN x")\n'
    ),
    "with, while, async": (
        "async def f(conn):\n"
        '    async with conn.execute("SET a = 1") as c:\n'
        '        while await conn.fetchval("SELECT pg_advisory_lock(1)"):\n'
        "            pass\n"
        '    async for r in conn.fetch("LISTEN x"):\n        pass\n'
    ),
    "decorators": (
        "class A:\n"
        "    @staticmethod\n"
        '    @register(text("SET a = 1"))\n'
        '    def f(x=cur.execute("LISTEN x")):\n'
        '        cur.execute("LISTEN y")\n'
    ),
    "except and finally": (
        "try:\n    pass\n"
        'except errors(cur.execute("SET a = 1")):\n    cur.execute("LISTEN x")\n'
        'else:\n    cur.execute("LISTEN y")\nfinally:\n    cur.execute("LISTEN z")\n'
    ),
    "match": (
        "match cur.execute('SET a = 1'):\n"
        "    case [x] if cur.execute('LISTEN x'):\n"
        "        cur.execute('LISTEN y')\n"
    ),
    "triple-quoted at column 0": (
        "def f(cur):\n"
        '    cur.execute("""\nSET search_path TO a;\n  LISTEN x""")\n'
        '    if cur:\n        cur.execute("""SET\n"""  "b = 1")\n'
    ),
    "tabs and CRLF": 'def f(cur):\r\n\tif cur:\r\n\t\tcur.execute("SET a = 1")\r\n',
    "lone CR": 'def f(cur):\r    cur.execute("SET a = 1")\r',
    "non-ASCII before the call": (
        "import psycopg2\n"
        '\u00e9t\u00e9 = "\u00e9"; cur.execute("SET application_name = \'\u00e9t\u00e9\'")\n'
    ),
    "f-strings and nested calls": (
        "x = f\"{cur.execute('SET a = 1')}\"\n"
        "y = [cur.execute(f'SET {k} = 1') for k in keys]\n"
        "z = lambda: cur.execute('LISTEN x')\n"
    ),
    "aliases and late imports": (
        'def f(s):\n    s.execute(T("SET a = 1"))\n    s.execute(sa.text("LISTEN x"))\n'
        "from sqlalchemy import text as T\nimport sqlalchemy as sa\n"
    ),
    "star import": 'from sqlalchemy import *\nq = text("SET a = 1")\n',
    "django": (
        "from django.db.models.expressions import RawSQL\n"
        'qs.extra(select={"a": "nextval(\'s\')"}, where=["pg_advisory_lock(1)"])\n'
        'Model.objects.raw("SET a = 1")\nRawSQL("SELECT lastval()", [])\n'
    ),
    "callproc": 'cur.callproc("pg_advisory_lock", [1])\n',
    "form feed": '\x0cimport psycopg2\n\x0cdef f(cur):\n    cur.execute("SET a = 1")\n',
    "BOM": '\ufeffimport psycopg2\ncur.execute("SET a = 1")\n',
    "deep nesting": "x = " + "(" * 90 + 'cur.execute("SET a = 1")' + ")" * 90 + "\n",
    "continuations": 'cur \\\n  .execute \\\n  ("SET a = 1")\nq = (cur\n  .execute  # c\n  ("LISTEN x"))\n',
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_layouts(name: str) -> None:
    extraction = same(LAYOUTS[name])
    assert extraction.sites, name


def test_latin1_cookie() -> None:
    source = "# -*- coding: latin-1 -*-\ncur.execute(\"SET application_name = '\xe9'\")\n"
    assert same(source.encode("latin-1")).sites


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import \uff54\uff45\uff58\uff54 as T\nT('SET a = 1')\n",  # NFKC
        '@(\n    register)\ndef f():\n    cur.execute("SET a = 1")\n'
        '@(\n    text("LISTEN x"))\ndef g():\n    pass\n',
        "x = 1\nmatch = 2\ntype X = int\n",  # newer syntax than this interpreter: libcst
    ],
)
def test_fallbacks_agree(source: str) -> None:
    same(source)


def test_a_file_without_candidates_parses_nothing_with_libcst() -> None:
    located = locate('"""The raw text of the extra execute."""\nprint(text)\n')
    assert located is not None and located.code == ""


def test_pieces_keep_lines_and_columns() -> None:
    source = 'import x\nclass A:\n    def f(self):\n        a = 1; cur.execute("SET a = 1")\n'
    located = locate(source)
    assert located is not None
    assert located.code == 'if True:\n               cur.execute("SET a = 1")\n'
    assert located.lines.line(2) == 4


# -- generated modules ---------------------------------------------------------------

_CALLS = [
    'cur.execute("SET a = 1")',
    'text("LISTEN x")',
    "cur.executemany('SELECT nextval(%s)', [])",
    "conn.fetchval(f'SET {x} = 1')",
    'cur.execute("""\nDISCARD ALL""")',
    "print('no sink here')",
]
_WRAPPERS = [
    "{call}",
    "x = {call}",
    "a = 1; {call}",
    "if {call}:\n    pass",
    "for r in {call}:\n    {call}",
    "with {call} as c:\n    pass",
    "@deco({call})\ndef f():\n    {call}",
    "try:\n    {call}\nexcept E:\n    {call}",
    "while x:\n    {call}\nelse:\n    {call}",
]


@st.composite
def modules(draw: st.DrawFn) -> str:
    lines = ["import psycopg2"]
    if draw(st.booleans()):
        lines.append("from sqlalchemy import text")
    for _ in range(draw(st.integers(1, 6))):
        wrapper = draw(st.sampled_from(_WRAPPERS))
        block = wrapper.replace("{call}", draw(st.sampled_from(_CALLS)))
        depth = draw(st.integers(0, 2))
        for level in range(depth):
            lines.append("    " * level + draw(st.sampled_from(["def g():", "class C:", "if y:"])))
        indent = "    " * depth
        lines += [indent + line if line.strip() and not line.startswith("DISCARD") else line
                  for line in block.split("\n")]  # fmt: skip
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(modules())
def test_generated_modules(source: str) -> None:
    same(source)
