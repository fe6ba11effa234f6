"""Baselines: record today's findings, then report only the ones that are new.

`pinlint check --write-baseline FILE` writes every active finding to FILE;
`pinlint check --baseline FILE` then hides the findings recorded there. A finding
is keyed by its content, never by its line number:

    (rule code, path, subject, occurrence)

* the path is relative to the directory of the baseline file (so the same file
  works from any working directory);
* the subject is the analysed SQL with its whitespace collapsed, or the message
  for a finding without SQL;
* the occurrence numbers identical (code, path, subject) keys in file order from
  1, so two identical statements in one file are two entries.

Moving code, adding lines above it or re-indenting it keeps its key; changing the
SQL text makes it a new finding. Matching is by count: with two identical entries
recorded and three identical findings now, one is new (the last one in the file).
Entries that match no finding are *stale* (fixed, or changed beyond recognition);
the CLI reports them in its summary so the baseline can be rewritten.

The file is JSON, described in docs/baseline-format.md:

    {"version": 1, "tool": {...}, "entries": [{"code", "name", "path", "subject",
     "occurrence"}, ...]}
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinlint.model import Diagnostic

FORMAT_VERSION = 1


class BaselineError(ValueError):
    """A baseline file that cannot be read or written; the message names it."""


@dataclass(frozen=True, order=True, slots=True)
class Entry:
    path: str
    code: str
    subject: str
    occurrence: int
    name: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.path, self.code, self.subject, self.occurrence)

    def describe(self) -> str:
        subject = self.subject if len(self.subject) <= 60 else self.subject[:59] + "\u2026"
        suffix = f" (#{self.occurrence})" if self.occurrence > 1 else ""
        return f"{self.path}: {self.code} `{subject}`{suffix}"


def subject_of(diag: Diagnostic) -> str:
    """The SQL (or, without SQL, the message) with whitespace collapsed."""
    return " ".join((diag.sql or diag.message).split())


def _relative_to(path: str, root: Path, base: Path) -> str:
    """`path` (as reported: relative to `root`, or absolute) relative to `base`."""
    absolute = Path(os.path.normpath(root / path)) if not Path(path).is_absolute() else Path(path)
    try:
        return absolute.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return absolute.resolve().as_posix()


def entries_for(
    diagnostics: Sequence[Diagnostic], root: Path, base: Path
) -> list[tuple[Diagnostic, Entry]]:
    """Each diagnostic with its entry; `root` is what the paths are relative to,
    `base` the directory of the baseline file. Numbering follows the input order,
    so pass the diagnostics sorted by position."""
    seen: Counter[tuple[str, str, str]] = Counter()
    paths: dict[str, str] = {}
    out = []
    for diag in diagnostics:
        if diag.path not in paths:
            paths[diag.path] = _relative_to(diag.path, root, base)
        path = paths[diag.path]
        subject = subject_of(diag)
        seen[(path, diag.code, subject)] += 1
        entry = Entry(path, diag.code, subject, seen[(path, diag.code, subject)], diag.name)
        out.append((diag, entry))
    return out


@dataclass(frozen=True)
class Split:
    """The result of comparing findings with a baseline."""

    new: tuple[Diagnostic, ...]
    known: tuple[Diagnostic, ...]
    stale: tuple[Entry, ...]


@dataclass(frozen=True)
class Baseline:
    path: Path
    entries: tuple[Entry, ...]

    @property
    def base(self) -> Path:
        return self.path.parent

    def split(self, diagnostics: Sequence[Diagnostic], root: Path) -> Split:
        """Which of `diagnostics` (sorted, active) are new, and which entries are stale."""
        recorded = {e.key for e in self.entries}
        matched: set[tuple[str, str, str, int]] = set()
        new, known = [], []
        for diag, entry in entries_for(diagnostics, root, self.base):
            if entry.key in recorded:
                matched.add(entry.key)
                known.append(diag)
            else:
                new.append(diag)
        stale = tuple(e for e in self.entries if e.key not in matched)
        return Split(tuple(new), tuple(known), stale)


def document(entries: Iterable[Entry], version: str) -> dict[str, object]:
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "pinlint", "version": version},
        "entries": [
            {
                "code": e.code,
                "name": e.name,
                "path": e.path,
                "subject": e.subject,
                "occurrence": e.occurrence,
            }
            for e in sorted(entries)
        ],
    }


def write(path: Path, diagnostics: Sequence[Diagnostic], root: Path, version: str) -> int:
    """Record `diagnostics` (active, sorted) in `path`; returns the number of entries.

    The output is sorted and stable, so rewriting an unchanged baseline changes
    nothing and a rewritten one diffs well in review."""
    base = path.resolve().parent
    entries = [entry for _, entry in entries_for(diagnostics, root, base)]
    text = json.dumps(document(entries, version), indent=2, ensure_ascii=False) + "\n"
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise BaselineError(f"cannot write baseline {path}: {err.strerror or err}") from None
    return len(entries)


def load(path: Path) -> Baseline:
    """Read and validate a baseline file; `BaselineError` on any problem."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist; create it with `pinlint check --write-baseline {path}`"
        ) from None
    except OSError as err:
        raise BaselineError(f"cannot read baseline {path}: {err.strerror or err}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BaselineError(f"baseline {path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or "entries" not in data:
        raise BaselineError(f"baseline {path} is not a pinlint baseline (no `entries`)")
    if data.get("version") != FORMAT_VERSION:
        raise BaselineError(
            f"baseline {path} has format version {data.get('version')!r}; this pinlint reads "
            f"version {FORMAT_VERSION}; rewrite it with --write-baseline"
        )
    entries = []
    for index, raw in enumerate(data["entries"]):
        try:
            entries.append(
                Entry(
                    path=_text(raw["path"]),
                    code=_text(raw["code"]),
                    subject=_text(raw["subject"]),
                    occurrence=_count(raw["occurrence"]),
                    name=_text(raw.get("name", "")),
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise BaselineError(f"baseline {path}: entry {index} is invalid ({err})") from None
    return Baseline(path.resolve(), tuple(entries))


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {value!r}")
    return value


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"occurrence must be a positive integer, not {value!r}")
    return value
