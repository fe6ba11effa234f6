"""Following the SQL: the binding table, string building, wrappers, the analysed tree.

The single-file behaviour is in tests/fixtures/python/dataflow_*.py (inline markers,
run by test_fixtures.py); the multi-module one in tests/fixtures/projects/dataflow_pkg.
"""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
import textwrap
from functools import partial
from pathlib import Path

import libcst as cst
import pytest
from checking import check_project

import pinlint.extract.python as python_extract
from pinlint.api import display_path, lint_paths, lint_source
from pinlint.cache import digest
from pinlint.config import Config
from pinlint.extract import extract_python
from pinlint.extract.bindings import Bindings, Ref, RefKind
from pinlint.extract.building import Builder, Mapping, Seq
from pinlint.extract.dataflow import ModuleAnalysis, needs_bindings
from pinlint.extract.strings import Evaluated, Kind, evaluate, variants
from pinlint.extract.summary import marker, substitute, unmark
from pinlint.extract.visitor import Imports, collect
from pinlint.model import HOLE, Confidence, Origin
from pinlint.project import ProjectIndex
from pinlint.report import REPORTERS, ReportContext
from pinlint.rules import by_code

PROJECT = Path(__file__).resolve().parent / "fixtures" / "projects" / "dataflow_pkg"
CONFIG = Config(cache=False, jobs=1)


def texts(value: Evaluated | None) -> list[str]:
    """The known texts a value may have (not the unknown alternatives)."""
    return [v.text for v in variants(value) if not v.opaque] if value is not None else []


def build(source: str, imports: dict[str, str] | None = None) -> list[str]:
    table = Imports()
    for name, target in (imports or {}).items():
        table.bind(name, target)
    return texts(evaluate(cst.parse_expression(source), Builder(table, None)))


def bindings_of(source: str) -> Bindings:
    module = cst.parse_module(textwrap.dedent(source))
    collected = collect(module)
    records = [*collected.name_calls, *collected.attribute_calls, *collected.method_calls]
    return Bindings(module, collected.imports, {id(r.owner) for r in records})


def sites(source: str, path: str = "m.py") -> list[tuple[int, str]]:
    extraction = extract_python(textwrap.dedent(source).encode(), path)
    return [(s.statement_line, s.text) for s in extraction.sites]


# -- string building ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"SET " + x', [f"SET {HOLE}"]),
        ("x + y", []),  # nothing known: not a site
        ('"SET a = 1" + b""', []),  # bytes: not a str at all
        ('"SET %s TO %s" % ("search_path", x)', [f"SET search_path TO {HOLE}"]),
        ('"SET %(k)s = %(v)d" % {"k": "a", "v": 1}', [f"SET a = {HOLE}"]),
        ('"LIKE \'a%%\' AND %s" % ("b",)', ["LIKE 'a%' AND b"]),
        ('"{} TO {}".format("SET x", y)', [f"SET x TO {HOLE}"]),
        ('"{0}{0}".format("ab")', ["abab"]),
        ('"{a.b}".format(a=x)', [HOLE]),
        ('"{:>4}".format("a")', [HOLE]),
        ('"; ".join(["SET a", "SET b"])', ["SET a; SET b"]),
        ('"; ".join(["SET a", *rest])', [f"SET a; {HOLE}"]),
        ('"; ".join(f"SET {k}" for k in ks)', [f"SET {HOLE}"]),
        ('"  SET a  ".strip()', ["SET a"]),
        ('"set a".upper()', ["SET A"]),
        ('"SET {s}".replace("{s}", x)', [f"SET {HOLE}"]),
        ('"SET a" if c else "SET b"', ["SET a", "SET b"]),
        ("x or 'SET a'", ["SET a"]),
        ('str("SET a")', ["SET a"]),
        ('f"{\'SET\'} a"', ["SET a"]),
        ('f"SET {x!r}"', [f"SET {HOLE}"]),
        ('t"SET {\'a\'}"', [f"SET {HOLE}"]),  # a t-string field is a value
    ],
)
def test_string_building(source: str, expected: list[str]) -> None:
    assert build(source) == expected


