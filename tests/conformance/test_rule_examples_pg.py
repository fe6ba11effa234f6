"""Every SQL example in `rules/` runs on a real PostgreSQL, and the database agrees.

For each rule, the bad sections' flagged statements must leave the kind of session
state the rule claims (`SqlRule.db_state`); the good sections' statements must
leave no session state that outlives their transaction. Statements run in order,
each section on its own fresh session, with the earlier statements of the section
as setup, so `EXECUTE` finds its `PREPARE`.

Where the database cannot show the reason a statement is flagged, or an example
needs help to run, the example line says so with a `db:` directive in its
comment; the exceptions are listed in the test output, never skipped silently:

- `db: no-state -- why`     a flagged statement that leaves no session state
- `db: in-transaction`      probe inside a transaction (transaction-scoped state)
- `db: values=a|b|c`        SQL literals to put in place of the placeholders
- `db: setup=SQL`           SQL to run first (what the example leaves implicit)
- `db: error-ok -- why`     a good statement that fails on this test server
- `db: state-ok -- why`     a good statement whose state the proxy cannot see
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from expectations import parse

from pinlint.extract import extract_python
from pinlint.model import HOLE, Profile
from pinlint.rules import all_rules
from pinlint.rules.base import SqlRule
from pinlint.sql.lexer import Kind
from pinlint.sql.lexer import tokenize as sql_tokens

from .probe import StateReport, probe

pytestmark = pytest.mark.pg

CATALOGUE = Path(__file__).resolve().parents[2] / "rules"
# The main example file of each rule that checks PostgreSQL for RDS Proxy (the
# MySQL-only rules' examples run on MariaDB in test_mysql_conformance.py).
SQL_RULES = [
    r for r in all_rules() if issubclass(r, SqlRule) and r.applies_to(Profile.RDS_PROXY_POSTGRES)
]

#: Objects the examples use, created once per rule in its fresh database.
COMMON_SETUP = """
CREATE TABLE accounts (id int, balance int, owner text);
CREATE TABLE orders (id bigint, total numeric, created timestamptz DEFAULT now(), note text);
CREATE TABLE users (id int);
CREATE TABLE events (id int);
CREATE TABLE stats (last_report timestamptz);
CREATE TABLE t (a int PRIMARY KEY, x int);
CREATE SEQUENCE order_seq;
CREATE SCHEMA app;
CREATE FUNCTION app.set_tenant(text) RETURNS void LANGUAGE sql
    AS $$ SELECT set_config('app.tenant', $1, true) $$;
