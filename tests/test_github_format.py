"""CI outputs: GitHub workflow annotations, GitLab Code Quality, SARIF stability for
code scanning, and the workflows documented in docs/ci.md."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from test_cli import run
from test_report import RULES, context, diag, sample

from pinlint.model import Confidence, Span
from pinlint.report import REPORTERS, github, gitlab

ROOT = Path(__file__).resolve().parents[1]
LEGACY = ROOT / "tests" / "fixtures" / "projects" / "legacy"
CI_DOC = ROOT / "docs" / "ci.md"


def unescape(text: str) -> str:
    """What the Actions runner does to a command's values."""
    return (
        text.replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
    )


_COMMAND = re.compile(r"^::(error|warning|notice) ([^:]*)::(.*)$")


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.match(line)
    assert m, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


# --------------------------------------------------------------------------- github


def test_escaping_follows_the_workflow_command_rules() -> None:
    assert github.escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert github.escape_property("a:b,c%d\n") == "a%3Ab%2Cc%25d%0A"
    assert github.escape_data("a:b,c") == "a:b,c"  # only properties encode : and ,


def test_one_annotation_per_finding_with_level_and_range() -> None:
    out = REPORTERS["github"](sample(), context())
    lines = out.splitlines()
    assert len(lines) == 4
    level, props, message = parse_command(lines[0])
    assert level == "warning"
    assert props == {
        "file": "app/db.py",
        "line": "5",
        "col": "17",
        "endColumn": "47",
        "title": "PIN101 session-set",
    }
    first, help_line, url = message.split("\n")
    assert first.startswith("`SET search_path` changes a session setting")
    assert help_line == f"help: {RULES['PIN101'].help}"
    assert url.endswith("/PIN101-session-set.md")
    assert parse_command(lines[1])[2].split("\n")[0].endswith("(medium confidence)")
    assert parse_command(lines[2])[0] == "error"
    level, props, _ = parse_command(lines[3])
    assert level == "notice" and props["file"] == "app/odd name.py"


def test_multi_line_ranges_and_hostile_text() -> None:
    d = replace(diag(message="50% of it: a, b\nand more"), span=Span(3, 5, 7, 2))
    _, props, message = parse_command(github.annotation(d, context()).strip())
    assert props["line"] == "3" and props["endLine"] == "7"
    assert "col" not in props and "endColumn" not in props
    assert message.split("\n")[:2] == ["50% of it: a, b", "and more"]
    weird = diag(path="dir,with:odd%chars.py", confidence=Confidence.LOW)
    _, props, _ = parse_command(github.annotation(weird, context()).strip())
    assert props["file"] == "dir,with:odd%chars.py"


def test_github_format_end_to_end(tmp_path: Path) -> None:
    shutil.copytree(LEGACY, tmp_path / "legacy")
    proc = run("check", "--format", "github", cwd=tmp_path / "legacy")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert len(lines) == 9 and all(line.startswith("::warning file=") for line in lines)
    assert "PIN303" not in proc.stdout  # suppressed in source
    files = {parse_command(line)[1]["file"] for line in lines}
    assert files == {"app/orders.py", "app/reports.py", "db/0001_init.sql"}
    assert "suppressed" in proc.stderr


# --------------------------------------------------------------------------- gitlab


def test_gitlab_code_quality() -> None:
    issues = json.loads(REPORTERS["gitlab"](sample(), context()))
    assert len(issues) == 4
    first = issues[0]
    assert first["check_name"] == "PIN101"
    assert first["severity"] == "minor"
    assert first["location"] == {"path": "app/db.py", "lines": {"begin": 5, "end": 5}}
    assert first["description"].startswith("PIN101 `SET search_path`")
    assert re.fullmatch(r"[0-9a-f]{64}", first["fingerprint"])
    assert len({i["fingerprint"] for i in issues}) == 4
    assert [i["severity"] for i in issues] == ["minor", "minor", "major", "info"]
    # the fingerprint does not depend on the line
    moved = json.loads(gitlab.render([diag(line=50)], context()))
    assert (
        moved[0]["fingerprint"] == json.loads(gitlab.render([diag()], context()))[0]["fingerprint"]
    )


