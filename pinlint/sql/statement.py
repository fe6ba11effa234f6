"""Turn a SQL string into analysed statements: the facts every rule reads.

`analyse(text, dialect)` splits the text into statements, normalises driver
placeholders, parses each statement with sqlglot (`read="postgres"` or `"mysql"`),
and records the facts rules need: the leading keywords (utility statements such as
`SET`, `DECLARE`, `LISTEN` and `LOCK TABLES` come back from sqlglot as opaque
commands, so the lexer classifies them), every function call with its arguments,
and (MySQL) the executable comments the statement holds. Function calls come from
the sqlglot tree when it parses, and from the tokens when it does not, so a
statement sqlglot rejects is still analysed. Nothing here raises on bad input.

The SQL inside an executable comment runs on the server, so it is analysed as part
of its statement: `/*!40101 SET NAMES utf8mb4 */` is a `SET NAMES` statement that
also carries an executable comment. sqlglot drops comments, so it is given the text
with the comment markers blanked out.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pinlint.model import Dialect
from pinlint.sql.lexer import ExecutableComment, Kind, Token, lex, split

if TYPE_CHECKING:
    import sqlglot
    from sqlglot import exp

logging.getLogger("sqlglot").setLevel(logging.CRITICAL)


@dataclass(frozen=True, slots=True)
class Arg:
    """A function argument as far as it is known: kind is `string`, `bool`,
    `number`, `param` (a placeholder or unknown part) or `other`."""

    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class FunctionCall:
    name: str  # lower-cased, without schema
    schema: str | None
    args: tuple[Arg, ...]
    in_column_default: bool  # `DEFAULT nextval(...)` in DDL: stored, not run


@dataclass(frozen=True, slots=True)
class ExecComment:
    """A MySQL `/*! ... */` or MariaDB `/*M! ... */` comment in a statement."""

    raw: str  # the whole comment as written
    body: str  # the SQL inside it, without the version number
    version: str  # the minimum server version as written (`40101`), or ""
    mariadb: bool  # `/*M!`: run by MariaDB only


@dataclass(frozen=True, slots=True)
class Statement:
    text: str  # the statement as written (placeholders as in the source)
    start: int  # offset of the statement in the analysed text
    index: int  # position among the statements of the text
    query_bytes: int  # size of the whole text sent in one query, in UTF-8 bytes
    tokens: tuple[Token, ...]
    calls: tuple[FunctionCall, ...]
    expression: exp.Expression | None
    parse_error: str | None
    dialect: Dialect = Dialect.POSTGRES
    executable_comments: tuple[ExecComment, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """The leading unquoted words, lower-cased (`set`, `local`, `search_path`)."""
        out = []
        for tok in self.tokens:
            if tok.kind is not Kind.WORD:
                break
            out.append(tok.value)
        return tuple(out)

    def starts_with(self, *words: str) -> bool:
        return self.words[: len(words)] == words

    def calls_named(self, *names: str) -> list[FunctionCall]:
        return [c for c in self.calls if c.name in names]

    def word_positions(self, word: str) -> list[int]:
        return [i for i, t in enumerate(self.tokens) if t.kind is Kind.WORD and t.value == word]


def _normalise(tokens: list[Token], text: str, dialect: Dialect) -> str:
    """The statement with every driver placeholder rewritten as `$n` (PostgreSQL) or
    `?` (MySQL), for sqlglot."""
    out: list[str] = []
    pos, n = tokens[0].start, 0
    for tok in tokens:
        if tok.kind is Kind.PARAM:
            n += 1
            out.append(text[pos : tok.start])
            out.append("?" if dialect is Dialect.MYSQL else f"${n}")
            pos = tok.end
    out.append(text[pos : tokens[-1].end])
    return "".join(out)


def _arg_from_tokens(tokens: list[Token]) -> Arg:
    if len(tokens) == 1:
        tok = tokens[0]
        if tok.kind is Kind.STRING:
            return Arg("string", tok.value)
        if tok.kind is Kind.NUMBER:
            return Arg("number", tok.value)
        if tok.kind is Kind.PARAM:
            return Arg("param", tok.value)
        if tok.kind is Kind.WORD and tok.value in ("true", "false"):
            return Arg("bool", tok.value)
    if tokens and tokens[0].kind is Kind.PARAM:
        return Arg("param", tokens[0].value)
    return Arg("other", " ".join(t.value for t in tokens))


def _calls_from_tokens(tokens: list[Token]) -> list[FunctionCall]:
    calls = []
    for i, tok in enumerate(tokens[:-1]):
        nxt = tokens[i + 1]
        if (
            tok.kind not in (Kind.WORD, Kind.IDENT)
            or nxt.value != "("
            or nxt.kind is not Kind.PUNCT
        ):
            continue
        schema = None
        if i >= 2 and tokens[i - 1].value == "." and tokens[i - 2].kind in (Kind.WORD, Kind.IDENT):
            schema = tokens[i - 2].value
        first = i - 2 if schema else i
        in_default = (
            first > 0
            and tokens[first - 1].kind is Kind.WORD
            and (tokens[first - 1].value == "default")
        )
        args: list[Arg] = []
        depth, current = 0, list[Token]()
        for inner in tokens[i + 2 :]:
            if inner.kind is Kind.PUNCT and inner.value in "([":
                depth += 1
            elif inner.kind is Kind.PUNCT and inner.value in ")]":
                if depth == 0:
                    break
                depth -= 1
            elif inner.kind is Kind.PUNCT and inner.value == "," and depth == 0:
                args.append(_arg_from_tokens(current))
                current = []
                continue
            current.append(inner)
        if current:
            args.append(_arg_from_tokens(current))
        calls.append(
            FunctionCall(
                tok.value.lower() if tok.kind is Kind.WORD else tok.value,
                schema,
                tuple(args),
                in_default,
            )
        )
    return calls


def _arg_from_node(node: exp.Expression, read: str) -> Arg:
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal):
        return Arg("string" if node.is_string else "number", str(node.this))
    if isinstance(node, exp.Boolean):
        return Arg("bool", "true" if node.this else "false")
    if isinstance(node, exp.Parameter | exp.Placeholder):
        return Arg("param", node.sql(read))
    return Arg("other", node.sql(read))


def _calls_from_tree(tree: exp.Expression, read: str) -> list[FunctionCall]:
    calls = []
    for node in tree.walk():
        if not isinstance(node, exp.Func):
            continue
        if isinstance(node, exp.Anonymous):
            name = node.name
            args = [_arg_from_node(a, read) for a in node.expressions]
        else:
            name = node.sql_name()
            args = [
                _arg_from_node(a, read) for a in node.args.values() if isinstance(a, exp.Expression)
            ]
        schema = None
        parent = node.parent
        if isinstance(parent, exp.Dot) and parent.expression is node:
            qualifier = parent.this
            quoted = isinstance(qualifier, exp.Identifier) and qualifier.quoted
            schema = qualifier.name if quoted else qualifier.name.lower()
        in_default = node.find_ancestor(exp.ColumnConstraint, exp.ColumnDef) is not None
        calls.append(
            FunctionCall(
                name
                if isinstance(node.this, exp.Identifier) and node.this.quoted
                else name.lower(),
                schema,
                tuple(args),
                in_default,
            )
        )
    return calls


def _parse(sql: str, read: str) -> tuple[exp.Expression | None, str | None]:
    try:
        trees = sqlglot.parse(sql, read=read)
    except Exception as err:  # sqlglot raises ParseError, TokenError and, rarely, others
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, first[:200]
    tree = trees[0] if trees else None
    return (tree if isinstance(tree, exp.Expression) else None), None


_READ = {Dialect.POSTGRES: "postgres", Dialect.MYSQL: "mysql"}


def _blank_markers(text: str, comments: list[ExecutableComment]) -> str:
    """`text` with the `/*!NNNNN` and `*/` of executable comments turned into spaces
    (same length, so token offsets still hold), so that sqlglot sees their SQL."""
    if not comments:
        return text
    chars = list(text)
    for c in comments:
        for i in (*range(c.start, c.body_start), *range(c.body_end, c.end)):
            chars[i] = " "
    return "".join(chars)


def _comments_by_statement(
    groups: list[list[Token]], comments: list[ExecutableComment], text: str
) -> list[tuple[ExecComment, ...]]:
    """Each executable comment goes to the first statement that does not end before it."""
    out: list[list[ExecComment]] = [[] for _ in groups]
    for c in comments:
        index = next((i for i, g in enumerate(groups) if g[-1].end >= c.start), len(groups) - 1)
        if index >= 0:
            out[index].append(
                ExecComment(
                    text[c.start : c.end],
                    text[c.body_start : c.body_end].strip(),
                    c.version,
                    c.mariadb,
                )
            )
    return [tuple(found) for found in out]


def _import_sqlglot() -> None:
    """Import sqlglot at the first analysis, not with this module: the rules import
    this module for its types, and a run served from the cache analyses nothing."""
    global sqlglot, exp
    if "exp" not in globals():
        import sqlglot
        from sqlglot import exp


@functools.lru_cache(maxsize=4096)
def analyse(text: str, dialect: Dialect = Dialect.POSTGRES) -> tuple[Statement, ...]:
    """Every statement in `text`, read in `dialect`, with its facts."""
    _import_sqlglot()
    lexed = lex(text, dialect)
    read = _READ[dialect]
    parse_text = _blank_markers(text, lexed.executable_comments)
    query_bytes = len(text.encode("utf-8", "surrogatepass"))
    groups = split(lexed.tokens)
    comments = _comments_by_statement(groups, lexed.executable_comments, text)
    statements = []
    for index, group in enumerate(groups):
        stmt_text = text[group[0].start : group[-1].end]
        tree, error = _parse(_normalise(group, parse_text, dialect), read)
        # Utility statements come back as opaque commands: their calls are in the tokens.
        use_tree = tree is not None and not isinstance(tree, exp.Command)
        calls = (
            _calls_from_tree(tree, read)
            if use_tree and tree is not None
            else _calls_from_tokens(group)
        )
        statements.append(
            Statement(
                text=stmt_text,
                start=group[0].start,
                index=index,
                query_bytes=query_bytes,
                tokens=tuple(group),
                calls=tuple(calls),
                expression=tree,
                parse_error=error,
                dialect=dialect,
                executable_comments=comments[index],
            )
        )
    return tuple(statements)


def split_sql(text: str, dialect: Dialect = Dialect.POSTGRES) -> list[tuple[int, int]]:
    """The (start, end) offsets of each statement in a SQL script, executable
    comments around a statement included."""
    lexed = lex(text, dialect)
    groups = split(lexed.tokens)
    spans = [[g[0].start, g[-1].end] for g in groups]
    for c in lexed.executable_comments:
        index = next((i for i, g in enumerate(groups) if g[-1].end >= c.start), len(groups) - 1)
        if index >= 0:
            spans[index][0] = min(spans[index][0], c.start)
            spans[index][1] = max(spans[index][1], c.end)
    return [(a, b) for a, b in spans]
