"""pinlint's verdict against PostgreSQL's on spelling variants of every trigger.

Each row is a statement, the rule pinlint must report for it (or none), and how to
run it. A flagged row must leave the rule's kind of state on a real session; an
unflagged row must leave none that outlives its transaction. Hypothesis then
re-spells the rows (keyword case, whitespace, comments) and the verdicts must not
move, on pinlint's side and on the database's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.rules import by_code
from pinlint.rules.base import SqlRule
from pinlint.sql.lexer import Kind, tokenize

from .probe import probe

pytestmark = pytest.mark.pg

SETUP = """
CREATE TABLE t2 (id int);
CREATE SEQUENCE s;
DO $$ BEGIN CREATE ROLE app_rw; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"""


@dataclass(frozen=True)
class Row:
    sql: str
    code: str | None
    setup: str = ""
    in_tx: bool = False


ROWS = [
    # PIN101 session SET / RESET
    Row("set search_path = public", "PIN101"),
    Row("SET  SESSION\n  search_path TO public", "PIN101"),
    Row("SET /* why */ search_path TO public", "PIN101"),
    Row('SET "search_path" TO public', "PIN101"),
    Row("Set Time Zone 'UTC'", "PIN101"),
    Row("SET ROLE app_rw", "PIN101"),
    Row("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE", "PIN101"),
    Row("RESET search_path", "PIN101", setup="SET search_path TO public"),
    Row("reset all", "PIN101", setup="SET work_mem = '8MB'"),
    Row("SET work_mem TO DEFAULT", "PIN101", setup="SET work_mem = '8MB'"),
    # PIN102 set_config(..., false)
    Row("SELECT pg_catalog.set_config('search_path', 'public', false)", "PIN102"),
    Row("select SET_CONFIG('work_mem', '8MB', 'off')", "PIN102"),
    Row("WITH s AS (SELECT set_config('work_mem', '8MB', false)) SELECT * FROM s", "PIN102"),
    Row("SELECT * FROM (SELECT set_config('work_mem', '8MB', false)) x", "PIN102"),
    Row("SELECT \"set_config\"('work_mem', '8MB', false)", "PIN102"),
    # PIN103 transaction-scoped settings (seen inside the transaction)
    Row("SET LOCAL work_mem = '8MB'", "PIN103", in_tx=True),
    Row("set local work_mem to '8MB'", "PIN103", in_tx=True),
    Row("SELECT set_config('work_mem', '8MB', true)", "PIN103", in_tx=True),
    Row("SELECT pg_catalog.set_config('work_mem', '8MB', 'on')", "PIN103", in_tx=True),
    # PIN201 SQL prepared statements
    Row("PREPARE p AS SELECT 1", "PIN201"),
    Row("prepare p (int) as select $1", "PIN201"),
    Row("DEALLOCATE p", "PIN201", setup="PREPARE p AS SELECT 1"),
    Row("DEALLOCATE PREPARE ALL", "PIN201", setup="PREPARE p AS SELECT 1"),
    # PIN202 DISCARD
    Row("DISCARD ALL", "PIN202", setup="PREPARE p AS SELECT 1"),
    Row("discard temporary", "PIN202", setup="CREATE TEMP TABLE x (a int)"),
    Row("DISCARD SEQUENCES", "PIN202", setup="SELECT nextval('s')"),
    # PIN301 temporary objects
    Row("CREATE TEMP TABLE x (a int)", "PIN301"),
    Row("create temporary table x as select 1 as a", "PIN301"),
    Row("CREATE LOCAL TEMP TABLE x (a int)", "PIN301"),
    Row("CREATE TEMP VIEW v AS SELECT 1 AS a", "PIN301"),
    Row("CREATE TEMPORARY SEQUENCE s2", "PIN301"),
    Row("SELECT 1 AS a INTO TEMP x", "PIN301"),
    Row("select 1 as a into temporary table x", "PIN301"),
    Row("WITH q AS (SELECT 1 AS a) SELECT a INTO TEMP x FROM q", "PIN301"),
    Row("CREATE TEMP TABLE x (a int) ON COMMIT DROP", "PIN301", in_tx=True),
    # PIN302 cursors
    Row("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "PIN302"),
    Row("declare c no scroll cursor with hold for select 1", "PIN302"),
    Row("DECLARE c CURSOR FOR SELECT 1", "PIN302", in_tx=True),
    Row("DECLARE c BINARY CURSOR WITHOUT HOLD FOR SELECT 1", "PIN302", in_tx=True),
    # PIN303 LISTEN / UNLISTEN
    Row("LISTEN jobs", "PIN303"),
    Row('listen "Jobs"', "PIN303"),
    Row("UNLISTEN jobs", "PIN303", setup="LISTEN jobs"),
    Row("UNLISTEN *", "PIN303", setup="LISTEN a"),
    # PIN304 LOAD
    Row("LOAD 'auto_explain'", "PIN304"),
    Row("load 'auto_explain'", "PIN304"),
    # PIN305 sequence functions
    Row("SELECT nextval('s')", "PIN305"),
    Row("select NEXTVAL('s')", "PIN305"),
    Row("SELECT pg_catalog.nextval('s')", "PIN305"),
    Row("SELECT setval('s', 5)", "PIN305"),
    Row("INSERT INTO t2 (id) VALUES (nextval('s'))", "PIN305"),
    Row("WITH x AS (SELECT nextval('s') AS n) SELECT n FROM x", "PIN305"),
    Row("SELECT * FROM (SELECT nextval('s')) q", "PIN305"),
    # PIN401 session advisory locks
    Row("SELECT pg_advisory_lock(1)", "PIN401"),
    Row("select PG_TRY_ADVISORY_LOCK(1)", "PIN401"),
    Row("SELECT pg_catalog.pg_advisory_lock_shared(1)", "PIN401"),
    Row('SELECT "pg_advisory_lock"(1)', "PIN401"),
    Row("WITH l AS (SELECT pg_advisory_lock(1)) SELECT 1 FROM l", "PIN401"),
    Row("SELECT pg_advisory_unlock(1)", "PIN401", setup="SELECT pg_advisory_lock(1)"),
    Row("SELECT pg_advisory_unlock_all()", "PIN401", setup="SELECT pg_advisory_lock(1)"),
    # look-alikes: no finding, and no session state
    Row("SELECT pg_advisory_xact_lock(1)", None),
    Row("select pg_try_advisory_xact_lock_shared(1)", None),
    Row("SHOW work_mem", None),
    Row("SELECT current_setting('work_mem')", None),
    Row("UPDATE t2 SET id = 1", None),
    Row("ALTER TABLE t2 ALTER COLUMN id SET DEFAULT 0", None),
    Row("NOTIFY jobs", None),
    Row("SELECT pg_notify('jobs', 'x')", None),
    Row("DO $$ DECLARE n int; BEGIN n := 1; END $$", None),
    Row("CREATE TABLE IF NOT EXISTS t3 (id int DEFAULT nextval('s'))", None),
    Row("SELECT 'SET ROLE app_rw'", None),
    Row("SELECT 1 -- LISTEN x", None),
    Row("SELECT 1 /* SELECT pg_advisory_lock(1) */", None),
    Row("LOCK TABLE t2 IN ACCESS EXCLUSIVE MODE", None),
    Row("SET LOCAL work_mem = '8MB'", "PIN103"),  # in autocommit: a warning, nothing left
]

STATE_RULES = tuple(sorted({r.code for r in ROWS if r.code}))


def pinlint_codes(sql: str) -> list[str]:
    result = lint_source(sql, "variant.sql", Config(select=STATE_RULES))
    return sorted(d.code for d in result.diagnostics)


def db_agrees(row: Row, sql: str, connect: Any) -> tuple[bool, str]:
    """Whether the database shows what pinlint's verdict claims, and the evidence."""
    if row.code is None or (not row.in_tx and row.sql.lower().startswith("set local")):
        report = probe(connect, f"BEGIN;\n{sql};\nCOMMIT", setup=row.setup)
        state = set(report.kinds) - {"open-transaction"}
        return report.error is None and not state, f"{sorted(state)} {report.error or ''}"
    report = probe(connect, sql, setup=row.setup, in_transaction=row.in_tx)
    rule = by_code()[row.code]
    assert issubclass(rule, SqlRule)
    shown = set(report.kinds) & rule.db_state
    return report.error is None and bool(shown), f"{sorted(report.kinds)} {report.error or ''}"


