"""The cheap byte-level gate run before any parsing.

Every site extraction reports comes from a call whose callee is spelled, somewhere
in the file, with one of the sink names of `pinlint.extract.drivers`: the method
name itself (``cur.execute``), the function name (``text(...)``), or the import
that aliases it (``from sqlalchemy import text as T`` still contains ``text``).
So a file in which none of those identifiers occurs as a whole word cannot yield a
site, and the engine may skip parsing it. A false ``True`` only costs a parse; a
false ``False`` would lose a finding, so the gate errs towards ``True``:

* words are matched on raw bytes with ASCII word boundaries; a non-ASCII byte next
  to a name counts as a boundary (more matches, never fewer);
* a file that declares a non-UTF-8 source encoding (PEP 263) is decoded and searched
  as text when the byte search fails, in case the codec does not spell ASCII
  letters as ASCII bytes (``utf-7``); a file that does not decode yields no site.

Deliberately not tighter: requiring the call shape (``.execute(``, ``text(`` or
``text as``) would skip about a quarter more files, but a call may legally put
comments between ``.``, the name and ``(``, and a regex that allows them goes
quadratic on long comment blocks. The words alone are linear and obviously safe.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize

from pinlint.extract.drivers import sink_names

_WORDS = "|".join(re.escape(name) for name in sorted(sink_names()))
_BYTES_RE = re.compile(rb"\b(?:" + _WORDS.encode("ascii") + rb")\b")
_TEXT_RE = re.compile(r"(?<!\w)(?:" + _WORDS + r")(?!\w)")
_COOKIE_HINT = re.compile(rb"coding[:=]")
_UTF8 = codecs.lookup("utf-8").name


def might_matter(source: bytes) -> bool:
    """False only when `source` cannot contain an SQL site (no sink name occurs)."""
    if _BYTES_RE.search(source):
        return True
    # Only a coding cookie in the first two lines can make the bytes misleading.
    head = b"\n".join(source.split(b"\n", 2)[:2])
    if not _COOKIE_HINT.search(head):
        return False
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    except SyntaxError:
        return False  # undecodable: extraction reports a problem, never a site
    if codecs.lookup(encoding).name in (_UTF8, "utf-8-sig"):
        return False
    try:
        text = source.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return False
    return _TEXT_RE.search(text) is not None