def test_dedent_and_cleandoc_resolve_through_imports() -> None:
    source = 'dedent("""\n    SET a\n    """)'
    assert build(source, {"dedent": "textwrap.dedent"}) == ["\nSET a\n"]
    assert build(source, {"dedent": "mylib.dedent"}) == []
    assert build('inspect.cleandoc("""\n    SET a\n    """)', {"inspect": "inspect"}) == [
        "SET a"
    ]


def test_psycopg_sql_composition() -> None:
    imports = {"sql": "psycopg.sql"}
    assert build('sql.SQL("SET search_path TO {}").format(sql.Identifier("a b"))', imports) == [
        'SET search_path TO "a b"'
    ]
    assert build('sql.SQL("SELECT {}").format(sql.Literal("it\'s"))', imports) == [
        "SELECT 'it''s'"
    ]
    assert build('sql.SQL("SELECT {}").format("plain")', imports) == ["SELECT 'plain'"]
    assert build('sql.SQL("SELECT {}").format(sql.Placeholder("n"))', imports) == [
        "SELECT %(n)s"
    ]
    assert build('sql.SQL(", ").join([sql.Identifier("a"), sql.SQL("b")])', imports) == [
        '"a", b'
    ]
    assert build('sql.Composed([sql.SQL("LISTEN "), sql.Identifier(ch)])', imports) == [
        f"LISTEN {HOLE}"
    ]
    value = evaluate(cst.parse_expression('sql.SQL("SELECT 1")'), _builder(imports))
    assert value is not None and value.kind is Kind.COMPOSABLE


def _builder(imports: dict[str, str]) -> Builder:
    table = Imports()
    for name, target in imports.items():
        table.bind(name, target)
    return Builder(table, None)


def test_variants_combine_and_stay_bounded() -> None:
    value = evaluate(
        cst.parse_expression('("a" if x else "b") + ("1" if y else "2")'), Builder(Imports(), None)
    )
    assert sorted(texts(value)) == ["a1", "a2", "b1", "b2"]
    many = " + ".join(f'("a{i}" if x else "b{i}")' for i in range(8))
    assert len(texts(evaluate(cst.parse_expression(many), Builder(Imports(), None)))) == 16


def test_markers_substitute_at_once() -> None:
    template = f"{marker(0)} / {marker(1)}"
    # A value that holds a marker itself is not substituted again.
    assert substitute(template, {0: marker(1), 1: "x"}) == f"{marker(1)} / x"
    assert unmark(template) == f"{HOLE} / {HOLE}"


# -- the binding table -------------------------------------------------------------------


def test_module_final_values_merge_branches() -> None:
    b = bindings_of(
        """
        import os
        A = "SET a"
        if os.environ.get("X"):
            B = "SET b1"
        else:
            B = "SET b2"
        try:
            C = "SET c"
        except ImportError:
            C = None
        D = A
        from .q import E
        """
    )
    final = b.final(b.root)
    assert final is not None
    assert [v.text for v in final["A"] if isinstance(v, Evaluated)] == ["SET a"]
    assert sorted(v.text for v in final["B"] if isinstance(v, Evaluated)) == ["SET b1", "SET b2"]
    assert [v.text for v in final["C"] if isinstance(v, Evaluated) and not v.opaque] == ["SET c"]
    (d,) = final["D"]
    assert isinstance(d, Evaluated) and d.origin is Origin.CONSTANT and len(d.steps) == 2
    assert final["E"] == (Ref(RefKind.IMPORT, ".q.E"),)


def test_snapshots_are_flow_sensitive() -> None:
    source = """
        def f(cur):
            sql = "SET a"
            cur.execute(sql)
            sql = "SELECT 1"
            cur.execute(sql)
        """
    assert sites(source) == [(4, "SET a"), (6, "SELECT 1")]


def test_sequences_and_mappings_are_followed_with_appends() -> None:
    b = bindings_of(
        """
        def f(cur, extra):
            parts = ["SET a"]
            parts.append("SET b")
            parts.extend(extra)
            names = {"x": "SET x"}
            names.update({"y": "SET y"})
            cur.execute("; ".join(parts))
        """
    )
    scope = b.scopes["f"]
    final = b.final(scope)
    assert final is not None
    (parts,) = final["parts"]
    assert isinstance(parts, Seq) and parts.open
    assert [i.text for i in parts.items if i is not None] == ["SET a", "SET b"]
    (names,) = final["names"]
    assert isinstance(names, Mapping) and [k for k, _ in names.items] == ["x", "y"]


