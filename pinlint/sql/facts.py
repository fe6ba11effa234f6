"""Shared predicates over analysed statements, so no two rules re-derive a fact."""

from __future__ import annotations

from dataclasses import dataclass

from pinlint.sql.lexer import Kind
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
    is the setting's name as written (`search_path`, `time zone`, `role`, `all`)."""

    verb: str
    scope: str
    parameter: str


_MULTIWORD = {
    ("time", "zone"): "time zone",
    ("session", "authorization"): "session authorization",
    ("session", "characteristics"): "session characteristics",
}


def set_command(stmt: Statement) -> SetCommand | None:
    words = stmt.words
    if not words or words[0] not in ("set", "reset"):
        return None
    verb = words[0]
    rest = list(words[1:])
    tokens = stmt.tokens
    if verb == "reset":
        param = rest[0] if rest else (tokens[1].value if len(tokens) > 1 else "")
        return SetCommand(verb, "session", param)
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
        return SetCommand(verb, scope, _MULTIWORD[(rest[0], rest[1])])
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
        return SetCommand(verb, scope, ".".join(parts) if len(parts) > 1 else name)
    # `SET "quoted"` or `SET <hole>`: the name is not a plain word
    nxt = tokens[len(words)] if len(tokens) > len(words) else None
    return SetCommand(verb, scope, nxt.value if nxt is not None else "")


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
    if words[:1] in (["select"], ["with"]):
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
