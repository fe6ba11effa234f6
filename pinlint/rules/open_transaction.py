from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType

from pinlint.flow import Ending, Event, Exit, ExitKind, FunctionFlow, Op
from pinlint.model import Confidence, Effect, Profile, RelatedLocation, Span
from pinlint.rules.base import FlowFinding, FlowRule, RuleContext

#: Module-level functions with these names are taken for Lambda handlers.
CONVENTIONAL_HANDLERS = ("handler", "lambda_handler")
#: At most this many lines are named for the statements an exception may come from.
_MORE_LINES = 3

# A fact of the analysis: ("open", origin, mode, via) - a transaction opened by event
# `origin` (implicitly, under the IMPLICIT_ON event `mode`) may be open, and `via` is
# the RAISES event of the last exception on the way here; ("mode", origin, dml_only) -
# the driver opens a transaction before the next (DML) statement.
_Fact = tuple[str, int, "int | bool | None", "int | None"]


@dataclass(frozen=True, slots=True)
class Leak:
    """A way out of a function with a transaction possibly open."""

    origin: int  # the BEGIN, or the STATEMENT that opened it implicitly (an event index)
    mode: int | None  # the IMPLICIT_ON event behind an implicit open
    exit: Exit
    via: int | None  # the RAISES event of the last exception on the path, if any


@dataclass(frozen=True, slots=True)
class Analysis:
    """What `analyse` finds in one function."""

    leaks: tuple[Leak, ...]
    #: The opening events that some path commits or rolls back (the function owns them).
    closed: frozenset[int]


def leaks(flow: FunctionFlow) -> list[Leak]:
    """Every (opening event, way out) pair along which a transaction may stay open."""
    return list(analyse(flow).leaks)


def analyse(flow: FunctionFlow) -> Analysis:
    """A forward may-analysis over the blocks: the state is a set of facts, joined by
    union, iterated to a fixed point. Each `RAISES` step sends the state at that point,
    tagged with itself, along the block's exception edge."""
    events = flow.events
    closed: set[int] = set()
    into: list[frozenset[_Fact] | None] = [None] * len(flow.blocks)
    into[flow.entry] = frozenset()
    work = [flow.entry]
    queued = {flow.entry}
    found: set[Leak] = set()

    def send(target: int, state: frozenset[_Fact]) -> None:
        old = into[target]
        new = state if old is None else old | state
        if old is None or new != old:
            into[target] = new
            if target not in queued:
                queued.add(target)
                work.append(target)

    while work:
        index = work.pop()
        queued.discard(index)
        block = flow.blocks[index]
        state = set(into[index] or ())
        if block.exit is not None:
            for fact in state:
                if fact[0] == "open":
                    mode = fact[2] if isinstance(fact[2], int) else None
                    found.add(Leak(fact[1], mode, block.exit, fact[3]))
            continue
        for step in block.steps:
            event = events[step]
            if event.op is Op.RAISES:
                send(block.handler, frozenset(_raised(state, step)))
            else:
                _apply(event, step, state, closed)
        frozen = frozenset(state)
        for successor in block.successors:
            send(successor, frozen)
    ordered = sorted(found, key=lambda leak: (leak.origin, _leak_line(flow, leak)))
    return Analysis(tuple(ordered), frozenset(closed))


def _raised(state: set[_Fact], step: int) -> set[_Fact]:
    return {(f[0], f[1], f[2], step) if f[0] == "open" else f for f in state}


