"""The pre-commit hook, run by the real `pre-commit try-repo`.

pre-commit installs pinlint from a git repository into a fresh virtualenv (its
dependencies come from PyPI, so this needs the network) and runs the hook from
`.pre-commit-hooks.yaml` on the files of a throwaway project: it must fail on a
pinning `.py` and `.sql` file and pass once they are fixed. The hook repository is
a committed copy of this checkout, so uncommitted work is what gets tested.
Deselect with ``-m "not slow"``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit", reason="pre-commit is in the `test` extra")

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("pinlint", "rules", "pyproject.toml", "README.md", ".pre-commit-hooks.yaml")


def git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def hook_repository(target: Path) -> Path:
    """A git repository holding this checkout's package, committed."""
    target.mkdir()
    for name in SHIPPED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, target / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "pinlint")
    return target


def try_repo(hooks: Path, project: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    env.pop("PINLINT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hooks), "pinlint", "--all-files"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_pre_commit_hook_fails_then_passes_after_the_fix(tmp_path: Path) -> None:
    hooks = hook_repository(tmp_path / "hooks")
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "db.py").write_text(
        "import psycopg2\n\n\n"
        "def tenant(cur, name):\n"
        '    cur.execute("SET search_path TO tenant_a")\n'
    )
    (project / "schema.sql").write_text("CREATE TABLE t (id int);\nLISTEN jobs;\n")
    (project / "README.txt").write_text("SET search_path TO x\n")  # not a type the hook reads
    git(project, "init", "-q")
    git(project, "add", "-A")

    failing = try_repo(hooks, project, tmp_path / "cache")
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "pinlint" in output and "Failed" in output
    assert "app/db.py:5:" in output and "PIN101" in output
    assert "schema.sql:2:1: PIN303" in output
    assert "README.txt" not in output

    (project / "app" / "db.py").write_text(
        "import psycopg2\n\n\n"
        "def tenant(cur, name):\n"
        '    cur.execute("UPDATE accounts SET tenant = %s", (name,))\n'
    )
    (project / "schema.sql").write_text(
        "CREATE TABLE t (id int);\n"
        "LISTEN jobs; -- pinlint: ignore[PIN303] -- the worker has a direct connection\n"
    )
    git(project, "add", "-A")
    passing = try_repo(hooks, project, tmp_path / "cache")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "Passed" in passing.stdout
