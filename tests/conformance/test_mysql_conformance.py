"""pinlint's MySQL verdicts against a real MariaDB server.

Every statement of the MySQL example files (those written for RDS Proxy for MySQL:
`rules/PIN###-<name>.mysql.py` and the MySQL-only rules' files) runs on a throwaway
MariaDB, each on a fresh session with the earlier statements of its section replayed
first. RDS Proxy pins when a statement leaves session state it does not track, or
depends on such state; so for every statement pinlint flags, the server must show
the kind of state the flagging rule claims:

- `variable`: a session variable RDS Proxy does not track changed (`SHOW SESSION
  VARIABLES` before and after); `next-transaction`: `SET TRANSACTION` changed the
  isolation level of the session's next transaction (its plain reads lock rows that
  another session then cannot update: `SERIALIZABLE`);
- `user-variable`: a user variable appeared or changed (`information_schema.
  USER_VARIABLES`); `named-lock`: `IS_USED_LOCK(name)` is the session's connection id;
  `temp-table`: `SHOW CREATE TABLE` shows a `TEMPORARY` table; `prepared-statement`:
  the server's `Prepared_stmt_count` grew; `table-lock`: another session cannot lock
  the table (`lock_wait_timeout = 1`);
- `session-result`: the statement returns something else in a fresh session
  (`FOUND_ROWS()`, `@x`); `needs-session`: it fails in a fresh session (`EXECUTE` of an
  unknown statement); `clean-up-lost`: run from another session it does not undo this
  session's state (`RELEASE_LOCK`, `UNLOCK TABLES`);
- `executable-comment`: the statement does something else when its `/*! ... */`
  comment is made a plain comment, so the server ran its content.

Statements pinlint does not flag must leave no state but the variables RDS Proxy
tracks (and the current database, which it tracks too). PIN601's limit exists only in
RDS Proxy, so its statements are listed as such, not compared. The values that change
with every statement (`last_insert_id`, `warning_count`, ...) are not session state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql
import pytest
from checking import config_for
from expectations import parse

from pinlint.docs import example_files
from pinlint.engine import check_sites
from pinlint.extract import extract_python
from pinlint.model import HOLE, Dialect, Profile
from pinlint.rules import all_rules
from pinlint.rules.base import SqlRule
from pinlint.sql.lexer import Kind, lex, tokenize
from pinlint.targets import RDS_MYSQL_TRACKED

from .conftest import pg_required
from .mariadb import MariaDB, find_mariadb

pytestmark = pytest.mark.pg

CATALOGUE = Path(__file__).resolve().parents[2] / "rules"
DATABASE = "shop"

SETUP = """
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10, 2),
    tenant_id INT, archived INT DEFAULT 0);
