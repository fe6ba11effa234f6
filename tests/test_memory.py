"""Memory: a file's libcst tree goes as soon as its analysis is done (no reference
cycle holds it until the garbage collector runs), a large module is parsed in
pieces that make the module a whole parse gives, and the pool's parent keeps one
copy of each dependency pair."""

from __future__ import annotations

import ast
import gc
import pickle
import textwrap
from pathlib import Path

import libcst as cst
import pytest

from pinlint import runner
from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.extract import python as python_extract
from pinlint.extract.python import parse_module, statement_starts
from pinlint.model import FileResult

ROOT = Path(__file__).resolve().parent.parent
CONFIG = Config(cache=False, jobs=1)

# Names followed through the module (the dataflow), an imported constant (a
# deferred value), methods of a class (nested scopes), a wrapper, and a transaction
# left open (the control flow of PIN501).
SOURCE = textwrap.dedent(
    """\
    import psycopg2
    from app.settings import SCHEMA

    PREFIX = "SET search_path TO "


    class Repo:
        def __init__(self, conn):
            self.conn = conn
            self.sql = PREFIX + SCHEMA

        def run(self, sql):
            self.conn.cursor().execute(sql)

        def pin(self):
            self.run(self.sql)
            self.run("SET statement_timeout = 0")


    def never_commits(dsn):
        conn = psycopg2.connect(dsn)
        cur = conn.cursor()
        cur.execute("UPDATE users SET seen = true WHERE name = 'x'")
        return cur.rowcount
    """
)


def live_modules() -> int:
    """libcst modules the collector tracks: alive, or garbage it has not freed yet."""
    return sum(1 for o in gc.get_objects() if type(o) is cst.Module)


def test_a_files_tree_is_freed_without_the_garbage_collector() -> None:
    lint_source(SOURCE, "app.py", CONFIG)  # the first run imports what it needs
    gc.collect()
    gc.disable()
    try:
        before = live_modules()
        result = lint_source(SOURCE, "app.py", CONFIG)
        after = live_modules()
    finally:
        gc.enable()
    assert {"PIN101", "PIN501"} <= {d.code for d in result.diagnostics}
    assert after == before, "a tree is held by a reference cycle"


TRICKY = [
    # comments and blank lines between statements, at module and block level
    "import os\n\n# one\n\n\ndef f():\n    x = 1\n    # the block's own\n\n# the next's\ny = 2\n",
    # decorators, a class whose body ends with a comment, semicolons, a last line
    # without a newline
    "@a\n@b(1)\nclass C:\n    def m(self):\n        pass\n        # end\n\nx = 1; y = 2\nz = 3",
    # an ``if`` with ``else``, ``try``, nested blocks, a continuation, a string over lines
    "if x:\n    pass\nelse:\n    pass\ntry:\n    pass\nexcept E:\n    pass\n"
    "s = '''a\nb'''\nt = (1,\n     2)\nu = 1 + \\\n    2\n",
    # two-space indentation, and a piece without any block
    "def f():\n  return 1\n\nA = 1\nB = 2\n\ndef g():\n  if x:\n    return 2\n",
    # tabs in one function, spaces in the other (another default indentation)
    "def f():\n\treturn 1\n\ndef g():\n    return 2\n",
    # Windows line ends
    "import os\r\n\r\ndef f():\r\n    return 1\r\n# c\r\nx = 2\r\n",
]


@pytest.mark.parametrize("code", TRICKY)
def test_a_module_parsed_in_pieces_is_the_module_parsed_whole(
    code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(python_extract, "PIECE_CHARS", 1)  # a piece per statement
    pieces = parse_module(code, statement_starts(ast.parse(code)))
    whole = cst.parse_module(code)
    assert pieces.deep_equals(whole)
    assert pieces.code == whole.code


def test_real_modules_parsed_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(python_extract, "PIECE_CHARS", 512)
    paths = sorted((ROOT / "pinlint" / "extract").glob("*.py"))
    paths += sorted((ROOT / "tests" / "fixtures" / "python").glob("*.py"))
    assert paths
    for path in paths:
        code = path.read_text(encoding="utf-8")
        pieces = parse_module(code, statement_starts(ast.parse(code)))
        assert pieces.deep_equals(cst.parse_module(code)), path


def test_a_syntax_error_is_reported_where_the_whole_parse_puts_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(python_extract, "PIECE_CHARS", 1)
    code = "x = 1\n\ny = 2\n\nz = (\n"
    with pytest.raises(cst.ParserSyntaxError) as whole:
        cst.parse_module(code)
    with pytest.raises(cst.ParserSyntaxError) as pieces:
        parse_module(code, [1, 3, 5])
    assert (pieces.value.editor_line, pieces.value.editor_column) == (
        whole.value.editor_line,
        whole.value.editor_column,
    )


def test_the_parent_keeps_one_copy_of_each_dependency_pair() -> None:
    def received(path: str) -> FileResult:  # as a worker's result arrives: unpickled
        result = FileResult(path, (), ((path, "1"), ("db.py", "2"), ("util.py", "3")))
        loaded: FileResult = pickle.loads(pickle.dumps(result))
        return loaded

    pairs: dict[tuple[str, str], tuple[str, str]] = {}
    first, second = received("a.py"), received("b.py")
    shared = runner._shared(first, pairs), runner._shared(second, pairs)
    assert shared == (first, second)
    assert shared[0].dependencies[1] is shared[1].dependencies[1]
    assert shared[0].dependencies[2] is shared[1].dependencies[2]


def test_malloc_trim_is_there_or_not() -> None:
    trim = runner.malloc_trim()
    assert trim is None or trim() in (0, 1)
