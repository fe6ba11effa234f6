"""Build the control flow (`pinlint.flow.FunctionFlow`) of the functions that open a
transaction.

Only functions that may open one are modelled (`function_flows`), cheapest test first:

1. `may_open_transaction`: the text spells a string starting with ``BEGIN``/``START
   TRANSACTION``, ``AND CHAIN``, a ``.begin(``/``.transaction(`` call outside a
   ``with`` line, ``autocommit`` turned off, or a driver's ``connect(`` (`str.find`
   scans; most files stop here);
2. the functions holding such a line are found with `ast` and cut out of the source
   into a small module, as `pinlint.extract.prepass` cuts statements (its helpers do
   the cutting, and `prepass.Lines` maps positions back); only that is parsed with
   libcst. A source that cannot be cut is parsed whole;
3. the traversal (`pinlint.extract.visitor`) records the attributes that can start a
   transaction (`drivers.TRANSACTION_ATTRIBUTES`) with their statements; with the SQL
   sites whose text starts a transaction and the bare ``connect(...)`` calls of a
   driver, they give `transaction_owners`. A walk over the *statements* then finds
   the functions holding one of those statements, and only their bodies are read in
   full (`_FunctionBuilder`).

This runs on its own, after the module's SQL sites are extracted, so the flows do not
depend on which path extraction took for the sites.

What a statement does (`_FunctionBuilder._call` and `_small`):

* ``execute``-like calls (the method sinks of `pinlint.extract.drivers` whose argument is
  SQL, also through SQLAlchemy ``text()``): the SQL is split and classified by its
  leading keywords (`pinlint.sql.lexer`; a ``WITH`` statement is parsed to see whether
  it writes): ``BEGIN``/``START TRANSACTION`` opens, ``COMMIT``/``END``/``ROLLBACK``/
  ``ABORT``/``PREPARE TRANSACTION`` closes (``... AND CHAIN`` closes and opens),
  ``ROLLBACK TO SAVEPOINT`` and the rest are statements, DML ones marked;
* ``.commit()``, ``.rollback()``, ``.close()`` on a connection close, and so does a
  helper with ``commit`` or ``rollback`` as a word of its name (``do_rollback(conn)``);
  ``.begin()`` outside a ``with`` opens (SQLAlchemy), as does ``.start()`` on an
  asyncpg transaction object;
* ``x.autocommit = False`` / ``x.autocommit(False)`` / ``x.set_session(autocommit=False)``
  turn implicit transactions on (``True`` turns them off); a driver ``connect(...)``
  without ``autocommit=True`` turns them on for DML on that connection;
* any call, ``await`` (of something other than a call, which says it already), ``yield``
  (unless the generator is a pytest fixture) or ``assert`` may raise; ``raise`` raises.

``with`` items that close what they open (`_scope_label`: ``with conn:``,
``with conn.transaction():``, ``with session.begin():``, ``with engine.begin():``,
``with engine.connect():``, ``with pool.connection():``, ``async with pool.acquire():``,
``with transaction.atomic():``, ``with closing(conn):``, ``with Session(...)``) and
transaction decorators (``@transaction.atomic``, ``@atomic``, ``@db.atomic()``,
``@transactional``, ``@db_session``) become clean-ups run on every way out, like a
``finally``.

Names are followed within the function only, flow-insensitively (`_names`): which are
parameters or derived from one (``cur = conn.cursor()`` with ``conn`` a parameter; not a
new connection such as ``pool.acquire()``), which hold a connection the function opened
with a driver's ``connect``, which hold cursors or transaction objects. The events carry
what the names say (`Event.from_parameter`, `Event.own_connection`); the rule decides.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import libcst as cst
from libcst.metadata import CodeRange
from sqlglot import exp

from pinlint.extract.calls import Candidate, argument, candidates
from pinlint.extract.dialect import module_dialect
from pinlint.extract.drivers import METHODS_BY_NAME, Shape
from pinlint.extract.outline import parse
from pinlint.extract.positions import node_ranges
from pinlint.extract.prepass import (
    CannotCut,
    Lines,
    assemble,
    compound_start,
    import_table,
)
from pinlint.extract.source import Source
from pinlint.extract.strings import evaluate
from pinlint.extract.visitor import Collected, Imports, callee_parts, collect, type_info
from pinlint.flow import Block, Ending, Event, Exit, ExitKind, FunctionFlow, Op
from pinlint.model import Dialect, Span
from pinlint.sql.lexer import Kind, lex, split
from pinlint.sql.statement import analyse

#: Method sinks whose argument is SQL that runs when called (not Django's lazy ``raw``).
_EXECUTE = frozenset(
    m.method for m in METHODS_BY_NAME.values() if m.shape is Shape.SQL and m.method != "raw"
)
#: Drivers whose connections are not in autocommit mode by default: their first
#: statement after a commit or rollback opens a transaction.
IMPLICIT_DRIVERS = (
    "psycopg2",
    "psycopg2cffi",
    "psycopg",
    "pymysql",
    "MySQLdb",
    "mysql.connector",
    "aiomysql",
)
_DML = frozenset({"insert", "update", "delete", "merge", "replace", "upsert"})
_DML_TREES = (exp.Insert, exp.Update, exp.Delete, exp.Merge)
#: ``with X.<name>(...)``: a context manager that ends the transaction on the way out.
_SCOPE_METHODS = frozenset({"begin", "transaction", "atomic", "connect", "connection", "acquire"})
#: ``with <name>(...)``: the same for functions.
_SCOPE_FUNCTIONS = frozenset({"atomic", "closing", "Session", "connect"})
#: Decorators (last dotted part, called or not) that run the function in a transaction.
_SCOPE_DECORATORS = frozenset({"atomic", "transactional", "db_session", "commit_on_success"})
#: ``x.<name>(...)`` gives a new connection or session, not the receiver's.
_FACTORIES = frozenset(
    {"connect", "connection", "acquire", "getconn", "raw_connection", "Session", "session"}
)
#: ``return x.<name>(...)`` gives the caller a cursor, a transaction or a connection.
_HANDED_OVER_CALLS = frozenset({"cursor", "begin", "transaction", "connect", "connection"})
#: Decorators of generators that are never thrown into at a `yield`.
_NO_THROW_DECORATORS = frozenset({"fixture", "yield_fixture"})
#: Exception classes whose handler catches whatever the statements raise.
_CATCH_ALL = frozenset({"Exception", "BaseException"})
#: A function whose graph grows past this many blocks is not modelled (deeply nested
#: ``finally`` clauses copy their bodies onto every way out).
MAX_BLOCKS = 5000
_LABEL_CHARS = 60


class _TooLarge(Exception):
    pass


# -- which functions to model ---------------------------------------------------------

#: What a module that opens a transaction somewhere must spell: a string that starts
#: with ``BEGIN`` or ``START TRANSACTION`` (any case), ``AND CHAIN``, a ``.begin(`` or
#: ``.transaction(`` call on a line that is not a ``with`` (which closes it by
#: construction), ``autocommit`` turned off (``= False``, ``(False)``, ``= 0``), or a
#: driver's ``connect(``. `_hints` finds them with `str.find` (a regex alternation that
#: cannot start with a literal scans every position, several times slower), then
#: checks each place. A cheap pre-check: nothing is modelled without it, so that the
#: fast path and the whole-module path of `pinlint.extract.python` agree.
#: What may separate a string's opening quote from its first keyword.
_QUOTE_GAP = re.compile(r"(?:\s|\\[nrt])*")
_START_TRANSACTION = re.compile(r"start\s+transaction\b")  # in lowered text
_CALLED = re.compile(r"\s*\(")
_WITH_LINE = re.compile(r"[ \t]*(?:async[ \t]+)?with\b")
_TURNED_OFF = re.compile(r"\s*[=(]\s*(?:False|0)\b")
#: The spellings of `IMPLICIT_DRIVERS` in a module that imports one.
_DRIVER_NAMES = ("psycopg", "pymysql", "MySQLdb", "mysql.connector", "aiomysql")
_CONNECT = re.compile(r"\bconnect\s*\(")


def may_open_transaction(text: str) -> bool:
    """False only when no function of `text` can open a transaction, so that extraction
    need not parse its functions (PIN501)."""
    return next(_hints(text), None) is not None


def _hints(text: str) -> Iterator[int]:
    """The offsets where `text` may open a transaction, in no particular order."""
    lowered = text.lower()
    starts = _words(lowered, "begin")
    starts += [
        m.start() for m in _START_TRANSACTION.finditer(lowered) if _word_at(lowered, m.start(), 5)
    ]
    for at in starts:
        before = lowered[max(0, at - 64) : at]
        quote = max(before.rfind("'"), before.rfind('"'))
        if quote != -1 and _QUOTE_GAP.fullmatch(before, quote + 1):
            yield at  # a string that starts with the statement
    for at in _words(lowered, "chain"):
        before = lowered[max(0, at - 32) : at].rstrip()
        if before.endswith("and") and _word_at(before, len(before) - 3, 3):
            yield at
    for name in (".begin", ".transaction"):
        at = text.find(name)
        while at != -1:
            end = at + len(name)
            if _CALLED.match(text, end):
                head = text.rfind("\n", 0, at) + 1
                if _WITH_LINE.match(text, head) is None:
                    yield at
            at = text.find(name, end)
    at = text.find("autocommit")
    while at != -1:
        if _TURNED_OFF.match(text, at + len("autocommit")):
            yield at
        at = text.find("autocommit", at + 1)
    if "connect" in text and any(driver in text for driver in _DRIVER_NAMES):
        yield from (m.start() for m in _CONNECT.finditer(text))


def _words(text: str, word: str) -> list[int]:
    """Where `word` occurs in `text` as a whole word."""
    found = []
    at = text.find(word)
    while at != -1:
        if _word_at(text, at, len(word)):
            found.append(at)
        at = text.find(word, at + len(word))
    return found


def _word_char(text: str, at: int) -> bool:
    return 0 <= at < len(text) and (text[at].isalnum() or text[at] == "_")


def _word_at(text: str, at: int, length: int) -> bool:
    """A whole word at `at`; after an escape (``"\\nBEGIN"``) too."""
    escaped = at >= 2 and text[at - 2] == "\\"
    return (escaped or not _word_char(text, at - 1)) and not _word_char(text, at + length)


def function_flows(text: str, path: str) -> tuple[FunctionFlow, ...]:
    """The control flow of every function of `text` that may open a transaction.

    Like `pinlint.extract.prepass` does for SQL statements, the functions whose lines
    match `may_open_transaction` are cut out of the source (with their decorators and
    nested functions; methods under an ``if True:`` line) and only they are parsed with
    libcst; their positions are mapped back, their qualified names come from the `ast`
    walk that found them. When the source cannot be cut, the whole module is parsed.
    The result does not depend on how extraction got the module's SQL sites."""
    if not may_open_transaction(text):
        return ()
    cut = _cut_functions(text)
    module: cst.Module | None = None
    if cut is not None:
        try:
            module = cst.parse_module(cut.code)
        except cst.ParserSyntaxError:
            cut = None
    if module is None:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError:
            return ()
    collected = collect(module)
    if cut is not None:
        collected.imports = cut.imports
    found = candidates(collected)
    owners = transaction_owners(collected, found)
    if not owners:
        return ()
    dialect = module_dialect(collected.imports, text)
    drafts = draft_flows(module, collected.imports, owners, dialect, found)
    if not drafts:
        return ()
    ranges = node_ranges(module, [n for d in drafts for n in (*d.nodes(), d.function.name)])
    if cut is not None:
        lines = cut.lines
        ranges = {key: lines.range(where) for key, where in ranges.items()}
    flows = []
    for draft in drafts:
        flow = draft.finish(ranges, path, dialect)
        name = ranges.get(id(draft.function.name))
        if cut is not None and name is not None and name.start.line in cut.names:
            qualname, module_level = cut.names[name.start.line]
            flow = replace(flow, qualname=qualname, module_level=module_level)
        flows.append(flow)
    return tuple(sorted(flows, key=lambda f: (f.span, f.qualname)))


