"""The rule catalogue checks itself: metadata, example files, and generated docs."""

from __future__ import annotations

from pathlib import Path

from pinlint.docs import generated_pages, rule_markdown
from pinlint.rules import all_rules
from pinlint.rules.base import DOC_SECTIONS, CallRule, FlowRule, SqlRule

ROOT = Path(__file__).resolve().parents[1]


def test_codes_and_names_are_unique() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_every_rule_documents_every_section() -> None:
    for rule in all_rules():
        sections = rule.doc_sections()
        assert list(sections) == list(DOC_SECTIONS), rule.code
        assert all(body.strip() for body in sections.values()), rule.code
        assert "http" in sections["References"] or rule.code.startswith("PIN9"), rule.code


def test_every_sql_rule_has_an_example_file_and_a_page() -> None:
    pages = generated_pages()
    for rule in all_rules():
        assert f"{rule.code}-{rule.name}.md" in pages
        if issubclass(rule, (SqlRule, FlowRule, CallRule)):
            assert (ROOT / "rules" / f"{rule.code}-{rule.name}.py").is_file(), rule.code
            assert "## Examples" in rule_markdown(rule), rule.code


def test_generated_docs_are_fresh() -> None:
    docs = ROOT / "docs" / "rules"
    pages = generated_pages()
    stale = [n for n, c in pages.items() if not (docs / n).is_file() or (docs / n).read_text() != c]
    extra = [p.name for p in docs.glob("*.md") if p.name not in pages]
    assert not stale and not extra, (
        f"stale {stale}, extra {extra}: run `python scripts/gen_docs.py` and commit docs/rules"
    )


def test_readme_rule_table_matches_the_registry() -> None:
    readme = (ROOT / "README.md").read_text()
    for rule in all_rules():
        assert f"| {rule.code} | {rule.name} |" in readme, rule.code
