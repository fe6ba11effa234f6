"""Suppression comments: the forms, the directive rules (PIN906-PIN909), and how
each output format treats a suppressed finding.

Fixtures under tests/fixtures/suppress/ carry `# expect: CODE` markers for the
findings that stay active and `# suppressed: CODE` markers for the ones a
directive silences (both on the finding's location line).
"""

from __future__ import annotations

import io
import json
import re
import tokenize
from collections import Counter
from pathlib import Path

import pytest
from expectations import parse, render_mismatch
from test_cli import run
from test_report import validate_sarif

from pinlint import suppress
from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.model import Diagnostic
from pinlint.rules import all_rules

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "suppress"
FILES = sorted([*FIXTURES.glob("*.py"), *FIXTURES.glob("*.sql")])
_SUPPRESSED = re.compile(r"(?:#|--)\s*suppressed:\s*([A-Z0-9, ]+)")


def location_line(d: Diagnostic) -> int:
    return d.statement_line if d.statement_line is not None else d.span.line


def suppressed_markers(path: Path) -> Counter[tuple[int, str]]:
    """`# suppressed: CODES` markers (comments only, as the expectation markers)."""
    text = path.read_text(encoding="utf-8")
    found: Counter[tuple[int, str]] = Counter()
    if path.suffix == ".sql":
        comments = [(n, line[line.find("--") :]) for n, line in enumerate(text.splitlines(), 1)]
    else:
        comments = []
        try:
            for tok in tokenize.generate_tokens(io.StringIO(text).readline):
                if tok.type == tokenize.COMMENT:
                    comments.append((tok.start[0], tok.string))
        except (tokenize.TokenError, SyntaxError):
            pass  # the syntax error fixture: the comments before it count
    for number, comment in comments:
        for m in _SUPPRESSED.finditer(comment):
            for code in m.group(1).split(","):
                if code.strip():
                    found[(number, code.strip())] += 1
    return found


def lint_fixture(path: Path, **overrides: object) -> list[Diagnostic]:
    exp = parse(path)
    settings: dict[str, object] = {}
    if exp.settings.get("require-reason") == "true":
        settings["require_reason"] = True
    settings.update(overrides)
    config = Config(**settings)  # type: ignore[arg-type]
    return list(lint_source(path.read_bytes(), path.name, config).diagnostics)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture(path: Path) -> None:
    exp = parse(path)
    diagnostics = lint_fixture(path)
    active = Counter((location_line(d), d.code) for d in diagnostics if d.suppressed is None)
    if active != exp.expected:
        pytest.fail(render_mismatch(path, active, exp.expected), pytrace=False)
    silenced = Counter((location_line(d), d.code) for d in diagnostics if d.suppressed is not None)
    wanted = suppressed_markers(path)
    if silenced != wanted:
        pytest.fail(render_mismatch(path, silenced, wanted), pytrace=False)


def test_fixtures_cover_every_directive_rule() -> None:
    codes = {code for path in FILES for (_, code) in parse(path).expected}
    assert {"PIN906", "PIN907", "PIN908", "PIN909"} <= codes
    assert sum(sum(suppressed_markers(p).values()) for p in FILES) >= 20


def test_the_reason_is_kept_without_trailing_pragmas() -> None:
    diagnostics = lint_fixture(FIXTURES / "directives.py")
    reasons = {(location_line(d), d.code): d.suppressed for d in diagnostics if d.suppressed}
    assert reasons[(9, "PIN101")] == "tenant schema per request"
    assert reasons[(12, "PIN303")] == "after another pragma"
    assert reasons[(20, "PIN401")] == "held for the whole batch,"
    sql = lint_fixture(FIXTURES / "directives.sql")
    assert {d.suppressed for d in sql if d.code == "PIN401"} == {"one batch lock"}
    assert {d.suppressed for d in sql if d.code == "PIN101" and d.suppressed is not None} == {
        "migrations run alone"
    }


