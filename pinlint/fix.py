"""Apply the fixes of configuration findings (`pinlint check --fix` and `--diff`).

The only module that writes source. Rules describe a fix as data
(`pinlint.model.Fix`: add a keyword to a call, add an entry to a dict display, at
a span); this module finds those nodes with libcst, appends the new argument or
entry in the layout around it (same line, or one per line with the same
indentation, trailing comma kept, comments left where they were), and checks the
result before anything is written:

1. the new text parses (libcst and CPython's compiler);
2. linting it again with the same settings, every fixed rule has at least as many
   fewer findings as were fixed;

then writes it atomically: a temporary file in the same directory, flushed, given
the original's mode, and renamed over it with `os.replace`, so a reader sees the old
file or the new one, never half of one. A file that fails a check is left alone and
the reason is reported.

Only findings that are shown (not suppressed, not in the baseline) are fixed, and
only when the file still has them: the file is read and linted again here, so a file
edited since the run is fixed from its current content or not at all.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import stat
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import PositionProvider

from pinlint.config import Config
from pinlint.model import Diagnostic, Edit, Fix, Span


class FixError(Exception):
    """A fix that cannot be applied as described (the node is gone, or moved)."""


@dataclass(frozen=True, slots=True)
class Change:
    """One finding fixed, for the report."""

    path: str
    line: int
    code: str
    description: str


@dataclass(frozen=True)
class FileFix:
    """The outcome for one file: its text before and after, what changed, or why
    nothing did."""

    path: Path
    shown: str
    before: str
    after: str
    changes: tuple[Change, ...] = ()
    error: str | None = None

    @property
    def changed(self) -> bool:
        return self.error is None and self.after != self.before

    def diff(self) -> str:
        """The change as a unified diff (`a/PATH`, `b/PATH`)."""
        if not self.changed:
            return ""
        relative = not Path(self.shown).is_absolute()
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            f"a/{self.shown}" if relative else self.shown,
            f"b/{self.shown}" if relative else self.shown,
        )
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
            for line in lines
        )


def fixable(diagnostics: Iterable[Diagnostic]) -> dict[str, list[Diagnostic]]:
    """The active findings that carry a fix, by path."""
    out: dict[str, list[Diagnostic]] = defaultdict(list)
    for diag in diagnostics:
        if diag.fix is not None and diag.suppressed is None:
            out[diag.path].append(diag)
    return dict(out)


def fix_files(
    diagnostics: Iterable[Diagnostic], config: Config, root: Path, *, write: bool
) -> list[FileFix]:
    """Fix the fixable findings among `diagnostics` (paths relative to `root`); with
    `write` False nothing is written (for `--diff`)."""
    out = []
    for shown, wanted in sorted(fixable(diagnostics).items()):
        path = Path(shown) if Path(shown).is_absolute() else root / shown
        out.append(fix_file(path, shown, wanted, config, write=write))
    return out


def fix_file(
    path: Path, shown: str, wanted: Sequence[Diagnostic], config: Config, *, write: bool
) -> FileFix:
    """Apply the fixes of `wanted` (findings of this file) to `path`."""
    from pinlint.engine import lint_source
    from pinlint.extract.python import decode

    try:
        data = path.read_bytes()
    except OSError as err:
        return FileFix(path, shown, "", "", error=f"cannot read: {err.strerror or err}")
    text = decode(data)
    if not isinstance(text, str):
        return FileFix(path, shown, "", "", error=text.message)
    encoding = _encoding(data)
    keys = {_key(d) for d in wanted}
    before = lint_source(data, shown, config).diagnostics
    current = [d for d in before if d.fix is not None and d.suppressed is None and _key(d) in keys]
    if not current:
        return FileFix(path, shown, text, text, error="the findings are gone (file changed?)")
    try:
        after = apply_fixes(text, [d.fix for d in current if d.fix is not None])
        cst.parse_module(after)
        compile(after, shown, "exec", dont_inherit=True)
    except (FixError, cst.ParserSyntaxError, SyntaxError, ValueError) as err:
        return FileFix(path, shown, text, text, error=f"fix not applied: {err}")
    try:
        new_data = after.encode(encoding)
    except UnicodeEncodeError as err:
        return FileFix(path, shown, text, text, error=f"fix not applied: {err}")
    fixed = Counter(d.code for d in current)
    before_counts = Counter(d.code for d in before)
    after_counts = Counter(d.code for d in lint_source(new_data, shown, config).diagnostics)
    stubborn = [c for c, n in fixed.items() if after_counts[c] > before_counts[c] - n]
    if stubborn:
        return FileFix(
            path, shown, text, text, error=f"fix did not remove {', '.join(sorted(stubborn))}"
        )
    changes = tuple(
        Change(shown, d.span.line, d.code, d.fix.description)
        for d in sorted(current, key=lambda d: d.sort_key)
        if d.fix is not None
    )
    if write:
        try:
            write_atomically(path, new_data)
        except OSError as err:
            return FileFix(path, shown, text, text, error=f"cannot write: {err.strerror or err}")
    return FileFix(path, shown, text, after, changes)


def _key(diag: Diagnostic) -> tuple[str, Span, str]:
    return (diag.code, diag.span, diag.message)


def _encoding(data: bytes) -> str:
    import io
    import tokenize

    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        return "utf-8"
    return encoding


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: a temporary file in the same directory, renamed
    over it, with the original's permissions."""
    mode = stat.S_IMODE(path.stat().st_mode)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


