"""Inline expectations for fixture and example files, shared by every test.

Markers (Python: `#` comments read with `tokenize`, so a `#` inside a string is never
a marker; SQL: `--` comments):

- `# expect: PIN101[, PIN305]` at the end of a line: a diagnostic with that code whose
  location line is this line. For Python the location line is the first line of the
  statement that sends the SQL (where a suppression comment would go).
- `# expect-next: PIN101` alone on a line: the same, for the next non-blank line.
- `# todo-expect: PIN101` / `# todo-ok: PIN101`: a known false negative / false
  positive; the test is marked xfail, so a fix shows up as XPASS.
- `# %% bad: title` / `# %% good: title`: example sections (for `rules/` and the docs).
- `# pinlint-test: key=value ...` in the first lines: settings for this file.

Comparison is strict: a diagnostic without a marker fails, and so does a marker
without a diagnostic.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

_MARKER = re.compile(r"(?:#|--)\s*(expect|expect-next|todo-expect|todo-ok)\s*:\s*([A-Z0-9, ]+)")
_SECTION = re.compile(r"(?:#|--)\s*%%\s*(bad|good)\s*:\s*(.*)")
_SETTINGS = re.compile(r"(?:#|--)\s*pinlint-test:\s*(.*)")


@dataclass
class Section:
    kind: str  # "bad" or "good"
    title: str
    start: int  # first line (1-based), the marker line
    end: int  # last line, inclusive


@dataclass
class Expectations:
    expected: Counter[tuple[int, str]] = field(default_factory=Counter)
    todo_expect: Counter[tuple[int, str]] = field(default_factory=Counter)
    todo_ok: Counter[tuple[int, str]] = field(default_factory=Counter)
    sections: list[Section] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)

    def section_of(self, line: int) -> Section | None:
        return next((s for s in self.sections if s.start <= line <= s.end), None)


def _comments(text: str, path: Path) -> list[tuple[int, str, bool]]:
    """(line, comment text, alone on its line) for every comment in the file."""
    lines = text.splitlines()
    if path.suffix == ".sql":
        out = []
        for number, line in enumerate(lines, 1):
            idx = line.find("--")
            if idx >= 0:
                out.append((number, line[idx:], not line[:idx].strip()))
        return out
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            out.append((row, tok.string, not lines[row - 1][:col].strip()))
    return out


def parse(path: Path) -> Expectations:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    exp = Expectations()
    for number, comment, alone in _comments(text, path):
        m = _SETTINGS.match(comment)
        if m and number <= 5:
            for pair in m.group(1).split():
                key, _, value = pair.partition("=")
                exp.settings[key] = value
            continue
        m = _SECTION.match(comment)
        if m:
            if exp.sections:
                exp.sections[-1].end = number - 1
            exp.sections.append(Section(m.group(1), m.group(2).strip(), number, len(lines)))
            continue
        m = _MARKER.search(comment)
        if not m:
            continue
        kind, codes = m.group(1), [c.strip() for c in m.group(2).split(",") if c.strip()]
        line = number
        if kind == "expect-next":
            if not alone:
                raise ValueError(f"{path}:{number}: expect-next must stand alone on its line")
            line = next(i for i in range(number + 1, len(lines) + 1) if lines[i - 1].strip())
        target = {
            "expect": exp.expected,
            "expect-next": exp.expected,
            "todo-expect": exp.todo_expect,
            "todo-ok": exp.todo_ok,
        }[kind]
        for code in codes:
            target[(line, code)] += 1
    return exp


def render_mismatch(
    path: Path, actual: Counter[tuple[int, str]], expected: Counter[tuple[int, str]]
) -> str:
    """The source with actual and expected codes side by side, for a failing test."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = [f"{path}: diagnostics differ from the inline expectations"]
    for number, line in enumerate(lines, 1):
        got = sorted(c for (n, c), k in actual.items() for _ in range(k) if n == number)
        want = sorted(c for (n, c), k in expected.items() for _ in range(k) if n == number)
        flag = "  " if got == want else "!!"
        note = f"   <- got {got or '-'}, expected {want or '-'}" if got != want else ""
        out.append(f"{flag}{number:4} {line}{note}")
    return "\n".join(out)
