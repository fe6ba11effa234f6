"""The control flow of one function, as the transaction rule (PIN501) reads it.

A `FunctionFlow` is a small control-flow graph: `Block`s of *steps* joined by normal
edges, each block with one exception edge (its `handler`). A step names an `Event`
of the function: a transaction opened or closed, a database statement, a point an
exception may leave from. Blocks with an `Exit` are where control leaves the function:
a `return`, the end of the body, or an exception nobody catches.

Extraction (`pinlint.extract.flow`) builds it from libcst; rules read it. Nothing
here imports libcst. The graph is built so that the analysis needs no knowledge of
Python:

* `finally` bodies, and the implicit clean-up of `with conn.transaction():` and its
  kin, are copied onto every route that leaves them (falling through, `return`,
  `break`, `continue`, an exception): a copy's steps name the same events;
* within a block, a `RAISES` step sends the state at that point along the block's
  exception edge. Where it sits says what a failure means: before `BEGIN` (a failed
  `BEGIN` opens nothing), after `COMMIT` (a failed commit leaves no transaction), after
  an `INSERT` on a connection in implicit-transaction mode (the driver sent its
  `BEGIN` first);
* a `try` with handlers gets a dispatch block whose successors are the handlers, plus
  the enclosing exception target unless one handler catches everything.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pinlint.model import Dialect, Span


class Op(str, Enum):
    """What an event does to the transaction state of the function's connection."""

    #: An explicit open: `BEGIN`, `START TRANSACTION`, SQLAlchemy `conn.begin()`.
    BEGIN = "tx-open"
    #: A close: `COMMIT`/`ROLLBACK` (SQL or method), `close()`, the end of a `with` scope.
    END = "tx-close"
    #: From here on the driver opens a transaction by itself before a statement:
    #: `conn.autocommit = False`, or a connection the function opened with `connect()`.
    IMPLICIT_ON = "implicit-on"
    #: Implicit transactions stop: `conn.autocommit = True`, the connection is closed.
    IMPLICIT_OFF = "implicit-off"
    #: A statement sent to the database (it opens a transaction in implicit mode).
    STATEMENT = "db-statement"
    #: An exception may leave from here (a call, an `await`, a `yield`, `assert`), or
    #: is raised here (`raise`, with `explicit`).
    RAISES = "raises"


class Ending(str, Enum):
    """How an `END` closes the transaction."""

    COMMIT = "commit"
    ROLLBACK = "rollback"
    #: The connection (or session) is closed, which rolls back.
    CLOSE = "close"
    #: A context manager or decorator closes it on the way out (`with conn:`,
    #: `with session.begin():`, `@transaction.atomic`).
    SCOPE = "scope"


@dataclass(frozen=True, slots=True)
class Event:
    """Something a statement of the function does, at `span` (within the statement
    that starts on `statement_line`)."""

    op: Op
    span: Span
    statement_line: int
    #: How messages name it, in Markdown: "`BEGIN`", "`conn.begin()`", "`INSERT`".
    label: str
    #: END: how it closes.
    ending: Ending | None = None
    #: STATEMENT: an `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `REPLACE`, `UPSERT`.
    dml: bool = False
    #: STATEMENT / IMPLICIT_ON: on a connection that this function opened itself.
    own_connection: bool = False
    #: IMPLICIT_ON: only a DML statement opens the transaction (a connection opened with
    #: `connect()`); otherwise any statement does (`autocommit = False`).
    dml_only: bool = False
    #: BEGIN / IMPLICIT_ON / STATEMENT: the connection or cursor is a parameter of the
    #: function, or derived from one (`self.conn`, `conn.cursor()`).
    from_parameter: bool = False
    #: RAISES: a `raise` statement, rather than a statement that may raise.
    explicit: bool = False
    #: RAISES: the statement is a `yield` (a generator can be thrown into there).
    at_yield: bool = False
    #: The call that sends the SQL (`cursor.execute`) or makes the change (`Connection.begin`).
    sink: str | None = None
    #: The SQL statement, when the event comes from SQL text.
    sql: str | None = None


class ExitKind(str, Enum):
    RETURN = "return"
    #: Control reaches the end of the body (an implicit `return None`).
    END = "end"
    #: An exception leaves the function.
    EXCEPTION = "exception"


@dataclass(frozen=True, slots=True)
class Exit:
    """Where control leaves the function."""

    kind: ExitKind
    #: The `return` statement; the last line of the body for `END`; None for `EXCEPTION`
    #: (the step that raised says where).
    span: Span | None
    #: `return conn` / `return trans` / `return cursor`: the caller receives the
    #: connection or transaction, and with it the duty to close it.
    hands_over: bool = False


@dataclass(frozen=True, slots=True)
class Block:
    #: Indices into `FunctionFlow.events`, in execution order.
    steps: tuple[int, ...]
    #: Normal successors (block indices).
    successors: tuple[int, ...]
    #: Where an exception raised by a `RAISES` step goes (a block index).
    handler: int
    exit: Exit | None = None


@dataclass(frozen=True, slots=True)
class FunctionFlow:
    """One function (or method) that opens a transaction, with its control flow."""

    path: str
    name: str
    #: `Class.method`, `outer.<locals>.inner`, or the name for a module-level function.
    qualname: str
    #: The `def` line.
    span: Span
    #: Defined at the top level of its module (not in a class or another function).
    module_level: bool
    is_async: bool
    events: tuple[Event, ...]
    blocks: tuple[Block, ...]
    entry: int = 0
    #: The dialect the module's imports point to (None: the configured one).
    dialect: Dialect | None = None
    #: False when the function was too large to model; rules should say nothing then.
    complete: bool = True
