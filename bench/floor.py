"""The floor for a Python analyzer: read and `ast.parse` every `.py` file, one process.

Run by `bench/run.py` in a subprocess, so that it is timed like the tools (start-up
included). Prints one JSON line: files parsed, files that did not parse, bytes.
"""

from __future__ import annotations

import ast
import json
import os
import sys
import warnings


def main(root: str) -> None:
    parsed = failed = size = 0
    warnings.simplefilter("ignore")  # invalid escape sequences and the like
    for directory, subdirs, names in os.walk(root):
        subdirs.sort()
        for name in sorted(names):
            if not name.endswith(".py"):
                continue
            with open(os.path.join(directory, name), "rb") as handle:
                data = handle.read()
            size += len(data)
            try:
                ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                failed += 1
            else:
                parsed += 1
    print(json.dumps({"parsed": parsed, "failed": failed, "bytes": size}))


if __name__ == "__main__":
    main(sys.argv[1])