def _apply(event: Event, step: int, state: set[_Fact], closed: set[int]) -> None:
    """What one event does to the facts (in place); `closed` collects the origins of
    the transactions a commit or rollback ends."""
    if event.op is Op.BEGIN:
        state.add(("open", step, None, None))
    elif event.op is Op.END:
        if event.ending in (Ending.COMMIT, Ending.ROLLBACK):
            closed.update(f[1] for f in state if f[0] == "open")
        disconnects = event.ending is Ending.CLOSE
        state.difference_update(
            [f for f in state if f[0] == "open" or (disconnects and f[0] == "mode")]
        )
    elif event.op is Op.IMPLICIT_ON:
        state.add(("mode", step, event.dml_only, None))
    elif event.op is Op.IMPLICIT_OFF:
        state.difference_update([f for f in state if f[0] == "mode"])
    elif event.op is Op.STATEMENT and not any(f[0] == "open" for f in state):
        modes = sorted(
            f[1]
            for f in state
            if f[0] == "mode" and (not f[2] or (event.dml and event.own_connection))
        )
        if modes:
            state.add(("open", step, modes[0], None))


def _leak_line(flow: FunctionFlow, leak: Leak) -> int:
    """The line a leak is shown at: the return, the raise, the failing statement."""
    if leak.exit.kind is ExitKind.EXCEPTION and leak.via is not None:
        return flow.events[leak.via].span.line
    return leak.exit.span.line if leak.exit.span is not None else flow.span.line


def is_lambda_handler(flow: FunctionFlow, handlers: tuple[str, ...]) -> bool:
    """A module-level function named like a handler, or named by a deployment file
    (``module.function``, matched against the end of the file's dotted path)."""
    if not flow.module_level:
        return False
    if flow.name in CONVENTIONAL_HANDLERS:
        return True
    module = flow.path.removesuffix(".py").replace("\\", "/").strip("/").replace("/", ".")
    for handler in handlers:
        where, _, function = handler.rpartition(".")
        if function == flow.name and where and (module == where or module.endswith("." + where)):
            return True
    return False


