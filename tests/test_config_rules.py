"""Driver and framework configuration (PIN701-PIN708): extraction, verdicts, fixes.

The rule verdicts on realistic code are in the fixture files (tests/fixtures/python/
config_*.py, tests/fixtures/pgbouncer/config_*.py, the Django project under
tests/fixtures/projects/django_site/) and the rule examples in rules/; this module
checks the parts in between: what extraction hands the rules, what the rules say in
their messages, and what `--fix` and `--diff` do to files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from checking import check_file

from pinlint import engine
from pinlint import fix as fixing
from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.connection import dsn_parameters, option_parameters, parse_conninfo, parse_url
from pinlint.extract import extract_python, might_matter
from pinlint.extract import python as python_extraction
from pinlint.fix import apply_fixes, fix_file
from pinlint.model import (
    Confidence,
    Dialect,
    Edit,
    Effect,
    Fix,
    Origin,
    Span,
    Target,
    ValueKind,
)

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DJANGO = FIXTURES / "projects" / "django_site"
FIX_CASES = FIXTURES / "fix"
CONFIG_FIXTURES = sorted(
    [
        *FIXTURES.glob("python/config_*.py"),
        *FIXTURES.glob("pgbouncer/config_*.py"),
        *DJANGO.rglob("*.py"),
    ]
)
PIN7 = ("PIN701", "PIN702", "PIN703", "PIN704", "PIN705", "PIN706", "PIN707", "PIN708")


def calls_of(source: str, path: str = "m.py") -> list:  # type: ignore[type-arg]
    return list(extract_python(source.encode(), path).calls)


def codes(source: str, **config: object) -> list[str]:
    result = lint_source(source, "m.py", Config(**config))  # type: ignore[arg-type]
    return [d.code for d in result.diagnostics]


# -- the Django project ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(p for p in DJANGO.rglob("*.py") if p.stat().st_size),
    ids=lambda p: str(p.relative_to(DJANGO)),
)
def test_django_project_files(path: Path) -> None:
    check_file(path)


# -- the gate ------------------------------------------------------------------------


def _gated_files() -> list[Path]:
    """Every Python fixture and rule example a run may meet."""
    fixtures = [p for p in FIXTURES.rglob("*.py") if p.parent.name not in ("fix", "extract")]
    return sorted({*fixtures, *(ROOT / "rules").glob("*.py")})


@pytest.mark.parametrize("path", _gated_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_gate_keeps_every_file_with_a_finding(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file the gate would skip has no finding when analysed anyway: none of its
    sites, flows or configuration calls is lost, behind either target."""
    source = path.read_bytes()
    if might_matter(source):
        return
    monkeypatch.setattr(engine, "might_matter", lambda source: True)
    for target in Target:
        found = lint_source(source, path.name, Config(target=target, select=("ALL",)))
        analysed = [d for d in found.diagnostics if not d.code.startswith("PIN9")]
        assert not analysed, f"the gate skips {path.name}, which has {analysed[0].code}"


@pytest.mark.parametrize(
    "path",
    [*CONFIG_FIXTURES, *sorted((ROOT / "rules").glob("PIN70*.py"))],
    ids=lambda p: p.name,
)
def test_configuration_files_pass_the_gate(path: Path) -> None:
    if path.stat().st_size:
        assert might_matter(path.read_bytes())


@pytest.mark.parametrize(
    "source",
    [
        b"import psycopg\nconn = psycopg.connect('x')\n",
        b"from psycopg import connect as pg_connect\n",
        b"import asyncpg as apg\npool = apg.create_pool()\n",
        b"engine = create_engine(url)\n",
        b"@event.listens_for(engine, 'connect')\ndef f(): pass\n",
        b"DATABASES = {}\n",
        b"DATABASES: dict = {}\n",
        b"cur = conn.cursor('named')\n",
    ],
)
def test_the_gate_knows_configuration(source: bytes) -> None:
    assert might_matter(source)


def test_the_gate_still_skips_unrelated_files() -> None:
    assert not might_matter(b"DATABASE_URL = 'x'\nconnected = True\n")
    assert not might_matter(b"# DATABASES = {}\n")


# -- extraction ----------------------------------------------------------------------


