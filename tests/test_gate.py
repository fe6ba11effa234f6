"""The byte-level gate must never lose a finding: every file that has a site or a
finding passes it, and skipping the files it rejects changes no result."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinlint import engine
from pinlint.config import Config
from pinlint.extract import extract_python, might_matter
from pinlint.extract.drivers import FUNCTIONS_BY_NAME, sink_names
from pinlint.extract.gate import MAX_GAP
from pinlint.model import Dialect, Target

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FILES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "rules").glob("*.py")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
CONFIGS = [
    Config(select=("ALL",)),
    Config(select=("ALL",), dialect=Dialect.MYSQL),
    Config(select=("ALL",), target=Target.PGBOUNCER),
]


def test_there_are_files_to_check() -> None:
    assert len(PYTHON_FILES) > 40


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_with_a_site_passes(path: Path) -> None:
    source = path.read_bytes()
    if extract_python(source, str(path)).sites:
        assert might_matter(source)


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_file_with_a_finding_passes(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the gate on, the findings are those of a run that parses every file
    (the syntax-error report of a file that cannot hold SQL aside)."""
    source = path.read_bytes()
    gated = [engine.lint_source(source, "f.py", c).diagnostics for c in CONFIGS]
    monkeypatch.setattr(engine, "might_matter", lambda _: True)
    everything = [engine.lint_source(source, "f.py", c).diagnostics for c in CONFIGS]
    if any(d.code != "PIN902" for found in everything for d in found):
        assert might_matter(source), path
    if might_matter(source):
        assert gated == everything
    else:
        assert [d for found in everything for d in found if d.code != "PIN902"] == []


GAPS = [
    "",
    " ",
    "\t \x0c",
    "\n",
    "\r\n  ",
    "  # a comment (with a paren)\n    ",
    " \\\n ",
    " \\\r\n\t",
    "\n\n  # one\n  # two\n\n  ",
]


@pytest.mark.parametrize("gap", GAPS)
@pytest.mark.parametrize("name", sorted(sink_names()))
def test_calls_with_anything_legal_between_name_and_paren(name: str, gap: str) -> None:
    sink = FUNCTIONS_BY_NAME.get(name)  # ``x.text(`` is a sink through its package only
    head = f"import {sink.packages[0]} as cur\n" if sink is not None else "import psycopg2\n"
    source = f"{head}q = (cur.{name}{gap}('SET a = 1'))\n".encode()
    assert might_matter(source)
    if name not in FUNCTIONS_BY_NAME and name not in ("callproc", "extra"):
        assert extract_python(source, "g.py").sites  # and it is a real call


@pytest.mark.parametrize("gap", [" ", " \\\n ", "\n  # why\n  "])
@pytest.mark.parametrize("name", sorted(FUNCTIONS_BY_NAME))
def test_aliased_function_sinks(name: str, gap: str) -> None:
    package = "sqlalchemy" if name == "text" else "django.db.models"
    source = f"from {package} import ({name}{gap}as T)\nT('SET a = 1')\n".encode()
    assert might_matter(source)
    assert extract_python(source, "a.py").sites


def test_words_that_are_not_calls() -> None:
    prose = b'"""Return the raw text of the extra rows to fetch and execute."""\n'
    assert not might_matter(prose)
    assert not might_matter(b"text = 1\nraw, extra = text.split()\nexecute_all(x)\n")
    assert not might_matter(b"# execute\n# (later)\n")  # `(` inside a comment
    assert not might_matter(b"textual(x)\nx.executes(y)\nx.raw_sql(z)\n")


def test_a_long_gap_counts_as_a_call() -> None:
    gap = b"\n".join(b"# comment" for _ in range(MAX_GAP + 1))
    assert might_matter(b"x = cur.execute\n" + gap + b"\n")
    short = b"\n".join(b"# comment" for _ in range(MAX_GAP // 4))
    assert not might_matter(b"x = cur.execute\n" + short + b"\ny = 1\n")


def test_many_names_in_a_long_comment_block_stay_cheap() -> None:
    # Each name scans at most MAX_GAP pieces; this is a correctness check of that
    # bound (the answer), not a timing.
    line = b"# execute the text of the raw extra\n"
    assert might_matter(line * 5000)  # a gap longer than MAX_GAP: counted as a call
    assert not might_matter(line * (MAX_GAP // 4) + b"x = 1\n")


def test_encodings_that_hide_ascii() -> None:
    # In UTF-7 "+AGU-" is "e": the bytes never spell "execute".
    source = b"# coding: utf-7\nimport psycopg2\nq = (cur.+AGU-xecute\n  ('SET a = 1'))\n"
    assert might_matter(source)
    assert extract_python(source, "u7.py").sites
    hidden = b"# coding: utf-7\nraw = 'the +AGU-xecute word'\n"
    assert not might_matter(hidden)


@settings(max_examples=200, deadline=None)
@given(
    name=st.sampled_from(sorted(sink_names())),
    pieces=st.lists(
        st.sampled_from([" ", "\t", "\n", "\\\n", "# c\n", "#(\n", "\r\n"]), max_size=8
    ),
)
def test_generated_gaps(name: str, pieces: list[str]) -> None:
    gap = "".join(pieces)
    if "\n" in gap and not gap.endswith(("\n", " ", "\t")):
        gap += "\n"
    sink = FUNCTIONS_BY_NAME.get(name)  # ``x.text(`` is a sink through its package only
    head = f"import {sink.packages[0]} as x\n" if sink is not None else ""
    source = f"{head}q = (x.{name}{gap}(1))\n".encode()
    assert might_matter(source)
