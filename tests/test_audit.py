"""The audit report (`pinlint audit`): HTML and Markdown, on a copy of
tests/fixtures/projects/legacy."""

from __future__ import annotations

import shutil
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest
from test_cli import run

from pinlint.model import Confidence, Diagnostic, Effect, Origin, Severity, Span, Target
from pinlint.report import DOCS_BASE_URL
from pinlint.report.audit import (
    Audit,
    TargetRun,
    bar_chart_svg,
    enclosing_functions,
    inline_html,
    markdown_html,
    render_html,
    render_markdown,
)
from pinlint.rules import by_code

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "projects" / "legacy"
SECTIONS = (
    "summary",
    "causes",
    "targets",
    "origins",
    "hotspots",
    "fixes",
    "findings",
    "notes",
    "suppressed",
)
VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Page(HTMLParser):
    """Records structure problems, ids, links and resource references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: set[str] = set()
        self.tags: list[str] = []
        self.hrefs: list[tuple[str, str]] = []
        self.srcs: list[str] = []
        self.text: list[str] = []
        self.decl: str | None = None

    def handle_decl(self, decl: str) -> None:
        self.decl = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {k: v or "" for k, v in attrs}
        if "id" in values:
            if values["id"] in self.ids:
                self.errors.append(f"duplicate id {values['id']}")
            self.ids.add(values["id"])
        if "href" in values:
            self.hrefs.append((tag, values["href"]))
        for key in ("src", "srcset", "data", "poster", "background"):
            if key in values:
                self.srcs.append(values[key])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_page(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    assert page.decl is not None and page.decl.lower() == "doctype html"
    assert not page.errors, page.errors
    assert page.stack == [], page.stack
    return page


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "legacy")
    return tmp_path / "legacy"


@pytest.fixture
def report(legacy: Path) -> str:
    proc = run("audit", "--output", "report.html", cwd=legacy)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "wrote the audit of 9 findings in 3 files to report.html" in proc.stderr
    return (legacy / "report.html").read_text(encoding="utf-8")


def test_html_is_well_formed_with_every_section(report: str) -> None:
    page = parse_page(report)
    assert set(SECTIONS) <= page.ids
    for section in SECTIONS:  # the table of contents points at each one
        assert ("a", f"#{section}") in page.hrefs
    assert page.tags.count("svg") == 1 and page.tags.count("rect") == 4  # four causes
    assert page.tags.count("style") == 1


def test_html_loads_nothing_from_anywhere(report: str) -> None:
    page = parse_page(report)
    assert page.srcs == []
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    for tag, href in page.hrefs:
        assert tag == "a", (tag, href)
        assert href.startswith(("#", "https://")), href
    assert "url(" not in report and "@import" not in report
    doc_links = [h for _, h in page.hrefs if h.startswith(DOCS_BASE_URL)]
    assert {h.rsplit("/", 1)[1] for h in doc_links} >= {
        "PIN101-session-set.md",
        "PIN301-temporary-object.md",
        "PIN305-sequence-function.md",
        "PIN401-session-advisory-lock.md",
    }


def test_html_content(report: str) -> None:
    text = " ".join("".join(parse_page(report).text).split())
    assert "Connection pinning audit: legacy" in text
    # per cause, busiest first
    assert text.index("PIN401 session-advisory-lock") < text.index("PIN301 temporary-object")
    # per target: every target pinlint knows, the configured one marked
    for target in Target:
        label = {"rds-proxy": "AWS RDS Proxy", "pgbouncer": "PgBouncer"}.get(target.value, "")
        assert label and label in text
    assert "(configured)" in text
    # functions found with ast, qualified with their class
    assert "OrderService.archive" in text and "OrderService.replay" in text
    assert "OrderService.create" in text and "daily" in text and "weekly" in text
    # SQL in code vs .sql files
    assert "SQL written in Python code" in text and "SQL in .sql files" in text
    # each cause's fix, from the rule's help and "How to fix"
    rules = by_code()
    for code in ("PIN101", "PIN301", "PIN305", "PIN401"):
        assert " ".join(rules[code].help.replace("`", "").split()) in text
    # the suppressed finding, with its reason
    assert "Suppressed in source (1)" in text
    assert "the listener owns a direct connection" in text
    # the f-string hole is shown as {…}
    assert "SET search_path TO tenant_{\u2026}, public" in text


def test_no_suppress_counts_the_suppressed_finding(legacy: Path) -> None:
    proc = run("audit", "--no-suppress", "-o", "all.html", cwd=legacy)
    assert "audit of 10 findings" in proc.stderr
    text = (legacy / "all.html").read_text()
    assert "Suppressed in source (0)" in text and "listen_for_orders" in text


def test_markdown(legacy: Path) -> None:
    proc = run("audit", "-o", "audit.md", cwd=legacy)
    assert proc.returncode == 0
    md = (legacy / "audit.md").read_text()
    for heading in (
        "# Connection pinning audit: legacy",
        "## Summary",
        "## Findings per cause",
        "## Per target",
        "## SQL or configuration",
        "## Files and functions with the most findings",
        "## How to fix each cause",
        "## All findings (9)",
        "## Analysis notes",
        "## Suppressed in source (1)",
    ):
        assert f"\n{heading}\n" in f"\n{md}", heading
    assert "| PIN401 session-advisory-lock | pins | 4 |" in md
    assert "`OrderService.archive`" in md
    stdout = run("audit", "--format", "markdown", cwd=legacy).stdout
    assert stdout.startswith("# Connection pinning audit: legacy")


def test_audit_settings_and_errors(legacy: Path) -> None:
    proc = run("audit", "--select", "PIN3", "-o", "r.html", cwd=legacy)
    assert proc.returncode == 0 and "audit of 2 findings" in proc.stderr
    assert run("audit", "missing", cwd=legacy).returncode == 2
    (legacy / "pyproject.toml").write_text("[tool.pinlint]\nbogus = 1\n")
    bad = run("audit", cwd=legacy)
    assert bad.returncode == 2 and "unknown key `bogus`" in bad.stderr


def test_hostile_content_is_escaped(legacy: Path) -> None:
    (legacy / "app" / "evil.py").write_text(
        "import psycopg2\n\n\n"
        "def f(cur):\n"
        "    cur.execute(\"SET search_path TO '</td><script>alert(1)</script>'\")\n"
        '    cur.execute("LISTEN x")  # pinlint: ignore[PIN303] -- <img src=x onerror=y> & co\n'
    )
    proc = run("audit", "-o", "r.html", cwd=legacy)
    assert proc.returncode == 0
    report = (legacy / "r.html").read_text()
    page = parse_page(report)
    assert "script" not in page.tags and "img" not in page.tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "&lt;img src=x onerror=y&gt; &amp; co" in report


def _diag(
    code: str, path: str, line: int, origin: Origin | None, effect: Effect = Effect.PINS
) -> Diagnostic:
    return Diagnostic(
        code=code,
        name={"PIN101": "session-set", "PIN902": "python-syntax-error"}.get(code, "x"),
        message=f"{code} at {line}",
        help="do something",
        severity=Severity.WARNING,
        path=path,
        span=Span(line, 1, line, 5),
        target=Target.RDS_PROXY,
        effect=effect,
        confidence=Confidence.HIGH,
        origin=origin,
        sql="SET a = 1" if origin is not None else None,
        statement_line=line,
    )


def test_configuration_findings_and_notes_are_grouped() -> None:
    findings = (
        _diag("PIN101", "app/settings.py", 3, Origin.CONFIG),
        _diag("PIN101", "app/db.py", 7, Origin.LITERAL),
        _diag("PIN101", "app/db.py", 9, Origin.WRAPPER),
        _diag("PIN902", "app/broken.py", 1, None, Effect.OK),
    )
    audit = Audit(
        project="p",
        version="0",
        generated="today",
        target="rds-proxy",
        files_checked=4,
        findings=findings,
        suppressed=(),
        runs=(
            TargetRun("rds-proxy", 4, findings),
            TargetRun("pgbouncer", error="no such setting"),
        ),
        rules=by_code(),
        docs_base_url=DOCS_BASE_URL,
    )
    groups = {g: n for g, n, _ in audit.by_group()}
    assert groups == {"code": 2, "sql-file": 0, "config": 1}
    assert [d.code for d in audit.notes] == ["PIN902"]
    html = render_html(audit)
    page = parse_page(html)
    assert "not analysed: no such setting" in "".join(page.text)
    assert "python-syntax-error" in "".join(page.text)  # in the analysis notes
    md = render_markdown(audit)
    assert "| **Driver or framework configuration**" in md and "| 1 | 33% |" in md
    empty = render_html(replace(audit, findings=(), runs=()))
    assert "Nothing to fix" in empty
    parse_page(empty)


def test_enclosing_functions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import x\n"  # 1
        "class A:\n"  # 2
        "    @staticmethod\n"  # 3
        "    def b():\n"  # 4
        "        x.run()\n"  # 5
        "        def inner():\n"  # 6
        "            x.run()\n"  # 7
        "async def c():\n"  # 8
        "    await x.run()\n"  # 9
        "x.run()\n"  # 10
    )
    diags = [_diag("PIN101", "m.py", n, Origin.LITERAL) for n in (3, 5, 7, 9, 10)]
    found = enclosing_functions(tmp_path, diags)
    assert found == {
        ("m.py", 3): "A.b",
        ("m.py", 5): "A.b",
        ("m.py", 7): "A.b.inner",
        ("m.py", 9): "c",
    }
    (tmp_path / "bad.py").write_text("def (:\n")
    assert enclosing_functions(tmp_path, [_diag("PIN101", "bad.py", 1, Origin.LITERAL)]) == {}


def test_markdown_subset_and_inline_escaping() -> None:
    assert inline_html("use `<b>` & [docs](https://example.com/a?b=1&c=2)") == (
        'use <code>&lt;b&gt;</code> &amp; <a href="https://example.com/a?b=1&amp;c=2">docs</a>'
    )
    assert (
        inline_html("see https://x.org/p.") == 'see <a href="https://x.org/p">https://x.org/p</a>.'
    )
    assert inline_html("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    out = markdown_html("Intro line\ncontinued.\n\n- one\n  more\n- `two`\n")
    assert (
        out == "<p>Intro line continued.</p>\n<ul><li>one more</li><li><code>two</code></li></ul>"
    )


def test_bar_chart() -> None:
    svg = bar_chart_svg([("PIN101 <a>", 10, "pins"), ("PIN999 b", 5, "leaks")], "T & T")
    assert svg.count("<rect") == 2 and "&lt;a&gt;" in svg and "T &amp; T" in svg
    assert bar_chart_svg([], "none") == ""
