"""A forgiving SQL lexer for PostgreSQL and MySQL.

It never raises: an unterminated string or comment simply runs to the end of the
text. Its tokens drive statement splitting, the leading-keyword classification of
utility statements (which sqlglot keeps as opaque `Command`s), and the fallback
analysis when sqlglot rejects a statement. Comments and the insides of string
literals, quoted identifiers and dollar-quoted bodies are never read as SQL.

The MySQL dialect differs where MySQL does: backtick identifiers, `"..."` strings,
backslash escapes in strings, `#` comments, `-- ` comments only before a space,
block comments that do not nest, `@user` and `@@system` variables as single tokens,
and executable comments. The content of `/*! ... */` and `/*M! ... */` runs on the
server, so its tokens are produced in line like any other SQL; `lex` also returns
each executable comment itself, because the proxy cannot see inside one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pinlint.model import HOLE, Dialect


class Kind(str, Enum):
    WORD = "word"  # keyword or unquoted identifier; `value` is lower-cased
    IDENT = "ident"  # "quoted identifier"; `value` is the unquoted name
    STRING = "string"  # '...', E'...', $tag$...$tag$; `value` is the content
    NUMBER = "number"
    PARAM = "param"  # %s, %(name)s, $1, :name, ?, or a HOLE
    PUNCT = "punct"  # ; ( ) , .
    OP = "op"  # any other operator character(s)
    USERVAR = "uservar"  # MySQL `@name`; `value` is `@` and the lower-cased name
    SYSVAR = "sysvar"  # MySQL `@@[scope.]name`; `value` is lower-cased, with the `@@`


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: str
    start: int
    end: int


_WS = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z_\u0080-\ufffb\ufffd-\uffff][A-Za-z0-9_$\u0080-\ufffb\ufffd-\uffff]*")
_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")
_PYFORMAT = re.compile(r"%(?:\([^)]*\))?s")
_DOLLAR_PARAM = re.compile(r"\$\d+")
_COLON_PARAM = re.compile(r":[A-Za-z_][A-Za-z0-9_]*")
_OPCHARS = re.compile(r"[+\-*/<>=~!@#%^&|`?:]+")


def _quoted(text: str, i: int, quote: str, backslash: bool) -> tuple[str, int]:
    """Read a quoted run starting after the opening quote; doubled quotes escape."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if backslash and c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        if c == quote:
            if i + 1 < n and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), n


@dataclass(frozen=True, slots=True)
class ExecutableComment:
    """A MySQL `/*!NNNNN ... */` or MariaDB `/*M!NNNNNN ... */` comment.

    `start`/`end` cover the whole comment, `body_start`/`body_end` the SQL inside it
    (after the version number); `version` is that number as written, or ""."""

    start: int
    end: int
    body_start: int
    body_end: int
    version: str
    mariadb: bool


@dataclass(frozen=True, slots=True)
class Lexed:
    tokens: list[Token]
    executable_comments: list[ExecutableComment]


_EXECUTABLE = re.compile(r"/\*(M?)!(\d*)")
_MYSQL_VARIABLE_NAME = re.compile(r"[A-Za-z0-9_$.\u0080-\ufffb\ufffd-\uffff]+")
_MYSQL_SYSVAR = re.compile(
    r"@@(?:(?:global|session|local|persist|persist_only)\.)?[A-Za-z_][A-Za-z0-9_$]*", re.IGNORECASE
)


