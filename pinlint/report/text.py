"""The terminal format: one finding per line, a help line under it, then a summary.

    app/db.py:12:5: PIN101 [pins] `SET search_path` changes a session setting; ...
      help: Put it in the proxy's initialization query or `ALTER ROLE ... SET`

The bracket shows the effect behind the target; it is left out for effect `ok`
(meta diagnostics about pinlint's own analysis). Findings below high confidence
end with ``(medium confidence)`` or ``(low confidence)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinlint.model import Confidence, Diagnostic, Effect, Severity

if TYPE_CHECKING:
    from pinlint.report import ReportContext

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_CYAN = "\x1b[36m"
_SEVERITY_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.color else text


def _finding(diag: Diagnostic, ctx: ReportContext, style: _Style) -> list[str]:
    where = f"{ctx.relative_path(diag.path)}:{diag.span.line}:{diag.span.col}:"
    parts = [style(where, _BOLD), style(diag.code, _SEVERITY_STYLE[diag.severity])]
    if diag.effect is not Effect.OK:
        parts.append(f"[{diag.effect.value}]")
    parts.append(diag.message)
    if diag.confidence is not Confidence.HIGH:
        parts.append(style(f"({diag.confidence.value} confidence)", _DIM))
    lines = [" ".join(parts)]
    for rel in diag.related:
        where = f"{ctx.relative_path(rel.path)}:{rel.span.line}:{rel.span.col}"
        lines.append(f"  {style('=', _DIM)} {where}: {rel.message}")
    if diag.help:
        lines.append(f"  {style('help:', _CYAN)} {diag.help}")
    return lines


def summary(diagnostics: Sequence[Diagnostic], files_checked: int) -> str:
    checked = f"{_plural(files_checked, 'file')} checked"
    if not diagnostics:
        return f"All checked! {checked}, no findings."
    by_code = Counter(d.code for d in diagnostics)
    counts = ", ".join(f"{by_code[code]} {code}" for code in sorted(by_code))
    files = len({d.path for d in diagnostics})
    return (
        f"Found {_plural(len(diagnostics), 'finding')} ({counts}) "
        f"in {_plural(files, 'file')}; {checked}."
    )


def render(diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False) -> str:
    """The findings in input order, a blank line, and the summary line."""
    style = _Style(color)
    lines: list[str] = []
    for diag in diagnostics:
        lines += _finding(diag, ctx, style)
    if ctx.quiet:
        return "\n".join(lines) + "\n" if lines else ""
    if lines:
        lines.append("")
    lines.append(style(summary(diagnostics, ctx.files_checked), _BOLD))
    lines += ctx.notes
    return "\n".join(lines) + "\n"
