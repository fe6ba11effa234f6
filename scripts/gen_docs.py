"""Write docs/rules/*.md from the rules; `--check` fails when they are stale."""

from __future__ import annotations

import sys
from pathlib import Path

from pinlint.docs import config_markdown, generated_pages

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "rules"
README = ROOT / "README.md"
START, END = "<!-- config-table:start -->", "<!-- config-table:end -->"


def readme_with_config_table(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{config_markdown()}{END}{tail}"


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
    if START in readme and readme_with_config_table(readme) != readme:
        stale.append("README.md (configuration table)")
        if not check:
            README.write_text(readme_with_config_table(readme), encoding="utf-8")
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
