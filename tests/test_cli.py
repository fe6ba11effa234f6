"""The command line end to end: exit codes, formats, discovery, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pinlint import __version__
from pinlint.api import display_path
from pinlint.files import RealPaths
from pinlint.rules import all_rules

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT.parent / "shared" / "reference" / "sarif-schema-2.1.0.json"

PINNING = 'def f(cur):\n    cur.execute("SET search_path TO app")\n'
CLEAN = 'def f(cur):\n    cur.execute("UPDATE t SET a = 1")\n'


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PINLINT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "pinlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "db.py").write_text(PINNING)
    (tmp_path / "app" / "ok.py").write_text(CLEAN)
    return tmp_path


def test_exit_1_and_ruff_like_text(project: Path) -> None:
    proc = run("check", cwd=project)
    assert proc.returncode == 1, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith("app/db.py:2:17: PIN101 [pins] `SET search_path`")
    assert "  help: " in proc.stdout
    assert proc.stdout.rstrip().endswith("Found 1 finding (1 PIN101) in 1 file; 2 files checked.")
    assert proc.stderr == ""


def test_exit_0_when_clean(project: Path) -> None:
    proc = run("check", "app/ok.py", cwd=project)
    assert proc.returncode == 0
    assert "no findings" in proc.stdout


def test_exit_zero_and_quiet(project: Path) -> None:
    proc = run("check", "--exit-zero", "--quiet", cwd=project)
    assert proc.returncode == 0
    assert proc.stdout.count("PIN101") == 1 and "Found" not in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "--select", "PIN999"), "unknown rule selector 'PIN999'"),
        (("check", "--format", "xml"), "Invalid value for '--format'"),
        (("check", "missing_dir"), "missing_dir: no such file or directory"),
        (("rule", "PIN000"), "unknown rule 'PIN000'"),
        (("check", "--target", "nowhere"), "Invalid value for '--target'"),
    ],
)
def test_usage_errors_exit_2_without_traceback(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    proc = run(*args, cwd=project)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_select_ignore_by_prefix_and_name(project: Path) -> None:
    (project / "app" / "more.py").write_text(
        'def g(cur):\n    cur.execute("SELECT pg_advisory_lock(1)")\n    cur.execute("LISTEN x")\n'
    )
    assert run("check", "--select", "PIN4", cwd=project).stdout.count(": PIN") == 1
    out = run("check", "--ignore", "session-set,PIN303", cwd=project).stdout
    assert "PIN101" not in out and "PIN303" not in out and "PIN401" in out


def test_json_format(project: Path) -> None:
    proc = run("check", "--format", "json", cwd=project)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    (finding,) = doc["findings"]
    assert finding["code"] == "PIN101" and finding["path"] == "app/db.py" and finding["line"] == 2
    assert finding["effect"] == "pins" and finding["target"] == "rds-proxy"
    assert doc["files_checked"] == 2


def test_sarif_format_is_valid_and_relative(project: Path) -> None:
    out = project / "pinlint.sarif"
    proc = run("check", "--format", "sarif", "--output", str(out), cwd=project)
    assert proc.returncode == 1 and proc.stdout == ""
    log = json.loads(out.read_text())
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    result = log["runs"][0]["results"][0]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/db.py"
    assert "primaryLocationLineHash" in result["partialFingerprints"]
    assert [r["id"] for r in log["runs"][0]["tool"]["driver"]["rules"]] == ["PIN101"]


def test_rules_and_rule_commands(project: Path) -> None:
    listing = run("rules", cwd=project).stdout
    for rule in all_rules():
        assert rule.code in listing and rule.name in listing
    page = run("rule", "PIN401", cwd=project)
    assert page.returncode == 0
    for heading in ("## What it flags", "## Why it pins", "## How to fix", "## Examples"):
        assert heading in page.stdout
    assert "# expect" not in page.stdout
    assert run("rule", "session-advisory-lock", cwd=project).stdout == page.stdout


def test_version(project: Path) -> None:
    assert __version__ in run("--version", cwd=project).stdout


def test_discovery_honours_gitignore_and_usual_suspects(project: Path) -> None:
    (project / ".gitignore").write_text("generated/\n*_pb2.py\n")
    for rel in (
        "generated/x.py",
        "app/q_pb2.py",
        "node_modules/x.py",
        ".venv/lib/x.py",
        "build/x.py",
        "env2/lib/x.py",
    ):
        path = project / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PINNING)
    (project / "env2" / "pyvenv.cfg").write_text("home = /usr\n")
    (project / "app" / "schema.sql").write_text("LISTEN jobs;\n")
    proc = run("check", "--format", "json", cwd=project)
    paths = sorted({f["path"] for f in json.loads(proc.stdout)["findings"]})
    assert paths == ["app/db.py", "app/schema.sql"]
    # an explicit file is always checked; --exclude removes more
    assert run("check", "generated/x.py", cwd=project).returncode == 1
    assert run("check", "--exclude", "app", cwd=project).returncode == 0


def test_paths_resolve_as_pathlib_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`RealPaths` resolves each directory once and agrees with `os.path.realpath`
    (which `Path.resolve` uses): links to files and to directories, `..` after a link,
    missing files; `display_path` reports what `Path.resolve` would."""
    (tmp_path / "real" / "pkg").mkdir(parents=True)
    (tmp_path / "real" / "pkg" / "m.py").write_text("")
    (tmp_path / "other.py").write_text("")
    (tmp_path / "linkdir").symlink_to(tmp_path / "real" / "pkg")
    (tmp_path / "real" / "pkg" / "link.py").symlink_to(tmp_path / "other.py")
    monkeypatch.chdir(tmp_path)
    real = RealPaths()
    for path in (
        "real/pkg/m.py",
        "linkdir/m.py",
        "linkdir/link.py",
        "linkdir/../pkg/m.py",
        "real/pkg/missing.py",
        "m.py",
        "real/pkg/",
        "real/pkg/.",
        "linkdir/..",
        str(tmp_path / "linkdir" / "m.py"),
    ):
        assert real(path) == os.path.realpath(path), path
        for root in (tmp_path, tmp_path / "real", Path("/")):
            resolved = Path(path).resolve() if not Path(path).is_absolute() else Path(path)
            try:
                expected = resolved.relative_to(root).as_posix()
            except ValueError:
                expected = resolved.as_posix()
            assert display_path(Path(path), root, real) == expected, (path, root)
            assert display_path(Path(path), root) == expected, (path, root)


def test_bad_files_become_diagnostics_and_the_run_goes_on(project: Path) -> None:
    (project / "app" / "broken.py").write_text("def f(:\n    cur.execute('SET x = 1')\n")
    (project / "app" / "latin.py").write_bytes(b'x = "caf\xe9"\ncur.execute("LISTEN a")\n')
    (project / "app" / "empty.py").write_text("")
    (project / "app" / "bad.sql").write_text("SELEC oops (;\nSET search_path TO x;\n")
    big = "rows = [\n" + "    'x',\n" * 1_500_000 + "]\ncur.execute('LISTEN a')\n"
    (project / "app" / "generated_big.py").write_text(big)
    assert (project / "app" / "generated_big.py").stat().st_size > 10_000_000
    proc = run("check", "--format", "json", cwd=project)
    assert proc.returncode == 1 and proc.stderr == ""
    found = {(f["path"], f["code"]) for f in json.loads(proc.stdout)["findings"]}
    assert found == {
        ("app/db.py", "PIN101"),
        ("app/broken.py", "PIN902"),
        ("app/latin.py", "PIN903"),
        ("app/bad.sql", "PIN101"),
        ("app/generated_big.py", "PIN904"),
    }
