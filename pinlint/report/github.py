"""GitHub Actions workflow commands: one annotation per finding.

    ::warning file=app/db.py,line=12,col=5,endColumn=40,title=PIN101 session-set::message%0Ahelp: ...

Values are escaped as the Actions runner expects (`%`, CR and LF in the message;
also `:` and `,` in properties). GitHub shows at most 10 annotations of each level
per step and 50 per job; for more, upload SARIF to code scanning (docs/ci.md).
Severity maps to the command: error to `error`, warning to `warning`, note to
`notice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pinlint.model import Confidence, Diagnostic, Severity

if TYPE_CHECKING:
    from pinlint.report import ReportContext

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    """A command's message: `%`, CR and LF are encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A property value: as the message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(diag: Diagnostic, ctx: ReportContext) -> str:
    span = diag.span
    props = [("file", ctx.relative_path(diag.path)), ("line", str(span.line))]
    if span.end_line > span.line:
        props.append(("endLine", str(span.end_line)))
    else:  # columns only make sense for a range on one line
        props.append(("col", str(span.col)))
        if span.end_col > span.col:
            props.append(("endColumn", str(span.end_col)))
    props.append(("title", f"{diag.code} {diag.name}"))
    message = diag.message
    if diag.confidence is not Confidence.HIGH:
        message += f" ({diag.confidence.value} confidence)"
    lines = [message]
    if diag.help:
        lines.append(f"help: {diag.help}")
    lines.append(ctx.rule_url(diag.code, diag.name))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in props)
    return f"::{COMMAND[diag.severity]} {rendered}::{escape_data(chr(10).join(lines))}"


def render(diagnostics: Sequence[Diagnostic], ctx: ReportContext, *, color: bool = False) -> str:
    """One workflow command per finding; nothing else (no summary)."""
    return "".join(annotation(d, ctx) + "\n" for d in diagnostics)