class OpenTransaction(FlowRule):
    """
    ## What it flags
    A transaction opened in a function that is not closed on every path out of it: a
    `return`, the end of the body, an exception raised by a statement in between, a
    `raise`. It is reported at the statement that opens the transaction, with the way
    out that leaves it open as related locations (in the text output, and as SARIF
    `relatedLocations` and `codeFlows`).

    What opens a transaction: `execute("BEGIN")`, `START TRANSACTION`,
    `BEGIN ISOLATION LEVEL ...` (and `COMMIT AND CHAIN`); SQLAlchemy `conn.begin()` or
    `session.begin()` not used as a context manager; asyncpg `tr.start()` on
    `conn.transaction()`; after `conn.autocommit = False` (or `conn.autocommit(False)`,
    `set_session(autocommit=False)`), the next statement; on a connection the function
    opens itself with `connect(...)` of psycopg2, psycopg, PyMySQL, MySQLdb,
    mysql-connector or aiomysql without `autocommit=True`, the first `INSERT`,
    `UPDATE`, `DELETE` or `MERGE` (the driver, or the server, starts the transaction
    before it).

    What closes it: `COMMIT`, `END`, `ROLLBACK`, `ABORT`, `PREPARE TRANSACTION` as SQL;
    `.commit()`, `.rollback()`, and `.close()` on a connection or session. Closed by
    construction, on every way out: `with conn:`, `with conn.transaction():`,
    `with session.begin():`, `with engine.begin():`, `with engine.connect():`,
    `with pool.connection():`, `async with pool.acquire():`, `with closing(conn):`,
    `with Session(...)`, their `async with` forms, `with transaction.atomic():`, and
    functions decorated with `@transaction.atomic`, `@atomic`, `@db.atomic()`,
    `@transactional` or `@db_session`.

    A function that is an AWS Lambda handler gets a stronger message: a handler named
    in `serverless.yml`, a SAM `template.yaml` (`Handler:`), or Terraform
    (`handler = "module.function"`) found under the checked paths or in their parent
    directories, or a module-level function named `handler` or `lambda_handler`.

    Left to the caller, and not reported:
    - a transaction on a connection or cursor that comes from a parameter
      (`def save(cur): cur.execute("BEGIN")`, also `self.conn` and `conn.cursor()` of a
      parameter `conn`) when no path commits or rolls it back after opening it: the
      function opens it for its caller to close, which this rule cannot see;
    - on such a connection, a way out by an exception: the caller holds the connection
      and is the one to roll back (a `return` or the end of the function with the
      transaction open is still reported when the function commits on another path);
    - a transaction opened by a function that returns the connection, a cursor or the
      transaction (`return conn`, `return trans`): it is handed over on purpose.

    A connection the function gets from a parameter (`pool.acquire()`,
    `engine.connect()`, `pool.getconn()`) is the function's own.

    ## Why it pins
    An open transaction holds its database connection. RDS Proxy cannot multiplex a
    client that is inside a transaction, so the backend connection stays with the
    client until the transaction ends; PgBouncer in transaction mode keeps the server
    connection assigned to the client until then. A function that returns with the
    transaction open leaves the connection idle in transaction: its locks stay held,
    and the pool has one connection less. In a Lambda handler it is worse: between
    invocations the execution environment is frozen, so the transaction stays open
    (and the connection busy) until the environment is reused or reclaimed, and the
    next invocation that reuses the connection runs inside the stale transaction (or
    fails, if it was aborted by an error). An exception between `BEGIN` and `COMMIT`
    without a rollback does the same.

    ## How to fix
    - Let a context manager close the transaction: `with conn:` (psycopg2),
      `with conn.transaction():` (psycopg 3, asyncpg), `with session.begin():` or
      `with engine.begin() as conn:` (SQLAlchemy), `with transaction.atomic():`
      (Django).
    - Or close it by hand on every path: commit at the end of the `try` block, roll
      back in `except` and re-raise, and release the connection in `finally`.
    - Before an early `return` between `BEGIN` and `COMMIT`, commit or roll back (or
      move the `return` out of the transaction).

    ## Known limitations
    The analysis is per function, over a control-flow graph built from the syntax:
    - One function at a time. A call to a function or method with `commit` or
      `rollback` as a word of its name (`self.do_rollback(conn)`, `_commit()`) is taken
      to close the transaction; other helpers that close it (`finish(conn)`) are not
      seen. A transaction opened at module level is not checked. A transaction opened
      for the caller is recognised by the connection or cursor being a parameter, or
      by being returned (see above).
    - One transaction per function: all connections and cursors of a function are
      taken for one; a commit on any of them closes what any of them opened.
    - A statement may raise when it calls something, awaits, yields (except in a
      pytest fixture) or asserts; operators, subscripts, attribute reads and the
      iteration of a `for` loop are assumed not to. A failed `BEGIN` opens nothing, a failed `COMMIT` leaves nothing
      open. `except Exception` and `except BaseException` are taken to catch
      everything; the handlers of a `try` are all taken to be reachable.
    - Names are followed within the function and without regard to order: a name
      assigned a connection anywhere in the function holds one everywhere. Whether a
      `with` item or a `.close()` receiver is a connection is read from where it comes
      from (`connect()`, `.begin()`, ...) and, failing that, from its name (`conn`,
      `connection`, `session`, `db`, `tx`, ...).
    - Conditions are not evaluated (except `while True`): both branches of an `if` are
      taken to be possible, so a commit guarded by the same condition as the `BEGIN`
      can still be reported.
    - Implicit transactions are followed only on connections the function opens
      itself, and start only at DML there (a `SELECT` on a psycopg2 connection opens
      one too). Such a connection is closed when it is garbage-collected, which rolls
      back: the rule reports the uncommitted work at a `return` or at the end of the
      function, not on the ways out by an exception. A module-level connection
      (`conn = psycopg2.connect(...)` at import time, the usual Lambda shape) is not
      followed into the functions that use it without an explicit `BEGIN`.
    - The SQL of an `execute` call is read where it is written: `execute("BEGIN")`,
      also split over implicitly concatenated strings or through SQLAlchemy `text()`;
      a `BEGIN` held in a variable or a constant is not seen (the SQL rules follow
      those, this rule does not).
    - Functions whose graph would exceed 5000 blocks (deeply nested `finally` clauses)
      are skipped.

    ## References
    - AWS, Avoiding pinning an RDS Proxy (transactions): https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html
    - AWS Lambda execution environment lifecycle: https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
    - PgBouncer, pool modes: https://www.pgbouncer.org/features.html
    - psycopg 2, transactions control: https://www.psycopg.org/docs/usage.html#transactions-control
    - SQLAlchemy, working with transactions: https://docs.sqlalchemy.org/en/20/core/connections.html#basic-usage
    """

    code = "PIN501"
    name = "open-transaction"
    summary = "A transaction is not closed on every path out of the function that opens it"
    help = (
        "Close it on every path: use `with conn.transaction():` / `with session.begin():` "
        "/ `with conn:`, or commit in `try`, roll back in `except` and re-raise"
    )
    tags = ("transactions", "control-flow")
    effects = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: Effect.PINS,
            Profile.RDS_PROXY_MYSQL: Effect.PINS,
            Profile.PGBOUNCER: Effect.PINS,
        }
    )
    conditions = MappingProxyType(
        {
            Profile.RDS_PROXY_POSTGRES: "until the transaction ends",
            Profile.RDS_PROXY_MYSQL: "until the transaction ends",
            Profile.PGBOUNCER: "the server connection stays assigned until it ends",
        }
    )

    def check(self, flow: FunctionFlow, ctx: RuleContext) -> Iterator[FlowFinding]:
        if not flow.complete:
            return
        by_origin: dict[int, list[Leak]] = {}
        analysis = analyse(flow)
        handed_over = {leak.origin for leak in analysis.leaks if leak.exit.hands_over}
        for leak in analysis.leaks:
            if leak.origin in handed_over:
                continue  # the function returns it to its caller: opened on purpose
            if self._for_the_caller(flow, leak) and (
                leak.origin not in analysis.closed or leak.exit.kind is ExitKind.EXCEPTION
            ):
                continue  # opened for the caller, or an exception the caller handles
            if leak.exit.kind is ExitKind.EXCEPTION and self._own_connection(flow, leak):
                continue
            by_origin.setdefault(leak.origin, []).append(leak)
        handler = is_lambda_handler(flow, ctx.lambda_handlers)
        seen: set[Span] = set()
        for origin, found in by_origin.items():
            event = flow.events[origin]
            if event.span in seen:  # one statement opening twice (a `finally` copied)
                continue
            seen.add(event.span)
            yield self._finding(flow, event, found, handler, ctx)

    @staticmethod
    def _own_connection(flow: FunctionFlow, leak: Leak) -> bool:
        """Opened implicitly on a connection the function opened: an exception that
        leaves the function discards the connection, and the transaction with it."""
        return leak.mode is not None and flow.events[leak.mode].dml_only

    @staticmethod
    def _for_the_caller(flow: FunctionFlow, leak: Leak) -> bool:
        """Opened on a connection or cursor the caller passed in."""
        if flow.events[leak.origin].from_parameter:
            return True
        return leak.mode is not None and flow.events[leak.mode].from_parameter

    def _finding(
        self,
        flow: FunctionFlow,
        event: Event,
        found: list[Leak],
        handler: bool,
        ctx: RuleContext,
    ) -> FlowFinding:
        ways = _ways_out(flow, found)
        mode = next((flow.events[f.mode] for f in found if f.mode is not None), None)
        related: list[RelatedLocation] = []
        if mode is not None:
            related.append(RelatedLocation(flow.path, mode.span, _mode_note(mode)))
        related += [RelatedLocation(flow.path, span, note) for span, note, _ in ways]
        first = ways[0][2]
        more = len(ways) - 1
        where = first + (f" (and {more} more way{'s' if more > 1 else ''} out)" if more else "")
        if mode is None:
            opened = f"{event.label} opens a transaction that {where}"
        else:
            why = (
                "autocommit is off"
                if not mode.dml_only
                else "the connection it opened is not in autocommit mode"
            )
            opened = f"{event.label} starts a transaction ({why}) that {where}"
        holds = _holds(ctx)
        if handler:
            message = (
                f"Lambda handler `{flow.name}`: {opened}. An invocation that ends with the "
                "transaction open leaves the connection idle in transaction while Lambda "
                f"freezes the execution environment: {holds} until the environment is "
                "reused or reclaimed, and the next invocation runs inside the stale "
                "transaction"
            )
        elif mode is not None and event.own_connection:
            message = (
                f"{opened}; the uncommitted work is lost when the connection is discarded, "
                f"and until then {holds}"
            )
        else:
            message = f"{opened}; {holds} until it ends"
        normal = any(f.via is None and f.exit.kind is not ExitKind.EXCEPTION for f in found)
        return FlowFinding(
            message=message,
            path=flow.path,
            span=event.span,
            statement_line=event.statement_line,
            related=tuple(related),
            effect=self.effect(ctx),
            confidence=Confidence.HIGH if normal else Confidence.MEDIUM,
            sink=event.sink,
            sql=event.sql,
        )


