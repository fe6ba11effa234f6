"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

The log is built from `sarif_om` objects and written by `to_json`, which maps their
snake_case attributes to the schema's property names. One run; `tool.driver.rules`
holds a descriptor for each rule that fired (by code), and each result points at
its descriptor with `ruleId` and `ruleIndex`. Locations are repo-relative URIs under
`%SRCROOT%`; columns are Unicode code points (`columnKind`), as in `Span`.

SARIF is the one format that is given every finding: one suppressed by a comment
carries `suppressions` (kind `inSource`, its reason as the justification), and with
a baseline or `--diff-base` every result has a `baselineState` (`new` for the ones
that fail the run). Nothing is dropped, so an upload never closes an alert that is
still in the code, and the fingerprints' occurrence numbers do not shift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import quote

import attr
import sarif_om as om

from pinlint.model import Confidence, Diagnostic, Effect, RelatedLocation, Severity
from pinlint.report import fingerprint

if TYPE_CHECKING:
    from pinlint.report import ReportContext
    from pinlint.rules.base import Rule

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/pinlint/pinlint"
SRCROOT = "%SRCROOT%"
MAX_DESCRIPTION = 1024
MAX_TAGS = 10

RANK = {Confidence.HIGH: 90, Confidence.MEDIUM: 60, Confidence.LOW: 30}
PROBLEM_SEVERITY = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.NOTE: "recommendation",
}
PRECISIONS = ("very-high", "high", "medium", "low")
EFFECT_TAG = {Effect.PINS: "pinning", Effect.LEAKS: "session-leak", Effect.ERRORS: "proxy-error"}

# ---------------------------------------------------------------------------
# Serialising sarif_om objects

#: Fields written even when they hold the schema default, because a consumer
#: would otherwise fall back to something else (a result without `level` takes
#: the rule's default level, not "warning").
_ALWAYS = {(om.Result, "level"), (om.ReportingConfiguration, "level")}


def _is_default(cls: type, field: attr.Attribute[object], value: object) -> bool:
    default = field.default
    if default is attr.NOTHING or (cls, field.name) in _ALWAYS:
        return False
    make = getattr(default, "factory", None)  # an attr.Factory
    if make is not None:
        default = make()
    return type(value) is type(default) and value == default


def to_json(obj: object) -> object:
    """A JSON-ready value for a `sarif_om` object tree.

    Attributes are renamed to their schema property name; `None` and default
    values are dropped. A `PropertyBag` keeps its `tags` and every extra attribute
    set on it (``setattr(bag, "problem.severity", ...)``).
    """
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    if isinstance(obj, Enum):
        return to_json(obj.value)
    if isinstance(obj, str):
        return obj
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    cls = type(obj)
    if not attr.has(cls):
        raise TypeError(f"cannot serialise {cls.__name__} as SARIF")
    out: dict[str, object] = {}
    for field in attr.fields(cls):
        value = getattr(obj, field.name)
        if value is None or _is_default(cls, field, value):
            continue
        out[field.metadata.get("schema_property_name", field.name)] = to_json(value)
    if isinstance(obj, om.PropertyBag):
        known = {f.name for f in attr.fields(cls)}
        for key, value in vars(obj).items():
            if key not in known and value is not None:
                out[key] = to_json(value)
    return out


