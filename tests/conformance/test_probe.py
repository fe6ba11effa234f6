"""Prove the session-state probe itself against a real PostgreSQL server.

Each case states what the server is expected to keep for the session after
the SQL. Where PostgreSQL's behaviour is surprising, the comment says so; the
expectations follow what the server does, not what one might guess.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus

from . import probe as probe_module
from .pgcluster import PgCluster
from .probe import STATE_KINDS, StateReport, custom_setting_candidates, probe

pytestmark = pytest.mark.pg


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    kinds: frozenset[str]
    setup: str = ""
    in_transaction: bool = False
    detail: str | None = None  # a substring one detail must contain
    error: str | None = None  # a substring of the expected error


def case(
    id: str,
    sql: str,
    *kinds: str,
    setup: str = "",
    in_transaction: bool = False,
    detail: str | None = None,
    error: str | None = None,
) -> Any:
    return pytest.param(
        Case(id, sql, frozenset(kinds), setup, in_transaction, detail, error), id=id
    )


SEQ = "CREATE SEQUENCE s"
TABLE = "CREATE TABLE t (a int); INSERT INTO t VALUES (0)"

CASES = [
    # -- settings ----------------------------------------------------------
    case(
        "set-search-path",
        "SET search_path TO public",
        "setting",
        detail="""setting search_path: '"$user", public' -> 'public'""",
    ),
    case(
        "set-local-in-transaction",
        "SET LOCAL statement_timeout = 5",
        "setting",
        in_transaction=True,
        detail="setting statement_timeout: '0' -> '5'",
    ),
    # Outside a transaction block SET LOCAL only warns and changes nothing.
    case("set-local-autocommit", "SET LOCAL statement_timeout = 5"),
    case(
        "set-config-session",
        "SELECT set_config('app.tenant', '42', false)",
        "setting",
        detail="setting app.tenant: (unset) -> '42'",
    ),
    case(
        "set-config-local-in-transaction",
        "SELECT set_config('app.tenant', '42', true)",
        "setting",
        in_transaction=True,
        detail="setting app.tenant: (unset) -> '42'",
    ),
    # Surprise: the transaction-local value is gone afterwards, but the
    # placeholder stays defined as '' for the rest of the session, so
    # current_setting('app.tenant') stops raising.
    case(
        "set-config-local-autocommit",
        "SELECT set_config('app.tenant', '42', true)",
        "setting",
        detail="setting app.tenant: (unset) -> ''",
    ),
    case(
        "set-custom-setting",
        "SET app.tenant = '7'",
        "setting",
        detail="setting app.tenant: (unset) -> '7'",
    ),
    # Same value, but the session now carries its own setting (source 'session').
    case(
        "set-search-path-same-value",
        'SET search_path TO "$user", public',
        "setting",
        detail="source default -> session",
    ),
    case(
        "reset-all",
        "RESET ALL",
        "setting",
        setup="SET work_mem = '8MB'",
        detail="setting work_mem: '8192' -> '4096'",
    ),
    # The isolation level shows up as a (transaction-scoped) setting.
    case(
        "begin-serializable",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "open-transaction",
        "setting",
        detail="setting transaction_isolation: 'read committed' -> 'serializable'",
    ),
    # -- prepared statements and cursors -----------------------------------
    case(
        "prepare",
        "PREPARE q AS SELECT 1",
        "prepared-statement",
        detail="prepared statement q: PREPARE q AS SELECT 1",
    ),
    case(
        "declare-with-hold",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "cursor-with-hold",
        detail="cursor WITH HOLD c",
    ),
    case(
        "declare-in-transaction",
        "DECLARE c CURSOR FOR SELECT 1",
        "cursor",
        in_transaction=True,
        detail="cursor c: DECLARE c CURSOR FOR SELECT 1",
    ),
    case(
        "declare-autocommit",
        "DECLARE c CURSOR FOR SELECT 1",
        error="DECLARE CURSOR can only be used in transaction blocks",
    ),
    # -- temporary objects, LISTEN, locks, sequences ------------------------
    case("create-temp-table", "CREATE TEMP TABLE x (a int)", "temp-object", detail="temp table x"),
    case("select-into-temp", "SELECT 1 INTO TEMP y", "temp-object", detail="temp table y"),
    case("temp-on-commit-drop-autocommit", "CREATE TEMP TABLE x (a int) ON COMMIT DROP"),
    case("listen", "LISTEN jobs", "listen", detail="listening on channel jobs"),
    # LISTEN inside a transaction only takes effect at COMMIT.
    case(
        "listen-in-transaction",
        "LISTEN jobs",
        "listen",
        in_transaction=True,
        detail="after COMMIT: listening on channel jobs",
    ),
    case(
        "advisory-lock",
        "SELECT pg_advisory_lock(1)",
        "advisory-lock",
        detail="advisory lock 0/1/1 ExclusiveLock held",
    ),
    case(
        "advisory-xact-lock-in-transaction",
        "SELECT pg_advisory_xact_lock(1)",
        "advisory-lock",
        in_transaction=True,
    ),
    case("advisory-xact-lock-autocommit", "SELECT pg_advisory_xact_lock(1)"),
    case(
        "nextval",
        "SELECT nextval('s')",
        "sequence-state",
        setup=SEQ,
        detail="currval(s): (unset) -> 1",
    ),
    # setval(..., is_called => true) sets currval for the session but not lastval.
    case(
        "setval",
        "SELECT setval('s', 10)",
        "sequence-state",
        setup=SEQ,
        detail="currval(s): (unset) -> 10",
    ),
    # -- transactions and roles ---------------------------------------------
    case("begin", "BEGIN", "open-transaction", detail="transaction left open (INTRANS)"),
    # The probe's own BEGIN is not reported.
    case("select-in-transaction", "SELECT 1", in_transaction=True),
    # role and session_authorization are hidden from pg_settings: only "role".
    case(
        "set-role",
        "SET ROLE {role}",
        "role",
        setup="CREATE ROLE {role}",
        detail="current_user: postgres -> {role}",
    ),
    case(
        "set-session-authorization",
        "SET SESSION AUTHORIZATION {role}",
        "role",
        setup="CREATE ROLE {role}",
        detail="session_user: postgres -> {role}",
    ),
    # -- several statements in one string, and clearing state ----------------
    case(
        "multi-statement",
        "SET search_path TO public; PREPARE q AS SELECT 1; LISTEN jobs",
        "setting",
        "prepared-statement",
        "listen",
    ),
    case(
        "discard-all",
        "DISCARD ALL",
        "prepared-statement",
        "listen",
        "setting",
        setup="PREPARE q AS SELECT 1; LISTEN jobs; SET work_mem = '8MB'",
        detail="prepared statement q removed",
    ),
    # -- the probe's own queries are not fooled by the session's state -------
    case(
        "empty-search-path-after-nextval",
        "SET search_path TO ''",
        "setting",
        setup="CREATE SEQUENCE s; SELECT nextval('s')",
    ),
    case(
        "temp-view-shadowing-pg-settings",
        "CREATE TEMP VIEW pg_settings AS SELECT 1 AS x",
        "temp-object",
        detail="temp view pg_settings",
    ),
    case(
        "statement-timeout-in-transaction",
        "SET LOCAL statement_timeout = 1; SET LOCAL idle_in_transaction_session_timeout = 1",
        "setting",
        in_transaction=True,
    ),
    # -- statements that leave nothing --------------------------------------
    case("select-1", "SELECT 1"),
    case("update", "UPDATE t SET a = 1", setup=TABLE),
    case("show", "SHOW search_path"),
    case("current-setting", "SELECT current_setting('TimeZone')"),
    case("notify", "NOTIFY jobs"),
    case("do-block", "DO $$ DECLARE n int; BEGIN n := 1; END $$"),
    case("create-table-default-nextval", "CREATE TABLE z (id int DEFAULT nextval('s'))", setup=SEQ),
    case("failing-statement", "SELECT 1/0", error="division by zero"),
]


@pytest.mark.parametrize("c", CASES)
def test_probe_case(c: Case, pg_connect: Any, role_name: str) -> None:
    sql = c.sql.format(role=role_name)
    setup = c.setup.format(role=role_name)
    report = probe(pg_connect, sql, setup=setup, in_transaction=c.in_transaction)

    assert isinstance(report, StateReport)
    assert report.kinds <= STATE_KINDS
    if c.error is not None:
        assert report.error is not None and c.error in report.error
        assert report == StateReport(kinds=frozenset(), details=(), error=report.error)
        return
    assert report.error is None
    assert report.kinds == c.kinds, report.details
    if c.detail is not None:
        wanted = c.detail.format(role=role_name)
        assert any(wanted in d for d in report.details), report.details
    assert bool(report.details) == bool(report.kinds)


def test_each_probe_uses_a_fresh_connection(pg_connect: Any) -> None:
    opened: list[psycopg.Connection[Any]] = []

    def factory() -> psycopg.Connection[Any]:
        conn = pg_connect()
        opened.append(conn)
        return conn

    first = probe(factory, "PREPARE q AS SELECT 1; LISTEN jobs")
    second = probe(factory, "PREPARE q AS SELECT 1; LISTEN jobs")
    assert first == second
    assert first.kinds == {"prepared-statement", "listen"}
    assert len(opened) == 2
    assert all(conn.closed for conn in opened)


def test_snapshot_leaves_no_state(pg_connect: Any) -> None:
    with pg_connect() as conn:
        conn.execute("CREATE SEQUENCE s")
        marker = conn.execute("SELECT pg_catalog.pg_backend_pid()").fetchone()
        for _ in range(2):
            probe_module._snapshot(conn, ("app.tenant",))
        assert conn.info.transaction_status == TransactionStatus.IDLE
        assert conn.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM pg_cursors").fetchone() == (0,)
        assert conn.execute("SELECT pg_my_temp_schema()::int").fetchone() == (0,)
        assert conn.execute("SELECT current_setting('app.tenant', true)").fetchone() == (None,)
        assert conn.execute("SELECT pg_backend_pid()").fetchone() == marker
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState):
            conn.execute("SELECT lastval()")


def test_snapshot_survives_tiny_statement_timeout(pg_connect: Any) -> None:
    report = probe(pg_connect, "SET statement_timeout = 1; SET lock_timeout = 1")
    assert report.error is None
    assert report.kinds == {"setting"}
    assert len(report.details) == 2


def test_failing_setup_raises(pg_connect: Any) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        probe(pg_connect, "SELECT 1", setup="SELECT * FROM missing_table")


def test_custom_setting_candidates() -> None:
    assert custom_setting_candidates("SELECT set_config('App.Tenant', '1', false)") == (
        "app.tenant",
    )
    assert custom_setting_candidates("SET a.b.c = 1", "SELECT t.x FROM t") == ("a.b.c", "t.x")
    assert custom_setting_candidates("SELECT 1") == ()


def test_watch_settings_catches_names_not_in_the_text(pg_connect: Any) -> None:
    sql = "SELECT set_config(format('%s.%s', 'app', 'user'), '9', false)"
    assert probe(pg_connect, sql).kinds == frozenset()
    report = probe(pg_connect, sql, watch_settings=["app.user"])
    assert report.kinds == {"setting"}
    assert report.details == ("setting app.user: (unset) -> '9'",)


def test_cluster_listens_only_on_its_socket(pg: PgCluster) -> None:
    with pg.connect() as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("",)
        assert conn.execute("SELECT inet_server_addr()").fetchone() == (None,)
        assert conn.info.host == str(pg.socket_dir)
        assert conn.autocommit
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    mode = os.stat(pg.socket_dir).st_mode
    assert stat.S_IMODE(mode) == 0o700
    assert f"host={pg.socket_dir}" in pg.conninfo
    assert f"port={pg.port}" in pg.conninfo
