"""Turn a SQL string into analysed statements: the facts every rule reads.

`analyse(text)` splits the text into statements, normalises driver placeholders,
parses each statement with sqlglot, and records the facts rules need: the leading
keywords (PostgreSQL utility statements such as `SET`, `DECLARE` and `LISTEN`
come back from sqlglot as opaque commands, so the lexer classifies them), and
every function call with its arguments. Function calls come from the sqlglot tree
when it parses, and from the tokens when it does not, so a statement sqlglot
rejects is still analysed. Nothing here raises on bad input.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from pinlint.sql.lexer import Kind, Token, split, tokenize

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
class Statement:
    text: str  # the statement as written (placeholders as in the source)
    start: int  # offset of the statement in the analysed text
    index: int  # position among the statements of the text
    query_bytes: int  # size of the whole text sent in one query, in UTF-8 bytes
    tokens: tuple[Token, ...]
    calls: tuple[FunctionCall, ...]
    expression: exp.Expression | None
    parse_error: str | None

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


def _normalise(tokens: list[Token], text: str) -> str:
    """The statement with every driver placeholder rewritten as `$n`, for sqlglot."""
    out: list[str] = []
    pos, n = tokens[0].start, 0
    for tok in tokens:
        if tok.kind is Kind.PARAM:
            n += 1
            out.append(text[pos : tok.start])
            out.append(f"${n}")
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


def _arg_from_node(node: exp.Expression) -> Arg:
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Literal):
        return Arg("string" if node.is_string else "number", str(node.this))
    if isinstance(node, exp.Boolean):
        return Arg("bool", "true" if node.this else "false")
    if isinstance(node, exp.Parameter | exp.Placeholder):
        return Arg("param", node.sql("postgres"))
    return Arg("other", node.sql("postgres"))


def _calls_from_tree(tree: exp.Expression) -> list[FunctionCall]:
    calls = []
    for node in tree.walk():
        if not isinstance(node, exp.Func):
            continue
        if isinstance(node, exp.Anonymous):
            name = node.name
            args = [_arg_from_node(a) for a in node.expressions]
        else:
            name = node.sql_name()
            args = [_arg_from_node(a) for a in node.args.values() if isinstance(a, exp.Expression)]
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


def _parse(sql: str) -> tuple[exp.Expression | None, str | None]:
    try:
        trees = sqlglot.parse(sql, read="postgres")
    except Exception as err:  # sqlglot raises ParseError, TokenError and, rarely, others
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return None, first[:200]
    tree = trees[0] if trees else None
    return (tree if isinstance(tree, exp.Expression) else None), None


@functools.lru_cache(maxsize=4096)
def analyse(text: str) -> tuple[Statement, ...]:
    """Every statement in `text` (PostgreSQL dialect), with its facts."""
    tokens = tokenize(text)
    query_bytes = len(text.encode("utf-8", "surrogatepass"))
    statements = []
    for index, group in enumerate(split(tokens)):
        stmt_text = text[group[0].start : group[-1].end]
        tree, error = _parse(_normalise(group, text))
        # Utility statements come back as opaque commands: their calls are in the tokens.
        use_tree = tree is not None and not isinstance(tree, exp.Command)
        calls = (
            _calls_from_tree(tree) if use_tree and tree is not None else _calls_from_tokens(group)
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
            )
        )
    return tuple(statements)


def split_sql(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each statement in a SQL script."""
    return [(group[0].start, group[-1].end) for group in split(tokenize(text))]