def test_loop_carried_strings_become_prefix_and_hole() -> None:
    source = """
        def f(cur, names):
            sql = "SET search_path TO "
            for name in names:
                sql += name + ", "
            cur.execute(sql)
        """
    assert sites(source) == [(6, "SET search_path TO "), (6, f"SET search_path TO {HOLE}")]


def test_scope_rules() -> None:
    source = """
        X = "SET module"
        class C:
            X = "SET class"
            def m(self, cur):
                cur.execute(X)
        def g(cur):
            global X
            cur.execute(X)
        def h(cur):
            X = "SET local"
            def inner():
                cur.execute(X)
            return inner
        """
    assert sites(source) == [(6, "SET module"), (9, "SET module"), (13, "SET local")]


def test_parameters_are_unknown_and_defaults_are_values() -> None:
    source = """
        def f(cur, sql, mode="SET datestyle TO ISO"):
            cur.execute(sql)
            cur.execute(mode)
        """
    assert sites(source) == [(4, "SET datestyle TO ISO")]


def test_instance_attributes_from_other_methods() -> None:
    source = """
        class Tenant:
            def __init__(self, schema):
                self.sql = f"SET search_path TO {schema}"
                self.plain = "SELECT 1"
            def apply(self, cur):
                cur.execute(self.sql)
                cur.execute(self.plain)
        """
    assert sites(source) == [(7, f"SET search_path TO {HOLE}"), (8, "SELECT 1")]


def test_needs_bindings_only_for_more_than_literals() -> None:
    def needs(source: str) -> bool:
        return needs_bindings(collect(cst.parse_module(source)))

    assert not needs("cur.execute('SET a' 'b')\ncur.execute(f'SELECT 1')\n")
    assert not needs("cur.execute(t'SELECT {x}')\nlog.info(sql)\n")
    assert needs("cur.execute(sql)\n")
    assert needs("cur.execute(f'SET a = {b}')\n")
    assert needs("cur.execute('SET %s' % b)\n")
    assert needs("Model.objects.extra(where=[CLAUSE])\n")


