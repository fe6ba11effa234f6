"""Tests for the text, JSON and SARIF reporters and the fingerprints.

The rules here are fakes (`abstract=True` skips the registry's checks), so these
tests do not depend on the real rule modules. Golden outputs live in
tests/fixtures/report/; regenerate them with ``PINLINT_UPDATE_GOLDEN=1 pytest``
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import jsonschema
import pytest

from pinlint.model import Confidence, Diagnostic, Effect, Origin, Severity, Span, Target
from pinlint.report import REPORTERS, ReportContext, fingerprint, sarif, text
from pinlint.report import json as json_report
from pinlint.rules.base import MetaRule, Rule, SqlRule

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "report"
SRC = FIXTURES / "src"
SCHEMA_PATH = (
    Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "sarif-schema-2.1.0.json"
)
DOC_PATH = HERE.parent / "docs" / "json-format.md"
UPDATE = os.environ.get("PINLINT_UPDATE_GOLDEN") == "1"


# --------------------------------------------------------------------------- fakes


class SessionSet(SqlRule, abstract=True):
    """Session-level `SET`.

    ## What it flags

    A `SET` (without `LOCAL`) or `set_config(..., false)` that changes a session
    setting such as `search_path`.

    ## Why it pins

    RDS Proxy cannot move session state between backend connections, so it keeps
    the client on one backend until the session ends.

    ## How to fix

    Put the setting in the proxy's initialization query, or `ALTER ROLE ... SET`.

    ## Known limitations

    Settings changed inside functions are not seen.

    ## References

    - [Avoiding pinning](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html)
    """

    code: ClassVar[str] = "PIN101"
    name: ClassVar[str] = "session-set"
    summary: ClassVar[str] = "`SET` changes a session setting; RDS Proxy pins the connection"
    help: ClassVar[str] = "Put it in the proxy's initialization query or `ALTER ROLE ... SET`"
    severity: ClassVar[Severity] = Severity.WARNING
    tags: ClassVar[tuple[str, ...]] = ("session-state",)


class AdvisoryLock(SqlRule, abstract=True):
    """Session advisory lock.

    ## What it flags

    `pg_advisory_lock` and the other session-level advisory lock functions.

    ## Why it pins

    The lock belongs to the backend session.

    ## How to fix

    Use `pg_advisory_xact_lock` inside a transaction.

    ## Known limitations

    None known.

    ## References

    PostgreSQL manual, advisory locks.
    """

    code: ClassVar[str] = "PIN401"
    name: ClassVar[str] = "advisory-lock"
    summary: ClassVar[str] = "A session advisory lock pins the connection"
    help: ClassVar[str] = "Use a transaction-level advisory lock"
    severity: ClassVar[Severity] = Severity.ERROR
    tags: ClassVar[tuple[str, ...]] = ("locking",)
    precision: ClassVar[str] = "medium"


class OpaqueSql(MetaRule, abstract=True):
    """SQL pinlint cannot see.

    ## What it flags

    A call that sends SQL whose text pinlint cannot determine.

    ## Why it pins

    It may or may not; pinlint cannot tell.

    ## How to fix

    Pass a literal, or suppress with a reason.

    ## Known limitations

    None.

    ## References

    None.
    """

    code: ClassVar[str] = "PIN901"
    name: ClassVar[str] = "opaque-sql"
    summary: ClassVar[str] = "The SQL sent here could not be determined"
    help: ClassVar[str] = "Pass a string literal, or suppress with a reason"
    severity: ClassVar[Severity] = Severity.NOTE
    tags: ClassVar[tuple[str, ...]] = ("meta",)


RULES: dict[str, type[Rule]] = {r.code: r for r in (SessionSet, AdvisoryLock, OpaqueSql)}


def diag(
    rule: type[Rule] = SessionSet,
    path: str = "app/db.py",
    line: int = 5,
    col: int = 17,
    end_col: int = 47,
    *,
    message: str = "`SET search_path` changes a session setting; RDS Proxy pins the connection",
    confidence: Confidence = Confidence.HIGH,
    origin: Origin | None = Origin.LITERAL,
    sql: str | None = "SET search_path TO tenant_42",
    effect: Effect = Effect.PINS,
    severity: Severity | None = None,
) -> Diagnostic:
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=message,
        help=rule.help,
        severity=severity or rule.severity,
        path=path,
        span=Span(line, col, line, end_col),
        target=Target.RDS_PROXY,
        effect=effect,
        confidence=confidence,
        origin=origin,
        sink="cursor.execute" if origin is not None else None,
        sql=sql,
        statement_line=line if origin is not None else None,
    )


def sample() -> list[Diagnostic]:
    """Findings in tests/fixtures/report/src, sorted as the engine sorts them."""
    return [
        diag(),
        diag(
            line=6,
            confidence=Confidence.MEDIUM,
            origin=Origin.BUILT,
            sql="SET search_path TO \ufffc",
        ),
        diag(
            AdvisoryLock,
            line=10,
            end_col=46,
            message="`pg_advisory_lock` takes a session lock; RDS Proxy pins the connection",
            sql="SELECT pg_advisory_lock(42)",
        ),
        diag(
            OpaqueSql,
            path="app/odd name.py",
            line=2,
            end_col=37,
            message="The SQL passed to `cur.execute` could not be determined",
            confidence=Confidence.LOW,
            origin=None,
            sql=None,
            effect=Effect.OK,
        ),
    ]


def context(root: Path = SRC, **kw: Any) -> ReportContext:
    values: dict[str, Any] = {
        "root": root,
        "rules": RULES,
        "version": "0.1.0",
        "files_checked": 40,
        "target": "rds-proxy",
    }
    values.update(kw)
    return ReportContext(**values)


def golden(name: str, actual: str) -> None:
    path = FIXTURES / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path}; run with PINLINT_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


def sarif_log(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> dict[str, Any]:
    log = json.loads(REPORTERS["sarif"](diagnostics, ctx))
    validate_sarif(log)
    assert isinstance(log, dict)
    return log


_VALIDATOR: list[Any] = []


def validate_sarif(log: object) -> None:
    if not _VALIDATOR:
        assert SCHEMA_PATH.exists(), f"SARIF schema not found at {SCHEMA_PATH}"
        schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        _VALIDATOR.append(cls(schema, format_checker=cls.FORMAT_CHECKER))
    _VALIDATOR[0].validate(log)


# --------------------------------------------------------------------------- registry


def test_reporters_by_name() -> None:
    assert set(REPORTERS) == {"text", "json", "sarif", "github", "gitlab"}
    for name, render in REPORTERS.items():
        out = render([], context())
        # github output is workflow commands only: nothing at all without findings
        assert out.endswith("\n") or (name == "github" and out == "")


# --------------------------------------------------------------------------- text


def test_text_golden() -> None:
    golden("expected.txt", REPORTERS["text"](sample(), context()))


def test_text_line_shape() -> None:
    out = text.render([diag()], context(files_checked=1))
    assert out == (
        "app/db.py:5:17: PIN101 [pins] `SET search_path` changes a session setting; "
        "RDS Proxy pins the connection\n"
        "  help: Put it in the proxy's initialization query or `ALTER ROLE ... SET`\n"
        "\n"
        "Found 1 finding (1 PIN101) in 1 file; 1 file checked.\n"
    )


def test_text_confidence_marker_and_meta_effect() -> None:
    lines = text.render(sample(), context()).splitlines()
    assert lines[0].endswith("the connection")
    assert lines[2].endswith("(medium confidence)")
    assert lines[6] == (
        "app/odd name.py:2:17: PIN901 The SQL passed to `cur.execute` could not be "
        "determined (low confidence)"
    )


def test_text_no_findings() -> None:
    assert text.render([], context()) == "All checked! 40 files checked, no findings.\n"
    assert text.render([], context(files_checked=1)) == (
        "All checked! 1 file checked, no findings.\n"
    )


def test_text_summary_counts() -> None:
    assert text.summary(sample(), 40) == (
        "Found 4 findings (2 PIN101, 1 PIN401, 1 PIN901) in 2 files; 40 files checked."
    )


def test_text_color_only_when_asked() -> None:
    plain = text.render(sample(), context())
    colored = text.render(sample(), context(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[" in colored
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain


# --------------------------------------------------------------------------- json


def _doc_tables() -> dict[str, list[str]]:
    """Field names per `## ` section of docs/json-format.md, from its tables."""
    tables: dict[str, list[str]] = {}
    section = ""
    for line in DOC_PATH.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip().strip("`")
        elif m := re.match(r"\| `([a-z_]+)` \|", line):
            tables.setdefault(section, []).append(m.group(1))
    return tables


def test_json_golden() -> None:
    golden("expected.json", REPORTERS["json"](sample(), context()))


def test_json_keys_match_the_doc() -> None:
    tables = _doc_tables()
    out = json.loads(json_report.render(sample(), context()))
    assert list(out) == tables["Top level"]
    assert list(out["tool"]) == tables["tool"]
    for finding in out["findings"]:
        assert list(finding) == tables["Finding"]


def test_json_doc_example_has_the_documented_keys() -> None:
    doc = DOC_PATH.read_text(encoding="utf-8")
    example = json.loads(doc.split("```json", 1)[1].split("```", 1)[0])
    tables = _doc_tables()
    assert list(example) == tables["Top level"]
    assert list(example["findings"][0]) == tables["Finding"]


def test_json_values() -> None:
    out = json.loads(json_report.render(sample(), context()))
    assert out["version"] == "1"
    assert out["tool"] == {"name": "pinlint", "version": "0.1.0"}
    assert (out["target"], out["files_checked"]) == ("rds-proxy", 40)
    first, built, _, meta = out["findings"]
    assert first["url"] == (
        "https://github.com/pinlint/pinlint/blob/main/docs/rules/PIN101-session-set.md"
    )
    assert (first["line"], first["column"], first["end_line"], first["end_column"]) == (
        5,
        17,
        5,
        47,
    )
    assert built["sql"] == "SET search_path TO \ufffc"
    assert built["confidence"] == "medium"
    assert meta["origin"] is None and meta["sql"] is None and meta["sink"] is None
    assert meta["effect"] == "ok"


def test_json_empty() -> None:
    out = json.loads(json_report.render([], context(files_checked=0)))
    assert out["findings"] == [] and out["files_checked"] == 0


# --------------------------------------------------------------------------- sarif


def _sarif_golden_text(ctx: ReportContext) -> str:
    out = REPORTERS["sarif"](sample(), ctx)
    return out.replace(ctx.root.resolve().as_uri() + "/", "file:///ROOT/")


def test_sarif_golden() -> None:
    golden("expected.sarif.json", _sarif_golden_text(context()))


def test_sarif_validates_against_the_schema() -> None:
    sarif_log(sample(), context())
    sarif_log([], context())


def test_sarif_key_fields() -> None:
    log = sarif_log(sample(), context())
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "pinlint"
    assert driver["version"] == driver["semanticVersion"] == "0.1.0"
    assert driver["informationUri"] == "https://github.com/pinlint/pinlint"
    assert [r["id"] for r in driver["rules"]] == ["PIN101", "PIN401", "PIN901"]
    assert run["automationDetails"] == {"id": "pinlint/rds-proxy/"}
    root_uri = SRC.resolve().as_uri() + "/"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": root_uri}}
    assert run["invocations"] == [
        {"executionSuccessful": True, "workingDirectory": {"uri": root_uri}}
    ]
    assert run["columnKind"] == "unicodeCodePoints"

    first = run["results"][0]
    assert first["ruleId"] == "PIN101"
    assert first["level"] == "warning"
    assert first["message"] == {
        "text": "`SET search_path` changes a session setting; RDS Proxy pins the connection"
    }
    assert first["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "app/db.py", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 5, "startColumn": 17, "endLine": 5, "endColumn": 47},
            }
        }
    ]
    assert first["rank"] == 90
    assert first["properties"] == {
        "confidence": "high",
        "effect": "pins",
        "target": "rds-proxy",
        "origin": "literal",
        "sink": "cursor.execute",
    }
    assert set(first["partialFingerprints"]) == {"primaryLocationLineHash", "pinlint/v1"}
    assert [r["rank"] for r in run["results"]] == [90, 60, 90, 30]


def test_sarif_rule_descriptor() -> None:
    log = sarif_log(sample(), context())
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    desc = rules["PIN101"]
    assert desc["name"] == "session-set"
    assert desc["shortDescription"] == {"text": SessionSet.summary}
    assert desc["fullDescription"] == {"text": SessionSet.doc_sections()["What it flags"]}
    assert desc["help"]["markdown"] == SessionSet.markdown()
    assert "## " not in desc["help"]["text"] and "Why it pins" in desc["help"]["text"]
    assert "Avoiding pinning (https://docs.aws.amazon.com/" in desc["help"]["text"]
    assert desc["helpUri"] == (
        "https://github.com/pinlint/pinlint/blob/main/docs/rules/PIN101-session-set.md"
    )
    assert desc["defaultConfiguration"] == {"level": "warning"}
    assert desc["properties"] == {
        "tags": ["rds-proxy", "pinning", "session-state"],
        "precision": "high",
        "problem.severity": "warning",
    }
    assert rules["PIN401"]["properties"]["precision"] == "medium"
    assert rules["PIN401"]["properties"]["problem.severity"] == "error"
    assert rules["PIN401"]["defaultConfiguration"] == {"level": "error"}
    assert rules["PIN901"]["properties"] == {
        "tags": ["meta"],
        "precision": "high",
        "problem.severity": "recommendation",
    }


def test_sarif_descriptor_limits() -> None:
    class Wordy(SqlRule, abstract=True):
        code: ClassVar[str] = "PIN199"
        name: ClassVar[str] = "wordy"
        summary: ClassVar[str] = "Wordy"
        help: ClassVar[str] = "Say less"
        tags: ClassVar[tuple[str, ...]] = tuple(f"tag{i}" for i in range(20))

    Wordy.__doc__ = "## What it flags\n\n" + "x" * 3000
    log = sarif_log([diag(Wordy)], context(rules={"PIN199": Wordy}))
    desc = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert len(desc["fullDescription"]["text"]) == 1024
    assert desc["fullDescription"]["text"].endswith("\u2026")
    assert len(desc["properties"]["tags"]) == 10


def test_sarif_rule_index_points_at_the_descriptor() -> None:
    diagnostics = [
        diag(OpaqueSql, line=2, origin=None, sql=None, effect=Effect.OK),
        diag(AdvisoryLock, line=10),
        diag(SessionSet, line=5),
        diag(OpaqueSql, line=6, origin=None, sql=None, effect=Effect.OK),
    ]
    run = sarif_log(diagnostics, context())["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["PIN101", "PIN401", "PIN901"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_result_level_is_explicit() -> None:
    # A result's level overrides the rule default, so "warning" must be written
    # even though it is the schema default.
    d = diag(AdvisoryLock, line=10, severity=Severity.WARNING)
    result = sarif_log([d], context())["runs"][0]["results"][0]
    assert result["level"] == "warning"


def test_sarif_paths_are_relative_uris(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a b.py").write_text("x = 1\n", encoding="utf-8")
    absolute = str(tmp_path / "pkg" / "a b.py")
    ctx = context(root=tmp_path)
    keys: list[str] = []
    for path in ("pkg/a b.py", absolute):
        result = sarif_log([diag(path=path, line=1)], ctx)["runs"][0]["results"][0]
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert location == {"uri": "pkg/a%20b.py", "uriBaseId": "%SRCROOT%"}
        assert "primaryLocationLineHash" in result["partialFingerprints"]
        keys.append(result["partialFingerprints"]["pinlint/v1"])
    assert keys[0] == keys[1]
    out = json.loads(json_report.render([diag(path=absolute)], ctx))
    assert out["findings"][0]["path"] == "pkg/a b.py"


def test_sarif_unknown_rule_and_missing_file() -> None:
    # A code missing from ctx.rules and a file that cannot be read still give a
    # valid log; the result has no line hash but keeps pinlint's own key.
    log = sarif_log([diag(path="gone.py")], context(rules={}))
    run = log["runs"][0]
    assert run["tool"]["driver"]["rules"][0]["id"] == "PIN101"
    assert run["tool"]["driver"]["rules"][0]["help"] == {"text": SessionSet.help}
    assert list(run["results"][0]["partialFingerprints"]) == ["pinlint/v1"]


def test_sarif_empty_run() -> None:
    run = sarif_log([], context())["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []


def test_sarif_uses_source_lines_callback(tmp_path: Path) -> None:
    seen: list[str] = []

    def lines(path: str) -> list[str] | None:
        seen.append(path)
        return ["import os\n", "    x.execute('SET a = 1')\n"]

    log = sarif_log([diag(path="nowhere.py", line=2)], context(root=tmp_path, source_lines=lines))
    result = log["runs"][0]["results"][0]
    assert seen == ["nowhere.py"]
    expected = fingerprint.line_hashes("import os\n    x.execute('SET a = 1')\n")[1]
    assert result["partialFingerprints"]["primaryLocationLineHash"] == expected


# --------------------------------------------------------------------------- serialiser


def test_serialiser_renames_and_drops_defaults() -> None:
    import sarif_om as om

    region = om.Region(start_line=3, start_column=1)
    assert sarif.to_json(region) == {"startLine": 3, "startColumn": 1}
    result = om.Result(message=om.Message(text="m"), rule_index=0)
    # kind ("fail"), rank (-1.0) are defaults and dropped; level is always kept.
    assert sarif.to_json(result) == {"message": {"text": "m"}, "level": "warning", "ruleIndex": 0}
    bag = om.PropertyBag(tags=["a"])
    bag.precision = "high"
    setattr(bag, "problem.severity", "warning")
    assert sarif.to_json(bag) == {"tags": ["a"], "precision": "high", "problem.severity": "warning"}
    run = om.Run(tool=om.Tool(driver=om.ToolComponent(name="x")), results=[])
    assert sarif.to_json(run) == {"tool": {"driver": {"name": "x"}}, "results": []}


# --------------------------------------------------------------------------- fingerprints

# Expected values from the tests of GitHub's codeql-action (src/fingerprints.test.ts),
# which pinlint's implementation must reproduce.
_HASH_VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (
        " a\nb\n  \t\tc\n d",
        ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"],
    ),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        [
            "8b7cf3e952e7aeb2:1",
            "b1ae1287ec4718d9:1",
            "bff680108adb0fcc:1",
            "c6805c5e1288b612:1",
            "b86d3392aea1be30:1",
            "e6ceba753e1a442:1",
        ],
    ),
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [f"a7f2ff13bc495cf2:{n}" for n in range(1, 7)]
        + [
            "a7f2ff1481e87703:1",
            "a9cf91f7bbf1862b:1",
            "55ec222b86bcae53:1",
            "cc97dc7b1d7d8f7b:1",
            "c129715d7a2bc9a3:1",
        ],
    ),
]
_NEWLINE_VARIANTS = [
    " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
    " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
    " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
    " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
]
_NEWLINE_HASHES = [
    "e9496ae3ebfced30:1",
    "fb7c023a8b9ccb3f:1",
    "ce8ba1a563dcdaca:1",
    "e20e36e16fcb0cc8:1",
    "b3edc88f2938467e:1",
    "c8e28b0b4002a3a0:1",
    "c129715d7a2bc9a3:1",
]


@pytest.mark.parametrize(("source", "expected"), _HASH_VECTORS)
def test_line_hashes_match_codeql_action(source: str, expected: list[str]) -> None:
    assert fingerprint.line_hashes(source) == expected


@pytest.mark.parametrize("source", _NEWLINE_VARIANTS)
def test_line_hashes_normalise_line_endings(source: str) -> None:
    assert fingerprint.line_hashes(source) == _NEWLINE_HASHES


def test_line_hashes_count_utf16_units() -> None:
    # An astral character is two UTF-16 code units, as in JavaScript strings.
    assert fingerprint.line_hashes("\U0001f600") == fingerprint.line_hashes("\ud83d\ude00")
    assert fingerprint.line_hashes("\U0001f600") != fingerprint.line_hashes("\ud83d")


def test_line_hash_is_stable_when_code_moves(tmp_path: Path) -> None:
    body = 'def f(cur):\n    cur.execute("SET search_path TO a")\n'
    (tmp_path / "m.py").write_text(body, encoding="utf-8")
    before = sarif_log([diag(path="m.py", line=2)], context(root=tmp_path))
    (tmp_path / "m.py").write_text("import os\n\n\n" + body, encoding="utf-8")
    after = sarif_log([diag(path="m.py", line=5)], context(root=tmp_path))
    fp_before = before["runs"][0]["results"][0]["partialFingerprints"]
    fp_after = after["runs"][0]["results"][0]["partialFingerprints"]
    assert fp_before == fp_after


def test_line_hash_counter_for_identical_lines(tmp_path: Path) -> None:
    stmt = '    cur.execute("SET search_path TO tenant_42")\n'
    (tmp_path / "m.py").write_text("def f(cur):\n" + stmt * 5, encoding="utf-8")
    diagnostics = [diag(path="m.py", line=n) for n in range(2, 7)]
    results = sarif_log(diagnostics, context(root=tmp_path))["runs"][0]["results"]
    hashes = [r["partialFingerprints"]["primaryLocationLineHash"] for r in results]
    # Lines 2-4 see the same 100 characters ahead of them; 5 and 6 reach the end.
    assert len({h.split(":")[0] for h in hashes[:3]}) == 1
    assert [h.split(":")[1] for h in hashes[:3]] == ["1", "2", "3"]
    assert len(set(hashes)) == 5
    keys = [r["partialFingerprints"]["pinlint/v1"] for r in results]
    assert [k.split(":")[1] for k in keys] == ["1", "2", "3", "4", "5"]
    assert len({k.split(":")[0] for k in keys}) == 1


def test_semantic_key_ignores_whitespace_and_position() -> None:
    a = diag(line=5, sql="SET  search_path\n  TO tenant_42")
    b = diag(line=50, col=1, sql="SET search_path TO tenant_42")
    assert fingerprint.semantic_key(a) == fingerprint.semantic_key(b)
    assert fingerprint.semantic_key(a) != fingerprint.semantic_key(diag(path="other.py"))
    assert fingerprint.semantic_key(a) != fingerprint.semantic_key(diag(AdvisoryLock))
    assert fingerprint.semantic_key(a) != fingerprint.semantic_key(diag(sql="SET x TO 1"))
    # Without SQL, the message identifies the finding.
    no_sql = diag(sql=None, message="m1")
    assert fingerprint.semantic_key(no_sql) != fingerprint.semantic_key(diag(sql=None))
    key = fingerprint.semantic_key(a)
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert fingerprint.semantic_fingerprints([a]) == [f"{key}:1"]


def test_golden_fingerprints_match_the_fixture_sources() -> None:
    results = sarif_log(sample(), context())["runs"][0]["results"]
    db = (SRC / "app" / "db.py").read_text(encoding="utf-8")
    hashes = fingerprint.line_hashes(db)
    assert [r["partialFingerprints"]["primaryLocationLineHash"] for r in results[:3]] == [
        hashes[4],
        hashes[5],
        hashes[9],
    ]


def test_default_reader_keeps_line_endings(tmp_path: Path) -> None:
    from pinlint.report import read_source_lines, split_lines

    # Only LF, CR and CRLF end a line: a form feed (legal in Python source) does not.
    assert split_lines("a\r\nb\x0cc\rd\ne") == ["a\r\n", "b\x0cc\r", "d\n", "e"]
    raw = b"x = 1\r\ny = '\xe9'\r\n"
    (tmp_path / "crlf.py").write_bytes(raw)
    lines = read_source_lines(tmp_path, "crlf.py")
    assert lines is not None and "".join(lines) == raw.decode("utf-8", errors="replace")
    assert read_source_lines(tmp_path, "missing.py") is None


def test_related_locations_in_every_format() -> None:
    from dataclasses import replace

    from pinlint.model import RelatedLocation

    base = sample()[0]
    related = (
        RelatedLocation("app/queries.py", Span(3, 1, 3, 30), "SET_TENANT is defined here"),
        RelatedLocation("app/db.py", Span(9, 5, 9, 25), "run() sends its argument to execute"),
    )
    d = replace(base, related=related)
    ctx = context()
    rendered = text.render([d], ctx)
    assert "  = app/queries.py:3:1: SET_TENANT is defined here" in rendered
    doc = json.loads(REPORTERS["json"]([d], ctx))
    assert [r["message"] for r in doc["findings"][0]["related"]] == [r.message for r in related]
    log = sarif_log([d], ctx)
    validate_sarif(log)
    result = log["runs"][0]["results"][0]
    assert [loc["message"]["text"] for loc in result["relatedLocations"]] == [
        r.message for r in related
    ]
    steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
    assert len(steps) == 3
    assert steps[1]["location"]["physicalLocation"]["artifactLocation"]["uri"] == "app/queries.py"
