"""Write docs/rules/*.md from the rules; `--check` fails when they are stale."""

from __future__ import annotations

import sys
from pathlib import Path

from pinlint.docs import generated_pages

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules"


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
    extra = sorted(p.name for p in DOCS.glob("*.md") if p.name not in pages) if DOCS.exists() else []
    if check:
        if stale or extra:
            print(f"stale docs: {stale}; pages without a rule: {extra}. Run: python scripts/gen_docs.py")
            return 1
        print(f"docs are fresh ({len(pages)} pages)")
        return 0
    for name in extra:
        (DOCS / name).unlink()
    print(f"wrote {len(stale)} of {len(pages)} pages; removed {len(extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
