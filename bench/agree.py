"""Check that the fast paths change no result: on a tree, extract every file twice,
once as `pinlint check` does (byte gates, the `ast` cut, blanked modules, the
outline's exports) and once parsing every module whole with libcst, and report any
file whose sites, calls or related locations differ, or that the gates skip while
the whole parse finds something in it.

    python bench/agree.py /path/to/tree [--only django/]

Slow (every file is parsed whole once): minutes for the benchmark corpus. A check,
not a benchmark and not a test.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

import pinlint.extract.outline as outlines
import pinlint.extract.python as python_extract
from pinlint.api import display_path
from pinlint.extract import might_matter
from pinlint.model import Extraction
from pinlint.project import ProjectIndex


def _key(extraction: Extraction) -> tuple[object, ...]:
    sites = sorted(
        (s.span, s.text, s.sink, s.origin.name, s.confidence.name, s.dialect, s.related)
        for s in extraction.sites
    )
    return tuple(sites), tuple(sorted(map(str, extraction.calls)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path)
    parser.add_argument("--only", default="", help="check only files under this prefix")
    args = parser.parse_args()
    root = args.tree.resolve()
    files = sorted(root.rglob("*.py"))
    index = partial(ProjectIndex.for_paths, [root], files, display=partial(display_path, root=root))
    fast_tree, whole_tree = index(), index()
    checked = skipped = differ = 0
    for path in files:
        shown = display_path(path, root)
        if not shown.startswith(args.only):
            continue
        data = path.read_bytes()
        view = fast_tree.view(shown)
        passes = might_matter(data) or view.may_call_wrappers(data)
        python_extract.FAST, outlines.BLANK = True, True
        fast = python_extract.extract_python(data, shown, view) if passes else None
        python_extract.FAST, outlines.BLANK = False, False
        whole = python_extract.extract_python(data, shown, whole_tree.view(shown))
        python_extract.FAST, outlines.BLANK = True, True
        checked += 1
        if fast is None:
            skipped += 1
            if whole.sites or whole.calls:
                differ += 1
                print(f"{shown}: skipped by the gates, but has {len(whole.sites)} sites")
        elif _key(fast) != _key(whole):
            differ += 1
            print(f"{shown}: {len(fast.sites)} sites fast, {len(whole.sites)} whole")
    print(f"{checked} files, {skipped} skipped by the gates, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
