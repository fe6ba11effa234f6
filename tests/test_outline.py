"""The `ast` outline: which functions can send SQL, what a module exports to its
importers, and blanking that moves no line or column. The results must be those of
whole-module parses (compared on every fixture, rule example and project)."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from checking import cli_codes

import pinlint.extract.outline as outlines
import pinlint.extract.python as python_extract
from pinlint.api import lint_paths
from pinlint.config import Config
from pinlint.extract.outline import Outline, blank
from pinlint.model import Extraction
from pinlint.project import ProjectIndex

ROOT = Path(__file__).resolve().parents[1]
PYTHON_FILES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "rules").glob("*.py")],
    key=lambda p: p.relative_to(ROOT).as_posix(),
)
PROJECTS = sorted(p for p in (ROOT / "tests" / "fixtures" / "projects").iterdir() if p.is_dir())
CONFIG = Config()


def outline(source: str) -> Outline:
    found = Outline.of(textwrap.dedent(source))
    assert found is not None
    return found


def needed(source: str, imported: dict[str, frozenset[str]] | None = None) -> list[str]:
    found = outline(source)
    reach = found.reach(imported)
    return sorted(
        f"{u.owner}.{u.name}" if u.owner else u.name
        for i, u in enumerate(found.units)
        if i in reach.needed
    )


def exports(source: str, imported: dict[str, frozenset[str]] | None = None) -> dict[str, set[str]]:
    return {k: set(v) for k, v in outline(source).reach(imported).exports.items()}


# -- units ----------------------------------------------------------------------------


def test_units_params_and_bodies() -> None:
    found = outline(
        """
        def one(): return 1

        @decorated
        def two(a,
                b=1):
            return a

        class C:
            def method(self):
                pass

            @staticmethod
            def static(x):
                pass

            if FLAG:
                def conditional(self, y):
                    def inner(z):
                        pass
        """
    )
    units = {u.name: u for u in found.units}
    assert set(units) == {"one", "two", "method", "static", "conditional"}  # not `inner`
    assert units["one"].body == 0  # on its header line: never blanked
    assert (units["two"].first, units["two"].body) == (4, 7)
    assert units["two"].params == {"a", "b"}
    assert units["method"].params == frozenset()  # `self` is bound
    assert units["static"].params == {"x"}
    assert units["conditional"].owner == "C" and units["conditional"].params == {"y"}


# -- what is needed --------------------------------------------------------------------


def test_sinks_and_the_callers_of_local_wrappers() -> None:
    source = """
        def helper(q):
            cur.execute(q)

        def caller():
            helper("SET z = 1")

        def literal_only():
            cur.execute("SELECT 1")

        def calls_literal_only():
            literal_only()

        def unrelated(x):
            return x + 1
        """
    assert needed(source) == ["caller", "helper", "literal_only"]
    # `literal_only` passes nothing of its caller's on: not a wrapper, not exported.
    assert exports(source) == {"helper": set()}


def test_a_function_sink_after_a_dot_needs_its_package() -> None:
    """``self.text(x)`` sends no SQL (``text`` is sqlalchemy's function, reached as
    ``sa.text`` only through an import of sqlalchemy): no wrapper, nothing needed."""
    source = """
        class Part:
            def render(self, x):
                return self.text(x)
    """
    assert needed(source) == [] and exports(source) == {}
    imported = "import sqlalchemy as sa\n\ndef q(x):\n    return sa.text(x)\n"
    assert needed(imported) == ["q"] and exports(imported) == {"q": set()}
    assert needed("def q(x):\n    return text(x)\n") == ["q"]


def test_a_definition_named_like_a_sink_is_not_a_call() -> None:
    source = """
        class Manager:
            def raw(self, query):
                return RawQuerySet(query)

            def other(self):
                return self.raw
        """
    assert needed(source) == []
    assert exports(source) == {}


def test_sink_words_in_docstrings_keep_the_body_but_export_nothing() -> None:
    source = '''
        class aclosing:
            """async with aclosing(agen.fetch(url)) as it: ..."""

            def __init__(self, thing):
                """Like execute(thing)."""
                self.thing = thing
        '''
    assert needed(source) == ["aclosing.__init__"]
    assert exports(source) == {}


def test_imported_wrappers_and_the_methods_they_bring() -> None:
    source = """
        from app.base import Repo
        import app.db as db

        class Mine(Repo):
            def go(self, name):
                self.run(name)

            def plain(self):
                return 1

        def use():
            db.run_sql("SET x = 1")
        """
    # (`pinlint.project` gives a module's wrappers as ``alias.name``.)
    imported = {"Repo": frozenset({"run"}), "db.run_sql": frozenset()}
    assert needed(source, imported) == ["Mine.go", "use"]
    reach = outline(source).reach(imported)
    assert reach.uses_imported
    # `Mine` passes `go`'s parameter on to a wrapper; `Repo` is re-exported.
    assert exports(source, imported) == {
        "Mine": {"go", "run"},
        "Repo": {"run"},
        "db.run_sql": set(),
    }


def test_instance_attributes_keep_the_methods_that_assign_them() -> None:
    source = """
        class Repo:
            def __init__(self, schema):
                self.schema = schema
                self.unused = 1

            def setup(self):
                self.label = "x"

            def apply(self):
                cur.execute(f"SET search_path TO {self.schema}")
        """
    found = outline(source)
    reach = found.reach()
    assert sorted(found.units[i].name for i in reach.needed) == ["__init__", "apply"]
    assert reach.blanked_assigns == {"label"}


def test_a_name_assigned_from_a_wrapper_is_exported() -> None:
    source = """
        from app.db import run

        shortcut = run
        __all__ = ["run", "shortcut"]
        """
    assert exports(source, {"run": frozenset()}) == {"run": set(), "shortcut": set()}


# -- blanking ---------------------------------------------------------------------------


def test_blanking_moves_no_line_or_column() -> None:
    text = textwrap.dedent(
        """
        class C:
            def a(self, x):
                '''doc'''
                return [
                    x,
                ]

            def b(self):\r
                cur.execute("SET a = 1")\r
        """
    )
    found = outline(text)
    reach = found.reach()
    blanked = blank(text, reach.spans)
    assert blanked.splitlines() == [
        "",
        "class C:",
        "    def a(): pass",
        "",
        "",
        "",
        "",
        "",
        "    def b(self):",
        '        cur.execute("SET a = 1")',
    ]
    assert blanked.count("\r\n") == text.count("\r\n")
    ast.parse(blanked)


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_blanking_everything_keeps_valid_code(path: Path) -> None:
    """Blank every function of every fixture: the text still parses, and every line
    outside the blanked bodies is unchanged."""
    text = python_extract.decode(path.read_bytes())
    if not isinstance(text, str) or (found := Outline.of(text)) is None:
        pytest.skip("not Python this interpreter parses")
    spans = [(u.first, u.last, f"def {u.name}(): pass") for u in found.units]
    blanked = blank(text, spans)
    ast.parse(blanked)
    inside = {line for first, last, _ in spans for line in range(first, last + 1)}
    before, after = text.splitlines(), blanked.splitlines()
    assert len(before) == len(after)
    for number, (old, new) in enumerate(zip(before, after, strict=True), start=1):
        if number not in inside:
            assert old == new


# -- the tree ---------------------------------------------------------------------------


def _check(paths: list[Path], root: Path) -> dict[str, list[tuple[object, ...]]]:
    result = lint_paths(paths, CONFIG, root=root)
    return {
        f.path: [(d.code, d.span, d.message, d.related) for d in f.diagnostics]
        for f in result.files
    }


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_projects_give_what_whole_modules_give(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = _check([project], project)
    monkeypatch.setattr(python_extract, "FAST", False)
    monkeypatch.setattr(outlines, "BLANK", False)
    assert _check([project], project) == fast


def test_package_imports_reach_submodule_wrappers(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text("def run(sql):\n    CUR.execute(sql)\n")
    (tmp_path / "uses.py").write_text("import pkg.db\npkg.db.run('SET a = 1')\n")
    (tmp_path / "other.py").write_text("import pkg\npkg.version('SET a = 1')\n")
    project = ProjectIndex.for_paths([tmp_path], sorted(tmp_path.rglob("*.py")))
    assert project.view(str(tmp_path / "uses.py")).may_call_wrappers(
        (tmp_path / "uses.py").read_bytes()
    )
    assert not project.view(str(tmp_path / "other.py")).may_call_wrappers(
        (tmp_path / "other.py").read_bytes()
    )
    codes = {f.path: [d.code for d in f.diagnostics] for f in _result(tmp_path)}
    assert codes == {"other.py": [], "pkg/__init__.py": [], "pkg/db.py": [], "uses.py": ["PIN101"]}


def _result(root: Path) -> tuple[object, ...]:
    return lint_paths([root], CONFIG, root=root).files  # type: ignore[return-value]


def test_attributes_of_an_instance_made_in_view_keep_their_assignment() -> None:
    source = textwrap.dedent(
        """
        import psycopg2


        class Q:
            def __init__(self):
                self.sql = "SET search_path TO x"

            def other(self):
                self.unrelated = 1


        def go(cur):
            q = Q()
            cur.execute(q.sql)
        """
    ).encode()
    fast, whole = _fast_and_whole(source)
    assert len(fast.sites) == 1 and fast == whole


def test_a_module_that_becomes_a_wrapper_invalidates_its_callers(tmp_path: Path) -> None:
    """The gate read db.py to rule out a wrapper call in use.py: the cache must
    analyse use.py again once db.py defines one."""
    (tmp_path / "db.py").write_text("def run(sql):\n    return sql.strip()\n")
    (tmp_path / "use.py").write_text("from db import run\nrun('SET a = 1')\n")

    def codes() -> dict[str, list[str]]:
        return cli_codes(tmp_path)

    assert codes() == {}
    assert (tmp_path / ".pinlint_cache").is_dir()
    (tmp_path / "db.py").write_text("def run(sql):\n    CUR.execute(sql)\n")
    assert codes() == {"use.py": ["PIN101"]}


def test_imports_inside_blanked_functions_still_count() -> None:
    """`import psycopg2` in a function that is blanked still makes the module a
    PostgreSQL one, and its sinks as sure as a whole parse makes them."""
    source = textwrap.dedent(
        """
        def version():
            import psycopg2

            return psycopg2.__version__


        def apply(cur, name):
            sql = "SET search_path TO " + name
            cur.execute(sql)
            cur.execute("LISTEN jobs")
        """
    ).encode()
    fast, whole = _fast_and_whole(source)
    assert len(fast.sites) == 2 and fast == whole


def _fast_and_whole(source: bytes) -> tuple[Extraction, Extraction]:
    """`source` extracted as `pinlint check` does, and from a whole-module parse."""
    fast = python_extract.extract_python(source, "m.py")
    python_extract.FAST = False
    try:
        return fast, python_extract.extract_python(source, "m.py")
    finally:
        python_extract.FAST = True
