"""Write docs/rules/*.md and the README's generated tables from the rules and
`config.OPTIONS`; `--check` fails when any of them is stale."""

from __future__ import annotations

import sys
from pathlib import Path

from pinlint.docs import config_markdown, generated_pages, verdicts_markdown

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "rules"
README = ROOT / "README.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"
VERDICTS_START, VERDICTS_END = "<!-- verdict-table:start -->", "<!-- verdict-table:end -->"


def _replace_between(text: str, start: str, end: str, content: str) -> str:
    if start not in text:
        return text
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    return f"{head}{start}\n{content}{end}{tail}"


def readme_with_config_table(text: str) -> str:
    return _replace_between(text, START, END, config_markdown())


def readme_with_generated_tables(text: str) -> str:
    """The README with its configuration and verdict tables regenerated."""
    text = readme_with_config_table(text)
    return _replace_between(text, VERDICTS_START, VERDICTS_END, verdicts_markdown())


def main(argv: list[str]) -> int:
    check = "--check" in argv
    pages = generated_pages()
    stale = []
    for name, content in pages.items():
        path = DOCS / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != content:
            stale.append(name)
            if not check:
                DOCS.mkdir(parents=True, exist_ok=True)
                path.write_text(content, encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    if readme_with_generated_tables(readme) != readme:
        stale.append("README.md (configuration or verdict table)")
        if not check:
            README.write_text(readme_with_generated_tables(readme), encoding="utf-8")
    extra = (
        sorted(p.name for p in DOCS.glob("*.md") if p.name not in pages) if DOCS.exists() else []
    )
    if check:
        if stale or extra:
            print(
                f"stale docs: {stale}; pages without a rule: {extra}. "
                "Run: python scripts/gen_docs.py"
            )
            return 1
        print(f"docs are fresh ({len(pages)} pages)")
        return 0
    for name in extra:
        (DOCS / name).unlink()
    print(f"wrote {len(stale)} of {len(pages)} pages; removed {len(extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
