"""The JSON format: a stable, versioned document described in docs/json-format.md.

Keep this module and that page in step: a test compares the keys with the page.
Adding a key is a compatible change; renaming or removing one bumps `FORMAT_VERSION`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic

if TYPE_CHECKING:
    from pinlint.report import ReportContext

FORMAT_VERSION = "1"


def finding(diag: Diagnostic, ctx: ReportContext) -> dict[str, object]:
    return {
        "code": diag.code,
        "name": diag.name,
        "message": diag.message,
        "help": diag.help,
        "severity": diag.severity.value,
        "effect": diag.effect.value,
        "target": diag.target.value,
        "confidence": diag.confidence.value,
        "origin": diag.origin.value if diag.origin is not None else None,
        "sink": diag.sink,
        "path": ctx.relative_path(diag.path),
        "line": diag.span.line,
        "column": diag.span.col,
        "end_line": diag.span.end_line,
        "end_column": diag.span.end_col,
        "sql": diag.sql,
        "statement_line": diag.statement_line,
        "url": ctx.rule_url(diag.code, diag.name),
        "related": [
            {
                "path": ctx.relative_path(rel.path),
                "line": rel.span.line,
                "column": rel.span.col,
                "message": rel.message,
            }
            for rel in diag.related
        ],
    }


def document(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> dict[str, object]:
    return {
        "version": FORMAT_VERSION,
        "tool": {"name": "pinlint", "version": ctx.version},
        "target": ctx.target,
        "files_checked": ctx.files_checked,
        "findings": [finding(d, ctx) for d in diagnostics],
    }


def render(diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False) -> str:
    """`color` is accepted for a uniform reporter signature and ignored."""
    return json.dumps(document(diagnostics, ctx), indent=2, ensure_ascii=False) + "\n"
