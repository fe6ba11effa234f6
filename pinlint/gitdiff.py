"""The lines changed since a git revision, for `pinlint check --diff-base REV`.

"Changed since REV" means added or modified in the working tree (staged or not)
compared with the merge base of REV and HEAD, the way a pull request's diff is
taken: a branch that is behind `origin/main` is not blamed for lines that changed
only on main. Files git does not track yet (and does not ignore) count as changed
in full. The diff is read from ``git diff -U0``: every hunk header
``@@ -a,b +c,d @@`` marks new lines ``c .. c+d-1``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class GitError(RuntimeError):
    """git is missing, this is not a repository, or the revision is unknown."""


@dataclass(frozen=True)
class ChangedLines:
    """Per file (relative to the repository root): the changed lines, or None for
    a file that is new as a whole."""

    root: Path
    files: dict[str, frozenset[int] | None]

    def touches(self, path: Path, first: int, last: int) -> bool:
        """Whether lines first..last of `path` (absolute) hold a changed line."""
        try:
            rel = path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return False
        if rel not in self.files:
            return False
        lines = self.files[rel]
        if lines is None:
            return True
        return any(n in lines for n in range(first, max(first, last) + 1))


def _git(args: list[str], cwd: Path) -> str:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    env.pop("GIT_EXTERNAL_DIFF", None)
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("--diff-base needs git, and git is not installed") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return proc.stdout.decode("utf-8", "surrogateescape")


def _unquote(path: str) -> str:
    """A path as git prints it: C-quoted (with octal UTF-8 bytes) when unusual."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    body, out, i = path[1:-1], bytearray(), 0
    while i < len(body):
        char = body[i]
        if char == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 4 <= len(body):
                out.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
            out += _ESCAPES.get(nxt, nxt).encode()
            i += 2
            continue
        out += char.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def parse_diff(text: str) -> dict[str, frozenset[int] | None]:
    """Changed lines per new path from `git diff -U0 --src-prefix=a/ --dst-prefix=b/`."""
    files: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in text.splitlines():
        if line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            if target == "/dev/null":
                current = None
                continue
            target = _unquote(target)
            current = files.setdefault(target[2:] if target.startswith("b/") else target, set())
        elif line.startswith("@@") and current is not None:
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or "1")
                current.update(range(start, start + count))
    return {path: frozenset(lines) for path, lines in files.items()}


def changed_lines(rev: str, cwd: Path) -> ChangedLines:
    """The lines changed since `rev` in the repository holding `cwd`; `GitError`
    with a message for the user when that cannot be known."""
    if rev.startswith("-"):
        raise GitError(f"--diff-base: {rev!r} is not a revision")
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
    except GitError as err:
        raise GitError(f"--diff-base needs a git repository: {err}") from None
    root = Path(top).resolve()
    try:
        commit = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], root)
    except GitError:
        raise GitError(
            f"--diff-base: unknown revision {rev!r} (in a shallow CI checkout, fetch it "
            "first, e.g. actions/checkout with fetch-depth: 0)"
        ) from None
    base = commit.strip()
    # Without HEAD (no commit yet) or with unrelated histories: the revision itself.
    with contextlib.suppress(GitError):
        base = _git(["merge-base", base, "HEAD"], root).strip() or base
    diff = _git(
        [
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--find-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            base,
            "--",
        ],
        root,
    )
    files: dict[str, frozenset[int] | None] = dict(parse_diff(diff))
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], root)
    for name in untracked.split("\0"):
        if name:
            files[name] = None
    return ChangedLines(root, files)