@pytest.mark.parametrize("path", sorted((Path(__file__).parent / "fixtures" / "python").glob("dataflow_*.py")))
def test_fast_path_and_whole_module_agree(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = path.read_bytes()
    fast = extract_python(source, path.name)
    monkeypatch.setattr(python_extract, "FAST", False)
    assert extract_python(source, path.name).sites == fast.sites


# -- origin, confidence, related locations ------------------------------------------------


def _site_at(source: str, line: int) -> list:  # type: ignore[type-arg]
    extraction = extract_python(textwrap.dedent(source).encode(), "m.py")
    return [s for s in extraction.sites if s.statement_line == line]


def test_origin_and_confidence_tiers() -> None:
    source = """
        import psycopg2
        SQL = "SET a = 1"
        def run(sql):
            psycopg2.connect().cursor().execute(sql)
        def f(cur, x):
            cur.execute("SET b = 1")
            cur.execute(SQL)
            cur.execute(SQL + x)
            local = f"SET c = {x}"
            cur.execute(local)
            run("SET d = 1")
            run(SQL)
        """
    expected = {
        7: (Origin.LITERAL, Confidence.HIGH),
        8: (Origin.CONSTANT, Confidence.HIGH),
        9: (Origin.BUILT, Confidence.MEDIUM),
        11: (Origin.BUILT, Confidence.MEDIUM),
        12: (Origin.WRAPPER, Confidence.HIGH),
        13: (Origin.WRAPPER, Confidence.HIGH),
    }
    for line, (origin, confidence) in expected.items():
        (site,) = _site_at(source, line)
        assert (site.origin, site.confidence) == (origin, confidence), line


def test_wrapper_sites_carry_the_path() -> None:
    source = """
        import psycopg2
        def query(sql):
            psycopg2.connect().cursor().execute(sql)
        def run(sql):
            query(sql)
        run("LISTEN x")
        """
    (site,) = _site_at(source, 7)
    assert site.via == ("run()", "query()", "cursor.execute")
    assert [(r.span.line, r.message) for r in site.related] == [
        (6, "run() passes it to query()"),
        (4, "query() sends it to cursor.execute"),
    ]
    assert site.callee_text == HOLE
    (diag,) = lint_source(textwrap.dedent(source), "m.py").diagnostics
    assert diag.message.endswith("(via run() → query() → cursor.execute)")


def test_the_wrappers_own_sql_is_reported_once_in_the_wrapper() -> None:
    source = """
        import psycopg2
        def set_path(schema):
            psycopg2.connect().cursor().execute("SET search_path TO " + schema)
        set_path("a")
        set_path(PREFIX + "; LISTEN x")
        """
    found = [(d.statement_line, d.code) for d in lint_source(textwrap.dedent(source)).diagnostics]
    # line 6 adds a LISTEN of its own; its SET is the wrapper's.
    assert found == [(4, "PIN101"), (6, "PIN303")]


def test_each_function_is_summarised_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = ModuleAnalysis._analyse

    def counting(self: ModuleAnalysis, scope):  # type: ignore[no-untyped-def]
        calls.append(scope.key)
        return original(self, scope)

    monkeypatch.setattr(ModuleAnalysis, "_analyse", counting)
    source = "import psycopg2\ndef run(s):\n    psycopg2.connect().execute(s)\n"
    source += "".join(f"def f{i}():\n    run('SET x = {i}')\n" for i in range(20))
    extraction = extract_python(source.encode(), "m.py")
    assert len(extraction.sites) == 20
    assert calls.count("run") == 1


# -- the analysed tree ---------------------------------------------------------------------


def test_dataflow_project_matches_its_markers() -> None:
    found = check_project(PROJECT)
    handle = {d.statement_line: d for d in found["app/handlers.py"]}
    assert handle[13].origin is Origin.WRAPPER
    assert handle[13].confidence is Confidence.MEDIUM  # an imported constant
    assert [r.path for r in handle[13].related] == ["app/queries.py", "app/db.py", "app/db.py"]
    assert handle[18].message.endswith("(via run_tenant() → run() → query() → cursor.execute)")


def test_dependencies_name_every_module_used() -> None:
    result = lint_paths([PROJECT], CONFIG, root=PROJECT)
    by_path = {f.path: f for f in result.files}
    handlers = by_path["app/handlers.py"]
    paths = [p for p, _ in handlers.dependencies]
    assert paths[0] == "app/handlers.py"
    # The package's __init__ is read to learn that `from app import queries` binds no
    # wrapper: a change there could change the answer.
    assert set(paths[1:]) == {
        "app/__init__.py",
        "app/db.py",
        "app/queries.py",
        "app/services.py",
        "app/sql.py",
    }
    for path, hashed in handlers.dependencies:
        assert hashed == digest((PROJECT / path).read_bytes())
    assert [p for p, _ in by_path["app/queries.py"].dependencies] == ["app/queries.py"]


def test_gate_lets_wrapper_callers_through_and_keeps_others_out(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "db.py").write_text("def run(sql):\n    CUR.execute(sql)\n")
    (package / "util.py").write_text("def shout(s):\n    return s.upper()\n")
    (package / "a.py").write_text("from pkg.db import run\nrun('SET a = 1')\n")
    (package / "b.py").write_text("from .util import shout\nshout('SET a = 1')\n")
    (package / "c.py").write_text("import pkg.db as db\ndb.run('LISTEN x')\n")
    project = ProjectIndex.for_paths([tmp_path], sorted(package.glob("*.py")))
    assert project.view(str(package / "a.py")).may_call_wrappers(b"from pkg.db import run\n")
    assert not project.view(str(package / "b.py")).may_call_wrappers(b"from .util import shout\n")
    result = lint_paths([tmp_path], CONFIG, root=tmp_path)
    codes = {f.path: [d.code for d in f.diagnostics] for f in result.files}
    assert codes["pkg/a.py"] == ["PIN101"]
    assert codes["pkg/b.py"] == []
    assert codes["pkg/c.py"] == ["PIN303"]


def test_constants_only_module_is_read_whatever_the_gate(tmp_path: Path) -> None:
    (tmp_path / "consts.py").write_text('SET_IT = "SET search_path TO x"\n')
    (tmp_path / "use.py").write_text("from consts import SET_IT\ncur.execute(SET_IT)\n")
    # Only use.py is checked: consts.py is read on request all the same.
    result = lint_paths([tmp_path / "use.py"], CONFIG, root=tmp_path)
    (diag,) = result.files[0].diagnostics
    assert diag.origin is Origin.IMPORTED_CONSTANT and diag.related[0].path == "consts.py"


def test_src_layout_and_relative_imports(tmp_path: Path) -> None:
    package = tmp_path / "src" / "shop"
    (package / "sub").mkdir(parents=True)
    for folder in (package, package / "sub"):
        (folder / "__init__.py").write_text("")
    (package / "queries.py").write_text('LOCK = "SELECT pg_advisory_lock(1)"\n')
    (package / "sub" / "views.py").write_text(
        "from ..queries import LOCK\nfrom .. import queries\n"
        "def f(cur):\n    cur.execute(LOCK)\n    cur.execute(queries.LOCK)\n"
    )
    result = lint_paths([tmp_path], CONFIG, root=tmp_path)
    found = {f.path: [(d.statement_line, d.code) for d in f.diagnostics] for f in result.files}
    assert found["src/shop/sub/views.py"] == [(4, "PIN401"), (5, "PIN401")]


def test_ambiguous_module_names_cost_a_step(tmp_path: Path) -> None:
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "shared_q.py").write_text('X = "SET a = 1"\n')
    (tmp_path / "three").mkdir()
    (tmp_path / "three" / "use.py").write_text(
        "import psycopg2\nfrom shared_q import X\npsycopg2.connect().execute(X)\n"
    )
    files = sorted(tmp_path.rglob("*.py"))
    project = ProjectIndex.for_paths([tmp_path / n for n in ("one", "two", "three")], files)
    result = lint_paths([tmp_path / "one", tmp_path / "two", tmp_path / "three"], CONFIG, root=tmp_path)
    (diag,) = [d for f in result.files for d in f.diagnostics]
    assert diag.confidence is Confidence.LOW  # imported (one step) and ambiguous (another)
    assert project.find("shared_q", tmp_path / "three" / "use.py") is not None


