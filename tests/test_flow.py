"""PIN501: the control-flow graphs of `pinlint.extract.flow`, the analysis of
`pinlint.rules.open_transaction` over them, Lambda handler discovery, and the output."""

from __future__ import annotations

import json
import textwrap
from dataclasses import replace
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from pinlint.api import lint_paths, lint_source
from pinlint.cache import salt
from pinlint.cli import cli
from pinlint.config import DEFAULT_EXCLUDES, Config
from pinlint.extract import extract_python, might_matter
from pinlint.extract import flow as builder
from pinlint.extract.flow import _classify, draft_flows
from pinlint.extract.positions import node_ranges
from pinlint.extract.visitor import collect
from pinlint.flow import Ending, ExitKind, FunctionFlow, Op
from pinlint.lambdas import lambda_handlers, with_lambda_handlers
from pinlint.model import Confidence, Diagnostic, Target
from pinlint.rules.base import RuleContext
from pinlint.rules.open_transaction import OpenTransaction, is_lambda_handler, leaks

ONLY = Config(select=("PIN501",))


def source(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def at(text: str, marker: str) -> int:
    """The line of the first line of `text` that holds `marker`."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if marker in line)


def flows(text: str, path: str = "app.py") -> dict[str, FunctionFlow]:
    """Every function of `text` modelled (not only those that open a transaction)."""
    module = cst.parse_module(text)
    drafts = draft_flows(module, collect(module).imports, None)
    ranges = node_ranges(module, [n for d in drafts for n in d.nodes()])
    return {d.qualname: d.finish(ranges, path, None) for d in drafts}


def flow(text: str) -> FunctionFlow:
    (only,) = flows(text).values()
    return only


def ways_out(text: str) -> set[tuple[int, str, int]]:
    """(line that opened, how it leaves, line it leaves from) for every leak."""
    out = set()
    for f in flows(text).values():
        for leak in leaks(f):
            if leak.exit.kind is ExitKind.EXCEPTION:
                assert leak.via is not None
                line = f.events[leak.via].span.line
            else:
                assert leak.exit.span is not None
                line = leak.exit.span.line
            out.add((f.events[leak.origin].span.line, leak.exit.kind.value, line))
    return out


def findings(text: str, path: str = "app.py", **config: object) -> list[Diagnostic]:
    result = lint_source(text, path, replace(ONLY, **config) if config else ONLY)
    return [d for d in result.diagnostics if d.code == "PIN501"]


# -- the graph ------------------------------------------------------------------------


def test_straight_line_leaks_at_the_return_and_on_an_exception() -> None:
    text = source(
        """
        def save(row):
            cur = CONN.cursor()
            cur.execute("BEGIN")
            cur.execute("INSERT INTO t VALUES (%s)", (row,))
            return True
        """
    )
    begin, insert, ret = at(text, "BEGIN"), at(text, "INSERT"), at(text, "return")
    assert ways_out(text) == {(begin, "return", ret), (begin, "exception", insert)}


def test_every_branch_closes() -> None:
    text = source(
        """
        def save(row):
            CUR.execute("BEGIN")
            try:
                if row.ok:
                    CUR.execute("COMMIT")
                elif row.retry:
                    CUR.execute("ROLLBACK")
                    return None
                else:
                    CUR.execute("ROLLBACK")
            except Exception:
                CUR.execute("ROLLBACK")
                raise
            return row
        """
    )
    assert ways_out(text) == set()


def test_a_missing_elif_branch_leaks_at_the_end_of_the_body() -> None:
    text = source(
        """
        def save(row):
            CUR.execute("BEGIN")
            if row.ok:
                CUR.execute("COMMIT")
            elif row.bad:
                CUR.execute("ROLLBACK")
            row.done = True
        """
    )
    assert ways_out(text) == {(at(text, "BEGIN"), "end", at(text, "row.done"))}


def test_finally_runs_on_return_and_on_exception() -> None:
    text = source(
        """
        def save(row):
            CUR.execute("BEGIN")
            try:
                CUR.execute("INSERT INTO t VALUES (1)")
                return True
            finally:
                CUR.execute("ROLLBACK")
        """
    )
    f = flow(text)
    assert ways_out(text) == set()
    rollback = next(i for i, e in enumerate(f.events) if e.ending is Ending.ROLLBACK)
    # One copy on the way to the return, one on the way out for an exception.
    assert sum(rollback in b.steps for b in f.blocks) == 2
    kinds = {b.exit.kind for b in f.blocks if b.exit is not None}
    assert kinds == {ExitKind.RETURN, ExitKind.EXCEPTION}  # the end cannot be reached


def test_nested_finally_blocks_run_innermost_first() -> None:
    text = source(
        """
        def save(pool):
            conn = pool.getconn()
            try:
                cur = conn.cursor()
                try:
                    cur.execute("BEGIN")
                    cur.execute("UPDATE t SET a = 1")
                    if cur.rowcount == 0:
                        return False
                    cur.execute("COMMIT")
                finally:
                    cur.close()
            finally:
                pool.putconn(conn)
            return True
        """
    )
    begin = at(text, "BEGIN")
    assert ways_out(text) == {
        (begin, "return", at(text, "return False")),
        (begin, "exception", at(text, "UPDATE")),
        (begin, "exception", at(text, "cur.close()")),
        (begin, "exception", at(text, "putconn")),
    }
    fixed = text.replace("pool.putconn(conn)", "conn.rollback()\n        pool.putconn(conn)")
    assert ways_out(fixed) == set()


def test_an_exception_a_handler_does_not_match_goes_on_outwards() -> None:
    text = source(
        """
        def save():
            CUR.execute("BEGIN")
            try:
                CUR.execute("INSERT INTO t VALUES (1)")
                CUR.execute("COMMIT")
            except ValueError:
                CUR.execute("ROLLBACK")
                raise
        """
    )
    assert ways_out(text) == {(at(text, "BEGIN"), "exception", at(text, "INSERT"))}
    assert ways_out(text.replace("ValueError", "(ValueError, Exception)")) == set()
    assert ways_out(text.replace("except ValueError", "except")) == set()


def test_a_handler_that_swallows_the_exception_goes_on_with_the_transaction_open() -> None:
    text = source(
        """
        def save():
            CUR.execute("BEGIN")
            try:
                CUR.execute("INSERT INTO t VALUES (1)")
                CUR.execute("COMMIT")
            except Exception:
                log("failed")
            return 1
        """
    )
    begin = at(text, "BEGIN")
    assert ways_out(text) == {
        (begin, "return", at(text, "return 1")),
        (begin, "exception", at(text, "log(")),
    }
    (diag,) = findings(text)
    assert diag.confidence is Confidence.MEDIUM  # every way out goes through an exception
    assert any("after the exception from line" in r.message for r in diag.related)


def test_a_failed_begin_opens_nothing_and_a_failed_commit_leaves_nothing_open() -> None:
    text = source(
        """
        def save():
            try:
                CUR.execute("BEGIN")
            except Exception:
                return None
            try:
                CUR.execute("INSERT INTO t VALUES (1)")
            except Exception:
                CUR.execute("ROLLBACK")
                raise
            CUR.execute("COMMIT")
        """
    )
    assert ways_out(text) == set()


def test_break_skips_the_loop_else_and_continue_goes_back_to_the_head() -> None:
    text = source(
        """
        def save(rows):
            CUR.execute("BEGIN")
            try:
                for row in rows:
                    if row.skip:
                        continue
                    if row.last:
                        break
                    CUR.execute("INSERT INTO t VALUES (%s)", (row,))
                else:
                    CUR.execute("COMMIT")
            except Exception:
                CUR.execute("ROLLBACK")
                raise
            done()
        """
    )
    begin = at(text, "BEGIN")
    assert ways_out(text) == {(begin, "end", at(text, "done()")), (begin, "exception", at(text, "done()"))}
    assert ways_out(text.replace("break", "continue")) == set()


def test_while_true_without_break_never_reaches_the_end() -> None:
    text = source(
        """
        def serve():
            while True:
                CUR.execute("BEGIN")
                try:
                    handle()
                    CUR.execute("COMMIT")
                except Exception:
                    CUR.execute("ROLLBACK")
                    raise
        """
    )
    f = flow(text)
    assert ExitKind.END not in {b.exit.kind for b in f.blocks if b.exit is not None}
    assert ways_out(text) == set()


def test_early_return_in_a_while_loop() -> None:
    text = source(
        """
        def drain(queue):
            CUR.execute("BEGIN")
            try:
                while queue:
                    item = queue.pop()
                    if item is None:
                        return
                    CUR.execute("DELETE FROM q WHERE id = %s", (item,))
                CUR.execute("COMMIT")
            except Exception:
                CUR.execute("ROLLBACK")
                raise
        """
    )
    assert ways_out(text) == {(at(text, "BEGIN"), "return", at(text, "return"))}


def test_match_with_a_wildcard_has_no_fall_through() -> None:
    text = source(
        """
        def apply(command):
            CUR.execute("BEGIN")
            match command:
                case "commit":
                    CUR.execute("COMMIT")
                case _:
                    CUR.execute("ROLLBACK")
        """
    )
    assert ways_out(text) == set()
    partial = text.replace("case _:", "case 'rollback':")
    assert ways_out(partial) == {(at(text, "BEGIN"), "end", at(text, "ROLLBACK"))}
    guarded = text.replace("case _:", "case _ if command:")
    assert ways_out(guarded) == {(at(text, "BEGIN"), "end", at(text, "ROLLBACK"))}


def test_raise_reports_the_raise_statement() -> None:
    text = source(
        """
        def check(total):
            CUR.execute("BEGIN")
            if total < 0:
                raise ValueError(total)
            CUR.execute("COMMIT")
        """
    )
    (diag,) = findings(text)
    raise_line = at(text, "raise")
    assert f"is still open when `check` raises at line {raise_line}" in diag.message
    assert [r.message for r in diag.related] == [
        f"raises at line {raise_line} with the transaction open"
    ]


@pytest.mark.parametrize(
    "item",
    [
        "CONN",
        "self.conn",
        "CONN.transaction()",
        "session.begin()",
        "engine.begin() as conn",
        "engine.connect() as conn",
        "pool.connection() as conn",
        "transaction.atomic()",
        "closing(CONN)",
        "Session(engine) as session",
    ],
)
def test_with_scopes_close_on_every_way_out(item: str) -> None:
    text = source(
        f"""
        def save(self, rows):
            with {item}:
                CUR.execute("BEGIN")
                for row in rows:
                    if row is None:
                        return
                    CUR.execute("INSERT INTO t VALUES (%s)", (row,))
        """
    )
    assert ways_out(text) == set()


def test_a_cursor_context_manager_closes_no_transaction() -> None:
    text = source(
        """
        def save():
            with CONN.cursor() as cur:
                cur.execute("BEGIN")
                cur.execute("INSERT INTO t VALUES (1)")
                cur.close()
        """
    )
    assert (at(text, "BEGIN"), "end", at(text, "cur.close()")) in ways_out(text)


def test_async_with_and_await() -> None:
    text = source(
        """
        async def save(pool):
            async with pool.acquire() as conn:
                async with conn.transaction():
                    await conn.execute("INSERT INTO t VALUES (1)")

        async def bad(conn):
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO t VALUES (2)")
            await conn.execute("COMMIT")
        """
    )
    assert ways_out(text) == {(at(text, "BEGIN"), "exception", at(text, "VALUES (2)"))}
    assert flows(text)["bad"].is_async


def test_transaction_decorators_close_by_construction() -> None:
    text = source(
        """
        @transaction.atomic
        def one():
            CUR.execute("BEGIN")
            return 1

        @db.atomic()
        def two():
            CUR.execute("BEGIN")

        @contextmanager
        def three():
            CUR.execute("BEGIN")
            yield
            CUR.execute("COMMIT")
        """
    )
    yield_line = at(text, "yield")
    assert ways_out(text) == {(at(text, "def three") + 1, "exception", yield_line)}
    assert ways_out(text.replace("@contextmanager", "@pytest.fixture(scope='module')")) == set()
    (diag,) = findings(text)
    assert f"an exception thrown in at the `yield` on line {yield_line}" in diag.message


def test_commit_and_chain_opens_the_next_transaction() -> None:
    text = source(
        """
        def batch():
            CUR.execute("BEGIN")
            CUR.execute("INSERT INTO t VALUES (1)")
            CUR.execute("COMMIT AND CHAIN")
            CUR.execute("INSERT INTO t VALUES (2)")
            CUR.execute("COMMIT")
        """
    )
    assert {(line, kind) for line, kind, _ in ways_out(text)} == {
        (at(text, "BEGIN"), "exception"),
        (at(text, "AND CHAIN"), "exception"),
    }


def test_a_function_too_large_to_model_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder, "MAX_BLOCKS", 8)
    text = source(
        """
        def big(rows):
            CUR.execute("BEGIN")
            for row in rows:
                try:
                    if row:
                        return
                finally:
                    log(row)
        """
    )
    f = flow(text)
    assert not f.complete and f.blocks and not f.events
    assert list(OpenTransaction().check(f, RuleContext())) == []


def test_only_functions_that_may_open_a_transaction_are_modelled() -> None:
    text = source(
        """
        import psycopg2

        def reads(cur):
            cur.execute("SELECT 1")
            cur.close()

        def opens(cur):
            cur.execute("BEGIN")

        class Repo:
            def begin(self):
                self.session.begin()

            def nested(self):
                def inner():
                    CONN.autocommit = False
                return inner
        """
    )
    extraction = extract_python(text.encode(), "app.py")
    assert {(f.qualname, f.module_level) for f in extraction.flows} == {
        ("opens", True),
        ("Repo.begin", False),
        ("Repo.nested.<locals>.inner", False),
    }
    assert extract_python(b"def f(cur):\n    cur.execute('SELECT 1')\n", "a.py").flows == ()


@pytest.mark.parametrize(
    ("text", "hinted"),
    [
        ('cur.execute("BEGIN")', True),
        ('cur.execute("""\n    begin;\n    INSERT INTO t VALUES (1);\n""")', True),
        ("cur.execute('\\nBEGIN')", True),
        ('log("could not begin")', False),
        ('cur.execute("COMMIT AND CHAIN")', True),
        ('cur.execute("start  transaction read only")', True),
        ("session.begin()", True),
        ("conn.autocommit = False", True),
        ("tr = conn.transaction()", True),
        ("async with conn.transaction():\n    pass", False),
        ("with engine.begin() as conn:\n    pass", False),
        ("conn.autocommit = True", False),
        ('LOG = "transaction began"', False),
        ("import psycopg2\nconn = psycopg2.connect(dsn)", True),
        ("import sqlite3\nconn = sqlite3.connect(path)", False),
        ("sock.connect((host, port))", False),
        ("beginning = commitment = 1", False),
    ],
)
def test_the_hint_that_makes_extraction_parse_whole_functions(text: str, hinted: bool) -> None:
    assert builder.may_open_transaction(text) is hinted


def test_only_driver_connections_open_implicit_transactions() -> None:
    text = source(
        """
        import sqlite3
        import psycopg2

        def lite(path):
            conn = sqlite3.connect(path)
            conn.execute("INSERT INTO t VALUES (1)")

        def pg(dsn):
            conn = psycopg2.connect(dsn)
            conn.cursor().execute("INSERT INTO t VALUES (1)")
        """
    )
    assert [f.qualname for f in extract_python(text.encode(), "app.py").flows] == ["pg"]
    assert [d.span.line for d in findings(text)] == [len(text.splitlines())]


ROOT = Path(__file__).resolve().parents[1]
TRANSACTION_FILES = sorted(
    [*(ROOT / "tests" / "fixtures").rglob("*.py"), *(ROOT / "rules").glob("*.py")]
)


def _reported(flows: tuple[FunctionFlow, ...]) -> list[object]:
    rule, ctx = OpenTransaction(), RuleContext()
    return [(f.qualname, f.module_level, list(rule.check(f, ctx))) for f in flows]


@pytest.mark.parametrize("path", TRANSACTION_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_parsing_only_the_functions_changes_nothing(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole-module parse (the fallback) may model a few more functions, those
    whose only transaction code is a `with` that closes it: it finds the same."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    cut = builder.function_flows(text, "m.py")
    monkeypatch.setattr(builder, "_cut_functions", lambda text: None)
    whole = builder.function_flows(text, "m.py")
    assert {f.qualname for f in cut} <= {f.qualname for f in whole}
    assert [r for r in _reported(whole) if r[2]] == [r for r in _reported(cut) if r[2]]


def test_cut_methods_keep_their_names_and_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    text = source(
        """
        import psycopg2

        class Orders:
            @property
            def count(self):
                return 1

            @staticmethod
            def save(row):
                def inner():
                    CUR.execute("BEGIN")
                CUR.execute("BEGIN")
                return inner

        if True:
            async def handler(event, context):
                await CONN.execute("BEGIN")
        """
    )
    cut = builder.function_flows(text, "m.py")
    assert {(f.qualname, f.module_level, f.span.line) for f in cut} == {
        ("Orders.save", False, at(text, "def save")),
        ("Orders.save.<locals>.inner", False, at(text, "def inner")),
        ("handler", True, at(text, "async def handler")),
    }
    begin = next(e for f in cut if f.name == "inner" for e in f.events if e.op is Op.BEGIN)
    assert (begin.span.line, begin.span.col) == (at(text, "def inner") + 1, 13)
    monkeypatch.setattr(builder, "_cut_functions", lambda text: None)
    assert builder.function_flows(text, "m.py") == cut


def test_the_gate_lets_transaction_code_through() -> None:
    assert might_matter(b"def f(session):\n    session.begin()\n    session.add(x)\n")
    assert might_matter(b"def f(c):\n    c.execute('BEGIN')\n")
    assert might_matter(b"def f(c):\n    c.autocommit = False\n    c.cursor().execute(q)\n")
    assert not might_matter(b"def f():\n    return beginning + commitment\n")


# -- what the SQL and the calls mean --------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "kinds"),
    [
        ("BEGIN", [("begin", False)]),
        ("begin work", [("begin", False)]),
        ("BEGIN ISOLATION LEVEL SERIALIZABLE", [("begin", False)]),
        ("START TRANSACTION READ ONLY", [("begin", False)]),
        ("COMMIT", [("commit", False)]),
        ("END", [("commit", False)]),
        ("COMMIT AND CHAIN", [("commit", True)]),
        ("COMMIT AND NO CHAIN", [("commit", False)]),
        ("ROLLBACK", [("rollback", False)]),
        ("ABORT", [("rollback", False)]),
        ("ROLLBACK TO SAVEPOINT s1", [("other", False)]),
        ("ROLLBACK PREPARED 'x'", [("other", False)]),
        ("COMMIT PREPARED 'x'", [("other", False)]),
        ("PREPARE TRANSACTION 'x'", [("commit", False)]),
        ("SAVEPOINT s1", [("other", False)]),
        ("INSERT INTO t VALUES (1)", [("dml", False)]),
        ("WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x", [("dml", False)]),
        ("WITH x AS (SELECT 1) SELECT * FROM x", [("other", False)]),
        ("SELECT 'BEGIN'", [("other", False)]),
        ("-- BEGIN\nSELECT 1", [("other", False)]),
        ("BEGIN; INSERT INTO t VALUES (1); COMMIT", [("begin", False), ("dml", False), ("commit", False)]),
        ("DO $$ BEGIN PERFORM 1; END $$", [("other", False)]),
    ],
)
def test_transaction_sql_is_classified_by_its_leading_keywords(
    sql: str, kinds: list[tuple[str, bool]]
) -> None:
    assert [(kind, chains) for kind, chains, _ in _classify(sql)] == kinds


def test_events_of_a_function() -> None:
    text = source(
        """
        import psycopg2

        def f(dsn, other):
            conn = psycopg2.connect(dsn)
            cur = conn.cursor()
            cur.execute("INSERT INTO t VALUES (1)")
            other.execute("UPDATE t SET a = 1")
            conn.autocommit = True
            conn.commit()
            cur.close()
            conn.close()
        """
    )
    f = flow(text)
    summary = [(e.op, e.span.line) for e in f.events if e.op is not Op.RAISES]
    assert summary == [
        (Op.IMPLICIT_ON, at(text, "connect(")),
        (Op.STATEMENT, at(text, "INSERT")),
        (Op.STATEMENT, at(text, "UPDATE")),
        (Op.IMPLICIT_OFF, at(text, "autocommit")),
        (Op.END, at(text, "commit()")),
        (Op.END, at(text, "conn.close()")),  # not cur.close(): a cursor closes no transaction
        (Op.IMPLICIT_OFF, at(text, "conn.close()")),
    ]
    insert, update = (e for e in f.events if e.op is Op.STATEMENT)
    assert insert.dml and insert.own_connection and not insert.from_parameter
    assert update.dml and not update.own_connection and update.from_parameter


def test_implicit_transactions_on_a_connection_the_function_opened() -> None:
    text = source(
        """
        import pymysql

        def f(dsn):
            conn = pymysql.connect(host=dsn)
            cur = conn.cursor()
            cur.execute("SELECT 1")
            cur.execute("UPDATE t SET a = 1")
            return cur.fetchall()
        """
    )
    assert ways_out(text) == {
        (at(text, "UPDATE"), "return", at(text, "return")),
        (at(text, "UPDATE"), "exception", at(text, "UPDATE")),
    }
    (diag,) = findings(text)
    assert diag.message.startswith("`UPDATE t SET a = 1` starts a transaction")
    assert diag.related[0].message == f"the connection is opened at line {at(text, 'connect(')} without autocommit"
    # The exception discards the connection: only the return is reported.
    assert [r.span.line for r in diag.related[1:]] == [at(text, "return")]
    assert findings(text.replace("host=dsn", "host=dsn, autocommit=True")) == []
    assert findings(text.replace("return cur.fetchall()", "return conn")) == []


def test_autocommit_off_makes_any_statement_open_a_transaction() -> None:
    text = source(
        """
        def f():
            CONN.autocommit = False
            CUR.execute("SELECT 1")
            CONN.commit()
            CUR.execute("SELECT 2")
        """
    )
    opened = {line for line, _, _ in ways_out(text)}
    assert opened == {at(text, "SELECT 1"), at(text, "SELECT 2")}
    for turned_off in ("CONN.autocommit(False)", "CONN.set_session(autocommit=False)"):
        assert ways_out(text.replace("CONN.autocommit = False", turned_off))
    assert ways_out(text.replace("CONN.autocommit = False", "CONN.autocommit = flag")) == set()


def test_sqlalchemy_begin_and_asyncpg_start() -> None:
    text = source(
        """
        import sqlalchemy

        def f(engine):
            conn = engine.connect()
            trans = conn.begin()
            conn.execute(sqlalchemy.text("DELETE FROM t"))
            trans.commit()

        def g(engine):
            ctx = engine.begin()  # connects only when entered

        async def h(pool):
            conn = await pool.acquire()
            tr = conn.transaction()
            await tr.start()
            await conn.execute("DELETE FROM t")
            await tr.commit()
        """
    )
    assert {(line, kind) for line, kind, _ in ways_out(text)} == {
        (at(text, "conn.begin()"), "exception"),
        (at(text, "tr.start()"), "exception"),
    }


# -- the rule -------------------------------------------------------------------------


def test_a_connection_from_a_parameter_that_is_never_committed_is_the_callers() -> None:
    text = source(
        """
        def begin(cur):
            cur.execute("BEGIN")

        def begin_derived(conn):
            cur = conn.cursor()
            cur.execute("BEGIN")

        class Unit:
            def begin(self):
                self.conn.begin()
        """
    )
    assert ways_out(text)  # the analysis sees them; the rule leaves them to the caller
    assert findings(text) == []
    # Rolled back before it is opened, never after: still the caller's.
    before = text.replace('cur.execute("BEGIN")', 'conn.rollback()\n    cur.execute("BEGIN")')
    assert findings(before) == []
    # Committed on some path after it is opened: the function's own.
    commits = text + "\n    def save(self, ok):\n        self.conn.begin()  # here\n"
    commits += "        if ok:\n            self.conn.commit()\n"
    assert [d.span.line for d in findings(commits)] == [at(commits, "# here")]
    helper = commits.replace("self.conn.commit()", "self.do_rollback(self.conn)")
    assert [d.span.line for d in findings(helper)] == [at(commits, "# here")]


def test_an_exception_on_a_parameters_connection_is_the_callers_to_handle() -> None:
    text = source(
        """
        def move(cur, source, target):
            cur.execute("BEGIN")
            cur.execute("UPDATE a SET n = n - 1 WHERE id = %s", (source,))
            cur.execute("UPDATE a SET n = n + 1 WHERE id = %s", (target,))
            cur.execute("COMMIT")

        def move_from_the_pool(pool, source):
            conn = pool.getconn()  # a connection of its own, not the caller's
            cur = conn.cursor()
            cur.execute("BEGIN")
            cur.execute("UPDATE a SET n = n - 1 WHERE id = %s", (source,))
            cur.execute("COMMIT")
            pool.putconn(conn)
        """
    )
    assert {line for line, _, _ in ways_out(text)} == {
        at(text, "BEGIN"),
        len(text.splitlines()) - 3,
    }
    assert [d.span.line for d in findings(text)] == [len(text.splitlines()) - 3]


def test_returning_the_connection_or_transaction_hands_it_over() -> None:
    text = source(
        """
        def begin():
            trans = CONN.begin()
            return trans

        def cursor():
            CONN.cursor().execute("BEGIN")
            return CONN.cursor()

        def count():
            cur = CONN.cursor()
            cur.execute("BEGIN")
            return cur.rowcount
        """
    )
    assert [d.span.line for d in findings(text)] == [at(text, 'cur.execute("BEGIN")')]


def test_the_message_names_the_way_out_and_the_related_locations_show_the_path() -> None:
    text = source(
        """
        import psycopg2

        def save(rows):
            cur = CONN.cursor()
            cur.execute("BEGIN")
            for row in rows:
                if row is None:
                    return False
                cur.execute("INSERT INTO t VALUES (%s)", (row,))
                cur.execute("UPDATE c SET n = n + 1")
            cur.execute("COMMIT")
            return True
        """
    )
    (diag,) = findings(text)
    begin, ret = at(text, "BEGIN"), at(text, "return False")
    insert, update = at(text, "INSERT"), at(text, "UPDATE")
    assert diag.span.line == diag.statement_line == begin
    assert diag.message == (
        f"`BEGIN` opens a transaction that is still open when `save` returns at line {ret} "
        "(and 1 more way out); RDS Proxy cannot give the database connection to another "
        "client until it ends"
    )
    assert [(r.span.line, r.message) for r in diag.related] == [
        (ret, f"returns at line {ret} with the transaction open"),
        (
            insert,
            f"an exception from line {insert} leaves the transaction open "
            f"(so does one from line {update})",
        ),
    ]
    assert diag.confidence is Confidence.HIGH
    assert diag.sink == "cursor.execute" and diag.sql == "BEGIN"
    assert diag.help == OpenTransaction.help


def test_pgbouncer_and_mysql_messages() -> None:
    text = 'def f():\n    CUR.execute("BEGIN")\n    return 1\n'
    (bouncer,) = findings(text, target=Target.PGBOUNCER)
    assert "PgBouncer keeps the server connection assigned to this client" in bouncer.message
    mysql = "import pymysql\n" + text.replace("BEGIN", "START TRANSACTION")
    (diag,) = findings(mysql)
    assert diag.message.startswith("`START TRANSACTION` opens a transaction")
    assert findings(mysql, target=Target.PGBOUNCER) == []  # MySQL does not go through it


# -- Lambda handlers ------------------------------------------------------------------

HANDLER = 'def {name}(event, context):\n    CUR.execute("BEGIN")\n    return {{}}\n'


def test_conventional_handler_names_get_the_stronger_message() -> None:
    (diag,) = findings(HANDLER.format(name="lambda_handler"))
    assert diag.message.startswith("Lambda handler `lambda_handler`: `BEGIN` opens")
    assert "freezes the execution environment" in diag.message
    (plain,) = findings(HANDLER.format(name="process"))
    assert not plain.message.startswith("Lambda handler")
    method = "class App:\n" + textwrap.indent(HANDLER.format(name="handler"), "    ")
    (not_module_level,) = findings(method)
    assert not not_module_level.message.startswith("Lambda handler")


def test_is_lambda_handler_matches_the_end_of_the_dotted_path() -> None:
    (f,) = flows(HANDLER.format(name="create"), "svc/src/orders.py").values()
    assert is_lambda_handler(f, ("svc.src.orders.create",))
    assert is_lambda_handler(f, ("orders.create",))
    assert is_lambda_handler(f, ("src.orders.create",))
    assert not is_lambda_handler(f, ("rders.create",))
    assert not is_lambda_handler(f, ("svc.src.orders.delete",))
    assert not is_lambda_handler(f, ("other.create",))


def _project(root: Path) -> None:
    (root / "svc" / "src").mkdir(parents=True)
    (root / "svc" / "serverless.yml").write_text(
        textwrap.dedent(
            """
            service: orders
            provider:
              runtime: python3.12   # every function
            functions:
              create:
                handler: src/orders.create  # POST /orders
                events:
                  - http: POST /orders
              - name: listed
                handler: 'src/orders.listed'
              node:
                handler: index.main
                runtime: nodejs20.x
            """
        )
    )
    (root / "sam" / "hello").mkdir(parents=True)
    (root / "sam" / "template.yaml").write_text(
        textwrap.dedent(
            """
            Resources:
              Hello:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: app.lambda_handler
                  CodeUri: hello/
                  Environment:
                    Variables:
                      TABLE: !Ref Table
              Remote:
                Type: AWS::Serverless::Function
                Properties:
                  CodeUri: s3://bucket/code.zip
                  Handler: "remote.run"
            """
        )
    )
    (root / "infra").mkdir()
    (root / "infra" / "lambda.tf").write_text(
        'resource "aws_lambda_function" "w" {\n'
        '  handler = "worker.process_batch" # the zip root\n'
        '  runtime = "python3.12"\n}\n'
        'resource "aws_lambda_function" "v" {\n  handler = "${var.handler}"\n}\n'
    )
    (root / ".terraform").mkdir()
    (root / ".terraform" / "module.tf").write_text('handler = "vendored.handler"\n')
    (root / "venv").mkdir()
    (root / "venv" / "pyvenv.cfg").write_text("")
    (root / "venv" / "serverless.yml").write_text("functions:\n  x:\n    handler: venv.x\n")


def test_handlers_are_read_from_serverless_sam_and_terraform(tmp_path: Path) -> None:
    _project(tmp_path)
    assert lambda_handlers([tmp_path], tmp_path, DEFAULT_EXCLUDES) == (
        "remote.run",
        "sam.hello.app.lambda_handler",
        "svc.src.orders.create",
        "svc.src.orders.listed",
        "worker.process_batch",
    )
    # A checked subdirectory still finds the files above it, up to the root.
    assert lambda_handlers([tmp_path / "svc" / "src"], tmp_path, DEFAULT_EXCLUDES) == (
        "svc.src.orders.create",
        "svc.src.orders.listed",
    )
    assert with_lambda_handlers(Config(select=("PIN101",)), [tmp_path], tmp_path).lambda_handlers == ()
    deep = tmp_path / "a" / "b" / "c" / "d" / "e"
    deep.mkdir(parents=True)
    (deep / "serverless.yml").write_text("functions:\n  f:\n    handler: deep.f\n")
    assert "a.b.c.d.e.deep.f" not in lambda_handlers([tmp_path], tmp_path, DEFAULT_EXCLUDES)
    assert "a.b.c.d.e.deep.f" in lambda_handlers([tmp_path / "a"], tmp_path, DEFAULT_EXCLUDES)


def test_a_handler_named_by_serverless_gets_the_stronger_message(tmp_path: Path) -> None:
    _project(tmp_path)
    (tmp_path / "svc" / "src" / "orders.py").write_text(
        HANDLER.format(name="create") + "\n\n" + HANDLER.format(name="delete")
    )
    result = lint_paths([tmp_path / "svc"], replace(ONLY, cache=False), root=tmp_path)
    messages = {d.span.line: d.message for d in result.diagnostics}
    assert messages[2].startswith("Lambda handler `create`:")
    assert not messages[7].startswith("Lambda handler")


def test_the_handlers_are_part_of_the_cache_key() -> None:
    assert salt(ONLY) != salt(replace(ONLY, lambda_handlers=("app.handler",)))


# -- output -----------------------------------------------------------------------------


def test_text_and_sarif_show_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = source(
        """
        def lambda_handler(event, context):
            cursor = CONN.cursor()
            cursor.execute("BEGIN")
            cursor.execute("INSERT INTO t VALUES (1)")
            return {"statusCode": 201}
        """
    )
    (tmp_path / "app.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    args = ["check", "app.py", "--isolated", "--no-cache", "--select", "PIN501"]
    out = CliRunner().invoke(cli, args).output
    begin, insert, ret = at(text, "BEGIN"), at(text, "INSERT"), at(text, "return")
    assert f"app.py:{begin}:5: PIN501 [pins] Lambda handler `lambda_handler`" in out
    assert f"  = app.py:{ret}:5: returns at line {ret} with the transaction open" in out
    assert f"  = app.py:{insert}:5: an exception from line {insert} leaves the transaction open" in out
    sarif = json.loads(CliRunner().invoke(cli, [*args, "--format", "sarif"]).output)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "PIN501"
    related = [r["message"]["text"] for r in result["relatedLocations"]]
    assert related == [
        f"returns at line {ret} with the transaction open",
        f"an exception from line {insert} leaves the transaction open",
    ]
    steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
    lines = [s["location"]["physicalLocation"]["region"]["startLine"] for s in steps]
    assert lines == [begin, ret, insert]
