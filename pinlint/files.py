"""Which files a run checks: `.py` and `.sql` under the given paths.

Directories are walked honouring `.gitignore` files (at every level, as git does,
plus the root's `.git/info/exclude`), skipping the usual suspects (VCS folders,
virtualenvs, `node_modules`, build output, caches) and any `--exclude` globs.
A file named explicitly on the command line is always checked.
"""

from __future__ import annotations

import fnmatch
import functools
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pathspec is imported when a tree has ignore files
    from pathspec import GitIgnoreSpec

SUFFIXES = (".py", ".pyi", ".sql")


class RealPaths:
    """`os.path.realpath` of many files, each directory resolved once: a file that is
    not a symbolic link is its directory's real path plus its name (one `lstat`,
    where `realpath` takes one per component). Keep one for a run, not longer: it
    does not see a directory replaced by a link afterwards."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}  # path -> real path, for files and directories

    def __call__(self, path: str | os.PathLike[str]) -> str:
        path = os.fspath(path)
        real = self._known.get(path)
        if real is None:
            real = self._known[path] = self._resolve(path)
        return real

    def _resolve(self, path: str) -> str:
        head, name = os.path.split(path)
        if name in ("", ".", "..") or os.path.islink(path):
            return os.path.realpath(path)
        real = self._known.get(head)
        if real is None:
            real = self._known[head] = os.path.realpath(head)
        return os.path.join(real, name)


def _load_ignore(directory: Path) -> GitIgnoreSpec | None:
    lines: list[str] = []
    for name in (".gitignore", os.path.join(".git", "info", "exclude")):
        try:
            lines += (directory / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
    if not lines:
        return None
    from pathspec import GitIgnoreSpec

    return GitIgnoreSpec.from_lines(lines)


def _excluded(rel: str, name: str, patterns: Sequence[str]) -> bool:
    """Whether `name` or `rel` matches one of `patterns` (or `rel` is under one):
    `fnmatch.fnmatch` against each, done with one compiled expression per side."""
    by_name, by_path = _exclude_expressions(tuple(patterns))
    return bool(by_name.match(os.path.normcase(name)) or by_path.match(os.path.normcase(rel)))


@functools.lru_cache(maxsize=16)
def _exclude_expressions(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    def either(globs: Sequence[str]) -> re.Pattern[str]:
        return re.compile("|".join(fnmatch.translate(os.path.normcase(g)) for g in globs) or "(?!)")

    return either(patterns), either([*patterns, *(p.rstrip("/") + "/*" for p in patterns)])


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def discover(
    paths: Sequence[Path], excludes: Sequence[str], real: RealPaths | None = None
) -> Iterator[Path]:
    """Yield the files to check, each once (by real path, `real` resolving them), in a
    stable order."""
    real = real or RealPaths()
    seen: set[str] = set()
    for root in paths:
        if root.is_file():
            resolved = real(root)
            if resolved not in seen:
                seen.add(resolved)
                yield root
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such file or directory")
        for found in _walk(root, excludes):
            resolved = real(found)
            if resolved not in seen:
                seen.add(resolved)
                yield found


def _walk(root: Path, excludes: Sequence[str]) -> Iterator[Path]:
    # Each entry of the stack: (directory, the ignore specs that apply, with their base).
    stack: list[tuple[Path, list[tuple[Path, GitIgnoreSpec]]]] = [(root, [])]
    while stack:
        directory, specs = stack.pop()
        own = _load_ignore(directory)
        if own is not None:
            specs = [*specs, (directory, own)]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            path = Path(entry.path)
            is_dir = entry.is_dir(follow_symlinks=False)
            rel = path.relative_to(root).as_posix()
            if _excluded(rel, entry.name, excludes) or _ignored(path, is_dir, specs):
                continue
            if is_dir:
                if not _is_virtualenv(path):
                    subdirs.append(path)
            elif entry.name.endswith(SUFFIXES) and entry.is_file():
                yield path
        stack.extend((d, specs) for d in reversed(subdirs))


def _ignored(path: Path, is_dir: bool, specs: list[tuple[Path, GitIgnoreSpec]]) -> bool:
    for base, spec in specs:
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(rel):
            return True
    return False
