"""Shared predicates over analysed statements, so no two rules re-derive a fact."""

from __future__ import annotations

from dataclasses import dataclass

from pinlint.model import Dialect
from pinlint.sql.lexer import Kind, Token
from pinlint.sql.statement import Arg, FunctionCall, Statement

_FALSE = {"false", "f", "off", "no", "n", "0"}
_TRUE = {"true", "t", "on", "yes", "y", "1"}


def truth(arg: Arg | None) -> bool | None:
    """The boolean value of a literal argument; None when it is not known."""
    if arg is None or arg.kind not in ("bool", "string", "number"):
        return None
    value = arg.value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    return None


@dataclass(frozen=True, slots=True)
class SetCommand:
    """A `SET`/`RESET` statement. `scope` is `session`, `local`, `transaction`
    (`SET TRANSACTION ...`) or `constraints` (`SET CONSTRAINTS ...`); `parameter`
    is the setting's name as written (`search_path`, `time zone`, `role`, `all`).
    `to_default` is true for `RESET` and `SET ... TO DEFAULT`, which put the session's
    default back (the clean-up of an earlier `SET`)."""

    verb: str
    scope: str
    parameter: str
    to_default: bool = False


_MULTIWORD = {
    ("time", "zone"): "time zone",
    ("session", "authorization"): "session authorization",
    ("session", "characteristics"): "session characteristics",
}


def set_command(stmt: Statement) -> SetCommand | None:
    """A PostgreSQL `SET`/`RESET` (MySQL's `SET` is `mysql_set`)."""
    words = stmt.words
    if not words or words[0] not in ("set", "reset") or stmt.dialect is not Dialect.POSTGRES:
        return None
    verb = words[0]
    rest = list(words[1:])
    tokens = stmt.tokens
    if verb == "reset":
        param = rest[0] if rest else (tokens[1].value if len(tokens) > 1 else "")
        return SetCommand(verb, "session", param, to_default=True)
    to_default = _value_is_default(tokens)
    scope = "session"
    if rest[:1] == ["local"]:
        scope, rest = "local", rest[1:]
    elif rest[:2] in (["session", "authorization"], ["session", "characteristics"]):
        pass
    elif rest[:1] == ["session"]:
        rest = rest[1:]
    if rest[:1] == ["transaction"]:
        return SetCommand(verb, "transaction", "transaction")
    if rest[:1] == ["constraints"]:
        return SetCommand(verb, "constraints", "constraints")
    if tuple(rest[:2]) in _MULTIWORD:
        return SetCommand(verb, scope, _MULTIWORD[(rest[0], rest[1])], to_default)
    if rest:
        name = rest[0]
        # a dotted custom parameter (`app.tenant`): read it from the tokens
        skip = len(words) - len(rest)
        idx = skip
        parts = [tokens[idx].value]
        while (
            idx + 2 < len(tokens)
            and tokens[idx + 1].value == "."
            and (tokens[idx + 2].kind in (Kind.WORD, Kind.IDENT))
        ):
            parts.append(tokens[idx + 2].value)
            idx += 2
        return SetCommand(verb, scope, ".".join(parts) if len(parts) > 1 else name, to_default)
    # `SET "quoted"` or `SET <hole>`: the name is not a plain word
    nxt = tokens[len(words)] if len(tokens) > len(words) else None
    return SetCommand(verb, scope, nxt.value if nxt is not None else "", to_default)


def _value_is_default(tokens: tuple[Token, ...]) -> bool:
    """`SET name TO DEFAULT` / `SET name = DEFAULT` (also `SET TIME ZONE DEFAULT`)."""
    return (
        len(tokens) >= 3
        and tokens[-1].kind is Kind.WORD
        and tokens[-1].value == "default"
        and (tokens[-2].value in ("to", "=", "zone"))
    )


def set_config_calls(stmt: Statement) -> list[tuple[FunctionCall, bool | None]]:
    """Every `set_config(name, value, is_local)` call, with is_local if known."""
    out = []
    for call in stmt.calls_named("set_config"):
        if call.schema not in (None, "pg_catalog"):
            continue
        out.append((call, truth(call.args[2]) if len(call.args) >= 3 else None))
    return out


def setting_name(call: FunctionCall) -> str:
    first = call.args[0] if call.args else None
    return first.value if first is not None and first.kind == "string" else "?"


@dataclass(frozen=True, slots=True)
class TempObject:
    kind: str  # table, view, sequence
    on_commit_drop: bool


_TEMP = ("temp", "temporary")