# -- the rewrite --------------------------------------------------------------------


def apply_fixes(text: str, fixes: Sequence[Fix]) -> str:
    """`text` with every edit of `fixes` applied; `FixError` when an edit's node is
    not where its span says."""
    edits = list(dict.fromkeys(e for f in fixes for e in f.edits))
    if not edits:
        return text
    module = cst.parse_module(text)
    wrapper = cst.MetadataWrapper(module)
    transformer = _Transformer(edits)
    result = wrapper.visit(transformer)
    missing = [e for e in edits if e not in transformer.applied]
    if missing:
        raise FixError(f"no {missing[0].kind} target at line {missing[0].span.line}")
    return result.code


class _Transformer(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, edits: list[Edit]) -> None:
        super().__init__()
        self.edits = edits
        self.applied: set[Edit] = set()

    def _edits_for(self, node: cst.CSTNode, kind: str) -> list[Edit]:
        where = self.get_metadata(PositionProvider, node, None)
        if where is None:
            return []
        span = Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)
        return [
            e for e in self.edits if e.kind == kind and e.span == span and e not in self.applied
        ]

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        result = updated_node
        for edit in self._edits_for(original_node, "add-keyword"):
            if any(a.keyword is not None and a.keyword.value == edit.key for a in result.args):
                raise FixError(f"`{edit.key}` is already given at line {edit.span.line}")
            arg = cst.Arg(
                value=_expression(edit.value),
                keyword=cst.Name(edit.key),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
            )
            result = _append_arg(result, arg)
            self.applied.add(edit)
        return result

    def leave_Dict(self, original_node: cst.Dict, updated_node: cst.Dict) -> cst.BaseExpression:
        result = updated_node
        for edit in self._edits_for(original_node, "add-entry"):
            quote = _quote_of(result)
            key = cst.SimpleString(
                quote + edit.key.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
            )
            element = cst.DictElement(key, _expression(edit.value))
            result = _append_element(result, element)
            self.applied.add(edit)
        return result


def _expression(source: str) -> cst.BaseExpression:
    try:
        return cst.parse_expression(source)
    except cst.ParserSyntaxError as err:
        raise FixError(f"not an expression: {source!r}") from err


def _quote_of(node: cst.Dict) -> str:
    """The quote the dict's string keys use (double when it has none)."""
    for element in node.elements:
        if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
            quote = element.key.quote
            if quote in ('"', "'"):
                return quote
    return '"'


_NO_SPACE = cst.SimpleWhitespace("")


def _indent_source(
    separators: Sequence[cst.BaseParenthesizableWhitespace],
) -> cst.ParenthesizedWhitespace | None:
    """The whitespace that puts an item on its own line (from the gaps between the
    existing items, or after the opening bracket)."""
    for ws in separators:
        if isinstance(ws, cst.ParenthesizedWhitespace):
            return ws
    return None


