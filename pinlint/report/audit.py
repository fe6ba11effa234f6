"""The audit report: the document a team reads before it puts RDS Proxy (or another
multiplexing proxy) in front of its database.

`pinlint audit PATHS --output report.html` (or `--format markdown`) checks the code
once for every target pinlint knows and writes one document with:

* the totals: findings, files and functions affected, findings per cause (rule)
  with a bar chart, and per target;
* where the findings come from: SQL written in the code, `.sql` files, or driver
  and framework configuration (`Origin.CONFIG`);
* the hotspots: the files and the functions (found with `ast`) with the most findings;
* for each cause: what to do (the rule's help and its "How to fix" section) and
  the link to its documentation page;
* every finding, what pinlint could not analyse, and what is suppressed in source.

The HTML is one self-contained file: inline CSS, an inline SVG chart, no script
and nothing fetched from the network; the only URLs are links to documentation.
Everything taken from the code (paths, SQL, messages, reasons) is escaped.
"""

from __future__ import annotations

import ast
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pinlint.model import HOLE, Diagnostic, Effect, Origin, Target

if TYPE_CHECKING:
    from pinlint.config import Config
    from pinlint.rules.base import Rule

TOP = 10
MODULE_LEVEL = "(module level)"
SQL_FILE = "(SQL script)"

TARGET_LABEL = {
    "rds-proxy": "AWS RDS Proxy",
    "pgbouncer": "PgBouncer (transaction pooling)",
}
#: Where a finding's SQL came from, grouped for the "SQL or configuration" table.
ORIGIN_GROUP = {
    Origin.LITERAL: "code",
    Origin.BUILT: "code",
    Origin.CONSTANT: "code",
    Origin.IMPORTED_CONSTANT: "code",
    Origin.WRAPPER: "code",
    Origin.SQL_FILE: "sql-file",
    Origin.CONFIG: "config",
}
GROUP_LABEL = {
    "code": "SQL written in Python code",
    "sql-file": "SQL in .sql files (migrations, scripts)",
    "config": "Driver or framework configuration",
}
GROUP_ADVICE = {
    "code": "Change the statement, or move it to the proxy's initialization query.",
    "sql-file": "Run these on a direct connection to the database, not through the proxy.",
    "config": "Change the connection settings: one change fixes every connection.",
}
ORIGIN_LABEL = {
    Origin.LITERAL: "a string literal at the call",
    Origin.BUILT: "built from literals and unknown parts (f-string, +, %)",
    Origin.CONSTANT: "a constant in the same module",
    Origin.IMPORTED_CONSTANT: "a constant imported from another module",
    Origin.WRAPPER: "passed through a project function",
    Origin.SQL_FILE: "a statement in a .sql file",
    Origin.CONFIG: "a driver or framework setting",
}
EFFECT_LABEL = {
    Effect.PINS: "pins the connection",
    Effect.LEAKS: "leaks session state",
    Effect.ERRORS: "fails behind the proxy",
}


def target_label(target: str) -> str:
    return TARGET_LABEL.get(target, target)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class TargetRun:
    """The findings for one target, or why it was not analysed."""

    target: str
    files_checked: int = 0
    findings: tuple[Diagnostic, ...] = ()
    error: str | None = None

    @property
    def problems(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.findings if d.effect is not Effect.OK)

    def count(self, effect: Effect) -> int:
        return sum(1 for d in self.findings if d.effect is effect)

    @property
    def files(self) -> int:
        return len({d.path for d in self.problems})


@dataclass(frozen=True)
class Cause:
    code: str
    name: str
    findings: tuple[Diagnostic, ...]
    rule: type[Rule] | None

    @property
    def count(self) -> int:
        return len(self.findings)

    @property
    def effect(self) -> Effect:
        effects = Counter(d.effect for d in self.findings)
        return effects.most_common(1)[0][0]