def _holds(ctx: RuleContext) -> str:
    if ctx.profile is Profile.PGBOUNCER:
        return "PgBouncer keeps the server connection assigned to this client"
    return "RDS Proxy cannot give the database connection to another client"


def _mode_note(mode: Event) -> str:
    line = mode.span.line
    if mode.dml_only:
        return f"the connection is opened at line {line} without autocommit"
    return f"autocommit is turned off at line {line}"


def _ways_out(flow: FunctionFlow, found: list[Leak]) -> list[tuple[Span, str, str]]:
    """(location, related-location message, phrase for the main message) per way out,
    normal exits first, then raises, then exceptions (the earliest statement only)."""
    name = f"`{flow.name}`"
    returns: dict[Span, tuple[str, str]] = {}
    raises: dict[Span, tuple[str, str]] = {}
    failing: dict[Span, Event] = {}
    for leak in found:
        via = flow.events[leak.via] if leak.via is not None else None
        span = leak.exit.span
        if leak.exit.kind is ExitKind.EXCEPTION:
            if via is None:
                continue
            if via.explicit:
                line = via.span.line
                raises[via.span] = (
                    f"raises at line {line} with the transaction open",
                    f"is still open when {name} raises at line {line}",
                )
            else:
                failing[via.span] = via
            continue
        if span is None:
            continue
        line = span.line
        if leak.exit.kind is ExitKind.RETURN:
            note, phrase = (
                f"returns at line {line} with the transaction open",
                f"is still open when {name} returns at line {line}",
            )
        else:
            note, phrase = (
                f"{name} ends at line {line} with the transaction open",
                f"is still open when {name} ends at line {line}",
            )
        if via is not None:
            caught = f" after the exception from line {via.span.line} is handled"
            if span not in returns:  # a clean path to the same exit says it better
                returns[span] = (note + caught, phrase + caught)
        else:
            returns[span] = (note, phrase)
    out = [(span, note, phrase) for span, (note, phrase) in sorted(returns.items())]
    out += [(span, note, phrase) for span, (note, phrase) in sorted(raises.items())]
    if failing:
        spans = sorted(failing)
        first = failing[spans[0]]
        line = first.span.line
        lines = sorted({s.line for s in spans[1:]} - {line})
        source = (
            f"an exception thrown in at the `yield` on line {line}"
            if first.at_yield
            else f"an exception from line {line}"
        )
        also = ""
        if len(lines) == 1:
            also = f" (so does one from line {lines[0]})"
        elif lines:
            shown = ", ".join(str(n) for n in lines[:_MORE_LINES])
            also = f" (so do those from lines {shown}{', ...' if len(lines) > _MORE_LINES else ''})"
        out.append(
            (first.span, f"{source} leaves the transaction open{also}", f"{source} leaves open")
        )
    return out