def test_directive_diagnostics_point_at_the_comment() -> None:
    source = 'import psycopg2\ncur.execute("LISTEN a")  # pinlint: ignore[PIN101]\n'
    (finding, unused) = lint_source(source, "a.py").diagnostics
    assert (finding.code, unused.code) == ("PIN303", "PIN908")
    assert unused.span.line == 2 and unused.span.col == source.splitlines()[1].index("#") + 1
    assert unused.statement_line is None and unused.sql is None


def test_unused_is_not_reported_for_rules_that_are_off() -> None:
    source = 'import psycopg2\ncur.execute("LISTEN a")  # pinlint: ignore[PIN101, PIN305]\n'
    codes = [d.code for d in lint_source(source, "a.py").diagnostics]
    assert codes == ["PIN303", "PIN908"]
    off = Config(ignore=("PIN101", "PIN305"))
    assert [d.code for d in lint_source(source, "a.py", off).diagnostics] == ["PIN303"]
    message = next(d for d in lint_source(source, "a.py").diagnostics if d.code == "PIN908")
    assert "PIN101 (session-set), PIN305 (sequence-function)" in message.message


def test_directive_rules_can_be_turned_off_in_the_configuration() -> None:
    source = 'import psycopg2\ncur.execute("LISTEN a")  # pinlint: ignore\n'
    assert [d.code for d in lint_source(source, "a.py").diagnostics] == ["PIN303", "PIN906"]
    quiet = Config(ignore=("malformed-suppression",))
    assert [d.code for d in lint_source(source, "a.py", quiet).diagnostics] == ["PIN303"]


@pytest.mark.parametrize(
    "source",
    [
        b'import psycopg2\r\ncur.execute("LISTEN a")  # pinlint: ignore[PIN303] -- crlf\r\n',
        b'\xef\xbb\xbfimport psycopg2\ncur.execute("LISTEN a")  # pinlint: ignore[PIN303] -- bom\n',
        b"# -*- coding: latin-1 -*-\nimport psycopg2\n"
        b'cur.execute("LISTEN caf\xe9")  # pinlint: ignore[PIN303] -- caf\xe9\n',
        b'import psycopg2\nif True:\n\tcur.execute("LISTEN a")\t# pinlint:ignore[PIN303]--tab\n',
    ],
    ids=["crlf", "bom", "latin-1", "tabs"],
)
def test_encodings_and_line_endings(source: bytes) -> None:
    (diag,) = lint_source(source, "a.py").diagnostics
    assert diag.code == "PIN303" and diag.suppressed is not None
    assert diag.suppressed in ("crlf", "bom", "caf\u00e9", "tab")


def test_sql_block_and_crlf_comments() -> None:
    source = b"SET a = 1; -- pinlint: ignore[PIN101] -- crlf\r\n/* pinlint: ignore[PIN303] */\r\nLISTEN x;\r\n"
    found = lint_source(source, "a.sql").diagnostics
    assert [(d.code, d.suppressed) for d in found] == [("PIN101", "crlf"), ("PIN303", "")]


