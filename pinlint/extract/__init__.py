"""Extraction: find the SQL strings that Python code sends to a database.

Public API:

* `might_matter(source)`: a byte-level gate; False only when the file cannot hold
  a site, so the engine can skip parsing it (`pinlint.extract.gate`);
* `extract_python(source, path)`: the sites and problems of one file
  (`pinlint.extract.python`). It never raises and does not need the gate.

The known drivers and ORMs are data in `pinlint.extract.drivers`.
"""

from pinlint.extract.gate import might_matter
from pinlint.extract.python import extract_python

__all__ = ["extract_python", "might_matter"]