def test_import_cycles_end(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("from b import B\nA = 'SET a = 1'\ndef run(s):\n    CUR.execute(s)\n")
    (tmp_path / "b.py").write_text("from a import A, run\nB = A\nrun(B)\nrun(A)\n")
    result = lint_paths([tmp_path], CONFIG, root=tmp_path)
    found = {f.path: [d.code for d in f.diagnostics] for f in result.files}
    assert found["b.py"] == ["PIN101", "PIN101"]


def test_project_index_pickles_without_its_memo(tmp_path: Path) -> None:
    (tmp_path / "q.py").write_text('X = "SET a = 1"\n')
    display = partial(display_path, root=tmp_path)  # as lint_paths builds it
    project = ProjectIndex.for_paths([tmp_path], [tmp_path / "q.py"], display=display)
    assert project.member("q.X", tmp_path / "q.py", set()) is not None
    copy = pickle.loads(pickle.dumps(project))
    assert copy.roots == project.roots and copy._modules == {}
    member = copy.member("q.X", tmp_path / "q.py", set())
    assert member is not None and [v.text for v in member.values if isinstance(v, Evaluated)] == [
        "SET a = 1"
    ]
    summary = project.summary("q", tmp_path / "q.py")
    assert summary is not None and list(summary.constants) == ["X"]  # what was asked so far
    assert summary.dependencies == (("q.py", digest(b'X = "SET a = 1"\n')),)
    assert pickle.loads(pickle.dumps(summary)) == summary


def test_parallel_run_gives_the_same_results(tmp_path: Path) -> None:
    serial = lint_paths([PROJECT], CONFIG, root=PROJECT)
    parallel = lint_paths([PROJECT], Config(cache=False, jobs=2), root=PROJECT)
    assert [f.diagnostics for f in parallel.files] == [f.diagnostics for f in serial.files]


# -- reporters ----------------------------------------------------------------------------


def test_reporters_show_the_wrapper_path() -> None:
    result = lint_paths([PROJECT], CONFIG, root=PROJECT)
    diagnostics = [d for d in result.diagnostics if d.path == "app/handlers.py"]
    ctx = ReportContext(
        root=PROJECT,
        rules=by_code(),
        version="0",
        files_checked=len(result.files),
        target="rds-proxy",
    )
    text = REPORTERS["text"](diagnostics, ctx)
    assert "= app/db.py:20:" in text and "run() passes it to query()" in text
    assert "(medium confidence)" in text
    sarif = json.loads(REPORTERS["sarif"](diagnostics, ctx))
    results = sarif["runs"][0]["results"]
    assert results and all(r["codeFlows"] and r["relatedLocations"] for r in results)
    steps = results[0]["codeFlows"][0]["threadFlows"][0]["locations"]
    assert steps[-1]["location"]["message"]["text"].endswith("sends it to cursor.execute")
    assert {r["rank"] for r in results} == {90.0, 60.0}  # a literal; imported constants
    document = json.loads(REPORTERS["json"](diagnostics, ctx))
    assert {d["origin"] for d in document["findings"]} == {"wrapper"}


def test_the_readme_example_is_what_pinlint_says(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme[readme.index("## What pinlint follows, and what it cannot") :]
    section = section[: section.index("What it follows:")]
    for block in re.findall(r"```python\n# (\S+)\n(.*?)```", section, re.S):
        target = tmp_path / block[0]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block[1])
    (tmp_path / "app" / "__init__.py").write_text("")
    expected = re.findall(r"```\n(app/handlers.py.*?)```", section, re.S)[0]
    done = subprocess.run(
        [sys.executable, "-m", "pinlint", "check", "--isolated", "--no-cache", "-q", "app"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.strip() == expected.strip()


def test_changing_a_module_reanalyses_the_files_that_used_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    shutil.copytree(PROJECT, tmp_path / "p")
    monkeypatch.chdir(tmp_path / "p")
    cached = Config(cache=True, jobs=1)

    def lines() -> list[int]:
        result = lint_paths([Path(".")], cached)
        return [d.statement_line or 0 for d in result.diagnostics if d.path == "app/handlers.py"]

    assert 13 in lines()
    assert 13 in lines()  # from the cache
    queries = Path("app/queries.py")
    queries.write_text(queries.read_text().replace('"SET search_path TO tenant"', '"SELECT 42"'))
    assert 13 not in lines()


def test_only_what_is_asked_is_summarised(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(
        "from other import thing\n"
        'X = "SET a = 1"\n'
        + "".join(f"def f{i}(s):\n    thing.run(s)\n" for i in range(50))
    )
    (tmp_path / "other.py").write_text("thing = None\n")
    project = ProjectIndex.for_paths([tmp_path], sorted(tmp_path.glob("*.py")))
    assert project.member("big.X", tmp_path / "use.py", set()) is not None
    summary = project.summary("big")
    assert summary is not None and summary.functions == {} and list(summary.constants) == ["X"]
    other = project._modules.get(tmp_path / "other.py")
    assert other is None or other._analysis is None  # never parsed: nobody needed it


def test_values_that_never_reach_sql_do_not_read_other_modules(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def fmt(x):\n    return x\nLABEL = 'x'\n")
    (tmp_path / "models.py").write_text("class Base:\n    name = 'base'\n")
    (tmp_path / "queries.py").write_text('LOCK = "SELECT pg_advisory_lock(1)"\n')
    (tmp_path / "app.py").write_text(
        "import helpers\nfrom models import Base\nfrom queries import LOCK\n"
        "class Thing(Base):\n"
        "    def go(self, cur):\n"
        "        label = helpers.fmt(3) + helpers.LABEL + self.name\n"
        "        other = Base()\n"
        "        sql = LOCK\n"
        "        cur.execute(sql)\n"
    )
    files = sorted(tmp_path.glob("*.py"))
    project = ProjectIndex.for_paths([tmp_path], files)
    result = lint_source_with(project, tmp_path / "app.py")
    assert [d.code for d in result.diagnostics] == ["PIN401"]
    parsed = {p.name for p, entry in project._modules.items() if entry._analysis is not None}
    assert parsed == {"queries.py"}


def lint_source_with(project: ProjectIndex, path: Path):  # type: ignore[no-untyped-def]
    from pinlint import engine

    return engine.lint_source(path.read_bytes(), str(path), CONFIG, project)