def test_aliases_dict_expansion_and_module_level_dicts() -> None:
    calls = calls_of(
        "from psycopg import connect as pg_connect\n"
        "import asyncpg as apg\n"
        "KW = {'statement_cache_size': 0, **{'max_size': 5}}\n"
        "c = pg_connect('dbname=x', **{'autocommit': True})\n"
        "p = apg.create_pool('postgresql://h/db', **KW, reset=None)\n"
    )
    assert [c.callee for c in calls] == ["psycopg.connect", "asyncpg.create_pool"]
    psycopg_call, pool = calls
    assert psycopg_call.keyword("autocommit").literal is True
    assert psycopg_call.has_keyword("prepare_threshold") is False
    assert psycopg_call.dialect is Dialect.POSTGRES
    size = pool.keyword("statement_cache_size")
    assert size.literal == 0 and size.shared and size.span == Span(3, 31, 3, 32)
    assert pool.keyword("max_size").literal == 5
    assert pool.keyword("reset").kind is ValueKind.LITERAL and pool.keyword("reset").literal is None
    assert [r.message for r in pool.related] == ["`KW` is defined here"]
    assert pool.origin is Origin.CONFIG and pool.sink == "asyncpg.create_pool"


def test_unknown_expansion_and_reassigned_names_stay_unknown() -> None:
    (call,) = calls_of(
        "import psycopg\nKW = {'prepare_threshold': None}\nKW = {}\npsycopg.connect('x', **KW)\n"
    )
    assert call.open_kwargs and call.has_keyword("prepare_threshold") is None


def test_values_of_every_shape() -> None:
    (call,) = calls_of(
        "import psycopg\n"
        "import psycopg.rows\n"
        "class Local:\n"
        "    def get_reset_query(self): return ''\n"
        "psycopg.connect(f'host={h}', a=-1, b=2.5, c=dict(x=1, **{'y': 2}), d=Local,"
        " e=psycopg.rows.dict_row, f=make(), g={k: 1})\n"
    )
    conninfo = call.args[0]
    assert conninfo.kind is ValueKind.LITERAL and conninfo.partial
    assert call.keyword("a").literal == -1 and call.keyword("b").literal == 2.5
    assert dict((k, v.literal) for k, v in call.keyword("c").entries) == {"x": 1, "y": 2}
    assert call.keyword("d").methods == ("get_reset_query",)
    assert call.keyword("e").name == "psycopg.rows.dict_row"
    assert call.keyword("f").kind is ValueKind.OTHER
    assert call.keyword("g").kind is ValueKind.DICT and call.keyword("g").open


def test_method_calls_need_their_driver_imported() -> None:
    assert calls_of("conn.cursor('named')\nconn.prepare('SELECT 1')\n") == []
    calls = calls_of("import psycopg2\nconn.cursor('named')\nconn.cursor()\n")
    assert [c.callee for c in calls] == ["psycopg2.connection.cursor"]
    (mysql,) = calls_of("import mysql.connector\ncnx.cursor(prepared=True)\n")
    assert mysql.callee == "mysql.connector.connection.cursor"
    assert mysql.dialect is Dialect.MYSQL
    assert calls_of("import psycopg\ncur.execute('SELECT 1')\n") == []


def test_hooks_are_linked_to_the_sql_of_their_bodies() -> None:
    calls = calls_of(
        "from sqlalchemy import event\n"
        "@event.listens_for(engine, 'connect')\n"
        "def on_connect(dbapi, record):\n"
        "    dbapi.cursor().execute('SET search_path TO app')\n"
        "def elsewhere(cur):\n"
        "    cur.execute('SET work_mem = 1')\n"
        "event.listen(engine, 'checkout', elsewhere)\n"
        "event.listen(engine, 'connect', imported_hook)\n"
    )
    by_function = {c.function: c for c in calls}
    assert [s.text for s in by_function["on_connect"].sql] == ["SET search_path TO app"]
    assert by_function["on_connect"].statement_line == 2
    assert [s.text for s in by_function["elsewhere"].sql] == ["SET work_mem = 1"]
    assert by_function[None].sql == ()


def test_receivers_of_other_signals_are_not_hooks() -> None:
    calls = calls_of(
        "from django.dispatch import receiver\n"
        "from django.db.models.signals import post_save\n"
        "@receiver(post_save)\n"
        "def saved(sender, **kwargs): pass\n"
    )
    assert calls == []