def _block_comment_end(text: str, i: int, nested: bool = True) -> int:
    """End of a block comment opened at i (nestable in PostgreSQL, not in MySQL)."""
    if not nested:
        close = text.find("*/", i + 2)
        return len(text) if close < 0 else close + 2
    depth, n = 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            depth += 1
            i += 2
        elif text.startswith("*/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return n


def tokenize(text: str, dialect: Dialect = Dialect.POSTGRES) -> list[Token]:
    return lex(text, dialect).tokens


def lex(text: str, dialect: Dialect = Dialect.POSTGRES) -> Lexed:
    """The tokens of `text`, and (MySQL) its executable comments."""
    mysql = dialect is Dialect.MYSQL
    tokens: list[Token] = []
    executable: list[ExecutableComment] = []
    #: End of the executable comment being read (its `*/`), or -1.
    in_executable = -1
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            m = _WS.match(text, i)
            i = m.end() if m else i + 1
            continue
        if 0 <= in_executable <= i:  # the `*/` closing an executable comment
            i, in_executable = (i + 2 if text.startswith("*/", i) else i), -1
            continue
        if text.startswith("--", i) and (
            not mysql or i + 2 >= n or text[i + 2].isspace() or ord(text[i + 2]) < 32
        ):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if mysql and c == "#":
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if text.startswith("/*", i):
            m = _EXECUTABLE.match(text, i) if mysql and in_executable < 0 else None
            end = _block_comment_end(text, i, nested=not mysql)
            if m is None:
                i = end
                continue
            body_end = end - 2 if text.endswith("*/", 0, end) and end - 2 >= m.end() else end
            executable.append(
                ExecutableComment(i, end, m.end(), body_end, m.group(2), bool(m.group(1)))
            )
            i, in_executable = m.end(), body_end
            continue
        start = i
        if c == HOLE:
            tokens.append(Token(Kind.PARAM, HOLE, i, i + 1))
            i += 1
            continue
        if c == "'":
            value, i = _quoted(text, i + 1, "'", backslash=mysql)
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if mysql:
            token = _mysql_token(text, i)
            if token is not None:
                tokens.append(token)
                i = token.end
                continue
        if c in "eEbBxXnN" and i + 1 < n and text[i + 1] == "'":
            value, i = _quoted(text, i + 2, "'", backslash=c in "eE" or (mysql and c in "nN"))
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if not mysql and c in "uU" and text.startswith("&'", i + 1):
            value, i = _quoted(text, i + 3, "'", backslash=False)
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if not mysql and c in "uU" and text.startswith('&"', i + 1):
            value, i = _quoted(text, i + 3, '"', backslash=False)
            tokens.append(Token(Kind.IDENT, value, start, i))
            continue
        if c == '"':
            value, i = _quoted(text, i + 1, '"', backslash=False)
            tokens.append(Token(Kind.IDENT, value, start, i))
            continue
        if c == "$":
            m = _DOLLAR_PARAM.match(text, i)
            if m:
                tokens.append(Token(Kind.PARAM, m.group(), start, m.end()))
                i = m.end()
                continue
            m = None if mysql else _DOLLAR_TAG.match(text, i)
            if m:
                close = text.find(m.group(), m.end())
                end = n if close < 0 else close + len(m.group())
                body_end = n if close < 0 else close
                tokens.append(Token(Kind.STRING, text[m.end() : body_end], start, end))
                i = end
                continue
        if c == "%":
            if text.startswith("%%", i):
                tokens.append(Token(Kind.OP, "%", start, i + 2))
                i += 2
                continue
            m = _PYFORMAT.match(text, i)
            if m:
                tokens.append(Token(Kind.PARAM, m.group(), start, m.end()))
                i = m.end()
                continue
        if c == ":" and not text.startswith("::", i) and (i == 0 or text[i - 1] != ":"):
            m = _COLON_PARAM.match(text, i)
            if m:
                tokens.append(Token(Kind.PARAM, m.group(), start, m.end()))
                i = m.end()
                continue
        if c == "?" and (mysql or i + 1 >= n or text[i + 1] not in "|&-#"):
            tokens.append(Token(Kind.PARAM, "?", start, i + 1))
            i += 1
            continue
        if c in ";(),.[]" and not (c == "." and i + 1 < n and text[i + 1].isdigit()):
            tokens.append(Token(Kind.PUNCT, c, start, i + 1))
            i += 1
            continue
        m = _NUMBER.match(text, i)
        if m and (c.isdigit() or c == "."):
            tokens.append(Token(Kind.NUMBER, m.group(), start, m.end()))
            i = m.end()
            continue
        m = _WORD.match(text, i)
        if m:
            tokens.append(Token(Kind.WORD, m.group().lower(), start, m.end()))
            i = m.end()
            continue
        m = _OPCHARS.match(text, i)
        end = m.end() if m else i + 1
        if mysql and in_executable >= 0:
            end = min(end, in_executable)  # `1*/`: the `*` is not part of the `*/`
        if mysql:  # `#` starts a comment, `@` a variable: an operator ends before them
            cut = [p for p in (text.find("#", i, end), text.find("@", i + 1, end)) if p > i]
            end = min([end, *cut])
        tokens.append(Token(Kind.OP, text[i:end], start, end))
        i = end
    return Lexed(tokens, executable)


def _mysql_token(text: str, i: int) -> Token | None:
    """The MySQL-only tokens: `"strings"`, `` `identifiers` ``, `@user` and `@@system`
    variables. None when `text[i]` starts none of them."""
    c = text[i]
    if c == '"':
        value, end = _quoted(text, i + 1, '"', backslash=True)
        return Token(Kind.STRING, value, i, end)
    if c == "`":
        value, end = _quoted(text, i + 1, "`", backslash=False)
        return Token(Kind.IDENT, value, i, end)
    if c != "@":
        return None
    m = _MYSQL_SYSVAR.match(text, i)
    if m:
        return Token(Kind.SYSVAR, m.group().lower(), i, m.end())
    if i + 1 < len(text) and text[i + 1] in "'\"`":
        quote = text[i + 1]
        value, end = _quoted(text, i + 2, quote, backslash=quote != "`")
        return Token(Kind.USERVAR, "@" + value.lower(), i, end)
    m = _MYSQL_VARIABLE_NAME.match(text, i + 1)
    if m:
        return Token(Kind.USERVAR, "@" + m.group().lower(), i, m.end())
    return None


def split(tokens: list[Token]) -> list[list[Token]]:
    """Group tokens into statements at top-level semicolons; empty statements vanish.

    A SQL-standard function body (`BEGIN ATOMIC ... END`) keeps its semicolons.
    """
    statements: list[list[Token]] = []
    current: list[Token] = []
    atomic_depth = 0
    for tok in tokens:
        if tok.kind is Kind.PUNCT and tok.value == ";" and atomic_depth == 0:
            if current:
                statements.append(current)
            current = []
            continue
        if tok.kind is Kind.WORD:
            if tok.value == "atomic" and current and current[-1].value == "begin":
                atomic_depth += 1
            elif tok.value in ("end", "case") and atomic_depth:
                atomic_depth += 1 if tok.value == "case" else -1
        current.append(tok)
    if current:
        statements.append(current)
    return statements
