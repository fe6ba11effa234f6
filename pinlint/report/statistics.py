"""`--statistics`: how many findings each rule has, like ruff's.

Text: one line per rule, most frequent first, then the usual summary:

       12  PIN101  session-set        `SET`/`RESET` of a session parameter pins the connection
        3  PIN305  sequence-function  `nextval` / `setval` / `currval` / `lastval` pins ...

JSON: an array of ``{"code", "name", "severity", "count"}`` in the same order
(docs/json-format.md, "Statistics").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic
from pinlint.report import text

if TYPE_CHECKING:
    from pinlint.report import ReportContext


def rows(diagnostics: Sequence[Diagnostic]) -> list[tuple[Diagnostic, int]]:
    """(a diagnostic of the rule, count) per rule, most frequent first, then by code."""
    counts = Counter(d.code for d in diagnostics)
    first: dict[str, Diagnostic] = {}
    for diag in diagnostics:
        first.setdefault(diag.code, diag)
    return [(first[code], counts[code]) for code in sorted(counts, key=lambda c: (-counts[c], c))]


def render_text(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    table = rows(diagnostics)
    lines = []
    if table:
        count_width = max(len(str(n)) for _, n in table)
        name_width = max(len(d.name) for d, _ in table)
        for diag, count in table:
            rule = ctx.rules.get(diag.code)
            summary = rule.summary if rule is not None else diag.message
            lines.append(
                f"{count:>{count_width}}  {diag.code}  {diag.name:<{name_width}}  {summary}"
            )
    if ctx.quiet:
        return "\n".join(lines) + "\n" if lines else ""
    if lines:
        lines.append("")
    lines.append(text.summary(diagnostics, ctx.files_checked))
    lines += ctx.notes
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    doc = [
        {"code": d.code, "name": d.name, "severity": d.severity.value, "count": n}
        for d, n in rows(diagnostics)
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