def test_init_command_becomes_mysql_sql() -> None:
    (call,) = calls_of("import pymysql\npymysql.connect(init_command='SET a = 1')\n")
    (site,) = call.sql
    assert site.text == "SET a = 1" and site.dialect is Dialect.MYSQL
    assert site.origin is Origin.CONFIG


def test_settings_entries_carry_the_module_settings() -> None:
    (entry,) = calls_of(
        "USE_TZ = False\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql', 'NAME': 'x'}}\n"
    )
    assert entry.callee == "django.DATABASES" and entry.args[0].literal == "default"
    assert entry.keyword("NAME").literal == "x"
    assert entry.setting("USE_TZ").literal is False
    assert entry.setting("TIME_ZONE") is None  # not set: Django's default applies
    (starred,) = calls_of(
        "from .base import *\n"
        "DATABASES = {'default': {'ENGINE': 'django.db.backends.postgresql'}}\n"
    )
    assert starred.setting("TIME_ZONE").kind is ValueKind.OTHER  # unknown


def test_settings_changed_after_the_display() -> None:
    source = (
        "DATABASES = {\n"
        "    'default': {'ENGINE': 'django.db.backends.postgresql'},\n"
        "    'other': {'ENGINE': 'django.db.backends.postgresql'},\n"
        "    'third': {'ENGINE': 'django.db.backends.postgresql'},\n"
        "}\n"
        "DATABASES['default']['DISABLE_SERVER_SIDE_CURSORS'] = True\n"
        "DATABASES['other']['OPTIONS'].update(extra)\n"
    )
    default, other, third = calls_of(source)
    assert default.keyword("DISABLE_SERVER_SIDE_CURSORS").literal is True
    assert other.has_keyword("DISABLE_SERVER_SIDE_CURSORS") is None  # unknown
    assert third.has_keyword("DISABLE_SERVER_SIDE_CURSORS") is False
    assert codes(source) == ["PIN704"]
    assert codes(source + "DATABASES.update(more)\n") == []