@dataclass(frozen=True, slots=True)
class _Cut:
    code: str  # the functions, as a small module
    lines: Lines  # where its lines come from
    imports: Imports  # the whole module's
    #: The line of each cut function's ``def`` -> (qualified name, at module level).
    names: dict[int, tuple[str, bool]]


def _cut_functions(text: str) -> _Cut | None:
    """The functions of `text` holding a line that `may_open_transaction` matches, as
    a small module; None when `ast` rejects the source or it cannot be cut."""
    tree = parse(text)
    if tree is None:
        return None
    source = Source(text)
    hinted = source.lines_of(sorted(_hints(text)))
    pieces: list[tuple[int, int]] = []
    names: dict[int, tuple[str, bool]] = {}
    try:
        imports = import_table(tree, source)
        pending: list[tuple[list[ast.stmt], str, bool]] = [(tree.body, "", True)]
        while pending:
            body, prefix, top = pending.pop()
            for node in body:
                first = min([node.lineno, *(d.lineno for d in _decorators(node))])
                last = node.end_lineno or node.lineno
                if not any(first <= line <= last for line in hinted):
                    continue
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    end = source.offset(last, node.end_col_offset or 0)
                    pieces.append((compound_start(node, source), end))
                    _name_functions(node, prefix, top, names)
                elif isinstance(node, ast.ClassDef):
                    pending.append((node.body, f"{prefix}{node.name}.", False))
                else:
                    pending.extend((nested, prefix, top) for nested in _bodies(node))
    except CannotCut:
        return None
    located = assemble(source, imports, pieces)
    return _Cut(located.code, located.lines, imports, names)


