"""A forgiving PostgreSQL lexer.

It never raises: an unterminated string or comment simply runs to the end of the
text. Its tokens drive statement splitting, the leading-keyword classification of
utility statements (which sqlglot keeps as opaque `Command`s), and the fallback
analysis when sqlglot rejects a statement. Comments and the insides of string
literals, quoted identifiers and dollar-quoted bodies are never read as SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pinlint.model import HOLE


class Kind(str, Enum):
    WORD = "word"  # keyword or unquoted identifier; `value` is lower-cased
    IDENT = "ident"  # "quoted identifier"; `value` is the unquoted name
    STRING = "string"  # '...', E'...', $tag$...$tag$; `value` is the content
    NUMBER = "number"
    PARAM = "param"  # %s, %(name)s, $1, :name, ?, or a HOLE
    PUNCT = "punct"  # ; ( ) , .
    OP = "op"  # any other operator character(s)


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


def _block_comment_end(text: str, i: int) -> int:
    """End of a (nestable, as in PostgreSQL) block comment opened at i."""
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


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            m = _WS.match(text, i)
            i = m.end() if m else i + 1
            continue
        if text.startswith("--", i):
            nl = text.find("\n", i)
            i = n if nl < 0 else nl + 1
            continue
        if text.startswith("/*", i):
            i = _block_comment_end(text, i)
            continue
        start = i
        if c == HOLE:
            tokens.append(Token(Kind.PARAM, HOLE, i, i + 1))
            i += 1
            continue
        if c == "'":
            value, i = _quoted(text, i + 1, "'", backslash=False)
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if c in "eEbBxXnN" and i + 1 < n and text[i + 1] == "'":
            value, i = _quoted(text, i + 2, "'", backslash=c in "eE")
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if c in "uU" and text.startswith("&'", i + 1):
            value, i = _quoted(text, i + 3, "'", backslash=False)
            tokens.append(Token(Kind.STRING, value, start, i))
            continue
        if c in "uU" and text.startswith('&"', i + 1):
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
            m = _DOLLAR_TAG.match(text, i)
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
        if c == "?" and (i + 1 >= n or text[i + 1] not in "|&-#"):
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
        tokens.append(Token(Kind.OP, text[i:end], start, end))
        i = end
    return tokens


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
