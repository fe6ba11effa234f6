"""The progress bar (stderr, terminals only, long runs only) and `--statistics`."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli import run

from pinlint.progress import THRESHOLD, ProgressBar, for_terminal

PINNING = 'import psycopg2\ncur.execute("SET search_path TO app")\n'


def many_files(root: Path, count: int) -> Path:
    for i in range(count):
        (root / f"m{i:04d}.py").write_text(PINNING if i % 50 == 0 else f"x = {i}\n")
    return root


def run_with_terminal_stderr(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the CLI with standard error on a pseudo-terminal; (exit code, stdout, stderr)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pinlint", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.stdout is not None
    stdout = proc.stdout.read().decode()
    code = proc.wait(timeout=120)
    return code, stdout, b"".join(chunks).decode()


def test_bar_on_a_terminal_for_a_long_run(tmp_path: Path) -> None:
    many_files(tmp_path, THRESHOLD + 50)
    code, stdout, stderr = run_with_terminal_stderr("check", "--format", "json", cwd=tmp_path)
    assert code == 1
    assert f"{THRESHOLD + 50}/{THRESHOLD + 50} files" in stderr
    assert stderr.count("\r[") >= 1 and "100%" in stderr
    assert stderr.endswith("\r\x1b[2K")  # erased at the end
    doc = json.loads(stdout)  # machine output untouched
    assert len(doc["findings"]) == 5


def test_no_bar_when_not_a_terminal_short_or_quiet(tmp_path: Path) -> None:
    many_files(tmp_path, THRESHOLD + 50)
    proc = run("check", cwd=tmp_path)
    assert "\r" not in proc.stderr and "files" not in proc.stderr
    _, _, stderr = run_with_terminal_stderr("check", "--quiet", cwd=tmp_path)
    assert "\r[" not in stderr
    small = tmp_path / "small"
    small.mkdir()
    many_files(small, 20)
    _, _, stderr = run_with_terminal_stderr("check", ".", cwd=small)
    assert "\r[" not in stderr


def test_bar_draws_throttled_and_erases() -> None:
    now = [0.0]
    stream = io.StringIO()
    bar = ProgressBar(stream, threshold=10, interval=1.0, clock=lambda: now[0])
    bar(0, 5)  # below the threshold: nothing
    assert stream.getvalue() == ""
    for done in range(0, 100):
        now[0] += 0.1
        bar(done, 100)
    bar(100, 100)
    drawn = stream.getvalue().count("\r[")
    assert 9 <= drawn <= 12  # about once a second of (fake) time, plus the final 100%
    assert "100% 100/100 files" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("\r\x1b[2K")


def test_for_terminal() -> None:
    assert for_terminal(io.StringIO()) is None

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert isinstance(for_terminal(Tty()), ProgressBar)
    assert for_terminal(Tty(), enabled=False) is None


# --------------------------------------------------------------------------- --statistics


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "a.py").write_text(
        "import psycopg2\n"
        'cur.execute("SET a = 1")\n'
        'cur.execute("SET b = 1")\n'
        'cur.execute("LISTEN x")\n'
    )
    (tmp_path / "b.sql").write_text("SET c = 1;\nDISCARD ALL;\n")
    return tmp_path


def test_statistics_text(project: Path) -> None:
    proc = run("check", "--statistics", cwd=project)
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:3] == ["3", "PIN101", "session-set"]
    assert [line.split()[1] for line in lines[:3]] == ["PIN101", "PIN202", "PIN303"]
    assert lines[-1].startswith("Found 5 findings")
    assert "cur.execute" not in proc.stdout  # counts, not findings
    quiet = run("check", "--statistics", "--quiet", cwd=project).stdout
    assert len(quiet.splitlines()) == 3


def test_statistics_json(project: Path) -> None:
    proc = run("check", "--statistics", "--format", "json", cwd=project)
    assert json.loads(proc.stdout) == [
        {"code": "PIN101", "name": "session-set", "severity": "warning", "count": 3},
        {"code": "PIN202", "name": "discard-session-state", "severity": "warning", "count": 1},
        {"code": "PIN303", "name": "listen-channel", "severity": "warning", "count": 1},
    ]
    assert run("check", "--statistics", "--exit-zero", cwd=project).returncode == 0


def test_statistics_json_is_documented(project: Path) -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "json-format.md").read_text()
    table = doc.split("## Statistics", 1)[1]
    fields = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
    out = json.loads(run("check", "--statistics", "--format", "json", cwd=project).stdout)
    assert all(list(row) == fields for row in out)


def test_statistics_needs_text_or_json(project: Path) -> None:
    proc = run("check", "--statistics", "--format", "sarif", cwd=project)
    assert proc.returncode == 2 and "--statistics works with --format text or json" in proc.stderr
