"""Baselines (`--write-baseline`, `--baseline`) and new-only mode (`--diff-base`), on a
copy of tests/fixtures/projects/legacy (its own pyproject.toml, nine findings and one
suppressed one)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_cli import run
from test_report import validate_sarif

from pinlint.baseline import FORMAT_VERSION, Baseline, Entry, entries_for, load
from pinlint.gitdiff import _unquote, parse_diff
from pinlint.model import Confidence, Diagnostic, Effect, Origin, Severity, Span, Target

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "projects" / "legacy"
DOC = Path(__file__).resolve().parents[1] / "docs" / "baseline-format.md"
BASELINE = ".pinlint-baseline.json"


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "legacy")
    return tmp_path / "legacy"


def findings(stdout: str) -> list[tuple[str, str]]:
    return [
        (line.split(":")[0], line.split(": ")[1].split()[0])
        for line in stdout.splitlines()
        if re.match(r"\S+:\d+:\d+: PIN", line)
    ]


def write_baseline(project: Path) -> subprocess.CompletedProcess[str]:
    proc = run("check", "--write-baseline", BASELINE, cwd=project)
    assert proc.returncode == 0, proc.stderr
    return proc


# --------------------------------------------------------------------------- baseline


def test_write_then_check_is_clean(legacy: Path) -> None:
    proc = write_baseline(legacy)
    assert proc.stdout == ""
    assert "wrote 9 findings in 3 files to .pinlint-baseline.json" in proc.stderr
    doc = json.loads((legacy / BASELINE).read_text())
    assert doc["version"] == FORMAT_VERSION == 1
    assert len(doc["entries"]) == 9
    assert all(e["code"] != "PIN303" for e in doc["entries"])  # suppressed in source
    checked = run("check", "--baseline", BASELINE, cwd=legacy)
    assert checked.returncode == 0, checked.stdout
    assert findings(checked.stdout) == []
    assert "9 findings recorded in the baseline .pinlint-baseline.json not shown." in checked.stdout


def test_identical_statements_are_separate_entries(legacy: Path) -> None:
    write_baseline(legacy)
    entries = json.loads((legacy / BASELINE).read_text())["entries"]
    locks = [e for e in entries if e["subject"] == "SELECT pg_advisory_lock(42)"]
    assert [e["occurrence"] for e in locks] == [1, 2]
    # a third identical lock is new, the two recorded ones are not
    orders = legacy / "app" / "orders.py"
    orders.write_text(
        orders.read_text() + '\n\ndef again(cur):\n    cur.execute("SELECT pg_advisory_lock(42)")\n'
    )
    proc = run("check", "--baseline", BASELINE, cwd=legacy)
    assert proc.returncode == 1
    assert findings(proc.stdout) == [("app/orders.py", "PIN401")]
    assert "app/orders.py:37:" in proc.stdout


def test_moving_code_does_not_resurface_findings(legacy: Path) -> None:
    write_baseline(legacy)
    orders = legacy / "app" / "orders.py"
    text = orders.read_text()
    # new code above everything, and the class moved below a new function
    head, _, rest = text.partition("class OrderService:")
    klass, _, tail = rest.partition("\ndef listen_for_orders")
    moved = (
        "# a new header comment\n\n" + head + "\ndef helper():\n    return 1\n\n"
        "\ndef listen_for_orders" + tail + "\n\nclass OrderService:" + klass
    )
    orders.write_text(moved)
    (legacy / "app" / "reports.py").write_text(
        "\n\n\n" + (legacy / "app" / "reports.py").read_text().replace("    cur.", "    cur.", 1)
    )
    proc = run("check", "--baseline", BASELINE, cwd=legacy)
    assert proc.returncode == 0, proc.stdout
    assert "stale" not in proc.stdout and "no longer" not in proc.stdout


def test_changed_sql_is_new_and_its_old_entry_stale(legacy: Path) -> None:
    write_baseline(legacy)
    reports = legacy / "app" / "reports.py"
    reports.write_text(reports.read_text().replace("'5min'", "'10min'"))
    proc = run("check", "--baseline", BASELINE, cwd=legacy)
    assert proc.returncode == 1
    assert findings(proc.stdout) == [("app/reports.py", "PIN101")]
    assert "1 baseline entry no longer match" in proc.stdout
    assert "app/reports.py: PIN101 `SET statement_timeout = '5min'`" in proc.stdout


def test_stale_entries_never_reach_machine_output(legacy: Path) -> None:
    write_baseline(legacy)
    reports = legacy / "app" / "reports.py"
    reports.write_text(reports.read_text().replace("SET statement_timeout = '5min'", "SELECT 1"))
    for fmt in ("json", "sarif", "github", "gitlab"):
        proc = run("check", "--baseline", BASELINE, "--format", fmt, cwd=legacy)
        assert proc.returncode == 0, (fmt, proc.stdout)
        assert "no longer match a finding" in proc.stderr
        assert "baseline" not in proc.stdout.lower() or fmt == "sarif"
        if fmt != "github":
            json.loads(proc.stdout)
    quiet = run("check", "--baseline", BASELINE, "--format", "json", "--quiet", cwd=legacy)
    assert quiet.stderr == ""


def test_baseline_paths_are_relative_to_the_baseline_file(legacy: Path) -> None:
    write_baseline(legacy)
    paths = {e["path"] for e in json.loads((legacy / BASELINE).read_text())["entries"]}
    assert paths == {"app/orders.py", "app/reports.py", "db/0001_init.sql"}
    # the same baseline from a subdirectory, checking a part of the tree
    proc = run("check", ".", "--baseline", f"../{BASELINE}", cwd=legacy / "app")
    assert proc.returncode == 0, proc.stdout
    # entries of files outside the checked paths are stale there: say so, still pass
    assert "no longer match" in proc.stdout


def test_rewriting_an_unchanged_baseline_changes_nothing(legacy: Path) -> None:
    write_baseline(legacy)
    first = (legacy / BASELINE).read_bytes()
    write_baseline(legacy)
    assert (legacy / BASELINE).read_bytes() == first
    entries = json.loads(first)["entries"]
    assert entries == sorted(
        entries, key=lambda e: (e["path"], e["code"], e["subject"], e["occurrence"])
    )


def test_sarif_with_a_baseline_keeps_every_result(legacy: Path) -> None:
    write_baseline(legacy)
    reports = legacy / "app" / "reports.py"
    reports.write_text(reports.read_text() + '\n\ndef x(cur):\n    cur.execute("LISTEN a")\n')
    proc = run("check", "--baseline", BASELINE, "--format", "sarif", cwd=legacy)
    assert proc.returncode == 1
    log = json.loads(proc.stdout)
    validate_sarif(log)
    states = [(r["ruleId"], r["baselineState"]) for r in log["runs"][0]["results"]]
    assert len(states) == 11  # 9 recorded + 1 suppressed + 1 new
    assert [s for s in states if s[1] == "new"] == [("PIN303", "new")]


def test_bad_baselines_are_clear_errors(legacy: Path) -> None:
    cases = [
        (None, "does not exist; create it with `pinlint check --write-baseline"),
        ("{", "is not valid JSON"),
        ('{"version": 9, "entries": []}', "has format version 9"),
        ('{"version": 1, "entries": [{"code": "PIN101"}]}', "entry 0 is invalid"),
        ("[]", "is not a pinlint baseline"),
    ]
    for content, message in cases:
        path = legacy / "b.json"
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(content)
        proc = run("check", "--baseline", "b.json", cwd=legacy)
        assert proc.returncode == 2, (content, proc.stdout)
        assert message in proc.stderr and "Traceback" not in proc.stderr
    proc = run("check", "--write-baseline", "x.json", "--baseline", "b.json", cwd=legacy)
    assert proc.returncode == 2 and "do not combine" in proc.stderr


def test_the_format_page_documents_every_key(legacy: Path) -> None:
    write_baseline(legacy)
    doc = json.loads((legacy / BASELINE).read_text())
    page = DOC.read_text()
    for key in [*doc, *doc["tool"], *doc["entries"][0]]:
        assert f"`{key}`" in page, key


def _diag(code: str, sql: str | None, line: int, path: str = "a.py") -> Diagnostic:
    return Diagnostic(
        code=code,
        name="x",
        message=f"message for {sql}",
        help="",
        severity=Severity.WARNING,
        path=path,
        span=Span(line, 1, line, 2),
        target=Target.RDS_PROXY,
        effect=Effect.PINS,
        confidence=Confidence.HIGH,
        origin=Origin.LITERAL if sql else None,
        sql=sql,
    )


def test_keys_count_identical_content_and_ignore_lines(tmp_path: Path) -> None:
    diags = [
        _diag("PIN101", "SET  a =\n 1", 3),
        _diag("PIN101", "SET a = 1", 9),
        _diag("PIN303", None, 12),
    ]
    entries = [e for _, e in entries_for(diags, tmp_path, tmp_path)]
    assert [(e.subject, e.occurrence) for e in entries] == [
        ("SET a = 1", 1),
        ("SET a = 1", 2),
        ("message for None", 1),
    ]
    baseline = Baseline(tmp_path / "b.json", (Entry("a.py", "PIN101", "SET a = 1", 1),))
    moved = [_diag("PIN101", "SET a = 1", 40), _diag("PIN101", "SET a = 1", 50)]
    split = baseline.split(moved, tmp_path)
    assert [d.span.line for d in split.known] == [40] and [d.span.line for d in split.new] == [50]
    assert split.stale == ()


def test_load_round_trip(legacy: Path) -> None:
    write_baseline(legacy)
    baseline = load(legacy / BASELINE)
    assert len(baseline.entries) == 9
    assert baseline.path == (legacy / BASELINE).resolve()


# --------------------------------------------------------------------------- --diff-base


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    return proc.stdout


@pytest.fixture
def repo(legacy: Path) -> Path:
    git(legacy, "init", "-q", "-b", "main")
    git(legacy, "add", "-A")
    git(legacy, "commit", "-q", "-m", "legacy")
    return legacy


def test_diff_base_reports_only_changed_lines(repo: Path) -> None:
    reports = repo / "app" / "reports.py"
    lines = reports.read_text().splitlines()
    lines.insert(5, '    cur.execute("LISTEN reports")')
    reports.write_text("\n".join(lines) + "\n")
    (repo / "app" / "new_module.py").write_text(
        'import psycopg2\n\n\ndef f(cur):\n    cur.execute("DISCARD ALL")\n'
    )
    proc = run("check", "--diff-base", "HEAD", cwd=repo)
    assert proc.returncode == 1
    assert findings(proc.stdout) == [("app/new_module.py", "PIN202"), ("app/reports.py", "PIN303")]
    assert "9 findings on lines not changed since HEAD not shown." in proc.stdout
    # nothing changed: nothing reported, exit 0
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    assert run("check", "--diff-base", "HEAD", cwd=repo).returncode == 0
    assert run("check", "--diff-base", "HEAD~1", cwd=repo).returncode == 1


def test_diff_base_uses_the_merge_base(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    git(repo, "checkout", "-q", "main")
    reports = repo / "app" / "reports.py"
    reports.write_text(reports.read_text().replace("'5min'", "'6min'"))
    git(repo, "commit", "-q", "-am", "main moves on")
    git(repo, "checkout", "-q", "feature")
    # the branch still has the old line; it did not change it, so it is not blamed
    proc = run("check", "--diff-base", "main", cwd=repo)
    assert proc.returncode == 0, proc.stdout


def test_diff_base_errors(repo: Path, tmp_path: Path) -> None:
    proc = run("check", "--diff-base", "no-such-rev", cwd=repo)
    assert proc.returncode == 2
    assert "unknown revision 'no-such-rev'" in proc.stderr and "Traceback" not in proc.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    (outside / "a.py").write_text("x = 1\n")
    proc = run("check", "--diff-base", "HEAD", cwd=outside)
    assert proc.returncode == 2 and "needs a git repository" in proc.stderr
    proc = run("check", "--diff-base", "--upload-pack=x", cwd=repo)
    assert proc.returncode == 2


def test_parse_diff() -> None:
    diff = "\n".join(
        [
            "diff --git a/app/x.py b/app/x.py",
            "--- a/app/x.py",
            "+++ b/app/x.py",
            "@@ -3,0 +4,2 @@ def f():",
            "+a",
            "+b",
            "@@ -10 +12 @@",
            "-old",
            "+new",
            "@@ -20,3 +22,0 @@",
            "diff --git a/gone.py b/gone.py",
            "--- a/gone.py",
            "+++ /dev/null",
            "@@ -1,2 +0,0 @@",
            'diff --git "a/caf\\303\\251 x.py" "b/caf\\303\\251 x.py"',
            '+++ "b/caf\\303\\251 x.py"',
            "@@ -1 +1 @@",
        ]
    )
    assert parse_diff(diff) == {
        "app/x.py": frozenset({4, 5, 12}),
        "caf\u00e9 x.py": frozenset({1}),
    }
    assert _unquote('"tab\\there"') == "tab\there"
    assert _unquote("plain.py") == "plain.py"
