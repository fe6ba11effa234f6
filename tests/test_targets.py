"""Targets and dialects: profiles, the MySQL lexer and facts, the target settings, the
per-call-site dialect, and the verdict tables generated from the rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pinlint.api import lint_source
from pinlint.config import OPTIONS_BY_KEY, Config, ConfigError, convert, load_file
from pinlint.docs import rule_markdown, verdicts_markdown
from pinlint.engine import check_sites
from pinlint.model import (
    HOLE,
    Confidence,
    Dialect,
    Effect,
    Origin,
    Profile,
    Span,
    SqlSite,
    Target,
)
from pinlint.rules import all_rules, by_code
from pinlint.rules.base import RuleContext, SqlRule
from pinlint.sql.facts import mysql_set, mysql_table_lock, user_variables
from pinlint.sql.lexer import Kind, lex
from pinlint.sql.statement import analyse, split_sql

ROOT = Path(__file__).resolve().parents[1]
MYSQL = Dialect.MYSQL


def codes(source: str, **config: object) -> list[str]:
    result = lint_source(source, "x.py", Config(**config))  # type: ignore[arg-type]
    return [d.code for d in result.diagnostics]


# -- profiles -------------------------------------------------------------------------


def test_profiles_are_the_target_dialect_pairs_that_exist() -> None:
    assert Profile.of(Target.RDS_PROXY, Dialect.POSTGRES) is Profile.RDS_PROXY_POSTGRES
    assert Profile.of(Target.RDS_PROXY, Dialect.MYSQL) is Profile.RDS_PROXY_MYSQL
    assert Profile.of(Target.PGBOUNCER, Dialect.POSTGRES) is Profile.PGBOUNCER
    assert Profile.of(Target.PGBOUNCER, Dialect.MYSQL) is None
    assert {p.target for p in Profile} == set(Target)
    assert {p.dialect for p in Profile} == set(Dialect)


def test_every_sql_rule_states_a_verdict_for_its_profiles() -> None:
    for rule in all_rules():
        if not issubclass(rule, SqlRule):
            continue
        assert rule.effects, rule.code
        assert any(e is not Effect.OK for e in rule.effects.values()), rule.code
        # PostgreSQL-only rules say what they do behind PgBouncer, too.
        if Profile.RDS_PROXY_POSTGRES in rule.effects:
            assert Profile.PGBOUNCER in rule.effects, rule.code


def test_rules_with_nothing_to_say_do_not_run() -> None:
    # PIN103 is ok behind PgBouncer: SET LOCAL is the fix there.
    assert by_code()["PIN103"].applies_to(Profile.PGBOUNCER) is False
    assert by_code()["PIN306"].applies_to(Profile.RDS_PROXY_POSTGRES) is False
    assert by_code()["PIN101"].applies_to(None) is False


def test_rule_context_pgbouncer_prepared_statement_switch() -> None:
    assert not RuleContext(target=Target.PGBOUNCER).pgbouncer_tracks_prepared_statements
    tracked = RuleContext(
        target=Target.PGBOUNCER, pgbouncer_version=(1, 21), max_prepared_statements=100
    )
    assert tracked.pgbouncer_tracks_prepared_statements
    old = RuleContext(pgbouncer_version=(1, 20), max_prepared_statements=100)
    assert not old.pgbouncer_tracks_prepared_statements


# -- the MySQL lexer -------------------------------------------------------------------


def test_mysql_lexer_reads_mysql_quoting_and_comments() -> None:
    text = "SELECT `a``b`, \"x\\\"y\", 'it\\'s' # SET x = 1\nFROM t -- c\n"
    tokens = lex(text, MYSQL).tokens
    assert [(t.kind, t.value) for t in tokens] == [
        (Kind.WORD, "select"),
        (Kind.IDENT, "a`b"),
        (Kind.PUNCT, ","),
        (Kind.STRING, 'x"y'),
        (Kind.PUNCT, ","),
        (Kind.STRING, "it's"),
        (Kind.WORD, "from"),
        (Kind.WORD, "t"),
    ]


def test_postgres_lexer_is_unchanged_for_mysql_syntax() -> None:
    tokens = lex('SELECT a #> b, "col", $$x$$ -- c', Dialect.POSTGRES).tokens
    assert [t.kind for t in tokens] == [
        Kind.WORD,
        Kind.WORD,
        Kind.OP,
        Kind.WORD,
        Kind.PUNCT,
        Kind.IDENT,
        Kind.PUNCT,
        Kind.STRING,
    ]


def test_mysql_variables_are_single_tokens() -> None:
    tokens = lex("SET @x := 1, @@session.sql_mode = '', @'a b' = @@x", MYSQL).tokens
    variables = [(t.kind, t.value) for t in tokens if t.kind in (Kind.USERVAR, Kind.SYSVAR)]
    assert variables == [
        (Kind.USERVAR, "@x"),
        (Kind.SYSVAR, "@@session.sql_mode"),
        (Kind.USERVAR, "@a b"),
        (Kind.SYSVAR, "@@x"),
    ]


def test_double_dash_needs_a_space_in_mysql() -> None:
    assert [t.value for t in lex("SELECT 5--1", MYSQL).tokens] == ["select", "5", "--", "1"]
    assert [t.value for t in lex("SELECT 5 -- 1", MYSQL).tokens] == ["select", "5"]


def test_executable_comments_are_facts_and_their_sql_is_analysed() -> None:
    (stmt,) = analyse("/*!40101 SET NAMES utf8mb4 */", MYSQL)
    assert stmt.words == ("set", "names", "utf8mb4")
    (comment,) = stmt.executable_comments
    assert comment.raw == "/*!40101 SET NAMES utf8mb4 */"
    assert (comment.body, comment.version, comment.mariadb) == ("SET NAMES utf8mb4", "40101", False)
    (stmt,) = analyse("CREATE /*M!100100 TEMPORARY */ TABLE t (a INT)", MYSQL)
    assert stmt.words[:3] == ("create", "temporary", "table")
    assert stmt.executable_comments[0].mariadb
    assert stmt.parse_error is None  # sqlglot saw the SQL inside the comment


def test_no_executable_comments_in_postgres_strings_or_hints() -> None:
    assert analyse("/*!40101 SET NAMES utf8 */") == ()  # a plain comment in PostgreSQL
    for text in ("SELECT '/*! x */'", "SELECT /*+ BKA(t) */ 1", 'SELECT "/*!1 x */"'):
        assert not analyse(text, MYSQL)[0].executable_comments, text


def test_split_sql_keeps_executable_comments_with_their_statement() -> None:
    text = "/*!40101 SET NAMES utf8 */;\n/*!40014 SET @A=1 */;\nSELECT 'a;b' # x;\n"
    parts = [text[a:b] for a, b in split_sql(text, MYSQL)]
    assert parts == ["/*!40101 SET NAMES utf8 */", "/*!40014 SET @A=1 */", "SELECT 'a;b'"]


def test_analyse_is_memoised_per_dialect() -> None:
    text = "SELECT 1 # comment"
    assert analyse(text, MYSQL)[0].dialect is MYSQL
    assert analyse(text)[0].dialect is Dialect.POSTGRES
    assert len(analyse(text)[0].tokens) > len(analyse(text, MYSQL)[0].tokens)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="SET@`'\"#-*/!;M1 \\x\n:=" + HOLE, max_size=60))
def test_mysql_analysis_never_raises(text: str) -> None:
    for stmt in analyse(text, MYSQL):
        mysql_set(stmt)
        user_variables(stmt)
        mysql_table_lock(stmt)
    split_sql(text, MYSQL)


# -- MySQL facts -----------------------------------------------------------------------


def test_mysql_set_assignments_carry_the_scope_forward() -> None:
    (stmt,) = analyse("SET GLOBAL a = 1, b = 2, SESSION c = 3, @u = 4, @@local.d = 5", MYSQL)
    assignments = mysql_set(stmt)
    assert assignments is not None
    assert [(a.name, a.scope) for a in assignments] == [
        ("a", "global"),
        ("b", "global"),
        ("c", "session"),
        ("@u", "user"),
        ("d", "local"),
    ]


def test_mysql_set_special_forms() -> None:
    def first(text: str) -> tuple[str, str]:
        assignments = mysql_set(analyse(text, MYSQL)[0])
        assert assignments
        return assignments[0].name, assignments[0].scope

    assert first("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY") == (
        "transaction",
        "next-transaction",
    )
    assert first("SET SESSION TRANSACTION READ ONLY") == ("transaction", "session")
    assert first("SET NAMES utf8mb4 COLLATE utf8mb4_bin") == ("names", "session")
    assert first("SET CHARACTER SET utf8") == ("character set", "session")
    assert first("SET PASSWORD = 'x'") == ("password", "session")
    assert mysql_set(analyse("UPDATE t SET a = 1", MYSQL)[0]) is None


def test_user_variable_uses() -> None:
    (stmt,) = analyse("SELECT @n := @n + 1, a INTO @x, @y FROM t WHERE b = @z", MYSQL)
    assert [(u.name, u.how) for u in user_variables(stmt)] == [
        ("@n", "assign"),
        ("@n", "read"),
        ("@x", "into"),
        ("@y", "into"),
        ("@z", "read"),
    ]
    assert user_variables(analyse("SELECT @x")[0]) == []  # PostgreSQL has none


# -- verdicts per profile ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "rds", "pgbouncer"),
    [
        ("SET TIME ZONE 'UTC'", ["PIN101"], []),
        ("SET DateStyle = 'ISO, DMY'", ["PIN101"], []),
        ("SET application_name = 'x'", ["PIN101"], ["PIN101"]),  # empty values not re-applied
        ("SELECT currval('s')", ["PIN305"], ["PIN305"]),
        ("SET statement_timeout = 0", ["PIN101"], ["PIN101"]),
        ("SET LOCAL statement_timeout = 0", ["PIN103"], []),
        ("SELECT set_config('TimeZone', 'UTC', false)", ["PIN102"], []),
        ("SELECT set_config('app.x', '1', true)", ["PIN103"], []),
        ("DECLARE c CURSOR FOR SELECT 1", ["PIN302"], []),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", ["PIN302"], ["PIN302"]),
        ("CREATE TEMP TABLE t (a int) ON COMMIT DROP", ["PIN301"], []),
        ("CREATE TEMP TABLE t (a int)", ["PIN301"], ["PIN301"]),
        ("SELECT nextval('s')", ["PIN305"], []),
        ("NOTIFY jobs", [], []),
        ("LISTEN jobs", ["PIN303"], ["PIN303"]),
        ("PREPARE q AS SELECT 1", ["PIN201"], ["PIN201"]),
        ("DISCARD ALL", ["PIN202"], []),
        ("SELECT pg_advisory_lock(1)", ["PIN401"], ["PIN401"]),
    ],
)
def test_the_same_statement_per_target(sql: str, rds: list[str], pgbouncer: list[str]) -> None:
    source = f'import psycopg2\ncur.execute("{sql}")\n'
    assert codes(source) == rds
    assert codes(source, target=Target.PGBOUNCER) == pgbouncer


def test_effects_and_messages_say_the_consequence_for_the_target() -> None:
    source = 'import psycopg2\ncur.execute("SET ROLE admin; PREPARE q AS SELECT 1")\n'
    result = lint_source(source, "x.py", Config(target=Target.PGBOUNCER))
    role, prepare = result.diagnostics
    assert (role.effect, prepare.effect) == (Effect.LEAKS, Effect.ERRORS)
    assert role.target is Target.PGBOUNCER
    assert "next client" in role.message and "role" in role.message
    assert 'prepared statement "q" does not exist' in prepare.message
    assert "SET LOCAL" in role.help  # the PgBouncer fix, not the RDS Proxy one


def test_pgbouncer_version_decides_what_is_tracked() -> None:
    source = (
        'import psycopg2\ncur.execute("SET search_path TO app; SET IntervalStyle = iso_8601")\n'
    )
    assert codes(source, target=Target.PGBOUNCER, pgbouncer_version="1.18") == [
        "PIN101",
        "PIN101",
    ]
    assert codes(source, target=Target.PGBOUNCER, pgbouncer_version="1.21") == ["PIN101"]
    assert codes(source, target=Target.PGBOUNCER, pgbouncer_version="1.26") == []


def test_mysql_only_rules_fire_for_mysql_only() -> None:
    sql = "SELECT @x, FOUND_ROWS(); LOCK TABLES t WRITE; SELECT /*!1 1 */ 2"
    source = f'cur.execute("{sql}")\n'
    assert codes(source) == []
    assert sorted(codes(source, dialect=MYSQL)) == ["PIN306", "PIN402", "PIN602", "PIN603"]


# -- per-call-site dialect ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("import pymysql", ["PIN402"]),
        ("import MySQLdb", ["PIN402"]),
        ("import mysql.connector", ["PIN402"]),
        ("from aiomysql import create_pool", ["PIN402"]),
        ('URL = "mysql+pymysql://u@h/db"', ["PIN402"]),
        ("import psycopg", []),
        ('URL = "postgresql+psycopg://u@h/db"', []),
        ("import pymysql\nimport psycopg2", []),  # both: the configured dialect decides
        ("", []),
    ],
)
def test_dialect_of_a_module_from_its_imports(header: str, expected: list[str]) -> None:
    source = f'{header}\nimport sqlalchemy\ncur.execute("LOCK TABLES t WRITE")\n'
    assert codes(source) == expected


def test_postgres_module_in_a_mysql_run_stays_postgres() -> None:
    source = 'import psycopg2\ncur.execute("SELECT @x FROM t # not a comment")\n'
    assert codes(source, dialect=MYSQL) == []


def test_a_sites_dialect_wins_over_the_configured_one() -> None:
    site = SqlSite(
        "a.py", Span(1, 1, 1, 2), "SET @x = 1", Origin.LITERAL, Confidence.HIGH, "x", 1,
        dialect=MYSQL,
    )  # fmt: skip
    found = list(check_sites([site], Config()))
    assert [d.code for d in found] == ["PIN306"]
    # PgBouncer pools PostgreSQL only: MySQL code gets no PgBouncer verdict.
    assert list(check_sites([site], Config(target=Target.PGBOUNCER))) == []


# -- settings ------------------------------------------------------------------------


def test_session_pinning_filters_turn_off_set_verdicts_only() -> None:
    source = 'import pymysql\ncur.execute("SET foreign_key_checks = 0; SET @a = 1; LOCK TABLES t READ")\n'
    assert codes(source, dialect=MYSQL) == ["PIN101", "PIN306", "PIN402"]
    filtered = codes(source, dialect=MYSQL, session_pinning_filters=("EXCLUDE_VARIABLE_SETS",))
    assert filtered == ["PIN402"]


def test_session_pinning_filters_do_not_exist_for_postgres() -> None:
    with pytest.raises(ConfigError, match="does not exist for PostgreSQL"):
        Config(session_pinning_filters=("EXCLUDE_VARIABLE_SETS",))
    with pytest.raises(ConfigError, match="PostgreSQL connections only"):
        Config(target=Target.PGBOUNCER, dialect=MYSQL)


def test_option_values_are_validated() -> None:
    version = OPTIONS_BY_KEY["pgbouncer-version"]
    assert convert(version, "1.22", "here") == "1.22"
    with pytest.raises(ConfigError, match="quoted version"):
        convert(version, 1.2, "here")
    with pytest.raises(ConfigError, match="version"):
        convert(version, "latest", "here")
    filters = OPTIONS_BY_KEY["session-pinning-filters"]
    assert convert(filters, ["exclude_variable_sets"], "here") == ("EXCLUDE_VARIABLE_SETS",)
    with pytest.raises(ConfigError, match="EXCLUDE_VARIABLE_SETS"):
        convert(filters, ["EXCLUDE_EVERYTHING"], "here")
    with pytest.raises(ConfigError, match="at least 0"):
        convert(OPTIONS_BY_KEY["max-prepared-statements"], -1, "here")


def test_config_file_keys(tmp_path: Path) -> None:
    path = tmp_path / "pinlint.toml"
    path.write_text(
        'target = "pgbouncer"\npgbouncer-version = "1.22"\nmax-prepared-statements = 100\n'
    )
    config = Config(**load_file(path))
    assert config.target is Target.PGBOUNCER
    assert config.pgbouncer_version_tuple == (1, 22)
    assert config.max_prepared_statements == 100


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pinlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_target_options(tmp_path: Path) -> None:
    (tmp_path / "db.py").write_text(
        "import psycopg2\ncur.execute(\"SET TIME ZONE 'UTC'; SET work_mem = '1GB'\")\n"
    )
    proc = run("check", "--isolated", "--target", "pgbouncer", "db.py", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert "PIN101 [leaks] `SET work_mem`" in proc.stdout
    assert "TIME ZONE" not in proc.stdout
    proc = run(
        "check", "--isolated", "--session-pinning-filters", "EXCLUDE_VARIABLE_SETS", "db.py",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "does not exist for PostgreSQL" in proc.stderr and "Traceback" not in proc.stderr
    proc = run(
        "check", "--isolated", "--target", "pgbouncer", "--dialect", "mysql", "db.py", cwd=tmp_path
    )
    assert proc.returncode == 2 and "PgBouncer pools PostgreSQL" in proc.stderr
    proc = run("check", "--isolated", "--pgbouncer-version", "one", "db.py", cwd=tmp_path)
    assert proc.returncode == 2 and "pgbouncer-version" in proc.stderr
    proc = run("check", "--help", cwd=tmp_path)
    assert "pgbouncer" in proc.stdout and "--max-prepared-statements" in proc.stdout


# -- documentation from the same data ---------------------------------------------------


def test_rule_page_has_the_verdict_table_and_per_target_examples() -> None:
    page = rule_markdown(by_code()["PIN301"])
    assert "## Verdict per target" in page
    assert "| PgBouncer (transaction pooling) | leaks (not `ON COMMIT DROP` tables) |" in page
    assert "### PgBouncer (transaction pooling)" in page
    assert "### RDS Proxy for MySQL/MariaDB" in page
    assert "n/a (not checked in this dialect)" in rule_markdown(by_code()["PIN402"])


def test_readme_verdict_table_is_generated_from_the_rules() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert verdicts_markdown() in readme, "README verdict table is stale: run scripts/gen_docs.py"
    for rule in all_rules():
        if issubclass(rule, SqlRule):
            assert f"| {rule.code} | {rule.name} |" in verdicts_markdown()
