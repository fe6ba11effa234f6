"""Extraction: find the SQL strings that Python code sends to a database.

Public API:

* `might_matter(source)`: a byte-level gate; False only when the file cannot hold
  a site, so the engine can skip parsing it (`pinlint.extract.gate`). A file that
  calls a wrapper of another module holds no sink name: `pinlint.project` has the
  gate for those;
* `extract_python(source, path, project=None)`: the sites and problems of one file
  (`pinlint.extract.python`), the SQL followed through names, string building and
  wrappers (`pinlint.extract.dataflow`), into the other modules of the analysed
  tree when given its `project` view. It never raises and does not need the gate.

The known drivers and ORMs are data in `pinlint.extract.drivers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pinlint.extract.gate import might_matter

if TYPE_CHECKING:
    from pinlint.extract.python import extract_python

__all__ = ["extract_python", "might_matter"]


def __getattr__(name: str) -> Any:
    # libcst is imported with the first file that needs it, not with the package.
    if name == "extract_python":
        from pinlint.extract.python import extract_python

        return extract_python
    raise AttributeError(name)