def _own_line(
    gap: cst.ParenthesizedWhitespace, indent: cst.ParenthesizedWhitespace
) -> cst.ParenthesizedWhitespace:
    """`gap` (which may hold a comment) ending at the items' indentation."""
    return gap.with_changes(indent=indent.indent, last_line=indent.last_line)


def _closing(gap: cst.ParenthesizedWhitespace) -> cst.ParenthesizedWhitespace:
    """`gap` without its comment and blank lines: a newline and the closing indentation."""
    return gap.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])


def _append_arg(call: cst.Call, arg: cst.Arg) -> cst.Call:
    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg])
    last = args[-1]
    gaps = [a.comma.whitespace_after for a in args[:-1] if isinstance(a.comma, cst.Comma)]
    indent = _indent_source([*reversed(gaps), call.whitespace_before_args])
    if isinstance(last.comma, cst.Comma):  # a trailing comma
        gap = last.comma.whitespace_after
        if isinstance(gap, cst.ParenthesizedWhitespace) and indent is not None:
            args[-1] = last.with_changes(
                comma=last.comma.with_changes(whitespace_after=_own_line(gap, indent))
            )
            new = arg.with_changes(comma=cst.Comma(_NO_SPACE, _closing(gap)))
        else:
            args[-1] = last.with_changes(comma=cst.Comma(_NO_SPACE, cst.SimpleWhitespace(" ")))
            new = arg.with_changes(comma=last.comma)
        return call.with_changes(args=[*args, new])
    gap = last.whitespace_after_arg
    if isinstance(gap, cst.ParenthesizedWhitespace) and indent is not None:
        args[-1] = last.with_changes(
            comma=cst.Comma(_NO_SPACE, _own_line(gap, indent)), whitespace_after_arg=_NO_SPACE
        )
        new = arg.with_changes(whitespace_after_arg=_closing(gap))
    else:
        args[-1] = last.with_changes(
            comma=cst.Comma(_NO_SPACE, cst.SimpleWhitespace(" ")), whitespace_after_arg=_NO_SPACE
        )
        new = arg.with_changes(whitespace_after_arg=gap)
    return call.with_changes(args=[*args, new])


def _append_element(node: cst.Dict, element: cst.DictElement) -> cst.Dict:
    elements = list(node.elements)
    if not elements:
        return node.with_changes(elements=[element])
    last = elements[-1]
    gaps = [e.comma.whitespace_after for e in elements[:-1] if isinstance(e.comma, cst.Comma)]
    indent = _indent_source([*reversed(gaps), node.lbrace.whitespace_after])
    trailing = last.comma if isinstance(last.comma, cst.Comma) else None
    # The line break before `}` sits after the trailing comma or before the brace.
    in_comma = trailing is not None and isinstance(
        trailing.whitespace_after, cst.ParenthesizedWhitespace
    )
    gap = trailing.whitespace_after if trailing is not None and in_comma else None
    if gap is None and isinstance(node.rbrace.whitespace_before, cst.ParenthesizedWhitespace):
        gap = node.rbrace.whitespace_before
    if not isinstance(gap, cst.ParenthesizedWhitespace) or indent is None:
        elements[-1] = last.with_changes(comma=cst.Comma(_NO_SPACE, cst.SimpleWhitespace(" ")))
        new = element.with_changes(comma=trailing) if trailing is not None else element
        return node.with_changes(elements=[*elements, new])
    before = trailing.whitespace_before if trailing is not None else _NO_SPACE
    elements[-1] = last.with_changes(comma=cst.Comma(before, _own_line(gap, indent)))
    if in_comma:
        new = element.with_changes(comma=cst.Comma(_NO_SPACE, _closing(gap)))
        return node.with_changes(elements=[*elements, new])
    new = element.with_changes(comma=cst.Comma(_NO_SPACE, _NO_SPACE)) if trailing else element
    rbrace = node.rbrace.with_changes(whitespace_before=_closing(gap))
    return node.with_changes(elements=[*elements, new], rbrace=rbrace)