DO $$ BEGIN CREATE ROLE app; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
DO $$ BEGIN CREATE ROLE app_rw; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"""

#: Kinds that end with the transaction that holds them.
_TRANSIENT = {"open-transaction"}

_DB = re.compile(r"db:\s*([a-z-]+)\s*(?:=\s*(.*?))?\s*(?:--\s*(.*?))?\s*(?=;\s*db:|$)")


@dataclass
class Directives:
    no_state: str | None = None
    in_transaction: bool = False
    values: list[str] = field(default_factory=list)
    setup: str = ""
    error_ok: str | None = None
    state_ok: str | None = None


def directives_by_line(path: Path) -> dict[int, Directives]:
    out: dict[int, Directives] = {}
    source = path.read_text(encoding="utf-8")
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT or "db:" not in tok.string:
            continue
        d = out.setdefault(tok.start[0], Directives())
        for name, value, reason in _DB.findall(tok.string[tok.string.index("db:") :]):
            if name == "no-state":
                d.no_state = reason or "no reason given"
            elif name == "in-transaction":
                d.in_transaction = True
            elif name == "values":
                d.values = [v.strip() for v in value.split("|")]
            elif name == "setup":
                d.setup = value
            elif name == "error-ok":
                d.error_ok = reason or "no reason given"
            elif name == "state-ok":
                d.state_ok = reason or "no reason given"
            else:
                raise ValueError(f"{path}:{tok.start[0]}: unknown db directive {name!r}")
    return out


def runnable(sql: str, values: list[str]) -> str:
    """The SQL with driver placeholders (and f-string holes) replaced by literals."""
    pieces, pos, i = [], 0, 0
    for tok in sql_tokens(sql):
        if tok.kind is Kind.PARAM and not tok.value.startswith("$"):
            pieces.append(sql[pos : tok.start])
            pieces.append(values[i] if i < len(values) else "'42'")
            pos, i = tok.end, i + 1
    pieces.append(sql[pos:])
    return "".join(pieces).replace(HOLE, "public")


@dataclass
class Outcome:
    rule: str
    line: int
    kind: str  # "bad" or "good"
    sql: str
    report: StateReport
    agrees: bool
    exception: str | None = None


RESULTS: list[Outcome] = []


def _state(report: StateReport) -> set[str]:
    return set(report.kinds) - _TRANSIENT


def run_example(rule: type[SqlRule], pg_connect: Any) -> list[Outcome]:
    path = CATALOGUE / f"{rule.code}-{rule.name}.py"
    exp = parse(path)
    directives = directives_by_line(path)
    sites = sorted(extract_python(path.read_bytes(), path.name).sites, key=lambda s: s.span)
    with pg_connect() as conn:
        conn.execute(COMMON_SETUP)
    outcomes = []
    for section in exp.sections:
        setup = ""  # what the section ran before, in closed transactions
        open_tx = ""  # statements since the section's own BEGIN, still open
        for site in (s for s in sites if section.start <= s.statement_line <= section.end):
            line = site.statement_line
            d = directives.get(line, Directives())
            stmt = runnable(site.text, d.values)
            # An open transaction of the section is re-opened inside the probed SQL,
            # so the probe's own snapshots never run in the middle of it.
            sql = f"{open_tx}{stmt}"
            flagged = exp.expected[(line, rule.code)] > 0
            if section.kind == "bad" and flagged:
                report = probe(
                    pg_connect, sql, setup=f"{setup};\n{d.setup}", in_transaction=d.in_transaction
                )
                if d.no_state is not None:
                    agrees = report.error is None and not _state(report)
                    outcome = Outcome(rule.code, line, "bad", stmt, report, agrees, d.no_state)
                else:
                    agrees = report.error is None and bool(_state(report) & rule.db_state)
                    outcome = Outcome(rule.code, line, "bad", stmt, report, agrees)
            else:
                # What outlives the statement's transaction is session state.
                wrapped = f"BEGIN;\n{sql};\nCOMMIT"
                report = probe(pg_connect, wrapped, setup=f"{setup};\n{d.setup}")
                if d.error_ok is not None:
                    agrees = report.error is not None
                    outcome = Outcome(rule.code, line, "good", stmt, report, agrees, d.error_ok)
                elif d.state_ok is not None:
                    agrees = report.error is None
                    outcome = Outcome(rule.code, line, "good", stmt, report, agrees, d.state_ok)
                else:
                    agrees = report.error is None and not _state(report)
                    outcome = Outcome(rule.code, line, section.kind, stmt, report, agrees)
            outcomes.append(outcome)
            if report.error is not None:
                continue
            verb = stmt.split(None, 1)[0].lower() if stmt.split() else ""
            if verb in ("begin", "start"):
                open_tx += f"{stmt};\n"
            elif open_tx and verb in ("commit", "rollback", "end", "abort"):
                setup += f";\n{open_tx}{stmt}"
                open_tx = ""
            elif open_tx:
                open_tx += f"{stmt};\n"
            else:
                setup += f";\n{stmt}"
    return outcomes


@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.code)
def test_examples_agree_with_postgresql(rule: type[SqlRule], pg_connect: Any) -> None:
    outcomes = run_example(rule, pg_connect)
    RESULTS.extend(outcomes)
    assert any(o.kind == "bad" for o in outcomes), (
        f"{rule.code}: no bad example reached the database"
    )
    wrong = [o for o in outcomes if not o.agrees]
    assert not wrong, "\n".join(
        f"{o.rule} line {o.line} ({o.kind}{', ' + o.exception if o.exception else ''}): {o.sql!r}\n"
        f"    database: kinds={sorted(o.report.kinds)} error={o.report.error} {o.report.details}"
        for o in wrong
    )


def test_report_agreement(request: pytest.FixtureRequest) -> None:
    """Print how many example statements ran and agreed, and the declared exceptions."""
    if not RESULTS:
        pytest.skip("run together with test_examples_agree_with_postgresql")
    agree = sum(o.agrees for o in RESULTS)
    lines = [f"{len(RESULTS)} example statements probed on PostgreSQL, {agree} agree with pinlint"]
    lines += [
        f"  exception {o.rule} line {o.line} ({o.kind}): {o.exception}: {o.sql!r}"
        for o in RESULTS
        if o.exception
    ]
    lines += [f"  DISAGREES {o.rule} line {o.line}: {o.sql!r}" for o in RESULTS if not o.agrees]
    print("\n".join(lines))
    request.node.user_properties.append(("agreement", f"{agree}/{len(RESULTS)}"))
    assert agree == len(RESULTS)