INSERT INTO orders (total, tenant_id) VALUES (0, 42), (10, 42), (20, 7), (30, 7);
CREATE TABLE order_totals (tenant_id INT, total DECIMAL(10, 2));
CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100));
INSERT INTO users VALUES (7, 'ops@example.com'), (42, 'dev@example.com');
CREATE TABLE accounts (id INT PRIMARY KEY, balance INT);
INSERT INTO accounts VALUES (7, 100), (42, 100);
CREATE TABLE counters (id INT PRIMARY KEY, n INT);
CREATE TABLE job_locks (name VARCHAR(50) PRIMARY KEY);
INSERT INTO job_locks VALUES ('nightly-job');
CREATE TABLE lock_probe (a INT PRIMARY KEY);
INSERT INTO lock_probe VALUES (1);
"""

#: What each rule claims a flagged statement does to the session, as evidence kinds.
CLAIMS: dict[str, frozenset[str]] = {
    "PIN101": frozenset({"variable", "next-transaction"}),
    "PIN201": frozenset({"prepared-statement", "needs-session", "clean-up-lost"}),
    "PIN301": frozenset({"temp-table"}),
    "PIN306": frozenset({"user-variable", "session-result", "needs-session"}),
    "PIN401": frozenset({"named-lock", "clean-up-lost"}),
    "PIN402": frozenset({"table-lock", "clean-up-lost"}),
    "PIN602": frozenset({"executable-comment"}),
    "PIN603": frozenset({"session-result"}),
}
#: Rules about RDS Proxy's own limits, with nothing to see on the database.
PROXY_ONLY = {"PIN601": "the 16 KB limit is RDS Proxy's; MariaDB has none"}
#: Session variables that every statement changes (results of the last statement).
VOLATILE = frozenset(
    {
        "last_insert_id",
        "insert_id",
        "identity",
        "timestamp",
        "rand_seed1",
        "rand_seed2",
        "warning_count",
        "error_count",
        "in_transaction",
        "last_gtid",
        "gtid_seq_no",
        "pseudo_thread_id",  # the connection id: each session has its own
    }
)
#: Kinds that RDS Proxy tracks: allowed for statements pinlint does not flag.
TRACKED_KINDS = frozenset({"tracked-variable", "database"})
_TRANSACTION_CONTROL = ("begin", "start", "commit", "rollback")

EXAMPLES = [
    (rule, name, source)
    for rule in all_rules()
    if issubclass(rule, SqlRule)
    for name, profile, source in example_files(rule)
    if profile is Profile.RDS_PROXY_MYSQL
]


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    programs = find_mariadb()
    if programs is None:
        message = "MariaDB server programs (mariadb-install-db, mariadbd) not found"
        if pg_required():
            pytest.fail(f"{message}; PINLINT_REQUIRE_PG is set", pytrace=False)
        pytest.skip(message)
    with MariaDB(*programs) as server:
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {DATABASE}")
            cur.execute(f"USE {DATABASE}")
            cur.execute(SETUP)
            while cur.nextset():
                pass
        yield server


# -- observing a session ----------------------------------------------------------------


def runnable(sql: str) -> str:
    pieces, pos = [], 0
    for tok in tokenize(sql, Dialect.MYSQL):
        if tok.kind is Kind.PARAM:
            pieces += [sql[pos : tok.start], "'42'"]
            pos = tok.end
    return "".join([*pieces, sql[pos:]]).replace(HOLE, "x")


_LOCK_NAME = re.compile(r"GET_LOCK\(\s*'([^']*)'", re.IGNORECASE)
_TEMP_TABLE = re.compile(
    r"CREATE\s+(?:/\*!\d*\s*)?TEMPORARY\s+(?:\*/\s*)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)",
    re.IGNORECASE,
)
_LOCKED_TABLES = re.compile(
    r"\b(?:LOCK|FLUSH)\s+TABLES?\s+([\w`, ]+?)(?:\s+(?:READ|WRITE|WITH|FOR)\b)", re.IGNORECASE
)


@dataclass(frozen=True)
class Names:
    """Names of session objects to look for, taken from the SQL of the section."""

    locks: tuple[str, ...]
    temp_tables: tuple[str, ...]
    tables: tuple[str, ...]  # for the table-lock probe
    transactions: bool  # whether to look at the next transaction's isolation


def names_in(statements: list[str]) -> Names:
    text = "\n".join(statements)
    tables: set[str] = set()
    for match in _LOCKED_TABLES.findall(text):
        tables |= {t.strip(" `").split()[0] for t in match.split(",") if t.strip(" `")}
    tables -= {"WITH", "with", "READ", "read", "WRITE", "write", "FOR", "for"}
    if re.search(r"\b(LOCK|FLUSH)\b", text, re.IGNORECASE):
        tables.add("lock_probe")  # FLUSH TABLES WITH READ LOCK blocks every table
    return Names(
        tuple(sorted(set(_LOCK_NAME.findall(text)))),
        tuple(sorted(set(_TEMP_TABLE.findall(text)))),
        tuple(sorted(tables)),
        bool(re.search(r"\bTRANSACTION\b", text, re.IGNORECASE)),
    )


def _rows(conn: pymysql.Connection[Any], sql: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql)
        rows = list(cur.fetchall())
        while cur.nextset():
            pass
        return rows


def _table_locked(server: MariaDB, table: str) -> bool:
    with server.connect(DATABASE) as other:
        _rows(other, "SET SESSION lock_wait_timeout = 1")  # the lock is there or it is not
        try:
            _rows(other, f"LOCK TABLES `{table}` WRITE")
        except pymysql.err.OperationalError as exc:
            if exc.args[0] == 1205:  # lock wait timeout exceeded
                return True
            raise
        _rows(other, "UNLOCK TABLES")
        return False


def snapshot(server: MariaDB, conn: pymysql.Connection[Any], names: Names) -> dict[str, str]:
    """The session's state as `kind name -> value`. Reading it changes nothing the
    comparison looks at; the next transaction's isolation is read last, as reading it
    starts (and ends) that transaction."""
    state: dict[str, str] = {}
    for name, value in _rows(conn, "SHOW SESSION VARIABLES"):
        name = name.lower()
        if name not in VOLATILE:
            kind = "tracked-variable" if name in RDS_MYSQL_TRACKED else "variable"
            state[f"{kind} {name}"] = str(value)
    state["database"] = str(_rows(conn, "SELECT DATABASE()")[0][0])
    for name, value in _rows(
        conn, "SELECT variable_name, variable_value FROM information_schema.USER_VARIABLES"
    ):
        state[f"user-variable @{name.lower()}"] = str(value)
    for lock in names.locks:
        held = _rows(conn, f"SELECT IS_USED_LOCK('{lock}') = CONNECTION_ID()")[0][0]
        if held:
            state[f"named-lock {lock}"] = "held"
    for table in names.temp_tables:
        try:
            create = _rows(conn, f"SHOW CREATE TABLE `{table}`")[0][1]
        except pymysql.err.ProgrammingError:
            continue
        if "TEMPORARY" in create.upper().split("(")[0]:
            state[f"temp-table {table}"] = "exists"
    state["prepared-statement count"] = str(
        _rows(conn, "SHOW GLOBAL STATUS LIKE 'Prepared_stmt_count'")[0][1]
    )
    for table in names.tables:
        if _table_locked(server, table):
            state[f"table-lock {table}"] = "held"
    if names.transactions and not _rows(conn, "SELECT @@in_transaction")[0][0]:
        # information_schema.INNODB_TRX does not show a one-off isolation level
        # reliably; what SERIALIZABLE does does show: plain reads lock the rows.
        _rows(conn, "START TRANSACTION")
        _rows(conn, "SELECT * FROM lock_probe")
        with server.connect(DATABASE) as other:
            _rows(other, "SET SESSION innodb_lock_wait_timeout = 1")
            try:
                _rows(other, "UPDATE lock_probe SET a = a")
                locking = "no"
            except pymysql.err.OperationalError as exc:
                if exc.args[0] != 1205:
                    raise
                locking = "yes"
        _rows(conn, "ROLLBACK")
        state["next-transaction reads-lock-rows"] = locking
    return state


def changes(before: dict[str, str], after: dict[str, str]) -> list[tuple[str, str]]:
    """(kind, description) of every difference."""
    out = []
    for key in sorted(before.keys() | after.keys()):
        if before.get(key) != after.get(key):
            kind = key.split(" ", 1)[0]
            out.append((kind, f"{key}: {before.get(key, '(none)')} -> {after.get(key, '(none)')}"))
    return out


@dataclass
class Ran:
    result: Any
    error: str | None


def execute(conn: pymysql.Connection[Any], sql: str) -> Ran:
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            result = list(cur.fetchall()) if cur.description else cur.rowcount
            while cur.nextset():
                pass
        return Ran(result, None)
    except pymysql.err.MySQLError as exc:
        return Ran(None, f"({exc.args[0]}) {exc.args[1] if len(exc.args) > 1 else ''}")


def session(server: MariaDB, prefix: list[str]) -> pymysql.Connection[Any]:
    """A fresh session that has run `prefix` (latin1, so that `SET NAMES` shows)."""
    conn = server.connect(DATABASE, charset="latin1")
    for sql in prefix:
        ran = execute(conn, sql)
        assert ran.error is None, f"setup statement {sql!r} failed: {ran.error}"
    return conn


def blank_executable_comments(sql: str) -> str:
    """The SQL with its executable comments (as pinlint's lexer finds them, so never
    inside a string) made into plain comments."""
    out = sql
    for comment in reversed(lex(sql, Dialect.MYSQL).executable_comments):
        out = out[: comment.start] + "/* " + out[comment.body_start :]
    return out


# -- the comparison -------------------------------------------------------------------


@dataclass
class Outcome:
    file: str
    line: int
    sql: str
    flagged: tuple[str, ...]
    evidence: list[tuple[str, str]]
    agrees: bool
    note: str = ""


RESULTS: list[Outcome] = []


def observe(
    server: MariaDB, prefix: list[str], sql: str, names: Names, moved: bool
) -> list[tuple[str, str]]:
    """The evidence for one statement run after `prefix`."""
    with session(server, prefix) as before_conn:
        before = snapshot(server, before_conn, names)
    with session(server, prefix) as conn:
        ran = execute(conn, sql)
        assert ran.error is None, f"{sql!r} failed: {ran.error}"
        after = snapshot(server, conn, names)
        evidence = changes(before, after)
        if moved:
            with server.connect(DATABASE, charset="latin1") as fresh:
                elsewhere = execute(fresh, sql)
                _rows(fresh, "ROLLBACK")
            if elsewhere.error is not None:
                evidence.append(("needs-session", f"in a fresh session: {elsewhere.error}"))
            elif elsewhere.result != ran.result:
                evidence.append(
                    (
                        "session-result",
                        f"returns {ran.result!r} here, {elsewhere.result!r} in a fresh session",
                    )
                )
            # State the statement removed here: does running it elsewhere remove it too?
            removed = [k for k in before if k not in after and not k.startswith("variable")]
            if removed:
                with session(server, prefix) as owner:
                    with server.connect(DATABASE, charset="latin1") as other:
                        execute(other, sql)
                    still = snapshot(server, owner, names)
                evidence += [
                    ("clean-up-lost", f"run from another session, {key} stays")
                    for key in removed
                    if key in still
                ]
    if lex(sql, Dialect.MYSQL).executable_comments:
        with session(server, prefix) as plain:
            plain_ran = execute(plain, blank_executable_comments(sql))
            plain_after = snapshot(server, plain, names)
        with server.connect(DATABASE) as cleanup:
            for table in names.temp_tables:  # a plain CREATE TABLE made a real one
                _rows(cleanup, f"DROP TABLE IF EXISTS `{table}`")
        if changes(before, plain_after) != evidence or plain_ran.result != ran.result:
            evidence.append(
                ("executable-comment", "as a plain comment the statement does something else")
            )
    return evidence


def probe_example(name: str, source: str, server: MariaDB) -> list[Outcome]:
    exp = parse(CATALOGUE / name)
    # The file's settings (a lowered size limit), with every rule: a statement may
    # concern several (`EXECUTE s USING @x` is PIN201 and PIN306).
    config = config_for(exp)
    sites = sorted(extract_python(source.encode(), name).sites, key=lambda s: s.span)
    outcomes = []
    for section in exp.sections:
        section_sites = [s for s in sites if section.start <= s.statement_line <= section.end]
        statements = [runnable(s.text) for s in section_sites]
        names = names_in(statements)
        in_transaction = False
        for i, site in enumerate(section_sites):
            words = statements[i].split()
            verb = words[0].lower() if words else ""
            if verb in _TRANSACTION_CONTROL:
                in_transaction = verb in ("begin", "start")
                continue
            flagged = tuple(sorted({d.code for d in check_sites([site], config)}))
            proxy_only = [c for c in flagged if c in PROXY_ONLY]
            evidence = observe(
                server, statements[:i], statements[i], names, bool(flagged) and not in_transaction
            )
            kinds = {kind for kind, _ in evidence}
            if proxy_only and set(flagged) <= set(PROXY_ONLY):
                agrees = not (kinds - TRACKED_KINDS)
                note = "; ".join(PROXY_ONLY[c] for c in proxy_only)
            elif flagged:
                agrees = all(kinds & CLAIMS[code] for code in flagged if code in CLAIMS)
                note = ""
            else:
                agrees = not (kinds - TRACKED_KINDS)
                note = ""
            outcomes.append(
                Outcome(name, site.statement_line, statements[i], flagged, evidence, agrees, note)
            )
    return outcomes


@pytest.mark.parametrize(("rule", "name", "source"), EXAMPLES, ids=[n for _, n, _ in EXAMPLES])
def test_mysql_verdicts_agree_with_mariadb(
    rule: type[SqlRule], name: str, source: str, mariadb: MariaDB
) -> None:
    outcomes = probe_example(name, source, mariadb)
    RESULTS.extend(outcomes)
    assert any(o.flagged for o in outcomes), f"{name}: no flagged statement ran"
    wrong = [o for o in outcomes if not o.agrees]
    assert not wrong, "\n".join(
        f"{name}:{o.line}: {o.sql!r}: pinlint flags {list(o.flagged) or 'nothing'}, "
        f"MariaDB shows {[d for _, d in o.evidence] or 'nothing'}"
        for o in wrong
    )


def test_every_mysql_rule_has_a_probed_example() -> None:
    probed = {rule.code for rule, _, _ in EXAMPLES}
    for rule in all_rules():
        if issubclass(rule, SqlRule) and rule.applies_to(Profile.RDS_PROXY_MYSQL):
            assert rule.code in probed, rule.code
            assert rule.code in CLAIMS or rule.code in PROXY_ONLY, rule.code


def test_report_mysql_agreement(
    request: pytest.FixtureRequest, mariadb: MariaDB, capsys: pytest.CaptureFixture[str]
) -> None:
    """How many example statements ran on MariaDB, and how many verdicts agree."""
    if not RESULTS:
        pytest.skip("run together with test_mysql_verdicts_agree_with_mariadb")
    with mariadb.connect() as conn:
        version = _rows(conn, "SELECT VERSION()")[0][0]
    agree = sum(o.agrees for o in RESULTS)
    flagged = sum(bool(o.flagged) for o in RESULTS)
    lines = [
        f"MariaDB {version}: {len(RESULTS)} example statements probed, {flagged} flagged by "
        f"pinlint, {agree} agree, {len(RESULTS) - agree} disagree"
    ]
    for o in RESULTS:
        shown = "; ".join(d for _, d in o.evidence) or "no session state"
        note = f" ({o.note})" if o.note else ""
        lines.append(f"  {o.file}:{o.line} {list(o.flagged) or 'ok'} {o.sql[:70]!r}: {shown}{note}")
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    request.node.user_properties.append(("agreement", f"{agree}/{len(RESULTS)}"))
    assert agree == len(RESULTS)