@pytest.fixture(scope="module")
def variants_db(pg: Any) -> Any:
    name = "pinlint_variants"
    pg.create_database(name)
    with pg.connect(name) as conn:
        conn.execute(SETUP)
    yield lambda: pg.connect(name)
    pg.drop_database(name)


def test_every_variant_agrees(variants_db: Any) -> None:
    disagreements = []
    for row in ROWS:
        expected = [row.code] if row.code else []
        got = pinlint_codes(row.sql)
        # `SET LOCAL` outside a transaction is still flagged; the database keeps nothing.
        outside_tx = row.code == "PIN103" and not row.in_tx
        ok, evidence = db_agrees(row, row.sql, variants_db)
        if got != expected or (not ok and not outside_tx):
            disagreements.append(f"{row.sql!r}: pinlint {got}, expected {expected}; db {evidence}")
        if outside_tx:
            assert ok, f"{row.sql!r} left state outside a transaction: {evidence}"
    print(f"\n{len(ROWS)} variants, {len(ROWS) - len(disagreements)} agree")
    assert not disagreements, "\n".join(disagreements)


def respell(sql: str, rnd: random.Random) -> str:
    """The same statement with keywords in random case and random whitespace/comments
    between tokens (string literals, quoted names and dollar bodies untouched)."""
    tokens = tokenize(sql)
    out, pos = [], 0
    for tok in tokens:
        gap = sql[pos : tok.start]
        if gap and not gap.strip():
            gap = rnd.choice([" ", "  ", "\n", "\t", " /* x */ ", "\n  -- note\n  "])
        out.append(gap)
        text = sql[tok.start : tok.end]
        if tok.kind is Kind.WORD:
            text = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in text)
        out.append(text)
        pos = tok.end
    out.append(sql[pos:])
    return "".join(out)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(ROWS), st.randoms(use_true_random=False))
def test_respelling_changes_no_verdict(variants_db: Any, row: Row, rnd: random.Random) -> None:
    variant = respell(row.sql, rnd)
    assert pinlint_codes(variant) == pinlint_codes(row.sql), variant
    if row.code == "PIN103" and not row.in_tx:
        return
    ok, evidence = db_agrees(row, variant, variants_db)
    assert ok, f"{variant!r}: database {evidence}"