def temp_object(stmt: Statement) -> TempObject | None:
    """`CREATE [OR REPLACE] [GLOBAL|LOCAL] TEMP[ORARY] [UNLOGGED] [RECURSIVE] TABLE|VIEW|SEQUENCE`,
    or `SELECT ... INTO TEMP[ORARY] [TABLE] name`."""
    words = list(stmt.words)
    on_commit_drop = _has_sequence(stmt, ("on", "commit", "drop"))
    if words[:1] == ["create"]:
        rest = words[1:]
        if rest[:2] == ["or", "replace"]:
            rest = rest[2:]
        if rest[:1] and rest[0] in ("global", "local"):
            rest = rest[1:]
        if not rest or rest[0] not in _TEMP:
            return None
        rest = [w for w in rest[1:] if w not in ("unlogged", "recursive")]
        if rest and rest[0] in ("table", "view", "sequence"):
            return TempObject(rest[0], on_commit_drop)
        return None
    if words[:1] in (["select"], ["with"]) and stmt.dialect is Dialect.POSTGRES:
        for i in stmt.word_positions("into"):
            if (
                i + 1 < len(stmt.tokens)
                and stmt.tokens[i + 1].value in _TEMP
                and (stmt.tokens[i + 1].kind is Kind.WORD)
            ):
                return TempObject("table", on_commit_drop)
    return None


def _has_sequence(stmt: Statement, seq: tuple[str, ...]) -> bool:
    values = [t.value if t.kind is Kind.WORD else "" for t in stmt.tokens]
    n = len(seq)
    return any(tuple(values[i : i + n]) == seq for i in range(len(values) - n + 1))


@dataclass(frozen=True, slots=True)
class CursorDeclaration:
    name: str
    with_hold: bool


def cursor_declaration(stmt: Statement) -> CursorDeclaration | None:
    """`DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [[NO] SCROLL] CURSOR [WITH[OUT] HOLD] FOR`.

    A PL/pgSQL `DECLARE` block lives inside a dollar-quoted body, which is one
    string token, so it never reaches this check."""
    tokens = stmt.tokens
    if not stmt.starts_with("declare") or len(tokens) < 3:
        return None
    values = [t.value if t.kind is Kind.WORD else None for t in tokens]
    if "cursor" not in values:
        return None
    pos = values.index("cursor")
    allowed = {"binary", "asensitive", "insensitive", "no", "scroll"}
    if not all(v in allowed for v in values[2:pos]):
        return None
    with_hold = values[pos + 1 : pos + 3] == ["with", "hold"]
    return CursorDeclaration(tokens[1].value, with_hold)


def stores_without_running(stmt: Statement) -> bool:
    """True for DDL that stores SQL for later (column defaults, views, rules,
    triggers) instead of running it now. `CREATE TABLE ... AS` and
    `CREATE MATERIALIZED VIEW ... AS` run their query, so they are not."""
    words = stmt.words
    if not words or words[0] not in ("create", "alter", "comment"):
        return False
    head = words[:6]
    runs_query = ("table" in head or "materialized" in head) and bool(stmt.word_positions("as"))
    return not runs_query


# -- MySQL ---------------------------------------------------------------------------

#: `SET` forms that are not variable assignments, by their leading words.
_MYSQL_SET_FORMS = {
    ("password",): "password",
    ("default", "role"): "default role",
    ("role",): "role",
    ("resource", "group"): "resource group",
    ("statement",): "statement",
}
_MYSQL_SCOPES = ("global", "session", "local", "persist", "persist_only")


@dataclass(frozen=True, slots=True)
class MySqlAssignment:
    """One assignment of a MySQL `SET`.

    `name` is the lower-cased variable name (`sql_mode`, `names`, `character set`,
    `transaction`), `@name` for a user variable, or a non-assignment form (`role`,
    `password`, `default role`, `resource group`, `statement`). `scope` is `session`,
    `global`, `local`, `persist`, `persist_only`, `user` (a user variable), or
    `next-transaction` (`SET TRANSACTION ...` without a scope)."""

    name: str
    scope: str


def _items(tokens: tuple[Token, ...]) -> list[list[Token]]:
    """The comma-separated items of a token run, at parenthesis depth 0."""
    items: list[list[Token]] = [[]]
    depth = 0
    for tok in tokens:
        if tok.kind is Kind.PUNCT and tok.value in "([":
            depth += 1
        elif tok.kind is Kind.PUNCT and tok.value in ")]":
            depth -= 1
        elif tok.kind is Kind.PUNCT and tok.value == "," and depth == 0:
            items.append([])
            continue
        items[-1].append(tok)
    return [item for item in items if item]