def test_configuration_modules_skip_the_prepass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The prepass (SQL sink statements only) and the whole-module parse agree."""
    for path in CONFIG_FIXTURES:
        source = path.read_bytes()
        fast = extract_python(source, path.name)
        monkeypatch.setattr(python_extraction, "FAST", False)
        whole = extract_python(source, path.name)
        monkeypatch.setattr(python_extraction, "FAST", True)
        assert fast.calls == whole.calls, path
        assert fast.sites == whole.sites, path


# -- connection strings ------------------------------------------------------------


def test_connection_strings() -> None:
    assert parse_conninfo("host=a  dbname = shop options='-c x=1 -c y=2'") == {
        "host": "a",
        "dbname": "shop",
        "options": "-c x=1 -c y=2",
    }
    assert parse_conninfo("postgresql://h/db") is None
    assert parse_conninfo("just text") is None
    url = parse_url("postgres+psycopg://u:p@h:5432/db?options=-c%20a%3D1&sslmode=require")
    assert url is not None and url.backend == "postgresql" and url.driver == "psycopg"
    assert url.query["options"] == "-c a=1"
    assert dsn_parameters("dbname=x application_name=api") == {
        "dbname": "x",
        "application_name": "api",
    }
    assert option_parameters("-c statement_timeout=5000 -clock_timeout=1 --search_path=app") == [
        "statement_timeout",
        "lock_timeout",
        "search_path",
    ]


# -- verdicts and messages -----------------------------------------------------------


def _diagnostics(source: str, **config: object) -> list:  # type: ignore[type-arg]
    return list(lint_source(source, "m.py", Config(**config)).diagnostics)  # type: ignore[arg-type]


def test_findings_are_configuration_findings_with_target_confidence() -> None:
    source = "import asyncpg\nasync def f():\n    await asyncpg.connect('postgresql://h/db')\n"
    (rds,) = _diagnostics(source)
    assert rds.code == "PIN703" and rds.origin is Origin.CONFIG and rds.sql is None
    assert rds.confidence is Confidence.LOW and rds.effect is Effect.PINS
    assert "not settled" in rds.message
    (pgbouncer,) = _diagnostics(source, target=Target.PGBOUNCER)
    assert pgbouncer.confidence is Confidence.HIGH and pgbouncer.effect is Effect.ERRORS
    assert "__asyncpg_stmt_1__" in pgbouncer.message
    assert (
        _diagnostics(
            source, target=Target.PGBOUNCER, pgbouncer_version="1.21", max_prepared_statements=100
        )
        == []
    )


def test_messages_say_what_the_driver_sends() -> None:
    source = (
        "import psycopg\n"
        "import asyncpg\n"
        "conn = psycopg.connect('dbname=x')\n"
        "async def f():\n"
        "    return await asyncpg.create_pool('postgresql://h/db', statement_cache_size=0)\n"
    )
    messages = {d.code: d.message for d in _diagnostics(source)}
    assert "`DEALLOCATE ALL`" in messages["PIN702"] and "5 times" in messages["PIN702"]
    assert "RESET ALL;" in messages["PIN708"] and "UNLISTEN *" in messages["PIN708"]


def test_a_value_in_a_module_level_dict_is_reported_at_the_call() -> None:
    source = (
        "import asyncpg\n"
        "KW = {'statement_cache_size': 50}\n"
        "async def f():\n"
        "    return await asyncpg.connect('postgresql://h/db', **KW)\n"
    )
    (diag,) = _diagnostics(source)
    assert diag.statement_line == 4 and diag.span.line == 4
    assert [(r.span.line, r.message) for r in diag.related] == [(2, "set here")]


def test_suppression_comments_apply_to_configuration_findings() -> None:
    source = (
        "import psycopg\n"
        "conn = psycopg.connect('dbname=x')  # pinlint: ignore[PIN702] -- direct connection\n"
    )
    (diag,) = _diagnostics(source)
    assert diag.suppressed == "direct connection"


def test_init_command_verdict_follows_the_pinning_filter() -> None:
    source = "import pymysql\npymysql.connect(init_command='SET group_concat_max_len = 1')\n"
    assert codes(source) == ["PIN701"]
    assert (
        codes(source, session_pinning_filters=("EXCLUDE_VARIABLE_SETS",), dialect=Dialect.MYSQL)
        == []
    )


def test_sarif_and_json_carry_the_configuration_origin(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text("import psycopg\nconn = psycopg.connect('dbname=x')\n")
    out = subprocess.run(
        [sys.executable, "-m", "pinlint", "check", "--isolated", "--format", "json", "db.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    (finding,) = json.loads(out.stdout)["findings"]
    assert finding["code"] == "PIN702" and finding["origin"] == "config"


# -- fixes -----------------------------------------------------------------------------


FIX_PAIRS = sorted(p for p in FIX_CASES.glob("*.before.py"))


@pytest.mark.parametrize("before", FIX_PAIRS, ids=lambda p: p.name.removesuffix(".before.py"))
def test_fix_pairs(before: Path, tmp_path: Path) -> None:
    expected = before.with_name(before.name.replace(".before.py", ".after.py")).read_text()
    target = tmp_path / "module.py"
    target.write_bytes(before.read_bytes())
    config = Config()
    found = lint_source(target.read_bytes(), "module.py", config).diagnostics
    outcome = fix_file(target, "module.py", [d for d in found if d.fix], config, write=True)
    assert outcome.error is None, outcome.error
    assert target.read_text() == expected
    assert outcome.changes and all(c.code in PIN7 for c in outcome.changes)
    # the result parses, no fixable finding is left, and fixing again changes nothing
    cst.parse_module(expected)
    again = lint_source(expected, "module.py", config).diagnostics
    assert not [d for d in again if d.fix is not None]
    fixed = {c.code for c in outcome.changes}
    assert len([d for d in again if d.code in fixed]) < len([d for d in found if d.code in fixed])
    assert not list(tmp_path.glob(".module.py.*")), "temporary file left behind"


def test_fix_pairs_exist() -> None:
    assert len(FIX_PAIRS) >= 5
    for before in FIX_PAIRS:
        assert before.with_name(before.name.replace(".before.py", ".after.py")).is_file()


def test_apply_fixes_layouts() -> None:
    def add(text: str, kind: str, line: int, col: int, end_line: int, end_col: int) -> str:
        edit = Edit(kind, Span(line, col, end_line, end_col), "k", "None")
        return apply_fixes(text, [Fix("add", (edit,))])

    assert add("f()\n", "add-keyword", 1, 1, 1, 4) == "f(k=None)\n"
    assert add("f(a, b=1)\n", "add-keyword", 1, 1, 1, 10) == "f(a, b=1, k=None)\n"
    assert add("f(a,)\n", "add-keyword", 1, 1, 1, 6) == "f(a, k=None,)\n"
    assert add("f(\n    a,\n    b,\n)\n", "add-keyword", 1, 1, 4, 2) == (
        "f(\n    a,\n    b,\n    k=None,\n)\n"
    )
    assert add("f(\n    a,  # why a\n)\n", "add-keyword", 1, 1, 3, 2) == (
        "f(\n    a,  # why a\n    k=None,\n)\n"
    )
    assert add("f(\n    a,\n    b  # why b\n)\n", "add-keyword", 1, 1, 4, 2) == (
        "f(\n    a,\n    b,  # why b\n    k=None\n)\n"
    )
    assert add("{}\n", "add-entry", 1, 1, 1, 3) == '{"k": None}\n'
    assert add("{'a': 1}\n", "add-entry", 1, 1, 1, 9) == "{'a': 1, 'k': None}\n"
    assert (
        add("{\n    'a': 1,\n}\n", "add-entry", 1, 1, 3, 2) == "{\n    'a': 1,\n    'k': None,\n}\n"
    )
    assert (
        add("{\n    'a': 1\n}\n", "add-entry", 1, 1, 3, 2) == "{\n    'a': 1,\n    'k': None\n}\n"
    )


def test_apply_fixes_refuses_a_missing_target() -> None:
    edit = Edit("add-keyword", Span(9, 1, 9, 4), "k", "None")
    with pytest.raises(fixing.FixError):
        apply_fixes("f()\n", [Fix("add", (edit,))])
    twice = Edit("add-keyword", Span(1, 1, 1, 8), "k", "None")
    with pytest.raises(fixing.FixError):
        apply_fixes("f(k=1)\n", [Fix("add", (twice,))])


def test_a_fix_that_leaves_the_finding_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "db.py"
    original = "import psycopg\nconn = psycopg.connect('dbname=x')\n"
    target.write_text(original)
    config = Config()
    found = lint_source(original, "db.py", config).diagnostics
    monkeypatch.setattr(fixing, "apply_fixes", lambda text, fixes: text + "\n")
    outcome = fix_file(target, "db.py", found, config, write=True)
    assert outcome.error == "fix did not remove PIN702"
    assert target.read_text() == original


def test_fixes_keep_the_encoding_and_the_mode(tmp_path: Path) -> None:
    target = tmp_path / "db.py"
    text = "# -*- coding: latin-1 -*-\nimport psycopg\n# caf\u00e9\nconn = psycopg.connect('x')\n"
    target.write_bytes(text.encode("latin-1"))
    os.chmod(target, 0o640)
    config = Config()
    found = lint_source(target.read_bytes(), "db.py", config).diagnostics
    outcome = fix_file(target, "db.py", found, config, write=True)
    assert outcome.error is None
    assert (
        target.read_bytes()
        .decode("latin-1")
        .endswith("conn = psycopg.connect('x', prepare_threshold=None)\n")
    )
    assert (target.stat().st_mode & 0o777) == 0o640


def test_fix_and_diff_on_the_command_line(tmp_path: Path) -> None:
    source = "import psycopg\n\nconn = psycopg.connect(\n    'dbname=x',\n    autocommit=True,\n)\n"
    (tmp_path / "db.py").write_text(source)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pinlint", "check", "--isolated", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    diff = run("--diff", "db.py")
    assert diff.returncode == 1
    assert "--- a/db.py\n+++ b/db.py\n" in diff.stdout
    assert "+    prepare_threshold=None,\n" in diff.stdout
    assert (tmp_path / "db.py").read_text() == source  # --diff writes nothing
    fixed = run("--fix", "db.py")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "fixed db.py:3: PIN702: add `prepare_threshold=None`" in fixed.stderr
    assert "prepare_threshold=None," in (tmp_path / "db.py").read_text()
    assert run("--diff", "db.py").returncode == 0
    refused = run("--fix", "--write-baseline", "b.json", "db.py")
    assert refused.returncode == 2


def test_suppressed_findings_are_not_fixed(tmp_path: Path) -> None:
    source = "import psycopg\nconn = psycopg.connect('x')  # pinlint: ignore[PIN702] -- direct\n"
    (tmp_path / "db.py").write_text(source)
    config = Config()
    found = lint_source(source, "db.py", config).diagnostics
    assert fixing.fixable(found) == {}
    assert fixing.fix_files(found, config, tmp_path, write=True) == []
    assert (tmp_path / "db.py").read_text() == source