def test_files_without_the_marker_are_not_tokenized(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(source: bytes) -> object:
        raise AssertionError("tokenized a file without `pinlint:`")

    monkeypatch.setattr(suppress, "python_layout", boom)
    monkeypatch.setattr(suppress, "sql_layout", boom)
    assert lint_source('import psycopg2\ncur.execute("LISTEN a")  # noqa\n', "a.py").diagnostics
    assert lint_source("LISTEN a; -- pinlint ignore\n", "a.sql").diagnostics


def test_a_failure_while_suppressing_becomes_pin905(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> object:
        raise RuntimeError("bad day")

    monkeypatch.setattr(suppress, "_apply", boom)
    source = 'import psycopg2\ncur.execute("LISTEN a")  # pinlint: ignore[PIN303]\n'
    codes = [(d.code, d.suppressed) for d in lint_source(source, "a.py").diagnostics]
    assert codes == [("PIN303", None), ("PIN905", None)]


def test_meta_rules_are_registered_and_documented() -> None:
    rules = {r.code: r for r in all_rules()}
    for code, name in [
        ("PIN906", "malformed-suppression"),
        ("PIN907", "unknown-rule-in-suppression"),
        ("PIN908", "unused-suppression"),
        ("PIN909", "suppression-without-reason"),
    ]:
        assert rules[code].name == name and rules[code].enabled_by_default
    assert {"PIN906", "PIN907", "PIN908", "PIN909"} == suppress.DIRECTIVE_CODES


def test_reveal_lifts_every_suppression() -> None:
    diagnostics = lint_fixture(FIXTURES / "directives.py")
    assert any(d.suppressed is not None for d in diagnostics)
    assert all(d.suppressed is None for d in suppress.reveal(diagnostics))


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "p"\n\n[tool.pinlint]\n')
    (tmp_path / "app.py").write_text(
        "import psycopg2\n\n\n"
        "def f(cur):\n"
        '    cur.execute("LISTEN jobs")  # pinlint: ignore[PIN303] -- the worker owns it\n'
        '    cur.execute("SET search_path TO app")\n'
    )
    return tmp_path


def test_text_hides_suppressed_findings_and_says_so(project: Path) -> None:
    proc = run("check", cwd=project)
    assert proc.returncode == 1
    assert "PIN303" not in proc.stdout.split("Found")[0]
    assert "Found 1 finding (1 PIN101)" in proc.stdout
    assert "1 finding suppressed by `# pinlint: ignore` comments not shown" in proc.stdout
    assert proc.stderr == ""


def test_no_suppress_shows_everything(project: Path) -> None:
    proc = run("check", "--no-suppress", cwd=project)
    assert proc.returncode == 1
    assert "Found 2 findings (1 PIN101, 1 PIN303)" in proc.stdout
    doc = json.loads(run("check", "--no-suppress", "--format", "json", cwd=project).stdout)
    assert sorted(f["code"] for f in doc["findings"]) == ["PIN101", "PIN303"]


def test_suppressed_only_passes(project: Path) -> None:
    (project / "app.py").write_text(
        'import psycopg2\ncur.execute("LISTEN jobs")  # pinlint: ignore[PIN303] -- fine\n'
    )
    assert run("check", cwd=project).returncode == 0
    assert run("check", "--no-suppress", cwd=project).returncode == 1


def test_json_omits_suppressed_findings(project: Path) -> None:
    proc = run("check", "--format", "json", cwd=project)
    doc = json.loads(proc.stdout)
    assert [f["code"] for f in doc["findings"]] == ["PIN101"]
    assert "suppressed" in proc.stderr  # the note goes to stderr, never into the JSON


def test_sarif_carries_suppressed_findings_as_dismissed(project: Path) -> None:
    proc = run("check", "--format", "sarif", cwd=project)
    log = json.loads(proc.stdout)
    validate_sarif(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    assert results["PIN303"]["suppressions"] == [
        {"kind": "inSource", "justification": "the worker owns it"}
    ]
    assert "suppressions" not in results["PIN101"]
    assert proc.returncode == 1  # the active PIN101 still fails the run
    revealed = json.loads(run("check", "--format", "sarif", "--no-suppress", cwd=project).stdout)
    assert all("suppressions" not in r for r in revealed["runs"][0]["results"])


def test_require_reason_from_pyproject(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.pinlint]\nrequire-reason = true\n")
    (project / "app.py").write_text(
        'import psycopg2\ncur.execute("LISTEN jobs")  # pinlint: ignore[PIN303]\n'
    )
    proc = run("check", cwd=project)
    assert proc.returncode == 1 and "PIN909" in proc.stdout
    assert run("check", "--no-require-reason", cwd=project).returncode == 0
    (project / "pyproject.toml").write_text("[tool.pinlint]\nrequire-reason = 'yes'\n")
    bad = run("check", cwd=project)
    assert bad.returncode == 2 and "`require-reason` must be true or false" in bad.stderr
