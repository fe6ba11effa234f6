"""The library entry points: check text, or check files and directories.

`lint_source` is what every test and integration uses; `lint_paths` adds file
discovery and reading. Neither prints anything or knows about output formats.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pinlint import engine
from pinlint.config import Config
from pinlint.files import discover
from pinlint.model import Confidence, Diagnostic, Effect, FileResult, Span


@dataclass(frozen=True)
class RunResult:
    files: tuple[FileResult, ...]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for f in self.files for d in f.diagnostics]

    @property
    def files_checked(self) -> int:
        return len(self.files)


def lint_source(
    source: str | bytes, path: str = "<string>.py", config: Config | None = None
) -> FileResult:
    """Check one file's content. `path` ending in `.sql` selects SQL; anything else is Python."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    return engine.lint_source(data, path, config or Config())


def display_path(path: Path, root: Path) -> str:
    """The path as reported: relative to `root` (posix) when under it, else absolute."""
    absolute = path.resolve() if not path.is_absolute() else path
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def lint_paths(paths: Sequence[Path], config: Config, root: Path | None = None) -> RunResult:
    """Discover and check every `.py`/`.sql` file under `paths`; results sorted by path."""
    base = (root or Path.cwd()).resolve()
    results = []
    for path in discover(paths, config.excludes):
        shown = display_path(path, base)
        try:
            data = path.read_bytes()
        except OSError as err:
            results.append(
                _unreadable(shown, os.strerror(err.errno) if err.errno else str(err), config)
            )
            continue
        results.append(_per_file_ignores(engine.lint_source(data, shown, config), config))
    results.sort(key=lambda r: r.path)
    return RunResult(tuple(results))


def _per_file_ignores(result: FileResult, config: Config) -> FileResult:
    """Drop the codes that `per-file-ignores` turns off for this path."""
    from pinlint.rules import select

    off: set[str] = set()
    for glob, selectors in config.per_file_ignores:
        name = result.path.rsplit("/", 1)[-1]
        if fnmatch.fnmatch(result.path, glob) or fnmatch.fnmatch(name, glob):
            off |= {r.code for r in select(select=selectors)}
    if not off:
        return result
    return FileResult(result.path, tuple(d for d in result.diagnostics if d.code not in off))


def _unreadable(path: str, reason: str, config: Config) -> FileResult:
    rule = next((r for r in config.rules if r.code == "PIN903"), None)
    if rule is None:
        return FileResult(path, ())
    diag = Diagnostic(
        code=rule.code,
        name=rule.name,
        message=f"could not read the file: {reason}",
        help=rule.help,
        severity=rule.severity,
        path=path,
        span=Span(1, 1, 1, 1),
        target=config.target,
        effect=Effect.OK,
        confidence=Confidence.HIGH,
        tags=rule.tags,
    )
    return FileResult(path, (diag,))
