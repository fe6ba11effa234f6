"""Which findings a run shows and which make it fail.

The engine returns every finding, those suppressed by a comment included. Then:

* `--no-suppress` lifts every suppression;
* a suppressed finding is never shown by text, JSON, github or gitlab output and
  never fails the run; SARIF carries it as a suppressed result;
* with `--baseline FILE`, findings recorded in the baseline are *known*;
* with `--diff-base REV`, findings that touch no line changed since REV are known;
* the rest are *new*: they are shown and decide the exit code.

Notes for the summary say what was hidden and which baseline entries are stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic
from pinlint.suppress import reveal

if TYPE_CHECKING:  # given by the caller when the options ask for them
    from pinlint.baseline import Baseline, Entry
    from pinlint.gitdiff import ChangedLines

#: At most this many stale baseline entries are listed by name in the summary.
STALE_LISTED = 10


@dataclass(frozen=True)
class Triage:
    #: Every finding, suppressed ones marked (what SARIF is given).
    everything: tuple[Diagnostic, ...]
    #: The active, new findings: what the other formats show and the exit code counts.
    shown: tuple[Diagnostic, ...]
    #: With a baseline or a diff base: the new findings among the active ones.
    new: frozenset[Diagnostic] | None
    stale: tuple[Entry, ...]
    notes: tuple[str, ...]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def triage(
    diagnostics: Sequence[Diagnostic],
    root: Path,
    *,
    no_suppress: bool = False,
    baseline: Baseline | None = None,
    changed: ChangedLines | None = None,
    diff_base: str | None = None,
) -> Triage:
    everything = tuple(reveal(diagnostics) if no_suppress else diagnostics)
    active = [d for d in everything if d.suppressed is None]
    notes: list[str] = []
    suppressed = len(everything) - len(active)
    if suppressed:
        notes.append(
            f"{_plural(suppressed, 'finding', 'findings')} suppressed by `# pinlint: ignore` "
            "comments not shown (--no-suppress shows them)."
        )
    candidates = active
    stale: tuple[Entry, ...] = ()
    if baseline is not None:
        split = baseline.split(active, root)
        candidates = list(split.new)
        stale = split.stale
        if split.known:
            notes.append(
                f"{_plural(len(split.known), 'finding', 'findings')} recorded in the baseline "
                f"{baseline.path.name} not shown."
            )
        if stale:
            notes.append(
                f"{_plural(len(stale), 'baseline entry', 'baseline entries')} no longer "
                "match a finding (fixed or changed); rewrite the baseline with "
                "--write-baseline to drop them:"
            )
            notes += [f"  {entry.describe()}" for entry in stale[:STALE_LISTED]]
            if len(stale) > STALE_LISTED:
                notes.append(f"  ... and {len(stale) - STALE_LISTED} more")
    if changed is not None:
        inside = [d for d in candidates if _touches(d, changed, root)]
        outside = len(candidates) - len(inside)
        candidates = inside
        if outside:
            notes.append(
                f"{_plural(outside, 'finding', 'findings')} on lines not changed since "
                f"{diff_base or 'the diff base'} not shown."
            )
    new = frozenset(candidates) if baseline is not None or changed is not None else None
    return Triage(everything, tuple(candidates), new, stale, tuple(notes))


def _touches(diag: Diagnostic, changed: ChangedLines, root: Path) -> bool:
    first = diag.statement_line if diag.statement_line is not None else diag.span.line
    first = min(first, diag.span.line)
    last = max(diag.span.end_line, diag.span.line)
    path = Path(diag.path)
    return changed.touches(path if path.is_absolute() else root / path, first, last)
