"""The library entry points: check text, or check files and directories.

`lint_source` is what every test and integration uses; `lint_paths` adds file
discovery and reading. Neither prints anything or knows about output formats.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from pinlint import runner
from pinlint.config import Config
from pinlint.files import RealPaths, discover
from pinlint.lambdas import with_lambda_handlers
from pinlint.model import Diagnostic, FileResult

if TYPE_CHECKING:
    from pinlint.project import ProjectIndex


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
    from pinlint import engine  # not at import time: a cached run never needs it

    data = source.encode("utf-8") if isinstance(source, str) else source
    return engine.lint_source(data, path, config or Config())


def display_path(path: Path, root: Path, real: RealPaths | None = None) -> str:
    """The path as reported: relative to `root` (posix) when under it, else absolute.
    A relative `path` is resolved first (by `real`, when given: a run's memo)."""
    if path.is_absolute():
        absolute = str(path)
    else:
        absolute = real(path) if real is not None else os.path.realpath(path)
    if os.sep == "/":  # the common case, without pathlib
        prefix = str(root).rstrip("/") + "/"
        if absolute.startswith(prefix) and len(absolute) > len(prefix):
            return absolute[len(prefix) :]
    try:
        return Path(absolute).relative_to(root).as_posix()
    except ValueError:
        return Path(absolute).as_posix()


def lint_paths(
    paths: Sequence[Path],
    config: Config,
    root: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> RunResult:
    """Discover and check every `.py`/`.sql` file under `paths`; results sorted by path.

    `progress`, when given, is called with (files done, files in total) as the run goes."""
    base = (root or Path.cwd()).resolve()
    # PIN501 tells Lambda handlers apart; the deployment files that name them are read here.
    config = with_lambda_handlers(config, paths, base)
    real = RealPaths()
    files = [
        (path, display_path(path, base, real)) for path in discover(paths, config.excludes, real)
    ]
    if progress is not None and files:
        progress(0, len(files))

    def project() -> ProjectIndex:
        """The modules of the checked tree: imported constants and wrappers
        (`pinlint.project`); built only when a file has to be analysed."""
        from pinlint.project import ProjectIndex

        return ProjectIndex.for_paths(
            paths,
            [path for path, _ in files],
            # picklable, for worker processes
            display=partial(display_path, root=base, real=real),
            max_bytes=config.max_file_bytes,
        )

    # Cache, processes and the order of the work: `pinlint.runner`.
    checked, _ = runner.run(files, config, Path.cwd(), progress, project)
    results = [_per_file_ignores(result, config) for result in checked]
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
    return replace(result, diagnostics=tuple(d for d in result.diagnostics if d.code not in off))