@dataclass(frozen=True)
class Audit:
    """Everything the audit documents show; built by `collect`."""

    project: str
    version: str
    generated: str
    target: str
    files_checked: int
    #: Active findings for the configured target, sorted by position.
    findings: tuple[Diagnostic, ...]
    #: Findings suppressed by `# pinlint: ignore` comments (empty with --no-suppress).
    suppressed: tuple[Diagnostic, ...]
    runs: tuple[TargetRun, ...]
    rules: Mapping[str, type[Rule]]
    docs_base_url: str
    #: (path, line) -> the function that holds that line.
    functions: Mapping[tuple[str, int], str] = field(default_factory=dict)
    command: str = "pinlint audit"

    # derived views -------------------------------------------------------------------

    @property
    def problems(self) -> tuple[Diagnostic, ...]:
        """The findings that affect the proxy (not pinlint's own analysis notes)."""
        return tuple(d for d in self.findings if d.effect is not Effect.OK)

    @property
    def notes(self) -> tuple[Diagnostic, ...]:
        """PIN9xx: what pinlint could not analyse, and suppression comment problems."""
        return tuple(d for d in self.findings if d.effect is Effect.OK)

    def causes(self) -> list[Cause]:
        grouped: dict[str, list[Diagnostic]] = defaultdict(list)
        for diag in self.problems:
            grouped[diag.code].append(diag)
        causes = [
            Cause(code, found[0].name, tuple(found), self.rules.get(code))
            for code, found in grouped.items()
        ]
        return sorted(causes, key=lambda c: (-c.count, c.code))

    def function_of(self, diag: Diagnostic) -> str:
        if diag.path.endswith(".sql"):
            return SQL_FILE
        return self.functions.get((diag.path, location_line(diag)), MODULE_LEVEL)

    def top_files(self, limit: int = TOP) -> list[tuple[str, int, list[str]]]:
        """(path, findings, codes by frequency) for the files with the most findings."""
        by_file: dict[str, Counter[str]] = defaultdict(Counter)
        for diag in self.problems:
            by_file[diag.path][diag.code] += 1
        ranked = sorted(by_file.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return [(p, sum(c.values()), [k for k, _ in c.most_common()]) for p, c in ranked[:limit]]

    def top_functions(self, limit: int = TOP) -> list[tuple[str, str, int, list[str]]]:
        """(path, function, findings, codes) for the functions with the most findings."""
        by_function: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        for diag in self.problems:
            if diag.path.endswith(".sql"):
                continue  # a script, not a function
            by_function[(diag.path, self.function_of(diag))][diag.code] += 1
        ranked = sorted(by_function.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return [
            (path, function, sum(c.values()), [k for k, _ in c.most_common()])
            for (path, function), c in ranked[:limit]
        ]

    @property
    def functions_affected(self) -> int:
        return len(
            {
                (d.path, self.function_of(d))
                for d in self.problems
                if not d.path.endswith(".sql") and self.function_of(d) != MODULE_LEVEL
            }
        )

    def by_group(self) -> list[tuple[str, int, Counter[Origin]]]:
        """(group, findings, findings per origin) for code / sql-file / config."""
        groups: dict[str, Counter[Origin]] = {g: Counter() for g in GROUP_LABEL}
        for diag in self.problems:
            origin = diag.origin if diag.origin is not None else Origin.LITERAL
            groups[ORIGIN_GROUP.get(origin, "code")][origin] += 1
        return [(g, sum(c.values()), c) for g, c in groups.items()]

    def rule_url(self, code: str, name: str) -> str:
        return f"{self.docs_base_url}{code}-{name}.md"


def location_line(diag: Diagnostic) -> int:
    return diag.statement_line if diag.statement_line is not None else diag.span.line


def enclosing_functions(
    root: Path, diagnostics: Iterable[Diagnostic]
) -> dict[tuple[str, int], str]:
    """The innermost function (``Class.method``, ``outer.inner``) around each
    finding's line in Python files, found with `ast`; files that do not parse are
    left out (their findings are "module level")."""
    lines_by_path: dict[str, set[int]] = defaultdict(set)
    for diag in diagnostics:
        if not diag.path.endswith(".sql"):
            lines_by_path[diag.path].add(location_line(diag))
    out: dict[tuple[str, int], str] = {}
    for path, lines in lines_by_path.items():
        try:
            tree = ast.parse((root / path).read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        scopes = list(_scopes(tree, ""))
        for line in lines:
            holding = [s for s in scopes if s[0] <= line <= s[1]]
            if holding:
                innermost = max(holding, key=lambda s: (s[0], -s[1]))
                out[(path, line)] = innermost[2]
    return out


def _scopes(node: ast.AST, prefix: str) -> Iterable[tuple[int, int, str]]:
    """(first line, last line, qualified name) of every function under `node`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
            last = child.end_lineno or child.lineno
            if not isinstance(child, ast.ClassDef):
                yield first, last, name
            yield from _scopes(child, name + ".")
        else:
            yield from _scopes(child, prefix)


def collect(
    paths: Sequence[Path],
    config: Config,
    root: Path,
    *,
    version: str,
    generated: str,
    docs_base_url: str,
    no_suppress: bool = False,
    progress: Callable[[], Callable[[int, int], None] | None] | None = None,
    command: str = "pinlint audit",
    project: str | None = None,
) -> Audit:
    """Run the checks once per target and gather what the report needs.

    `progress` makes a fresh progress callback for each run (or None)."""
    from pinlint.api import lint_paths
    from pinlint.rules import by_code
    from pinlint.suppress import reveal

    runs: list[TargetRun] = []
    main: tuple[Diagnostic, ...] = ()
    main_files = 0
    for target in Target:
        try:
            own = config if target is config.target else replace(config, target=target)
        except ValueError as err:  # a setting that does not exist for this target
            runs.append(TargetRun(target.value, error=str(err)))
            continue
        result = lint_paths(paths, own, root, progress=progress() if progress else None)
        found = tuple(reveal(result.diagnostics) if no_suppress else result.diagnostics)
        if target is config.target:
            main, main_files = found, result.files_checked
        active = tuple(d for d in found if d.suppressed is None)
        runs.append(TargetRun(target.value, result.files_checked, active))
    active = tuple(d for d in main if d.suppressed is None)
    return Audit(
        project=project or root.resolve().name or str(root),
        version=version,
        generated=generated,
        target=config.target.value,
        files_checked=main_files,
        findings=active,
        suppressed=tuple(d for d in main if d.suppressed is not None),
        runs=tuple(runs),
        rules=by_code(),
        docs_base_url=docs_base_url,
        functions=enclosing_functions(root, main),
        command=command,
    )


# --------------------------------------------------------------------------- shared text


def _plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _how_to_fix(rule: type[Rule] | None) -> str:
    return rule.doc_sections().get("How to fix", "").strip() if rule is not None else ""


def _references(rule: type[Rule] | None) -> list[tuple[str, str]]:
    """(title, url) for each `- Title: https://...` line of the rule's References."""
    if rule is None:
        return []
    out = []
    for line in rule.doc_sections().get("References", "").splitlines():
        m = re.match(r"\s*-\s*(.*?):?\s*(https?://\S+)\s*$", line)
        if m:
            out.append((m.group(1).rstrip(":").strip() or m.group(2), m.group(2)))
    return out


def _config_note(audit: Audit) -> str:
    configured = sum(1 for d in audit.problems if d.origin is Origin.CONFIG)
    if not configured:
        return ""
    return (
        f" {_plural(configured, 'finding')} come from driver or framework configuration: "
        "one settings change fixes every connection."
    )


def _headline(audit: Audit) -> str:
    problems = audit.problems
    target = target_label(audit.target)
    if not problems:
        return (
            f"pinlint found nothing in {_plural(audit.files_checked, 'file')} that would pin "
            f"or break a connection behind {target}."
        )
    files = len({d.path for d in problems})
    causes = len({d.code for d in problems})
    return (
        f"pinlint found {_plural(len(problems), 'place')} in {_plural(files, 'file')} where "
        f"the code would pin, leak or break a connection behind {target}, from "
        f"{_plural(causes, 'cause')}. A pinned client keeps one database connection for "
        "the rest of its session, so the proxy cannot share it: with enough pinned "
        "clients the proxy multiplexes nothing and the database sees as many connections "
        "as without it."
    )


# --------------------------------------------------------------------------- HTML

_CSS = """
:root { --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa;
  --accent: #0969da; --pins: #cf222e; --leaks: #9a6700; --errors: #8250df; --ok: #1a7f37; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
  color: var(--ink); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 32px 48px; }
header { border-bottom: 3px solid var(--accent); padding-bottom: 12px; margin-bottom: 8px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 20px 0 6px; }
p.meta, .muted { color: var(--muted); }
nav ol { columns: 2; margin: 8px 0; padding-left: 20px; }
a { color: var(--accent); }
code { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  background: var(--soft); padding: 1px 4px; border-radius: 4px; overflow-wrap: break-word; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { flex: 1 1 150px; border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px;
  background: var(--soft); }
.card b { display: block; font-size: 26px; }
.card span { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); }
td.n, th.n { text-align: right; white-space: nowrap; }
table.fixed { table-layout: fixed; }
table.fixed td, table.fixed code { overflow-wrap: anywhere; }
.effect { font-size: 12px; padding: 1px 6px; border-radius: 10px; color: #fff; white-space: nowrap; }
.effect.pins { background: var(--pins); }
.effect.leaks { background: var(--leaks); }
.effect.errors { background: var(--errors); }
.effect.ok { background: var(--muted); }
.cause { border: 1px solid var(--line); border-left: 4px solid var(--pins); border-radius: 6px;
  padding: 4px 16px 8px; margin: 12px 0; }
.cause.leaks { border-left-color: var(--leaks); }
.cause.errors { border-left-color: var(--errors); }
.cause h3 { margin-top: 10px; }
.chart { max-width: 100%; height: auto; }
.good { color: var(--ok); font-weight: 600; }
footer { margin-top: 40px; color: var(--muted); font-size: 13px; border-top: 1px solid var(--line);
  padding-top: 8px; }
@media print { nav { display: none; } h2 { break-after: avoid; } .cause { break-inside: avoid; } }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:]")


def inline_html(text: str) -> str:
    """Markdown inline code, `[text](url)` links and bare URLs, everything escaped."""
    parts = text.split("`")
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            out.append(f"<code>{_e(part)}</code>")
            continue
        if i % 2 == 1:  # an unmatched backtick
            part = "`" + part
        out.append(_links_html(part))
    return "".join(out)


def _links_html(text: str) -> str:
    out, pos = [], 0
    for m in _LINK.finditer(text):
        out.append(_urls_html(text[pos : m.start()]))
        out.append(f'<a href="{_e(m.group(2))}">{_e(m.group(1))}</a>')
        pos = m.end()
    out.append(_urls_html(text[pos:]))
    return "".join(out)


def _urls_html(text: str) -> str:
    out, pos = [], 0
    for m in _URL.finditer(text):
        out.append(_e(text[pos : m.start()]))
        out.append(f'<a href="{_e(m.group())}">{_e(m.group())}</a>')
        pos = m.end()
    out.append(_e(text[pos:]))
    return "".join(out)


def markdown_html(text: str) -> str:
    """The small Markdown subset of rule docs: paragraphs and `-` lists (with
    indented continuation lines), with `inline_html` inside."""
    blocks: list[str] = []
    items: list[str] = []
    para: list[str] = []

    def flush_para() -> None:
        if para:
            blocks.append(f"<p>{inline_html(' '.join(para))}</p>")
            para.clear()

    def flush_items() -> None:
        if items:
            lis = "".join(f"<li>{inline_html(item)}</li>" for item in items)
            blocks.append(f"<ul>{lis}</ul>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            flush_para()
            flush_items()
        elif stripped.startswith(("- ", "* ")):
            flush_para()
            items.append(stripped[2:])
        elif items and line.startswith((" ", "\t")):
            items[-1] += " " + stripped
        else:
            flush_items()
            para.append(stripped)
    flush_para()
    flush_items()
    return "\n".join(blocks)


def bar_chart_svg(rows: Sequence[tuple[str, int, str]], title: str) -> str:
    """A horizontal bar chart: one (label, value, css class) per bar."""
    if not rows:
        return ""
    label_width, bar_width, bar_height, gap, pad = 270, 560, 22, 8, 10
    width = label_width + bar_width + 70
    height = pad * 2 + len(rows) * (bar_height + gap) - gap
    peak = max(v for _, v, _ in rows) or 1
    colors = {"pins": "#cf222e", "leaks": "#9a6700", "errors": "#8250df"}
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="chart-title">',
        f'<title id="chart-title">{_e(title)}</title>',
    ]
    for i, (label, value, kind) in enumerate(rows):
        y = pad + i * (bar_height + gap)
        length = max(2, round(bar_width * value / peak))
        shown = label if len(label) <= 38 else label[:37] + "\u2026"
        parts += [
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" '
            f'font-size="13" font-family="sans-serif" fill="#1f2328">{_e(shown)}</text>',
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" rx="3" '
            f'fill="{colors.get(kind, "#59636e")}"><title>{_e(label)}: {value}</title></rect>',
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.1f}" '
            f'font-size="13" font-family="sans-serif" fill="#1f2328">{value}</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


def _effect_badge(effect: Effect) -> str:
    return f'<span class="effect {_e(effect.value)}">{_e(effect.value)}</span>'


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[int] = (),
    widths: Sequence[int] = (),
) -> str:
    """`rows` cells are HTML already; `numeric` columns are right-aligned. With
    `widths` (percentages), the layout is fixed and long words wrap inside their
    column instead of widening the page."""
    right = set(numeric)
    head = "".join(
        f'<th class="n">{_e(h)}</th>' if i in right else f"<th>{_e(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{c}</td>' if i in right else f"<td>{c}</td>" for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    opening, cols = "<table>", ""
    if widths:
        opening = '<table class="fixed">'
        cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>"
    return f"{opening}{cols}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _breakable(text: str) -> str:
    """Escaped, with line break opportunities after `/` and `.` (paths, qualified names)."""
    return _e(text).replace("/", "/<wbr>").replace(".", ".<wbr>")


def _where(diag: Diagnostic) -> str:
    return f"<code>{_breakable(diag.path)}:{location_line(diag)}</code>"


def render_html(audit: Audit) -> str:
    problems = audit.problems
    causes = audit.causes()
    total = len(problems)
    target = target_label(audit.target)
    title = f"pinlint audit: {audit.project}"
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="pinlint">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>Connection pinning audit: {_e(audit.project)}</h1>",
        f'<p class="meta">Target: <b>{_e(target)}</b> &middot; '
        f"{_e(_plural(audit.files_checked, 'file'))} checked &middot; "
        f"pinlint {_e(audit.version)} &middot; {_e(audit.generated)}</p>",
        "</header>",
        '<nav aria-label="Contents"><ol>',
        '<li><a href="#summary">Summary</a></li>',
        '<li><a href="#causes">Findings per cause</a></li>',
        '<li><a href="#targets">Per target</a></li>',
        '<li><a href="#origins">SQL or configuration</a></li>',
        '<li><a href="#hotspots">Files and functions</a></li>',
        '<li><a href="#fixes">How to fix each cause</a></li>',
        '<li><a href="#findings">All findings</a></li>',
        '<li><a href="#notes">Analysis notes</a></li>',
        '<li><a href="#suppressed">Suppressed in source</a></li>',
        "</ol></nav>",
    ]

    # summary
    files = len({d.path for d in problems})
    cards = [
        (len(problems), "findings"),
        (files, "files affected"),
        (audit.functions_affected, "functions affected"),
        (len(causes), "causes"),
        (len(audit.suppressed), "suppressed in source"),
    ]
    out += [
        '<section id="summary">',
        "<h2>Summary</h2>",
        '<div class="cards">',
        *(f'<div class="card"><b>{n}</b><span>{_e(label)}</span></div>' for n, label in cards),
        "</div>",
        f"<p>{_e(_headline(audit))}</p>",
    ]
    if causes:
        top = causes[0]
        out.append(
            f"<p>The most frequent cause is <b>{_e(top.code)} {_e(top.name)}</b> "
            f"({_share(top.count, total)} of the findings). Fixing the causes at the top of "
            f"the table below removes most of the pinning.{_e(_config_note(audit))}</p>"
        )
        out.append(
            "<p>To keep new pinning out while the rest is fixed, run "
            "<code>pinlint check --write-baseline .pinlint-baseline.json</code> once and "
            "<code>pinlint check --baseline .pinlint-baseline.json</code> in CI: only new "
            "findings fail the build.</p>"
        )
    else:
        out.append('<p class="good">Nothing to fix before adopting the proxy.</p>')
    out.append("</section>")

    # per cause
    out += ['<section id="causes">', "<h2>Findings per cause</h2>"]
    if causes:
        chart_rows = [(f"{c.code} {c.name}", c.count, c.effect.value) for c in causes]
        out.append(bar_chart_svg(chart_rows, f"Findings per cause behind {target}"))
        out.append(
            _table(
                ["Cause", "Rule", "Effect", "Findings", "Share", "Files"],
                (
                    [
                        f'<a href="#fix-{_e(c.code)}">{_e(c.code)}</a>',
                        f"{_e(c.name)}<br><span class='muted'>{inline_html(_summary(c))}</span>",
                        _effect_badge(c.effect),
                        str(c.count),
                        _share(c.count, total),
                        str(len({d.path for d in c.findings})),
                    ]
                    for c in causes
                ),
                numeric=(3, 4, 5),
            )
        )
    else:
        out.append('<p class="good">No findings.</p>')
    out.append("</section>")

    # per target
    out += [
        '<section id="targets">',
        "<h2>Per target</h2>",
        "<p>The same code checked for every proxy pinlint knows. What pins behind one "
        "proxy may be harmless, or fail outright, behind another.</p>",
    ]
    target_rows = []
    for run in audit.runs:
        name = _e(target_label(run.target))
        if run.target == audit.target:
            name = f"<b>{name}</b> (configured)"
        if run.error is not None:
            target_rows.append([name, f'<span class="muted">not analysed: {_e(run.error)}</span>'])
            continue
        target_rows.append(
            [
                name,
                str(len(run.problems)),
                str(run.count(Effect.PINS)),
                str(run.count(Effect.LEAKS)),
                str(run.count(Effect.ERRORS)),
                str(run.files),
            ]
        )
    out.append(
        _table(
            ["Target", "Findings", "Pins", "Leaks state", "Errors", "Files"],
            target_rows,
            numeric=(1, 2, 3, 4, 5),
        )
    )
    out.append("</section>")

    # origins
    out += [
        '<section id="origins">',
        "<h2>SQL or configuration</h2>",
        "<p>Where the pinning comes from decides who fixes it and how.</p>",
    ]
    origin_rows = []
    for group, count, origins in audit.by_group():
        detail = "<br>".join(
            f"{n} &times; {_e(ORIGIN_LABEL.get(o, o.value))}" for o, n in origins.most_common()
        )
        origin_rows.append(
            [
                f"<b>{_e(GROUP_LABEL[group])}</b><br><span class='muted'>"
                f"{_e(GROUP_ADVICE[group])}</span>",
                str(count),
                _share(count, total),
                detail or '<span class="muted">none</span>',
            ]
        )
    out.append(
        _table(["Source", "Findings", "Share", "How the SQL was found"], origin_rows, (1, 2))
    )
    out.append("</section>")

    # hotspots
    out += ['<section id="hotspots">', "<h2>Files and functions with the most findings</h2>"]
    if problems:
        out.append("<h3>Files</h3>")
        out.append(
            _table(
                ["File", "Findings", "Causes"],
                (
                    [f"<code>{_breakable(p)}</code>", str(n), _e(", ".join(codes))]
                    for p, n, codes in audit.top_files()
                ),
                widths=(58, 12, 30),
                numeric=(1,),
            )
        )
        out.append("<h3>Functions</h3>")
        out.append(
            _table(
                ["Function", "File", "Findings", "Causes"],
                (
                    [
                        f"<code>{_breakable(f)}</code>",
                        f"<code>{_breakable(p)}</code>",
                        str(n),
                        _e(", ".join(c)),
                    ]
                    for p, f, n, c in audit.top_functions()
                ),
                widths=(34, 34, 10, 22),
                numeric=(2,),
            )
        )
    else:
        out.append('<p class="good">No findings.</p>')
    out.append("</section>")

    # fixes
    out += ['<section id="fixes">', "<h2>How to fix each cause</h2>"]
    for cause in causes:
        url = audit.rule_url(cause.code, cause.name)
        help_text = cause.rule.help if cause.rule is not None else cause.findings[0].help
        out += [
            f'<article class="cause {_e(cause.effect.value)}" id="fix-{_e(cause.code)}">',
            f"<h3>{_e(cause.code)} {_e(cause.name)} &middot; "
            f"{_e(_plural(cause.count, 'finding'))}</h3>",
            f"<p><b>{inline_html(help_text)}</b></p>",
            markdown_html(_how_to_fix(cause.rule)),
            f'<p>Documentation: <a href="{_e(url)}">{_e(cause.code)} {_e(cause.name)}</a></p>',
        ]
        refs = _references(cause.rule)
        if refs:
            links = "".join(f'<li><a href="{_e(u)}">{_e(t)}</a></li>' for t, u in refs)
            out.append(f"<details><summary>Sources</summary><ul>{links}</ul></details>")
        out.append("</article>")
    if not causes:
        out.append('<p class="good">Nothing to fix.</p>')
    out.append("</section>")

    # all findings
    out += ['<section id="findings">', f"<h2>All findings ({total})</h2>"]
    if problems:
        out.append(
            _table(
                ["Where", "Cause", "Function", "Finding", "SQL"],
                (
                    [
                        _where(d),
                        f'<a href="#fix-{_e(d.code)}">{_e(d.code)}</a> {_effect_badge(d.effect)}',
                        f"<code>{_breakable(audit.function_of(d))}</code>",
                        inline_html(d.message)
                        + (
                            f' <span class="muted">({_e(d.confidence.value)} confidence)</span>'
                            if d.confidence.value != "high"
                            else ""
                        ),
                        f"<code>{_e(_sql(d))}</code>" if d.sql else "",
                    ]
                    for d in problems
                ),
                widths=(19, 10, 18, 30, 23),
            )
        )
    else:
        out.append('<p class="good">No findings.</p>')
    out.append("</section>")

    # notes
    out += [
        '<section id="notes">',
        "<h2>Analysis notes</h2>",
        "<p>Files or SQL pinlint could not analyse (a blind spot of this audit), and "
        "problems with suppression comments.</p>",
    ]
    if audit.notes:
        out.append(
            _table(
                ["Where", "Rule", "Note"],
                (
                    [_where(d), f"{_e(d.code)} {_e(d.name)}", inline_html(d.message)]
                    for d in audit.notes
                ),
                widths=(25, 22, 53),
            )
        )
    else:
        out.append('<p class="good">Every file was analysed.</p>')
    out.append("</section>")

    # suppressed
    out += ['<section id="suppressed">', f"<h2>Suppressed in source ({len(audit.suppressed)})</h2>"]
    if audit.suppressed:
        out.append(
            "<p>Findings silenced with <code># pinlint: ignore[...]</code> comments. They "
            "still pin; the comment says why that is acceptable. "
            "<code>--no-suppress</code> counts them with the others.</p>"
        )
        out.append(
            _table(
                ["Where", "Cause", "Finding", "Reason given"],
                (
                    [
                        _where(d),
                        _e(d.code),
                        inline_html(d.message),
                        _e(d.suppressed) if d.suppressed else '<span class="muted">(none)</span>',
                    ]
                    for d in audit.suppressed
                ),
                widths=(22, 10, 38, 30),
            )
        )
    else:
        out.append('<p class="muted">None.</p>')
    out.append("</section>")

    out += [
        "<footer>",
        f"<p>Written by <code>{_e(audit.command)}</code> (pinlint {_e(audit.version)}). "
        "pinlint reads the SQL it can see in the code; SQL built at run time, stored "
        "procedures and triggers are not covered. Each cause links to its documentation "
        "page with the full explanation and sources.</p>",
        "</footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


def _summary(cause: Cause) -> str:
    return cause.rule.summary if cause.rule is not None else cause.findings[0].message


def _sql(diag: Diagnostic, limit: int = 120) -> str:
    """The SQL on one line, shortened; a part pinlint could not evaluate shows as `{…}`."""
    sql = " ".join((diag.sql or "").split()).replace(HOLE, "{\u2026}")
    return sql if len(sql) <= limit else sql[: limit - 1] + "\u2026"


# --------------------------------------------------------------------------- Markdown


def _md(text: object) -> str:
    """Text for a Markdown table cell: no line breaks, `|` and `<` escaped."""
    value = " ".join(str(text).split())
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;")


def _md_code(text: object) -> str:
    value = " ".join(str(text).split()).replace("|", "\\|")
    fence = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _md_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def render_markdown(audit: Audit) -> str:
    problems = audit.problems
    causes = audit.causes()
    total = len(problems)
    target = target_label(audit.target)
    out = [
        f"# Connection pinning audit: {audit.project}",
        "",
        f"Target: **{target}** · {_plural(audit.files_checked, 'file')} checked · "
        f"pinlint {audit.version} · {audit.generated}",
        "",
        "## Summary",
        "",
        f"- Findings: **{total}**",
        f"- Files affected: {len({d.path for d in problems})}",
        f"- Functions affected: {audit.functions_affected}",
        f"- Causes: {len(causes)}",
        f"- Suppressed in source: {len(audit.suppressed)}",
        "",
        _headline(audit),
        "",
        "## Findings per cause",
        "",
    ]
    if causes:
        peak = causes[0].count
        out += _md_table(
            ["Cause", "Effect", "Findings", "Share", "Files", ""],
            (
                [
                    f"{c.code} {c.name}",
                    c.effect.value,
                    str(c.count),
                    _share(c.count, total),
                    str(len({d.path for d in c.findings})),
                    "\u2588" * max(1, round(20 * c.count / peak)),
                ]
                for c in causes
            ),
        )
    else:
        out += ["No findings.", ""]

    out += ["## Per target", ""]
    target_rows = []
    for run in audit.runs:
        name = target_label(run.target) + (" (configured)" if run.target == audit.target else "")
        if run.error is not None:
            target_rows.append([name, f"not analysed: {_md(run.error)}", "", "", "", ""])
            continue
        target_rows.append(
            [
                name,
                str(len(run.problems)),
                str(run.count(Effect.PINS)),
                str(run.count(Effect.LEAKS)),
                str(run.count(Effect.ERRORS)),
                str(run.files),
            ]
        )
    out += _md_table(["Target", "Findings", "Pins", "Leaks state", "Errors", "Files"], target_rows)

    out += ["## SQL or configuration", ""]
    out += _md_table(
        ["Source", "Findings", "Share", "How the SQL was found"],
        (
            [
                f"**{GROUP_LABEL[group]}**: {GROUP_ADVICE[group]}",
                str(count),
                _share(count, total),
                "; ".join(
                    f"{n} \u00d7 {ORIGIN_LABEL.get(o, o.value)}" for o, n in origins.most_common()
                )
                or "none",
            ]
            for group, count, origins in audit.by_group()
        ),
    )

    out += ["## Files and functions with the most findings", ""]
    if problems:
        out += ["### Files", ""]
        out += _md_table(
            ["File", "Findings", "Causes"],
            ([_md_code(p), str(n), ", ".join(c)] for p, n, c in audit.top_files()),
        )
        out += ["### Functions", ""]
        out += _md_table(
            ["Function", "File", "Findings", "Causes"],
            (
                [_md_code(f), _md_code(p), str(n), ", ".join(c)]
                for p, f, n, c in audit.top_functions()
            ),
        )
    else:
        out += ["No findings.", ""]

    out += ["## How to fix each cause", ""]
    for cause in causes:
        help_text = cause.rule.help if cause.rule is not None else cause.findings[0].help
        out += [
            f"### {cause.code} {cause.name} ({_plural(cause.count, 'finding')})",
            "",
            f"**{help_text}**",
            "",
        ]
        fix = _how_to_fix(cause.rule)
        if fix:
            out += [fix, ""]
        out += [
            f"Documentation: [{cause.code} {cause.name}]({audit.rule_url(cause.code, cause.name)})",
            "",
        ]
    if not causes:
        out += ["Nothing to fix.", ""]

    out += [f"## All findings ({total})", ""]
    if problems:
        out += _md_table(
            ["Where", "Cause", "Function", "Finding", "SQL"],
            (
                [
                    _md_code(f"{d.path}:{location_line(d)}"),
                    f"{d.code} ({d.effect.value})",
                    _md_code(audit.function_of(d)),
                    _md(d.message),
                    _md_code(_sql(d)) if d.sql else "",
                ]
                for d in problems
            ),
        )
    else:
        out += ["No findings.", ""]

    out += ["## Analysis notes", ""]
    if audit.notes:
        out += _md_table(
            ["Where", "Rule", "Note"],
            (
                [_md_code(f"{d.path}:{location_line(d)}"), f"{d.code} {d.name}", _md(d.message)]
                for d in audit.notes
            ),
        )
    else:
        out += ["Every file was analysed.", ""]

    out += [f"## Suppressed in source ({len(audit.suppressed)})", ""]
    if audit.suppressed:
        out += _md_table(
            ["Where", "Cause", "Finding", "Reason given"],
            (
                [
                    _md_code(f"{d.path}:{location_line(d)}"),
                    d.code,
                    _md(d.message),
                    _md(d.suppressed) if d.suppressed else "(none)",
                ]
                for d in audit.suppressed
            ),
        )
    else:
        out += ["None.", ""]
    out += [
        "---",
        "",
        f"Written by `{audit.command}` (pinlint {audit.version}).",
    ]
    return "\n".join(out) + "\n"