# --------------------------------------------------------------------------- sarif stability


def _results(proc_stdout: str) -> list[tuple[str, int, str, str]]:
    log = json.loads(proc_stdout)
    return [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["pinlint/v1"],
            r["partialFingerprints"]["primaryLocationLineHash"],
        )
        for r in log["runs"][0]["results"]
    ]


def test_sarif_is_identical_across_runs_and_fingerprints_survive_moves(tmp_path: Path) -> None:
    project = tmp_path / "legacy"
    shutil.copytree(LEGACY, project)
    first = run("check", "--format", "sarif", cwd=project).stdout
    assert run("check", "--format", "sarif", cwd=project).stdout == first
    before = _results(first)
    orders = project / "app" / "orders.py"
    orders.write_text("# moved down\n\n\n" + orders.read_text())
    after = _results(run("check", "--format", "sarif", cwd=project).stdout)
    assert [(r, fp, lh) for r, _, fp, lh in before] == [(r, fp, lh) for r, _, fp, lh in after]
    assert [line for _, line, _, _ in after if line] != [line for _, line, _, _ in before]
    # suppressing a finding keeps it in the log: no result and no fingerprint shifts
    revealed = _results(run("check", "--format", "sarif", "--no-suppress", cwd=project).stdout)
    assert revealed == after


# --------------------------------------------------------------------------- docs/ci.md


def _yaml_blocks() -> list[object]:
    text = CI_DOC.read_text(encoding="utf-8")
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def _jobs_steps(workflow: dict[str, object]) -> list[dict[str, object]]:
    jobs = workflow["jobs"]
    assert isinstance(jobs, dict)
    return [step for job in jobs.values() for step in job["steps"]]


def test_the_github_workflows_are_complete() -> None:
    workflows = [b for b in _yaml_blocks() if isinstance(b, dict) and "jobs" in b]
    assert len(workflows) >= 2
    for workflow in workflows:
        assert True in workflow or "on" in workflow  # YAML 1.1 reads `on:` as True
        (job,) = workflow["jobs"].values()  # type: ignore[union-attr]
        permissions = job.get("permissions") or workflow.get("permissions")
        steps = _jobs_steps(workflow)  # type: ignore[arg-type]
        uses = [s.get("uses", "") for s in steps]
        assert any(u.startswith("actions/checkout@") for u in uses)
        assert any(u.startswith("actions/setup-python@") for u in uses)
        runs = " ".join(str(s.get("run", "")) for s in steps)
        assert "pip install" in runs and "pinlint check" in runs
        for step in steps:
            if str(step.get("uses", "")).startswith("actions/cache@"):
                assert step["with"]["path"] == ".pinlint_cache"  # where pinlint keeps it
        if any(u.startswith("github/codeql-action/upload-sarif@") for u in uses):
            assert permissions == {
                "security-events": "write",
                "contents": "read",
                "actions": "read",
            }
            upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
            assert upload["with"]["sarif_file"] == "pinlint.sarif"
            assert upload.get("if") == "always()"
            assert "--format sarif --output pinlint.sarif" in runs


def test_the_gitlab_job_is_complete() -> None:
    (gitlab_ci,) = [b for b in _yaml_blocks() if isinstance(b, dict) and "pinlint" in b]
    job = gitlab_ci["pinlint"]
    script = " ".join(job["script"])
    assert "--format gitlab" in script and "gl-code-quality-report.json" in script
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert job["artifacts"]["when"] == "always"


@pytest.mark.parametrize("fmt", ["github", "gitlab", "sarif", "json", "text"])
def test_every_format_is_accepted_and_documented(fmt: str, tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    assert run("check", "--format", fmt, cwd=tmp_path).returncode == 0
    assert f"**{fmt}**" in (ROOT / "README.md").read_text()
