"""Suppression comments: `# pinlint: ignore[PIN101] -- reason`.

Applied after every rule has run, to one file's diagnostics at a time
(`engine.lint_source` calls `apply`). A suppressed diagnostic is not dropped: it
comes back with `Diagnostic.suppressed` set to the comment's reason, so SARIF can
carry it as a suppressed result; the CLI hides it from the other formats.

The forms, read only from real comments (Python `#` comments found with
`tokenize`; SQL `--`, `/* */` and, where the lexer skips them, `#` comments found
between the tokens of `pinlint.sql.lexer.tokenize`), so text inside a string is
never a directive:

* ``# pinlint: ignore[PIN101, sequence-function] -- why`` at the end of the first
  line of the statement that holds the finding, or alone on the line above it
  (more comment lines may sit between it and the statement; a blank line may not);
* ``# pinlint: ignore-file[PIN305] -- why`` before the file's first statement
  (after a module docstring is fine): every finding of those rules in the file;
* ``-- pinlint: ignore[...]`` and ``-- pinlint: ignore-file[...]`` in `.sql` files.

Rules are named by code or by name; there is no blanket form. Whatever follows
the reason after whitespace and ``#`` or ``--`` plus a space is another comment
(``# noqa``), not part of the reason. The directive rules report problems with
the comments themselves: PIN906 a malformed directive, PIN907 a rule it names
that does not exist (or that a comment cannot suppress), PIN908 a rule that
suppressed nothing, PIN909 a missing reason when `require-reason` is on. Those
four cannot be suppressed by a comment; turn them off in the configuration.

Files without the bytes ``pinlint:`` are returned untouched without being read
again, so the cost for everyone else is one substring search.
"""

from __future__ import annotations

import bisect
import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic, Effect, Span

if TYPE_CHECKING:
    from pinlint.config import Config
    from pinlint.rules.base import Rule

MALFORMED, UNKNOWN, UNUSED, NO_REASON = "PIN906", "PIN907", "PIN908", "PIN909"
#: The codes about directives themselves; a comment cannot suppress them.
DIRECTIVE_CODES = frozenset({MALFORMED, UNKNOWN, UNUSED, NO_REASON})
#: Codes whose presence means part of the file was not analysed, so a directive
#: that matched nothing may still be needed: no PIN908 for such a file.
_INCOMPLETE = frozenset({"PIN902", "PIN903", "PIN904", "PIN905"})

