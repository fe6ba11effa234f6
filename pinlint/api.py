"""The library entry points: check text, or check files and directories.

`lint_source` is what every test and integration uses; `lint_paths` adds file
discovery and reading. Neither prints anything or knows about output formats.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from pinlint import runner
from pinlint.config import Config
from pinlint.files import discover
from pinlint.lambdas import with_lambda_handlers
from pinlint.model import Diagnostic, FileResult
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


def display_path(path: Path, root: Path) -> str:
    """The path as reported: relative to `root` (posix) when under it, else absolute."""
    absolute = path.resolve() if not path.is_absolute() else path
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


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
    files = [(path, display_path(path, base)) for path in discover(paths, config.excludes)]
    if progress is not None and files:
        progress(0, len(files))
    # The modules of the checked tree: imported constants and wrappers (`pinlint.project`).
    project = ProjectIndex.for_paths(
        paths,
        [path for path, _ in files],
        display=partial(display_path, root=base),  # picklable, for worker processes
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
