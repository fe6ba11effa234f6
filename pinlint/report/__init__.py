"""Reporters: turn sorted diagnostics into text, JSON or SARIF.

A reporter only formats. It never filters, reorders or judges a diagnostic; the
engine has already done that. Everything a reporter needs besides the diagnostics
comes in a `ReportContext`, including the rule classes for the codes that may
appear, so no reporter imports the rule registry.

`REPORTERS` imports a format's module when the format is first asked for, so a run
pays only for the one it writes (SARIF's object model is the heavy one).
"""

from __future__ import annotations

import importlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from pinlint.model import Diagnostic
from pinlint.rules.base import Rule

DOCS_BASE_URL = "https://github.com/pinlint/pinlint/blob/main/docs/rules/"

SourceLines = Callable[[str], list[str] | None]


def split_lines(text: str) -> list[str]:
    """Split at LF, CR and CRLF only, keeping the endings (unlike `str.splitlines`,
    which also splits at form feeds and other separators Python source may hold)."""
    return io.StringIO(text, newline="").readlines()


def read_source_lines(root: Path, path: str) -> list[str] | None:
    """`root/path` as lines with their endings, decoded as UTF-8 with replacement
    (as GitHub's fingerprinting reads it); None if it cannot be read."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return None
    return split_lines(data.decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class ReportContext:
    """What reporters know besides the diagnostics.

    `rules` maps every code that may appear to its rule class. `source_lines`
    returns a file's lines *with their line endings* (fingerprints hash the exact
    text); when not given, files are read from `root`.
    """

    root: Path
    rules: Mapping[str, type[Rule]]
    version: str
    files_checked: int
    target: str
    docs_base_url: str = DOCS_BASE_URL
    source_lines: SourceLines | None = None
    quiet: bool = False  # text: findings only, no summary line
    #: More summary lines (what a suppression, the baseline or --diff-base hid, stale
    #: baseline entries): the text reporter prints them after its summary; the CLI
    #: prints them on standard error for the other formats.
    notes: tuple[str, ...] = ()
    #: With --baseline or --diff-base: the active findings that are new. SARIF then
    #: gives every result a `baselineState`; None when neither is in use.
    new_findings: frozenset[Diagnostic] | None = None

    def read_lines(self, path: str) -> list[str] | None:
        if self.source_lines is not None:
            return self.source_lines(path)
        return read_source_lines(self.root, path)

    def rule_url(self, code: str, name: str) -> str:
        """The rule's documentation page."""
        return f"{self.docs_base_url}{code}-{name}.md"

    def relative_path(self, path: str) -> str:
        """`path` as a POSIX path relative to `root`. Diagnostics should already be
        relative; an absolute path inside `root` is made relative, others are kept."""
        if Path(path).is_absolute():
            try:
                return Path(path).resolve().relative_to(self.root.resolve()).as_posix()
            except ValueError:
                return Path(path).as_posix()
        return path


class Reporter(Protocol):
    def __call__(
        self, diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False
    ) -> str: ...


class _Reporters(Mapping[str, Reporter]):
    """Format name -> its module's `render`, imported on first use."""

    def __init__(self, formats: Sequence[str]) -> None:
        self._formats = tuple(formats)

    def __getitem__(self, fmt: str) -> Reporter:
        if fmt not in self._formats:
            raise KeyError(fmt)
        return cast(Reporter, importlib.import_module(f"{__name__}.{fmt}").render)

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)


REPORTERS: Mapping[str, Reporter] = _Reporters(("text", "json", "sarif", "github", "gitlab"))
#: Formats that are given suppressed findings too, and mark them (semgrep keeps
#: `nosemgrep` findings in SARIF only, as suppressed results); the others are given
#: only the active findings.
KEEPS_SUPPRESSED = frozenset({"sarif"})

__all__ = [
    "DOCS_BASE_URL",
    "KEEPS_SUPPRESSED",
    "REPORTERS",
    "ReportContext",
    "Reporter",
    "read_source_lines",
    "split_lines",
]
