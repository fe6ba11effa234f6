"""Configuration files: discovery, precedence, validation, and the README table."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_cli import run

from pinlint.config import OPTIONS, Config, ConfigError, resolve
from pinlint.docs import config_markdown

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "projects"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def configured(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "configured", tmp_path / "configured")
    return tmp_path / "configured"


def codes_by_path(stdout: str) -> set[tuple[str, str]]:
    return {
        (line.split(":")[0], line.split(": ")[1].split()[0])
        for line in stdout.splitlines()
        if ": PIN" in line
    }


def test_pyproject_is_discovered_upward_from_the_checked_path(configured: Path) -> None:
    proc = run("check", "src/app", cwd=configured)
    assert codes_by_path(proc.stdout) == {("src/app/db.py", "PIN101"), ("src/app/db.py", "PIN901")}
    # from a subdirectory too
    proc = run("check", ".", cwd=configured / "src")
    assert ("db.py", "PIN101") not in codes_by_path(proc.stdout)
    assert ("app/db.py", "PIN101") in codes_by_path(proc.stdout)


def test_extend_exclude_and_per_file_ignores(configured: Path) -> None:
    found = codes_by_path(run("check", cwd=configured).stdout)
    assert not any(p.startswith("migrations") for p, _ in found)
    assert not any(p.endswith("admin_tools.py") for p, _ in found)


def test_fail_on_threshold(configured: Path) -> None:
    (configured / "src" / "app" / "db.py").write_text('cur.execute("SELECT FROM WHERE (")\n')
    proc = run("check", cwd=configured)
    assert "PIN901" in proc.stdout and proc.returncode == 0  # a note, below fail-on = warning


def test_cli_wins_over_the_file_and_isolated_ignores_it(configured: Path) -> None:
    # a key given on the command line replaces the file's value for that key
    proc = run("check", "--ignore", "PIN9", cwd=configured)
    assert "PIN305" in proc.stdout and "PIN901" not in proc.stdout
    proc = run("check", "--isolated", cwd=configured)
    found = codes_by_path(proc.stdout)
    assert ("src/app/db.py", "PIN305") in found and ("migrations/0001.sql", "PIN101") in found
    proc = run("check", "--fail-on", "error", cwd=configured)
    assert proc.returncode == 0 and "PIN101" in proc.stdout


def test_explicit_config_file(configured: Path, tmp_path: Path) -> None:
    other = tmp_path / "strict.toml"
    other.write_text('select = ["PIN305"]\n')
    found = codes_by_path(run("check", "--config", str(other), cwd=configured).stdout)
    assert {c for _, c in found} == {"PIN305"}


def test_pinlint_toml_comes_before_pyproject(configured: Path) -> None:
    (configured / "pinlint.toml").write_text('select = ["PIN305"]\n')
    found = codes_by_path(run("check", cwd=configured).stdout)
    assert {c for _, c in found} == {"PIN305"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[tool.pinlint]\nselct = ['PIN1']\n", "unknown key `selct`; known keys:"),
        ("[tool.pinlint]\ntarget = 'pgbouncr'\n", "`target` must be one of 'rds-proxy'"),
        (
            "[tool.pinlint]\nmax-statement-bytes = 'big'\n",
            "`max-statement-bytes` must be an integer",
        ),
        ("[tool.pinlint]\nignore = ['PIN999']\n", "unknown rule selector 'PIN999'"),
        ("[tool.pinlint\nselect = 1\n", "invalid TOML"),
    ],
)
def test_broken_config_is_a_clear_error(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "a.py").write_text("x = 1\n")
    proc = run("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr and "pyproject.toml" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_resolve_precedence_in_the_api(configured: Path) -> None:
    config = resolve([configured], {"max_statement_bytes": 99})
    assert config.max_statement_bytes == 99 and "PIN305" not in config.enabled_codes
    assert config.source is not None and config.source.endswith("pyproject.toml")
    with pytest.raises(ConfigError):
        resolve([configured], {}, configured / "missing.toml")


def test_every_option_is_a_config_field_and_documented_in_the_readme() -> None:
    names = set(Config.__dataclass_fields__)
    assert all(o.attr in names for o in OPTIONS)
    readme = (ROOT / "README.md").read_text()
    assert config_markdown() in readme, (
        "README configuration table is stale: run scripts/gen_docs.py"
    )
