"""pinlint's PgBouncer verdicts against a real PgBouncer in transaction mode.

Every statement of the PgBouncer example files (`rules/PIN###-<name>.pgbouncer.py`)
runs through a real PgBouncer in front of the throwaway PostgreSQL, and what the
server shows decides whether the statement is a problem behind PgBouncer:

- **leak**: client A runs the section up to and including the statement (ending any
  transaction it left open); client B, sharing the single server connection of
  `pool1`, then sees state that the same run without the statement does not leave
  (a setting, a role, a prepared statement, a cursor, a temp object, a listener, a
  lock, a loaded library);
- **lost clean-up**: the statement removes state in that run, but when PgBouncer
  moves client A to a second server connection (`pool2`, while B holds the first in
  a transaction), the state stays on the first one;
- **error when moved**: the statement succeeds on A's first server connection and
  fails on the second (`prepared statement "q" does not exist`).

pinlint must flag (effect `leaks` or `errors`) exactly the statements where one of
these shows, with the verdicts computed for the PgBouncer version that runs here and
its `max_prepared_statements` (0). Two deliberate readings, stated in the output:
a custom setting that a transaction-local `set_config` leaves defined as `''` is not
its value leaking; and the sequence value `nextval` caches in the server connection
is charged to the `currval`/`lastval` that read it (checked by the move), not to
`nextval`, whose returned value is always right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from expectations import Section, parse
from psycopg.pq import TransactionStatus

from pinlint.config import Config
from pinlint.docs import example_files
from pinlint.engine import check_sites
from pinlint.extract import extract_python
from pinlint.model import HOLE, Effect, Profile, SqlSite, Target
from pinlint.rules import all_rules
from pinlint.rules.base import SqlRule
from pinlint.sql.lexer import Kind, tokenize
from pinlint.targets import format_version

from .conftest import pg_required
from .pgbouncer import PgBouncer, find_pgbouncer
from .pgcluster import PgCluster
from .probe import _diff, _snapshot, custom_setting_candidates

pytestmark = pytest.mark.pg

CATALOGUE = Path(__file__).resolve().parents[2] / "rules"
DBNAME = "pinlint_pgbouncer"

#: What the PgBouncer examples use, created once in the database behind PgBouncer.
SETUP = """
CREATE TABLE events (id int);
CREATE TABLE users (id int);
CREATE TABLE orders (id bigint, total numeric);
CREATE SEQUENCE order_seq;
CREATE SCHEMA tenant_42;
INSERT INTO events SELECT generate_series(1, 10);
INSERT INTO users VALUES (7);
DO $$ BEGIN CREATE ROLE app_rw; EXCEPTION WHEN duplicate_object THEN NULL; END $$;
"""

EXAMPLES = [
    (rule, name, source)
    for rule in all_rules()
    if issubclass(rule, SqlRule)
    for name, profile, source in example_files(rule)
    if profile is Profile.PGBOUNCER
]


@pytest.fixture(scope="session")
def pgbouncer(pg: PgCluster) -> Iterator[PgBouncer]:
    program = find_pgbouncer()
    if program is None:
        message = "pgbouncer not found on PATH, in /usr/sbin or in $PINLINT_PGBOUNCER"
        if pg_required():
            pytest.fail(f"{message}; PINLINT_REQUIRE_PG is set", pytrace=False)
        pytest.skip(message)
    pg.create_database(DBNAME)
    with pg.connect(DBNAME) as conn:
        conn.execute(SETUP)
    with PgBouncer(program, pg, DBNAME) as bouncer:
        yield bouncer


# -- running statements through PgBouncer ---------------------------------------------


def runnable(sql: str) -> str:
    """The SQL with driver placeholders replaced by literals (examples pass small ids)."""
    pieces, pos = [], 0
    for tok in tokenize(sql):
        if tok.kind is Kind.PARAM and not tok.value.startswith("$"):
            pieces += [sql[pos : tok.start], "'42'"]
            pos = tok.end
    return "".join([*pieces, sql[pos:]]).replace(HOLE, "public")


@dataclass
class Run:
    """What client B saw after client A ran some statements (pool1), or an error."""

    details: frozenset[str]
    errors: dict[int, str] = field(default_factory=dict)  # statement index -> error


def _execute(conn: psycopg.Connection[Any], sql: str) -> str | None:
    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        if conn.info.transaction_status == TransactionStatus.INERROR:
            conn.execute("ROLLBACK")
        return str(exc).splitlines()[0]
    return None


def _finish(conn: psycopg.Connection[Any]) -> None:
    if conn.info.transaction_status != TransactionStatus.IDLE:
        conn.execute("COMMIT")


def _visible(before: Any, after: Any) -> frozenset[str]:
    """State B sees, minus the two readings the module docstring explains."""
    out = set()
    for kind, detail in _diff(before, after):
        if kind == "sequence-state":
            continue  # charged to currval/lastval, checked by moving the client
        if kind == "setting" and ("unchanged, source" in detail or detail.endswith("-> ''")):
            continue  # a source-only change, or a placeholder left defined as ''
        out.add(detail)
    return frozenset(out)


def run_pool1(bouncer: PgBouncer, statements: list[str], watched: tuple[str, ...]) -> Run:
    """A runs `statements` on the one server connection of pool1; B then looks at it."""
    bouncer.drop_server_connections()
    with bouncer.connect("pool1") as a, bouncer.connect("pool1") as b:
        baseline = _snapshot(b, watched)
        errors = {}
        for i, sql in enumerate(statements):
            error = _execute(a, sql)
            if error is not None:
                errors[i] = error
        _finish(a)
        return Run(_visible(baseline, _snapshot(b, watched)), errors)


@dataclass
class Moved:
    error: str | None  # A's error for the statement on the second server connection
    left_on_first: frozenset[str]  # state still on A's first server connection


def run_moved(
    bouncer: PgBouncer, prefix: list[str], statement: str, watched: tuple[str, ...]
) -> Moved:
    """A runs `prefix` (one server connection, S1); B opens a transaction, which PgBouncer
    serves from the idle S1; A then runs `statement`, which needs a second connection."""
    bouncer.drop_server_connections()
    with bouncer.connect("pool2") as a, bouncer.connect("pool2") as b:
        for sql in prefix:
            _execute(a, sql)
        _finish(a)
        first = a.execute("SELECT pg_backend_pid()").fetchone()
        b.execute("BEGIN")
        held = b.execute("SELECT pg_backend_pid()").fetchone()
        assert first == held, "PgBouncer did not hand B the connection A used"
        error = _execute(a, statement)
        _finish(a)
        moved_to = a.execute("SELECT pg_backend_pid()").fetchone()
        assert moved_to != held, "A was not moved to a second server connection"
        after = _snapshot(b, watched)  # inside B's transaction, on S1
        b.execute("COMMIT")
    with bouncer.cluster.connect(DBNAME) as fresh:
        clean = _snapshot(fresh, watched)  # what a backend nobody used looks like
    return Moved(error, _visible(clean, after))


# -- comparing with pinlint -------------------------------------------------------------


@dataclass
class Outcome:
    rule: str
    line: int
    sql: str
    flagged: Effect | None
    observed: list[str]

    @property
    def agrees(self) -> bool:
        return (self.flagged is not None) == bool(self.observed)


RESULTS: list[Outcome] = []

_TRANSACTION_CONTROL = ("begin", "start", "commit", "rollback", "end", "abort")


def _verdict(rule: type[SqlRule], site: SqlSite, config: Config) -> Effect | None:
    effects = [d.effect for d in check_sites([site], config) if d.code == rule.code]
    bad = [e for e in effects if e in (Effect.LEAKS, Effect.ERRORS)]
    return bad[0] if bad else None


def _section_sites(sites: list[SqlSite], section: Section) -> list[SqlSite]:
    return [s for s in sites if section.start <= s.statement_line <= section.end]


def probe_example(rule: type[SqlRule], name: str, source: str, bouncer: PgBouncer) -> list[Outcome]:
    path = CATALOGUE / name
    exp = parse(path)
    config = Config(
        target=Target.PGBOUNCER,
        pgbouncer_version=format_version(bouncer.version),
        max_prepared_statements=0,  # not a setting before 1.21; 0 is its default after
        select=(rule.code,),
    )
    sites = sorted(extract_python(source.encode(), name).sites, key=lambda s: s.span)
    outcomes = []
    for section in exp.sections:
        section_sites = _section_sites(sites, section)
        statements = [runnable(s.text) for s in section_sites]
        watched = custom_setting_candidates(*statements)
        runs = [run_pool1(bouncer, statements[:k], watched) for k in range(len(statements) + 1)]
        in_transaction = False
        for i, site in enumerate(section_sites):
            verb = statements[i].split(None, 1)[0].lower() if statements[i].split() else ""
            if verb in _TRANSACTION_CONTROL:
                in_transaction = verb in ("begin", "start")
                continue
            observed = []
            before, after = runs[i], runs[i + 1]
            assert i not in after.errors, f"{name}:{site.statement_line}: {after.errors[i]}"
            observed += [f"B sees: {d}" for d in sorted(after.details - before.details)]
            if not in_transaction:
                removed = before.details - after.details
                moved = run_moved(bouncer, statements[:i], statements[i], watched)
                if moved.error is not None:
                    observed.append(f"moved to another server connection: {moved.error}")
                observed += [
                    f"clean-up lost, still on the first server connection: {d}"
                    for d in sorted(removed & moved.left_on_first)
                ]
            outcomes.append(
                Outcome(
                    rule.code,
                    site.statement_line,
                    statements[i],
                    _verdict(rule, site, config),
                    observed,
                )
            )
    return outcomes


@pytest.mark.parametrize(
    ("rule", "name", "source"), EXAMPLES, ids=[name for _, name, _ in EXAMPLES]
)
def test_pgbouncer_verdicts_agree_with_pgbouncer(
    rule: type[SqlRule], name: str, source: str, pgbouncer: PgBouncer
) -> None:
    outcomes = probe_example(rule, name, source, pgbouncer)
    RESULTS.extend(outcomes)
    assert outcomes, f"{name}: no statement reached PgBouncer"
    wrong = [o for o in outcomes if not o.agrees]
    assert not wrong, "\n".join(
        f"{name}:{o.line}: {o.sql!r}: pinlint says "
        f"{o.flagged.value if o.flagged else 'ok'}, PgBouncer {pgbouncer.version} shows "
        f"{o.observed or 'nothing'}"
        for o in wrong
    )


def test_every_rule_with_a_pgbouncer_verdict_has_a_probed_example() -> None:
    probed = {rule.code for rule, _, _ in EXAMPLES}
    for rule in all_rules():
        if issubclass(rule, SqlRule) and rule.effects.get(Profile.PGBOUNCER) not in (
            None,
            Effect.OK,
        ):
            assert rule.code in probed, rule.code


def test_report_pgbouncer_agreement(
    request: pytest.FixtureRequest, pgbouncer: PgBouncer, capsys: pytest.CaptureFixture[str]
) -> None:
    """How many statements ran through PgBouncer, and how many verdicts agree."""
    if not RESULTS:
        pytest.skip("run together with test_pgbouncer_verdicts_agree_with_pgbouncer")
    agree = sum(o.agrees for o in RESULTS)
    flagged = sum(o.flagged is not None for o in RESULTS)
    lines = [
        f"PgBouncer {format_version(pgbouncer.version)}: {len(RESULTS)} example statements "
        f"probed, {flagged} flagged by pinlint, {agree} agree, {len(RESULTS) - agree} disagree"
    ]
    lines += [
        f"  {o.rule} line {o.line} [{o.flagged.value if o.flagged else 'ok'}] {o.sql!r}: "
        f"{'; '.join(o.observed) or 'nothing leaks'}"
        for o in RESULTS
    ]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    request.node.user_properties.append(("agreement", f"{agree}/{len(RESULTS)}"))
    assert agree == len(RESULTS)