_GATE = b"pinlint:"
_START = re.compile(r"(?:#|--|/\*)[ \t]*pinlint:")
_KIND = re.compile(r"[ \t]*([A-Za-z][A-Za-z0-9_-]*)")
_SPLIT = re.compile(r"[\s,]+")
#: Where a reason ends: another comment starting after whitespace (a linter pragma).
_REASON_END = re.compile(r"\s(?:#|--)(?:\s|$)")
_EXAMPLE = "`# pinlint: ignore[PIN101] -- reason`"


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment in the source. Lines are 1-based, `col` 0-based (code points)."""

    line: int
    col: int
    end_line: int
    end_col: int
    text: str
    alone: bool  # only whitespace before it on its first line


@dataclass(frozen=True, slots=True)
class Layout:
    """What the directive placement rules need to know about a file."""

    comments: tuple[Comment, ...]
    #: Lines that hold code (any token that is not a comment).
    code_lines: frozenset[int]
    #: Lines that hold a comment.
    comment_lines: frozenset[int]
    #: First line of the first statement (a module docstring does not count);
    #: None for a file without code.
    first_statement: int | None


@dataclass(eq=False)
class Directive:
    comment: Comment
    file_level: bool
    codes: tuple[str, ...]  # resolved rule codes, in the order written
    reason: str
    #: For a line directive: the line whose statement it covers (None: nothing).
    covers: int | None
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class Problem:
    """A directive problem, reported at its comment."""

    code: str
    message: str
    comment: Comment


# --------------------------------------------------------------------------- comments


def python_layout(source: bytes) -> Layout:
    """Comments and code lines of Python source, from `tokenize`.

    Tokenizing stops at the first error (a syntax error further down); what was
    read before it still counts, so an `ignore-file` at the top works in a file
    that does not parse."""
    comments: list[Comment] = []
    code_lines: set[int] = set()
    first: int | None = None
    # Finding the first statement: "start" -> a leading string is seen ("string")
    # -> its logical line ends, so it was the docstring ("after-doc").
    state, doc_line = "start", 0
    layout_only = {tokenize.NL, tokenize.ENCODING, tokenize.INDENT, tokenize.DEDENT}
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            kind = tok.type
            if kind == tokenize.COMMENT:
                row, col = tok.start
                alone = not tok.line[:col].strip()
                comments.append(Comment(row, col, row, tok.end[1], tok.string, alone))
                continue
            if kind in layout_only or kind == tokenize.ENDMARKER:
                continue
            if kind == tokenize.NEWLINE:
                if state == "string":
                    state = "after-doc"
                continue
            code_lines.update(range(tok.start[0], tok.end[0] + 1))
            if first is not None:
                continue
            if state == "start" and kind == tokenize.STRING:
                state, doc_line = "string", tok.start[0]
            elif state == "string" and kind != tokenize.STRING:
                first = doc_line  # the string was the start of an expression
            elif state != "string":
                first = tok.start[0]
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
        pass
    if first is None and state == "string":
        first = doc_line
    return Layout(
        tuple(comments),
        frozenset(code_lines),
        frozenset(c.line for c in comments),
        first,
    )


def sql_layout(text: str) -> Layout:
    """Comments of a SQL script: the gaps between the lexer's tokens hold only
    whitespace and comments, so every comment there is a real one."""
    from pinlint.sql.lexer import tokenize as sql_tokenize

    # Lines end at LF, as the engine counts them for `.sql` spans.
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(starts, offset) - 1
        return index + 1, offset - starts[index]

    comments: list[Comment] = []
    code_lines: set[int] = set()
    tokens = sql_tokenize(text)
    previous = 0
    for start, end in [(t.start, t.end) for t in tokens] + [(len(text), len(text))]:
        for c_start, c_end in _gap_comments(text, previous, start):
            line, col = position(c_start)
            end_line, end_col = position(c_end)
            before = text[starts[line - 1] : c_start]
            comments.append(
                Comment(line, col, end_line, end_col, text[c_start:c_end], not before.strip())
            )
        if start < end:
            first_line, last_line = position(start)[0], position(end - 1)[0]
            code_lines.update(range(first_line, last_line + 1))
        previous = max(previous, end)
    comment_lines = {n for c in comments for n in range(c.line, c.end_line + 1)}
    first = position(tokens[0].start)[0] if tokens else None
    return Layout(tuple(comments), frozenset(code_lines), frozenset(comment_lines), first)


def _gap_comments(text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
    """(start, end) of each comment in text[start:end], a gap between tokens."""
    i = start
    while i < end:
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("/*", i):
            close = _block_end(text, i, end)
            yield i, close
            i = close
        elif text.startswith("--", i) or char == "#":
            newline = text.find("\n", i, end)
            stop = end if newline < 0 else newline
            yield i, stop - 1 if stop > i and text[stop - 1] == "\r" else stop
            i = stop
        else:  # not a comment the lexer would skip; step over it
            i += 1


def _block_end(text: str, i: int, limit: int) -> int:
    """End of a block comment opened at i (nested, as PostgreSQL reads them)."""
    depth = 0
    while i < limit:
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
    return limit


# --------------------------------------------------------------------------- directives


def _covered_line(comment: Comment, layout: Layout) -> int | None:
    """The line a line directive covers: its own line when it ends a line of code,
    else the next line after the comment lines below it (None if that is blank)."""
    if not comment.alone:
        return comment.line
    line = comment.end_line + 1
    while line in layout.comment_lines and line not in layout.code_lines:
        line += 1
    return line if line in layout.code_lines else None


def parse_directives(
    layout: Layout, rules: Sequence[type[Rule]]
) -> tuple[list[Directive], list[Problem]]:
    """Every directive in the file's comments, and the problems with them.

    `rules` is every known rule (for names and codes), not only the enabled ones."""
    by_code = {r.code: r for r in rules}
    by_name = {r.name: r for r in rules}
    directives: list[Directive] = []
    problems: list[Problem] = []
    for comment in layout.comments:
        m = _START.search(comment.text)
        if m is None:
            continue
        body = comment.text[m.end() :]
        if comment.text.startswith("/*"):
            body = body[:-2] if body.endswith("*/") else body

        def bad(message: str, comment: Comment = comment) -> None:
            problems.append(Problem(MALFORMED, message, comment))

        kind_match = _KIND.match(body)
        kind = kind_match.group(1) if kind_match else ""
        if kind not in ("ignore", "ignore-file"):
            what = f"`{kind}`" if kind else "nothing"
            bad(
                f"`pinlint:` is followed by {what}; a directive is `ignore[CODES]` or "
                f"`ignore-file[CODES]`, as in {_EXAMPLE}"
            )
            continue
        assert kind_match is not None
        rest = body[kind_match.end() :].lstrip(" \t")
        if not rest.startswith("["):
            bad(
                f"`{kind}` must name the rules in brackets, as in {_EXAMPLE}; "
                "there is no blanket form"
            )
            continue
        close = rest.find("]")
        if close < 0:
            bad(f"`{kind}[` is not closed with `]`")
            continue
        names = [n for n in _SPLIT.split(rest[1:close]) if n]
        if not names:
            bad(f"`{kind}[]` names no rule; name codes or rule names, as in {_EXAMPLE}")
            continue
        after = rest[close + 1 :].strip()
        reason = ""
        if after.startswith("--"):
            raw = after[2:]
            end = _REASON_END.search(raw)
            reason = (raw[: end.start()] if end is not None else raw).strip()
        elif after and not after.startswith("#"):
            bad(f"text after `]` must be a reason introduced by ` -- `, as in {_EXAMPLE}")
            continue

        file_level = kind == "ignore-file"
        if file_level and (
            layout.first_statement is not None and comment.line >= layout.first_statement
        ):
            bad(
                "`ignore-file` must come before the file's first statement "
                f"(line {layout.first_statement}); it has no effect here"
            )
            continue
        codes: list[str] = []
        for name in names:
            rule = by_code.get(name.upper()) or by_name.get(name.lower())
            if rule is None:
                problems.append(
                    Problem(
                        UNKNOWN,
                        f"`{name}` is not a pinlint rule code or name; `pinlint rules` "
                        "lists them (prefixes are not accepted here)",
                        comment,
                    )
                )
            elif rule.code in DIRECTIVE_CODES:
                problems.append(
                    Problem(
                        UNKNOWN,
                        f"{rule.code} ({rule.name}) cannot be suppressed by a comment; "
                        "turn it off with `ignore` or `per-file-ignores` in the configuration",
                        comment,
                    )
                )
            elif rule.code not in codes:
                codes.append(rule.code)
        if not codes:
            continue
        covers = None if file_level else _covered_line(comment, layout)
        directives.append(Directive(comment, file_level, tuple(codes), reason, covers))
    return directives, problems


# --------------------------------------------------------------------------- applying


def _location_line(diag: Diagnostic) -> int:
    return diag.statement_line if diag.statement_line is not None else diag.span.line


def _can_fire(rule: type[Rule], config: Config) -> bool:
    """Whether the rule can report anything in this run's target, so that a
    directive naming it and matching nothing is really unused. Works whether
    `effects` is keyed by target or by (target, dialect) profile."""
    from pinlint.rules.base import MetaRule

    if issubclass(rule, MetaRule):
        return True
    for key, effect in rule.effects.items():
        target = getattr(key, "target", key)
        if target == config.target and effect is not Effect.OK:
            return True
    return False


def apply(
    source: bytes, path: str, diagnostics: Sequence[Diagnostic], config: Config
) -> tuple[Diagnostic, ...]:
    """`diagnostics` (one file's, sorted) with the suppressed ones marked and the
    directive problems added, sorted again. Never raises: a failure here becomes a
    PIN905 diagnostic and leaves the findings as they were."""
    if _GATE not in source or len(source) > config.max_file_bytes:
        return tuple(diagnostics)
    try:
        return _apply(source, path, diagnostics, config)
    except Exception as err:  # a bug in pinlint: report it, keep the findings
        rule = next((r for r in config.rules if r.code == "PIN905"), None)
        if rule is None:
            return tuple(diagnostics)
        message = f"reading suppression comments failed: {type(err).__name__}: {err}"
        span = Span(1, 1, 1, 1)
        return (*diagnostics, _meta(rule, message, path, span, config))


def layout_of(source: bytes, path: str) -> Layout | None:
    """The comment layout of a file, or None when its text cannot be read."""
    if path.endswith(".sql"):
        try:
            return sql_layout(source.decode("utf-8-sig"))
        except UnicodeDecodeError:
            return None
    return python_layout(source)


def _apply(
    source: bytes, path: str, diagnostics: Sequence[Diagnostic], config: Config
) -> tuple[Diagnostic, ...]:
    from pinlint.rules import all_rules

    layout = layout_of(source, path)
    if layout is None:
        return tuple(diagnostics)
    directives, problems = parse_directives(layout, all_rules())
    if not directives and not problems:
        return tuple(diagnostics)
    file_level = [d for d in directives if d.file_level]
    by_line: dict[int, list[Directive]] = {}
    for directive in directives:
        if directive.covers is not None:
            by_line.setdefault(directive.covers, []).append(directive)

    out: list[Diagnostic] = []
    for diag in diagnostics:
        if diag.code in DIRECTIVE_CODES:
            out.append(diag)
            continue
        matching = [d for d in by_line.get(_location_line(diag), []) if diag.code in d.codes] + [
            d for d in file_level if diag.code in d.codes
        ]
        if not matching:
            out.append(diag)
            continue
        for directive in matching:
            directive.used.add(diag.code)
        out.append(replace(diag, suppressed=matching[0].reason))

    enabled = {r.code: r for r in config.rules}
    complete = not any(d.code in _INCOMPLETE for d in diagnostics)
    for directive in directives:
        unused = [
            code
            for code in directive.codes
            if code not in directive.used and code in enabled and _can_fire(enabled[code], config)
        ]
        if unused and complete:
            names = ", ".join(f"{c} ({enabled[c].name})" for c in unused)
            where = "in this file" if directive.file_level else "on the statement it covers"
            problems.append(
                Problem(
                    UNUSED,
                    f"suppression of {names} matched no finding {where}; remove it",
                    directive.comment,
                )
            )
        if config.require_reason and not directive.reason:
            problems.append(
                Problem(
                    NO_REASON,
                    "suppression gives no reason; add one after ` -- `, as in "
                    f"{_EXAMPLE} (`require-reason` is on)",
                    directive.comment,
                )
            )
    for problem in problems:
        rule = enabled.get(problem.code)
        if rule is not None:
            out.append(_meta(rule, problem.message, path, _span(problem.comment), config))
    return tuple(sorted(set(out), key=lambda d: (*d.sort_key, d.message)))


def _span(comment: Comment) -> Span:
    return Span(comment.line, comment.col + 1, comment.end_line, comment.end_col + 1)


def _meta(rule: type[Rule], message: str, path: str, span: Span, config: Config) -> Diagnostic:
    return rule.diagnostic_at(message, path, span, config.target)


def reveal(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """`--no-suppress`: the diagnostics with every suppression lifted."""
    return [replace(d, suppressed=None) if d.suppressed is not None else d for d in diagnostics]