def mysql_set(stmt: Statement) -> tuple[MySqlAssignment, ...] | None:
    """The assignments of a MySQL `SET` statement; None for any other statement.

    A scope keyword carries over to the assignments after it that have none, as in
    MySQL; `SET @@x` and `SET x` set the session value."""
    if stmt.dialect is not Dialect.MYSQL or not stmt.starts_with("set"):
        return None
    rest = stmt.tokens[1:]
    words = [t.value if t.kind is Kind.WORD else "" for t in rest]
    for lead, form in _MYSQL_SET_FORMS.items():
        if tuple(words[: len(lead)]) == lead:
            return (MySqlAssignment(form, "session"),)
    scope = "session"
    if words[:1] and words[0] in ("global", "session", "local") and words[1:2] == ["transaction"]:
        return (MySqlAssignment("transaction", words[0]),)
    if words[:1] == ["transaction"]:
        return (MySqlAssignment("transaction", "next-transaction"),)
    out: list[MySqlAssignment] = []
    for item in _items(rest):
        head = item[0]
        if head.kind is Kind.WORD and head.value in _MYSQL_SCOPES and len(item) > 1:
            scope, item = head.value, item[1:]
            head = item[0]
        if head.kind is Kind.USERVAR:
            out.append(MySqlAssignment(head.value, "user"))
        elif head.kind is Kind.SYSVAR:
            name = head.value[2:]
            var_scope = "session"
            if "." in name:
                var_scope, name = name.split(".", 1)
            out.append(MySqlAssignment(name, var_scope))
        elif head.kind is Kind.WORD and head.value == "names":
            out.append(MySqlAssignment("names", scope))
        elif head.kind is Kind.WORD and (
            head.value == "charset"
            or (head.value in ("character", "char") and len(item) > 1 and item[1].value == "set")
        ):
            out.append(MySqlAssignment("character set", scope))
        elif head.kind in (Kind.WORD, Kind.IDENT):
            # a component variable (`validate_password.length`) is dotted
            parts = [head.value.lower()]
            idx = 0
            while (
                idx + 2 < len(item)
                and item[idx + 1].value == "."
                and item[idx + 2].kind in (Kind.WORD, Kind.IDENT)
            ):
                parts.append(item[idx + 2].value.lower())
                idx += 2
            out.append(MySqlAssignment(".".join(parts), scope))
        elif head.kind is Kind.PARAM:
            out.append(MySqlAssignment("?", scope))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class UserVariableUse:
    """A MySQL user variable in a statement. `how` is `set` (`SET @x = ...`),
    `assign` (`@x := ...` outside `SET`), `into` (`SELECT ... INTO @x`) or `read`."""

    name: str
    how: str


def user_variables(stmt: Statement) -> list[UserVariableUse]:
    """Every user variable the statement sets or reads, in order (MySQL only)."""
    if stmt.dialect is not Dialect.MYSQL:
        return []
    tokens = stmt.tokens
    set_heads: set[int] = set()
    if stmt.starts_with("set"):
        position = {id(t): i for i, t in enumerate(tokens)}
        for item in _items(tokens[1:]):
            head = item[1] if item[0].value in _MYSQL_SCOPES and len(item) > 1 else item[0]
            if head.kind is Kind.USERVAR:
                set_heads.add(position[id(head)])
    out: list[UserVariableUse] = []
    into = False
    for i, tok in enumerate(tokens):
        if tok.kind is Kind.WORD:
            into = tok.value == "into"
            continue
        if tok.kind is not Kind.USERVAR:
            if not (into and tok.kind is Kind.PUNCT and tok.value == ","):
                into = False
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if i in set_heads:
            how = "set"
        elif nxt is not None and nxt.kind is Kind.OP and nxt.value == ":=":
            how = "assign"
        elif into:
            how = "into"
        else:
            how = "read"
        out.append(UserVariableUse(tok.value, how))
    return out


@dataclass(frozen=True, slots=True)
class TableLock:
    """`LOCK TABLES`, `FLUSH TABLES ... WITH READ LOCK` / `FOR EXPORT`, or the clean-up
    `UNLOCK TABLES` (`release` is true)."""

    statement: str  # upper-cased leading words, for messages
    release: bool


def mysql_table_lock(stmt: Statement) -> TableLock | None:
    if stmt.dialect is not Dialect.MYSQL:
        return None
    words = stmt.words
    if words[:2] in (("lock", "tables"), ("lock", "table")):
        return TableLock("LOCK TABLES", False)
    if words[:2] in (("unlock", "tables"), ("unlock", "table")):
        return TableLock("UNLOCK TABLES", True)
    if words[:2] in (("flush", "tables"), ("flush", "table")):
        if _has_sequence(stmt, ("with", "read", "lock")):
            return TableLock("FLUSH TABLES ... WITH READ LOCK", False)
        if _has_sequence(stmt, ("for", "export")):
            return TableLock("FLUSH TABLES ... FOR EXPORT", False)
    return None