def _decorators(node: ast.stmt) -> list[ast.expr]:
    found: list[ast.expr] = getattr(node, "decorator_list", [])
    return found


def _bodies(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists nested in a compound statement (not a function or class)."""
    for name, value in ast.iter_fields(node):
        if name in ("handlers", "cases"):
            for item in value:
                yield item.body
        elif isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value


def _name_functions(
    node: ast.FunctionDef | ast.AsyncFunctionDef,
    prefix: str,
    top: bool,
    names: dict[int, tuple[str, bool]],
) -> None:
    """The qualified names of a function and of the functions nested in it, by line."""
    stack: list[tuple[ast.AST, str, bool]] = [(node, prefix, top)]
    while stack:
        current, outer, level = stack.pop()
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
            qualname = outer + current.name
            names[current.lineno] = (qualname, level)
            stack.extend((child, qualname + ".<locals>.", False) for child in current.body)
        elif isinstance(current, ast.ClassDef):
            stack.extend((child, f"{outer}{current.name}.", False) for child in current.body)
        elif isinstance(current, ast.stmt):
            stack.extend((child, outer, level) for body in _bodies(current) for child in body)


def transaction_owners(collected: Collected, found: Sequence[Candidate]) -> set[int]:
    """The ids of the statements that may open a transaction (see the module docstring)."""
    owners: set[int] = set()
    for attribute, owner in collected.transaction_attributes:
        if attribute.attr.value == "connect":
            parts = callee_parts(attribute)
            if parts is None or not _is_driver_connect(parts, collected.imports):
                continue  # `engine.connect`, `socket.connect`: no implicit transactions
        owners.add(id(owner))
    for candidate in found:
        lowered = candidate.text.lower()
        if ("begin" in lowered or "start" in lowered or "chain" in lowered) and any(
            kind == "begin" or chains for kind, chains, _ in _classify(candidate.text)
        ):
            owners.add(id(candidate.owner))
    for record in collected.name_calls:
        func = record.call.func
        if (
            isinstance(func, cst.Name)
            and func.value.lower() == "connect"
            and _is_driver_connect((func.value,), collected.imports)
        ):
            owners.add(id(record.owner))
    return owners


def draft_flows(
    module: cst.Module,
    imports: Imports,
    owners: set[int] | None,
    dialect: Dialect | None = None,
    found: Sequence[Candidate] = (),
) -> list[FlowDraft]:
    """The functions of `module` holding one of `owners` (every function if None),
    modelled. `found` are the module's SQL sites: the text extraction gave a sink's
    argument (a constant's value, a built string) is used for that argument."""
    texts = {id(c.node): c.text for c in found}
    drafts = []
    for function, qualname, module_level, statements in _functions(module):
        if owners is not None and owners.isdisjoint(statements):
            continue
        builder = _FunctionBuilder(function, qualname, module_level, imports, dialect, texts)
        drafts.append(builder.build())
    return drafts


def _functions(module: cst.Module) -> list[tuple[cst.FunctionDef, str, bool, set[int]]]:
    """Every function definition: (node, qualified name, at module level, the ids of the
    statements, handlers, cases and decorators that belong to it and not to a nested
    function or class). The sets are complete only once the whole module is walked."""
    out: list[tuple[cst.FunctionDef, str, bool, set[int]]] = []
    # (statements to walk, qualname prefix, at module level, the owner set to fill)
    pending: list[tuple[Sequence[cst.CSTNode], str, bool, set[int] | None]] = [
        (module.body, "", True, None)
    ]
    while pending:
        statements, prefix, top, into = pending.pop()
        stack: list[cst.CSTNode] = list(reversed(statements))
        while stack:
            node = stack.pop()
            if into is not None:
                into.add(id(node))
            if isinstance(node, cst.FunctionDef):
                own = {id(decorator) for decorator in node.decorators}
                name = prefix + node.name.value
                pending.append((_suite(node.body), name + ".<locals>.", False, own))
                out.append((node, name, top, own))
                continue
            if isinstance(node, cst.ClassDef):
                pending.append((_suite(node.body), prefix + node.name.value + ".", False, None))
                continue
            stack.extend(reversed(list(_children_statements(node))))
    return out


def _suite(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    """The statements of an indented block, or the small statements of `x: stmt; stmt`."""
    return block.body


def _children_statements(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    if isinstance(node, cst.SimpleStatementLine):
        yield from node.body
    elif isinstance(node, cst.If):
        yield from _suite(node.body)
        if node.orelse is not None:
            yield from (
                [node.orelse] if isinstance(node.orelse, cst.If) else _suite(node.orelse.body)
            )
    elif isinstance(node, (cst.For, cst.While)):
        yield from _suite(node.body)
        if node.orelse is not None:
            yield from _suite(node.orelse.body)
    elif isinstance(node, (cst.Try, cst.TryStar)):
        yield from _suite(node.body)
        yield from node.handlers
        if node.orelse is not None:
            yield from _suite(node.orelse.body)
        if node.finalbody is not None:
            yield from _suite(node.finalbody.body)
    elif isinstance(node, (cst.ExceptHandler, cst.ExceptStarHandler, cst.MatchCase, cst.With)):
        yield from _suite(node.body)
    elif isinstance(node, cst.Match):
        yield from node.cases


# -- what SQL text does -------------------------------------------------------------


def _classify(text: str, dialect: Dialect | None = None) -> list[tuple[str, bool, str]]:
    """(kind, chains, statement) for each statement of `text`. Kind is ``begin``,
    ``commit``, ``rollback``, ``dml`` or ``other``; `chains`: ``COMMIT AND CHAIN``
    opens a new transaction at once.

    The leading keywords come from the lexer; only a statement starting with ``WITH``
    is parsed (`analyse`), to see whether the CTE ends in DML."""
    read = dialect or Dialect.POSTGRES
    out = []
    for group in split(lex(text, read).tokens):
        words: list[str] = []
        for token in group:
            if token.kind is not Kind.WORD:
                break
            words.append(token.value)
        first = words[0] if words else ""
        chains = any(words[i : i + 2] == ["and", "chain"] for i in range(1, len(words) - 1))
        statement = text[group[0].start : group[-1].end]
        if first == "begin" or words[:2] == ["start", "transaction"]:
            kind = "begin"
        elif first in ("commit", "end") and words[1:2] != ["prepared"]:
            kind = "commit"
        elif words[:2] == ["prepare", "transaction"]:
            kind, chains = "commit", False
        elif first in ("rollback", "abort") and not ({"to", "prepared"} & set(words[1:3])):
            kind = "rollback"
        elif first in _DML or (first == "with" and _cte_writes(statement, read)):
            kind, chains = "dml", False
        else:
            kind, chains = "other", False
        out.append((kind, chains, statement))
    return out


def _cte_writes(statement: str, dialect: Dialect) -> bool:
    """``WITH ... INSERT/UPDATE/DELETE/MERGE``."""
    parsed = analyse(statement, dialect)
    return bool(parsed) and isinstance(parsed[0].expression, _DML_TREES)


def _is_driver_connect(parts: tuple[str, ...], imports: Imports) -> bool:
    """Whether a callee is the ``connect`` of a driver with implicit transactions."""
    if parts[-1].lower() != "connect":
        return False
    for qualified in imports.resolve(parts):
        if any(qualified.startswith(driver + ".") for driver in IMPLICIT_DRIVERS):
            return True
    return False


def _root(node: cst.BaseExpression) -> str | None:
    """The name an expression is reached from: ``conn`` for ``conn.cursor().execute``."""
    while True:
        if isinstance(node, cst.Name):
            return node.value
        if isinstance(node, cst.Attribute):
            node = node.value
        elif isinstance(node, cst.Call):
            node = node.func
        elif isinstance(node, cst.Subscript):
            node = node.value
        elif isinstance(node, cst.Await):
            node = node.expression
        else:
            return None


def _truth(node: cst.BaseExpression | None) -> bool | None:
    if isinstance(node, cst.Name) and node.value in ("True", "False"):
        return node.value == "True"
    if isinstance(node, cst.Integer) and node.value in ("0", "1"):
        return node.value == "1"
    return None


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    return next((a for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _dotted(node: cst.BaseExpression) -> str | None:
    parts = callee_parts(node)
    return ".".join(parts) if parts is not None else None


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _LABEL_CHARS else flat[: _LABEL_CHARS - 3] + "..."


# -- the names of one function ------------------------------------------------------


@dataclass
class _Names:
    """What the names of one function hold, as far as its own assignments tell."""

    parameters: set[str] = field(default_factory=set)
    from_parameter: set[str] = field(default_factory=set)
    own_connections: set[str] = field(default_factory=set)
    cursors: set[str] = field(default_factory=set)
    transactions: set[str] = field(default_factory=set)
    connections: set[str] = field(default_factory=set)

    def connection_like(self, name: str | None) -> bool:
        """A connection, session or transaction object (not a cursor made from one)."""
        if name is None or self.is_cursor(name):
            return False
        lowered = name.lower()
        return (
            name in self.connections
            or name in self.own_connections
            or name in self.transactions
            or "conn" in lowered
            or "session" in lowered
            or lowered in ("db", "cnx", "con", "tx", "txn", "trans", "transaction")
        )

    def is_cursor(self, name: str | None) -> bool:
        if name is None:
            return False
        lowered = name.lower()
        return (
            name in self.cursors
            or (lowered.startswith("cur") and not lowered.startswith("curr"))
            or lowered.endswith(("cursor", "_cur"))
        )


def _bindings(function: cst.FunctionDef) -> Iterator[tuple[str, cst.BaseExpression]]:
    """(name, value) for the simple assignments and ``with ... as name`` of a function
    (not of nested functions or classes)."""
    stack: list[cst.CSTNode] = list(_suite(function.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, cst.Assign) and node.value is not None:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    yield target.target.value, node.value
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            if isinstance(node.target, cst.Name):
                yield node.target.value, node.value
        elif isinstance(node, cst.With):
            for item in node.items:
                if item.asname is not None and isinstance(item.asname.name, cst.Name):
                    yield item.asname.name.value, item.item
        stack.extend(_children_statements(node))


def _names(function: cst.FunctionDef, imports: Imports) -> _Names:
    names = _Names()
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        names.parameters.add(param.name.value)
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.parameters.add(star.name.value)
    bindings = list(_bindings(function))
    for name, value in bindings:
        call = _unawaited(value)
        if isinstance(call, cst.Call):
            parts = callee_parts(call.func)
            last = parts[-1] if parts else None
            if parts is not None and _is_driver_connect(parts, imports):
                names.own_connections.add(name)
            elif last == "cursor":
                names.cursors.add(name)
            elif last in ("begin", "transaction", "begin_nested"):
                names.transactions.add(name)
            elif last in ("connect", "connection", "acquire", "getconn", "raw_connection"):
                names.connections.add(name)
    # Derived names: `cur = conn.cursor()` is conn's; iterate to a fixed point. A new
    # connection (`pool.acquire()`, `engine.connect()`) is the function's own.
    changed = True
    while changed:
        changed = False
        for name, value in bindings:
            root = _root(value)
            if root is None or root == name:
                continue
            call = _unawaited(value)
            parts = callee_parts(call.func) if isinstance(call, cst.Call) else None
            fresh = parts is not None and parts[-1] in _FACTORIES
            if (
                not fresh
                and (root in names.parameters or root in names.from_parameter)
                and name not in names.from_parameter
            ):
                names.from_parameter.add(name)
                changed = True
            if root in names.own_connections and name not in names.own_connections:
                names.own_connections.add(name)
                changed = True
    return names


# -- the graph under construction ---------------------------------------------------


@dataclass
class _DraftEvent:
    op: Op
    node: cst.CSTNode
    owner: cst.CSTNode
    label: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _DraftExit:
    kind: ExitKind
    node: cst.CSTNode | None
    hands_over: bool = False


@dataclass
class _DraftBlock:
    handler: int
    steps: list[int] = field(default_factory=list)
    successors: list[int] = field(default_factory=list)
    exit: _DraftExit | None = None


@dataclass
class _Loop:
    exit: int
    head: int


@dataclass
class _Try:
    dispatch: int


@dataclass
class _Cleanup:
    """A ``finally`` body, or the ``END`` a ``with`` scope or a decorator runs on the way out."""

    body: Sequence[cst.CSTNode] = ()
    scope: int | None = None  # an event index
    on_exception: int | None = None  # the block that runs it for an exception, once built


_Frame = _Loop | _Try | _Cleanup


@dataclass
class FlowDraft:
    """A function's graph whose events still point at nodes; `finish` gives it spans."""

    function: cst.FunctionDef
    name: str
    qualname: str
    module_level: bool
    events: list[_DraftEvent]
    blocks: list[_DraftBlock]
    last: cst.CSTNode | None
    complete: bool = True

    def nodes(self) -> list[cst.CSTNode]:
        """The nodes whose ranges `finish` needs."""
        out: list[cst.CSTNode] = [self.function]
        for event in self.events:
            out += (event.node, event.owner)
        out += [b.exit.node for b in self.blocks if b.exit is not None and b.exit.node is not None]
        if self.last is not None:
            out.append(self.last)
        return out

    def finish(
        self, ranges: dict[int, CodeRange], path: str, dialect: Dialect | None
    ) -> FunctionFlow:
        fallback = ranges.get(id(self.function))
        default = _span(fallback) if fallback is not None else Span(1, 1, 1, 1)

        def span(node: cst.CSTNode | None) -> Span:
            where = ranges.get(id(node)) if node is not None else None
            return _span(where) if where is not None else default

        events = tuple(
            Event(e.op, span(e.node), span(e.owner).line, e.label, **e.extra) for e in self.events
        )
        blocks = []
        for b in self.blocks:
            exit_ = None
            if b.exit is not None:
                where = b.exit.node
                if b.exit.kind is ExitKind.END:
                    last = span(self.last)
                    exit_span: Span | None = Span(last.end_line, 1, last.end_line, 1)
                else:
                    exit_span = span(where) if where is not None else None
                exit_ = Exit(b.exit.kind, exit_span, b.exit.hands_over)
            blocks.append(Block(tuple(b.steps), tuple(b.successors), b.handler, exit_))
        return FunctionFlow(
            path=path,
            name=self.name,
            qualname=self.qualname,
            span=Span(default.line, default.col, default.line, default.col),
            module_level=self.module_level,
            is_async=self.function.asynchronous is not None,
            events=events,
            blocks=tuple(blocks),
            dialect=dialect,
            complete=self.complete,
        )


def _span(where: CodeRange) -> Span:
    return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)


def _last_statement(statements: Sequence[cst.CSTNode]) -> cst.CSTNode | None:
    """The last simple statement of a body, looking into compound statements."""
    node: cst.CSTNode | None = statements[-1] if statements else None
    while node is not None:
        if isinstance(node, cst.SimpleStatementLine):
            return node.body[-1] if node.body else node
        if isinstance(node, cst.BaseSmallStatement):
            return node
        if isinstance(node, (cst.Try, cst.TryStar)):
            suite = (
                node.finalbody.body
                if node.finalbody is not None
                else node.orelse.body
                if node.orelse is not None
                else node.handlers[-1].body
                if node.handlers
                else node.body
            )
        elif isinstance(node, cst.If):
            orelse = node.orelse
            while isinstance(orelse, cst.If):
                orelse = orelse.orelse
            suite = orelse.body if orelse is not None else node.body
        elif isinstance(node, (cst.For, cst.While)):
            suite = node.orelse.body if node.orelse is not None else node.body
        elif isinstance(node, (cst.With, cst.FunctionDef, cst.ClassDef)):
            suite = node.body
        elif isinstance(node, cst.Match):
            suite = node.cases[-1].body
        else:
            return node
        body = _suite(suite)
        node = body[-1] if body else None
    return None


class _FunctionBuilder:
    """Builds one function's graph (see `pinlint.flow` for what the graph means)."""

    def __init__(
        self,
        function: cst.FunctionDef,
        qualname: str,
        module_level: bool,
        imports: Imports,
        dialect: Dialect | None,
        texts: Mapping[int, str] | None = None,
    ) -> None:
        self.function = function
        self.texts = texts or {}
        self.qualname = qualname
        self.module_level = module_level
        self.imports = imports
        self.dialect = dialect
        self.names = _names(function, imports)
        #: A generator may have an exception thrown in at a `yield` (`@contextmanager`),
        #: but not a pytest fixture: teardown resumes it normally.
        self.thrown_into = not any(
            (parts := callee_parts(_decorated(d.decorator))) is not None
            and parts[-1] in _NO_THROW_DECORATORS
            for d in function.decorators
        )
        self.events: list[_DraftEvent] = []
        self.known: dict[tuple[object, ...], int] = {}
        self.blocks: list[_DraftBlock] = []
        self.preds: list[int] = []
        self.frames: list[_Frame] = []
        self.cur: int | None = None
        self.exception_exit = self._exit(ExitKind.EXCEPTION, None)

    # -- the result

    def build(self) -> FlowDraft:
        body = _suite(self.function.body)
        last = _last_statement(body)
        try:
            self.cur = self._block()
            entry = self.cur
            scope = self._decorator_scope()
            if scope is not None:
                self._push(_Cleanup(scope=scope))
            self._body(body)
            if scope is not None:
                self._pop_cleanups(1)
            if self.cur is not None:
                self._edge(self.cur, self._exit(ExitKind.END, None))
            blocks = self._reachable(entry)
            complete = True
        except (_TooLarge, RecursionError):
            self.events, blocks, complete = [], [_DraftBlock(0)], False
        return FlowDraft(
            self.function,
            self.function.name.value,
            self.qualname,
            self.module_level,
            self.events,
            blocks,
            last,
            complete,
        )

    def _reachable(self, entry: int) -> list[_DraftBlock]:
        """The blocks reachable from `entry`, renumbered so that it is block 0."""
        order: list[int] = []
        seen = {entry}
        stack = [entry]
        while stack:
            index = stack.pop()
            order.append(index)
            block = self.blocks[index]
            for nxt in (*block.successors, block.handler):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        number = {old: new for new, old in enumerate(order)}
        out = []
        for old in order:
            b = self.blocks[old]
            out.append(
                _DraftBlock(
                    number[b.handler],
                    list(b.steps),
                    list(dict.fromkeys(number[s] for s in b.successors)),
                    b.exit,
                )
            )
        return out

    # -- blocks and edges

    def _block(self) -> int:
        """A new block whose exceptions go where the current frames send them."""
        if len(self.blocks) >= MAX_BLOCKS:
            raise _TooLarge
        index = len(self.blocks)
        self.blocks.append(_DraftBlock(index))  # a placeholder handler, set below
        self.preds.append(0)
        self.blocks[index].handler = self._exception_target(len(self.frames))
        return index

    def _exit(self, kind: ExitKind, node: cst.CSTNode | None, hands_over: bool = False) -> int:
        index = len(self.blocks)
        self.blocks.append(_DraftBlock(index, exit=_DraftExit(kind, node, hands_over)))
        self.preds.append(0)
        return index

    def _edge(self, source: int, target: int) -> None:
        self.blocks[source].successors.append(target)
        self.preds[target] += 1

    def _switch(self) -> None:
        """Continue in a fresh block (the frames changed, and with them the handler)."""
        if self.cur is not None:
            block = self._block()
            self._edge(self.cur, block)
            self.cur = block

    def _join(self, ends: Sequence[int]) -> None:
        if not ends:
            self.cur = None
            return
        block = self._block()
        for end in ends:
            self._edge(end, block)
        self.cur = block

    def _push(self, frame: _Frame) -> None:
        self.frames.append(frame)
        self._switch()

    def _exception_target(self, depth: int) -> int:
        """Where an exception raised under `self.frames[:depth]` goes first."""
        for index in range(depth - 1, -1, -1):
            frame = self.frames[index]
            if isinstance(frame, _Try):
                return frame.dispatch
            if isinstance(frame, _Cleanup):
                if frame.on_exception is None:
                    frame.on_exception = self._cleanup_copy(index, None)
                return frame.on_exception
        return self.exception_exit

    def _cleanup_copy(self, index: int, source: int | None) -> int:
        """Run `self.frames[index]`'s clean-up in new blocks, with the frames outside it;
        for an exception (`source` None) the copy then goes on to the next handler out.
        Returns the copy's first block; `self.cur` is left at its end for a jump."""
        frame = self.frames[index]
        assert isinstance(frame, _Cleanup)
        saved_frames, saved_cur = self.frames, self.cur
        self.frames = self.frames[:index]
        try:
            start = self._block()
            if source is not None:
                self._edge(source, start)
            self.cur = start
            self._cleanup_body(frame)
            end = self.cur
            if source is None:
                if end is not None:
                    self._edge(end, self._exception_target(index))
                self.cur = saved_cur
            else:
                self.cur = end
        finally:
            self.frames = saved_frames
        return start

    def _cleanup_body(self, frame: _Cleanup) -> None:
        if frame.scope is not None:
            self._step(frame.scope)
        else:
            self._body(frame.body)

    def _leave(self, depth: int, target: int) -> None:
        """Jump to `target`, running the clean-ups of the frames from `depth` outwards."""
        for index in range(len(self.frames) - 1, depth - 1, -1):
            if self.cur is None:
                return
            if isinstance(self.frames[index], _Cleanup):
                self._cleanup_copy(index, self.cur)
        if self.cur is not None:
            self._edge(self.cur, target)
        self.cur = None

    def _pop_cleanups(self, count: int) -> None:
        """Leave `count` clean-up frames normally: run each, innermost first."""
        for _ in range(count):
            frame = self.frames.pop()
            assert isinstance(frame, _Cleanup)
            self._switch()
            if self.cur is not None:
                self._cleanup_body(frame)

    # -- statements

    def _body(self, statements: Sequence[cst.CSTNode]) -> None:
        for statement in statements:
            if self.cur is None:
                return  # the rest cannot run
            self._statement(statement)

    def _statement(self, node: cst.CSTNode) -> None:
        if isinstance(node, cst.SimpleStatementLine):
            self._body(node.body)
        elif isinstance(node, cst.BaseSmallStatement):
            self._small(node)
        elif isinstance(node, cst.If):
            self._if(node)
        elif isinstance(node, (cst.For, cst.While)):
            self._loop(node)
        elif isinstance(node, (cst.Try, cst.TryStar)):
            self._try(node)
        elif isinstance(node, cst.With):
            self._with(node)
        elif isinstance(node, cst.Match):
            self._match(node)
        # Nested functions and classes only define names: they are not run here.

    def _small(self, node: cst.BaseSmallStatement) -> None:
        if isinstance(node, cst.Return):
            if node.value is not None:
                self._expression(node.value, node)
            hands_over = node.value is not None and self._hands_over(node.value)
            self._leave(0, self._exit(ExitKind.RETURN, node, hands_over))
        elif isinstance(node, cst.Raise):
            # Building the exception is part of raising it: one way out, at the `raise`.
            self._event(Op.RAISES, node, node, "`raise`", explicit=True)
            self.cur = None
        elif isinstance(node, (cst.Break, cst.Continue)):
            depth = next(
                (
                    i
                    for i in range(len(self.frames) - 1, -1, -1)
                    if isinstance(self.frames[i], _Loop)
                ),
                None,
            )
            if depth is None:
                self.cur = None  # a syntax error the parser let through
                return
            loop = self.frames[depth]
            assert isinstance(loop, _Loop)
            self._leave(depth + 1, loop.exit if isinstance(node, cst.Break) else loop.head)
        elif isinstance(node, cst.Assert):
            self._expression(node.test, node)
            if node.msg is not None:
                self._expression(node.msg, node)
            self._event(Op.RAISES, node, node, "`assert`")
        elif isinstance(node, (cst.Assign, cst.AnnAssign, cst.AugAssign)):
            if node.value is not None:
                self._expression(node.value, node)
            targets = (
                [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            )
            for target in targets:
                if isinstance(target, cst.Attribute) and target.attr.value == "autocommit":
                    self._autocommit(_truth(node.value), target.value, node, node)
        elif isinstance(node, cst.Expr):
            self._expression(node.value, node)

    def _if(self, node: cst.If) -> None:
        ends: list[int] = []
        branch: cst.If | cst.Else | None = node
        while isinstance(branch, cst.If):
            self._expression(branch.test, branch)
            test = self.cur
            if test is None:
                break
            self.cur = self._block()
            self._edge(test, self.cur)
            self._body(_suite(branch.body))
            if self.cur is not None:
                ends.append(self.cur)
            self.cur = self._block()
            self._edge(test, self.cur)
            branch = branch.orelse
        if isinstance(branch, cst.Else):
            self._body(_suite(branch.body))
        if self.cur is not None:
            ends.append(self.cur)
        self._join(ends)

    def _loop(self, node: cst.For | cst.While) -> None:
        if isinstance(node, cst.For):
            self._expression(node.iter, node)
        if self.cur is None:
            return
        head = self._block()
        self._edge(self.cur, head)
        self.cur = head
        forever = False
        if isinstance(node, cst.While):
            self._expression(node.test, node)
            forever = _truth(node.test) is True
        head_end = self.cur
        assert head_end is not None
        after = self._block()
        self.cur = self._block()
        self._edge(head_end, self.cur)
        self.frames.append(_Loop(after, head))
        self._body(_suite(node.body))
        self.frames.pop()
        if self.cur is not None:
            self._edge(self.cur, head)
        if not forever:
            if node.orelse is not None:
                self.cur = self._block()
                self._edge(head_end, self.cur)
                self._body(_suite(node.orelse.body))
                if self.cur is not None:
                    self._edge(self.cur, after)
            else:
                self._edge(head_end, after)
        self.cur = after if self.preds[after] else None

    def _try(self, node: cst.Try | cst.TryStar) -> None:
        cleanup: _Cleanup | None = None
        if node.finalbody is not None:
            cleanup = _Cleanup(body=_suite(node.finalbody.body))
            self._push(cleanup)
        dispatch: int | None = None
        if node.handlers:
            dispatch = self._block()
            self._push(_Try(dispatch))
        self._body(_suite(node.body))
        if dispatch is not None:
            self.frames.pop()
            self._switch()
        if node.orelse is not None:
            self._body(_suite(node.orelse.body))
        ends = [self.cur] if self.cur is not None else []
        if dispatch is not None:
            catches_all = False
            for handler in node.handlers:
                self.cur = self._block()
                self._edge(dispatch, self.cur)
                self._body(_suite(handler.body))
                if self.cur is not None:
                    ends.append(self.cur)
                catches_all = catches_all or _catches_all(handler)
            if not catches_all:
                self._edge(dispatch, self._exception_target(len(self.frames)))
        self._join(ends)
        if cleanup is not None:
            self._pop_cleanups(1)

    def _with(self, node: cst.With) -> None:
        scopes = 0
        for item in node.items:
            label = self._scope_label(item.item)
            self._expression(item.item, node, scope_call=label is not None)
            if label is None:
                continue
            scope = self._new_event(
                Op.END, item.item, node, label, ending=Ending.SCOPE, sink="with"
            )
            self._push(_Cleanup(scope=scope))
            scopes += 1
        self._body(_suite(node.body))
        self._pop_cleanups(scopes)

    def _match(self, node: cst.Match) -> None:
        self._expression(node.subject, node)
        start = self.cur
        if start is None:
            return
        ends: list[int] = []
        exhaustive = False
        for case in node.cases:
            self.cur = self._block()
            self._edge(start, self.cur)
            if case.guard is not None:
                self._expression(case.guard, case)
            self._body(_suite(case.body))
            if self.cur is not None:
                ends.append(self.cur)
            if case.guard is None and _irrefutable(case.pattern):
                exhaustive = True
                break
        if not exhaustive:
            ends.append(start)
        self._join(ends)

    # -- what the function does with names

    def _hands_over(self, value: cst.BaseExpression) -> bool:
        """`return conn`, `return cur, trans`, `return conn.cursor()`: the caller gets
        the connection, a cursor or the transaction (not `return cur.rowcount`)."""
        items = value.elements if isinstance(value, cst.Tuple) else [value]
        names = self.names
        for item in items:
            expression = _unawaited(item.value if isinstance(item, cst.BaseElement) else item)
            if isinstance(expression, cst.Call):
                parts = callee_parts(expression.func)
                if parts is not None and parts[-1] in _HANDED_OVER_CALLS:
                    return True
                continue
            if isinstance(expression, cst.Attribute):
                name: str | None = expression.attr.value
            elif isinstance(expression, cst.Name):
                name = expression.value
            else:
                continue
            if names.connection_like(name) or names.is_cursor(name):
                return True
        return False

    def _scope_label(self, item: cst.BaseExpression) -> str | None:
        """How messages name a ``with`` item that ends the transaction on the way out."""
        call = item.expression if isinstance(item, cst.Await) else item
        if isinstance(call, cst.Call):
            func = call.func
            if isinstance(func, cst.Attribute) and func.attr.value in _SCOPE_METHODS:
                return f"`with {_dotted(func) or func.attr.value}()`"
            if isinstance(func, cst.Name) and func.value in _SCOPE_FUNCTIONS:
                return f"`with {func.value}()`"
            return None
        if isinstance(call, (cst.Name, cst.Attribute)):
            dotted = _dotted(call)
            last = call.value if isinstance(call, cst.Name) else call.attr.value
            if dotted is not None and self.names.connection_like(last):
                return f"`with {dotted}`"
        return None

    def _decorator_scope(self) -> int | None:
        for decorator in self.function.decorators:
            parts = callee_parts(_decorated(decorator.decorator))
            if parts is not None and parts[-1] in _SCOPE_DECORATORS:
                label = f"`@{'.'.join(parts)}`"
                return self._new_event(
                    Op.END, decorator, decorator, label, ending=Ending.SCOPE, sink="decorator"
                )
        return None

    def _receiver(self, call: cst.Call) -> tuple[str | None, dict[str, Any]]:
        """The name a method is called on (``conn`` for ``self.conn.close()``), and the
        event flags its root name gives (``self``: a parameter)."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None, {"from_parameter": False, "own_connection": False}
        receiver = func.value
        name = (
            receiver.value
            if isinstance(receiver, cst.Name)
            else receiver.attr.value
            if isinstance(receiver, cst.Attribute)
            else None
        )
        root = _root(receiver)
        names = self.names
        return name, {
            "from_parameter": root is not None
            and (root in names.parameters or root in names.from_parameter),
            "own_connection": root is not None and root in names.own_connections,
        }

    # -- events

    def _new_event(
        self, op: Op, node: cst.CSTNode, owner: cst.CSTNode, label: str, **extra: Any
    ) -> int:
        """The index of the event; the copies of a ``finally`` body share their events."""
        key = (id(node), op, label, tuple(sorted(extra.items())))
        index = self.known.get(key)
        if index is None:
            index = self.known[key] = len(self.events)
            self.events.append(_DraftEvent(op, node, owner, label, extra))
        return index

    def _step(self, event: int) -> None:
        if self.cur is None:
            return
        steps = self.blocks[self.cur].steps
        # Two raise points in a row send the same state: keep the first.
        if (
            steps
            and self.events[event].op is Op.RAISES
            and not self.events[event].extra.get("explicit")
            and self.events[steps[-1]].op is Op.RAISES
        ):
            return
        steps.append(event)

    def _event(
        self, op: Op, node: cst.CSTNode, owner: cst.CSTNode, label: str, **extra: Any
    ) -> None:
        if self.cur is not None:
            self._step(self._new_event(op, node, owner, label, **extra))

    def _expression(
        self, root: cst.BaseExpression, owner: cst.CSTNode, scope_call: bool = False
    ) -> None:
        """The events of an expression, in evaluation order (arguments before calls).

        With `scope_call`, `root` is a ``with`` item that ends the transaction on the
        way out: its own call neither opens nor closes anything."""
        stack: list[tuple[cst.CSTNode, bool]] = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                if isinstance(node, cst.Call):
                    self._call(node, owner, as_scope=scope_call and node is _unawaited(root))
                elif isinstance(node, cst.Await) and not isinstance(node.expression, cst.Call):
                    # `await f()` fails where the call does: the call's events say so.
                    self._event(Op.RAISES, node, owner, "`await`")
                elif isinstance(node, cst.Yield) and self.thrown_into:
                    self._event(Op.RAISES, node, owner, "`yield`", at_yield=True)
                continue
            if isinstance(node, cst.Lambda):
                continue  # its body runs later, if ever
            info = type_info(type(node))
            if info.leaf:
                continue
            stack.append((node, True))
            children: list[cst.CSTNode] = []
            for name in info.fields:
                value = getattr(node, name)
                if isinstance(value, cst.CSTNode):
                    children.append(value)
                elif isinstance(value, (list, tuple)):
                    children.extend(v for v in value if isinstance(v, cst.CSTNode))
            stack.extend((child, False) for child in reversed(children))

    def _call(self, call: cst.Call, owner: cst.CSTNode, as_scope: bool) -> None:
        func = call.func
        parts = callee_parts(func)
        method = func.attr.value if isinstance(func, cst.Attribute) else None
        dotted = ".".join(parts) if parts is not None else method or "call"
        label = f"`{dotted}()`"
        receiver, flags = self._receiver(call)
        if parts is not None and _is_driver_connect(parts, self.imports):
            self._event(Op.RAISES, call, owner, label)
            autocommit = _keyword(call, "autocommit")
            if autocommit is None or _truth(autocommit.value) is not True:
                self._event(
                    Op.IMPLICIT_ON,
                    call,
                    owner,
                    label,
                    dml_only=True,
                    own_connection=True,
                    sink=dotted,
                )
            return
        if as_scope:
            self._event(Op.RAISES, call, owner, label)
            return
        if method is None:
            ending = _helper_ending(parts[-1]) if parts is not None else None
            if ending is not None:  # `finish_commit(conn)`
                self._event(Op.END, call, owner, label, ending=ending, sink=dotted)
            self._event(Op.RAISES, call, owner, label)
            return
        if method in _EXECUTE:
            self._execute(call, method, owner, flags)
        elif method in ("commit", "rollback"):
            ending = Ending.COMMIT if method == "commit" else Ending.ROLLBACK
            self._event(Op.END, call, owner, label, ending=ending, sink=dotted)
            self._event(Op.RAISES, call, owner, label)
        elif _helper_ending(method) is not None:
            ending = _helper_ending(method)
            self._event(Op.END, call, owner, label, ending=ending, sink=dotted)
            self._event(Op.RAISES, call, owner, label)
        elif method == "close" and self.names.connection_like(receiver):
            self._event(Op.END, call, owner, label, ending=Ending.CLOSE, sink=dotted)
            self._event(Op.IMPLICIT_OFF, call, owner, label)
            self._event(Op.RAISES, call, owner, label)
        elif self._begins(method, receiver):
            self._event(Op.RAISES, call, owner, label)
            self._event(Op.BEGIN, call, owner, label, sink=dotted, **flags)
        elif method == "autocommit" and len(call.args) == 1 and call.args[0].keyword is None:
            self._event(Op.RAISES, call, owner, label)
            assert isinstance(func, cst.Attribute)
            self._autocommit(_truth(call.args[0].value), func.value, call, owner)
        elif method == "set_session" and _keyword(call, "autocommit") is not None:
            self._event(Op.RAISES, call, owner, label)
            keyword = _keyword(call, "autocommit")
            assert keyword is not None and isinstance(func, cst.Attribute)
            self._autocommit(_truth(keyword.value), func.value, call, owner)
        else:
            self._event(Op.RAISES, call, owner, label)

    def _begins(self, method: str, receiver: str | None) -> bool:
        """SQLAlchemy ``conn.begin()``/``session.begin()`` (not ``engine.begin()``, which
        connects only when entered), or asyncpg ``tr.start()`` on ``conn.transaction()``."""
        if method == "start":
            return receiver is not None and receiver in self.names.transactions
        if method != "begin" or (receiver is not None and "engine" in receiver.lower()):
            return False
        return self.imports.db_import or self.names.connection_like(receiver)

    def _autocommit(
        self,
        value: bool | None,
        receiver: cst.BaseExpression,
        node: cst.CSTNode,
        owner: cst.CSTNode,
    ) -> None:
        if value is None:
            return  # set from a variable: cannot tell
        dotted = _dotted(receiver) or "connection"
        if value:
            self._event(Op.IMPLICIT_OFF, node, owner, f"`{dotted}.autocommit = True`")
            return
        root = _root(receiver)
        names = self.names
        self._event(
            Op.IMPLICIT_ON,
            node,
            owner,
            f"`{dotted}.autocommit = False`",
            from_parameter=root is not None
            and (root in names.parameters or root in names.from_parameter),
            own_connection=root is not None and root in names.own_connections,
            sink=f"{dotted}.autocommit",
        )

    def _execute(
        self, call: cst.Call, method: str, owner: cst.CSTNode, flags: dict[str, Any]
    ) -> None:
        sink = METHODS_BY_NAME[method]
        arg = argument(call.args, sink.position, sink.keywords)
        if isinstance(arg, cst.Call):  # SQLAlchemy `text("...")`
            parts = callee_parts(arg.func)
            if parts is not None and parts[-1] == "text" and arg.args:
                arg = arg.args[0].value
        text = self.texts.get(id(arg)) if arg is not None else None
        if text is None and arg is not None:
            value = evaluate(arg)
            text = value.text if value is not None else None
        statements = _classify(text, self.dialect) if text is not None else []
        if not statements:
            self._event(Op.STATEMENT, call, owner, "the statement", sink=sink.sink, **flags)
            self._event(Op.RAISES, call, owner, "the statement")
            return
        for kind, chains, text in statements:
            label = f"`{_one_line(text)}`"
            sql = " ".join(text.split())
            common: dict[str, Any] = {"sink": sink.sink, "sql": sql}
            if kind == "begin":
                self._event(Op.RAISES, call, owner, label)
                self._event(Op.BEGIN, call, owner, label, **common, **flags)
            elif kind in ("commit", "rollback"):
                ending = Ending.COMMIT if kind == "commit" else Ending.ROLLBACK
                self._event(Op.END, call, owner, label, ending=ending, **common)
                self._event(Op.RAISES, call, owner, label)
                if chains:
                    self._event(Op.BEGIN, call, owner, label, **common, **flags)
            else:
                self._event(Op.STATEMENT, call, owner, label, dml=kind == "dml", **common, **flags)
                self._event(Op.RAISES, call, owner, label)


def _helper_ending(name: str) -> Ending | None:
    """``do_rollback``, ``_commit``, ``commit_all``: a helper taken to commit or roll back
    (``commit`` or ``rollback`` as a ``_``-separated word of its name)."""
    words = name.lower().split("_")
    if "rollback" in words:
        return Ending.ROLLBACK
    if "commit" in words:
        return Ending.COMMIT
    return None


def _decorated(expression: cst.BaseExpression) -> cst.BaseExpression:
    """The decorator's name: ``pytest.fixture`` for ``@pytest.fixture(scope=...)``."""
    return expression.func if isinstance(expression, cst.Call) else expression


def _unawaited(node: cst.BaseExpression) -> cst.BaseExpression:
    return node.expression if isinstance(node, cst.Await) else node


def _catches_all(handler: cst.ExceptHandler | cst.ExceptStarHandler) -> bool:
    kind = handler.type
    if kind is None:
        return True
    items = [e.value for e in kind.elements] if isinstance(kind, cst.Tuple) else [kind]
    for item in items:
        parts = callee_parts(item)
        if parts is not None and parts[-1] in _CATCH_ALL:
            return True
    return False


def _irrefutable(pattern: cst.MatchPattern) -> bool:
    """``case _:`` and ``case name:`` match anything."""
    return isinstance(pattern, cst.MatchAs) and pattern.pattern is None