# ---------------------------------------------------------------------------
# Rule descriptors


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^\s*```")


def plain_text(markdown: str) -> str:
    """A readable plain-text form of rule Markdown: no heading marks, no code
    fences, links as ``text (url)``."""
    lines = []
    for line in markdown.splitlines():
        if _FENCE.match(line):
            continue
        line = re.sub(r"^#+\s+", "", line)
        lines.append(_LINK.sub(r"\1 (\2)", line))
    return "\n".join(lines).strip() + "\n"


def _tags(rule: type[Rule]) -> list[str]:
    tags: list[str] = []
    for profile, effect in rule.effects.items():
        if effect is not Effect.OK:
            tags += [profile.target.value, EFFECT_TAG[effect]]
    tags += rule.tags
    return list(dict.fromkeys(tags))[:MAX_TAGS]


def _precision(rule: type[Rule]) -> str:
    value = getattr(rule, "precision", "high")
    return value if value in PRECISIONS else "high"


def _bag(tags: Sequence[str], extra: Mapping[str, object]) -> om.PropertyBag:
    """A property bag; `extra` keys may hold dots (``problem.severity``), as GitHub reads them."""
    bag = om.PropertyBag(tags=list(tags) if tags else None)
    for key, value in extra.items():
        setattr(bag, key, value)
    return bag


def rule_descriptor(rule: type[Rule], ctx: ReportContext) -> om.ReportingDescriptor:
    """The descriptor for a rule, from the rule's own metadata and docstring."""
    markdown = rule.markdown()
    flags = rule.doc_sections().get("What it flags", "").strip() or rule.summary
    return om.ReportingDescriptor(
        id=rule.code,
        name=rule.name,
        short_description=om.MultiformatMessageString(
            text=_truncate(rule.summary, MAX_DESCRIPTION)
        ),
        full_description=om.MultiformatMessageString(text=_truncate(flags, MAX_DESCRIPTION)),
        help=om.MultiformatMessageString(text=plain_text(markdown), markdown=markdown),
        help_uri=ctx.rule_url(rule.code, rule.name),
        default_configuration=om.ReportingConfiguration(level=rule.severity.value),
        properties=_bag(
            _tags(rule),
            {"precision": _precision(rule), "problem.severity": PROBLEM_SEVERITY[rule.severity]},
        ),
    )


def _fallback_descriptor(diag: Diagnostic, ctx: ReportContext) -> om.ReportingDescriptor:
    """A minimal descriptor for a code missing from `ctx.rules`, so that the log
    stays valid; it carries what the diagnostic itself knows."""
    title = f"{diag.code} {diag.name}"
    return om.ReportingDescriptor(
        id=diag.code,
        name=diag.name,
        short_description=om.MultiformatMessageString(text=title),
        full_description=om.MultiformatMessageString(text=title),
        help=om.MultiformatMessageString(text=diag.help or title),
        help_uri=ctx.rule_url(diag.code, diag.name),
        default_configuration=om.ReportingConfiguration(level=diag.severity.value),
        properties=_bag(
            (), {"precision": "high", "problem.severity": PROBLEM_SEVERITY[diag.severity]}
        ),
    )


# ---------------------------------------------------------------------------
# Results


def artifact_uri(path: str) -> str:
    """A repo-relative POSIX path as a relative URI reference."""
    return quote(path, safe="/")


def _region(diag: Diagnostic) -> om.Region:
    span = diag.span
    line, col = max(span.line, 1), max(span.col, 1)
    end_line = max(span.end_line, line)
    end_col = max(span.end_col, col if end_line == line else 1)
    return om.Region(start_line=line, start_column=col, end_line=end_line, end_column=end_col)


def _physical(path: str, span_owner: Diagnostic | RelatedLocation) -> om.PhysicalLocation:
    span = span_owner.span
    line, col = max(span.line, 1), max(span.col, 1)
    end_line = max(span.end_line, line)
    end_col = max(span.end_col, col if end_line == line else 1)
    return om.PhysicalLocation(
        artifact_location=om.ArtifactLocation(uri=artifact_uri(path), uri_base_id=SRCROOT),
        region=om.Region(start_line=line, start_column=col, end_line=end_line, end_column=end_col),
    )


def _related(diag: Diagnostic, ctx: ReportContext) -> list[om.Location]:
    return [
        om.Location(
            id=i,
            physical_location=_physical(ctx.relative_path(rel.path), rel),
            message=om.Message(text=rel.message),
        )
        for i, rel in enumerate(diag.related)
    ]


def _code_flow(diag: Diagnostic, ctx: ReportContext, path: str) -> list[om.CodeFlow]:
    """The path from the reported call through the related locations, as one thread."""
    steps = [
        om.ThreadFlowLocation(
            location=om.Location(
                physical_location=_physical(path, diag), message=om.Message(text=diag.message)
            )
        )
    ]
    for rel in diag.related:
        steps.append(
            om.ThreadFlowLocation(
                location=om.Location(
                    physical_location=_physical(ctx.relative_path(rel.path), rel),
                    message=om.Message(text=rel.message),
                )
            )
        )
    return [om.CodeFlow(thread_flows=[om.ThreadFlow(locations=steps)])]


def _result(
    diag: Diagnostic,
    ctx: ReportContext,
    rule_index: int,
    path: str,
    fingerprints: dict[str, str],
) -> om.Result:
    extra: dict[str, object] = {
        "confidence": diag.confidence.value,
        "effect": diag.effect.value,
        "target": diag.target.value,
    }
    if diag.origin is not None:
        extra["origin"] = diag.origin.value
    if diag.sink is not None:
        extra["sink"] = diag.sink
    return om.Result(
        rule_id=diag.code,
        rule_index=rule_index,
        level=diag.severity.value,
        message=om.Message(text=diag.message),
        locations=[
            om.Location(
                physical_location=om.PhysicalLocation(
                    artifact_location=om.ArtifactLocation(
                        uri=artifact_uri(path), uri_base_id=SRCROOT
                    ),
                    region=_region(diag),
                )
            )
        ],
        partial_fingerprints=fingerprints,
        related_locations=_related(diag, ctx) or None,
        code_flows=_code_flow(diag, ctx, path) if diag.related else None,
        rank=RANK[diag.confidence],
        properties=_bag(diag.tags, extra),
        suppressions=_suppressions(diag),
        baseline_state=_baseline_state(diag, ctx),
    )


def _suppressions(diag: Diagnostic) -> list[om.Suppression] | None:
    """A finding silenced by a `# pinlint: ignore[...]` comment: an `inSource`
    suppression whose justification is the comment's reason, so code scanning
    shows the alert as dismissed instead of losing it."""
    if diag.suppressed is None:
        return None
    return [om.Suppression(kind="inSource", justification=diag.suppressed or None)]


def _baseline_state(diag: Diagnostic, ctx: ReportContext) -> str | None:
    """With --baseline or --diff-base: `new` for the findings that gate the run,
    `unchanged` for the recorded ones, those outside the diff, and suppressed ones."""
    if ctx.new_findings is None:
        return None
    return "new" if diag.suppressed is None and diag in ctx.new_findings else "unchanged"


def build(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> om.SarifLog:
    """The SARIF log as `sarif_om` objects."""
    first_of: dict[str, Diagnostic] = {}
    for diag in diagnostics:
        first_of.setdefault(diag.code, diag)
    codes = sorted(first_of)
    descriptors = [
        rule_descriptor(ctx.rules[code], ctx)
        if code in ctx.rules
        else _fallback_descriptor(first_of[code], ctx)
        for code in codes
    ]
    index = {code: i for i, code in enumerate(codes)}

    paths = [ctx.relative_path(d.path) for d in diagnostics]
    line_hashes: dict[str, list[str] | None] = {}
    for path in dict.fromkeys(paths):
        lines = ctx.read_lines(path)
        line_hashes[path] = None if lines is None else fingerprint.line_hashes("".join(lines))
    semantic = fingerprint.semantic_fingerprints(diagnostics, paths)

    results = []
    for diag, path, key in zip(diagnostics, paths, semantic, strict=True):
        prints = {fingerprint.SEMANTIC_KEY: key}
        hashes = line_hashes[path]
        if hashes is not None and 1 <= diag.span.line <= len(hashes):
            prints[fingerprint.LINE_HASH_KEY] = hashes[diag.span.line - 1]
        results.append(_result(diag, ctx, index[diag.code], path, prints))

    root_uri = ctx.root.resolve().as_uri().rstrip("/") + "/"
    run = om.Run(
        tool=om.Tool(
            driver=om.ToolComponent(
                name="pinlint",
                version=ctx.version,
                semantic_version=ctx.version,
                information_uri=INFORMATION_URI,
                rules=descriptors,
            )
        ),
        automation_details=om.RunAutomationDetails(id=f"pinlint/{ctx.target}/"),
        invocations=[
            om.Invocation(
                execution_successful=True,
                working_directory=om.ArtifactLocation(uri=root_uri),
            )
        ],
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=root_uri)},
        column_kind="unicodeCodePoints",
        results=results,
    )
    return om.SarifLog(version=SARIF_VERSION, schema_uri=SCHEMA_URI, runs=[run])


def render(diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False) -> str:
    """`color` is accepted for a uniform reporter signature and ignored."""
    log = to_json(build(diagnostics, ctx))
    assert isinstance(log, dict)
    ordered = {"$schema": log.pop("$schema"), "version": log.pop("version"), **log}
    return json.dumps(ordered, indent=2, ensure_ascii=False) + "\n"
