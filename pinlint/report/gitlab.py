"""GitLab Code Quality: the JSON report GitLab shows in merge requests.

A JSON array with one object per finding: `description`, `check_name`,
`fingerprint`, `severity` and `location` (`path`, `lines.begin`, `lines.end`),
the subset of the Code Climate format that GitLab reads. The fingerprint is a
hash of pinlint's own content key (rule, path, normalised SQL, occurrence; see
`fingerprint.semantic_fingerprints`), so a finding keeps it when code moves and
GitLab can tell new findings from resolved ones. Severity: error to `major`,
warning to `minor`, note to `info`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic, Severity
from pinlint.report import fingerprint

if TYPE_CHECKING:
    from pinlint.report import ReportContext

SEVERITY = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.NOTE: "info"}


def issues(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> list[dict[str, object]]:
    paths = [ctx.relative_path(d.path) for d in diagnostics]
    keys = fingerprint.semantic_fingerprints(diagnostics, paths)
    out: list[dict[str, object]] = []
    for diag, path, key in zip(diagnostics, paths, keys, strict=True):
        out.append(
            {
                "type": "issue",
                "check_name": diag.code,
                "description": f"{diag.code} {diag.message}",
                "content": {"body": f"{diag.help}\n\n{ctx.rule_url(diag.code, diag.name)}"},
                "categories": ["Performance"],
                "severity": SEVERITY[diag.severity],
                "fingerprint": hashlib.sha256(key.encode("utf-8")).hexdigest(),
                "location": {
                    "path": path,
                    "lines": {
                        "begin": diag.span.line,
                        "end": max(diag.span.end_line, diag.span.line),
                    },
                },
            }
        )
    return out


def render(diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False) -> str:
    """`color` is accepted for a uniform reporter signature and ignored."""
    return json.dumps(issues(diagnostics, ctx), indent=2, ensure_ascii=False) + "\n"
