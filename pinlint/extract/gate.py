"""The cheap byte-level gate run before any parsing.

Every site extraction reports comes from a call whose callee is spelled, somewhere
in the file, with one of the sink names of `pinlint.extract.drivers`: the method
name itself (``cur.execute(``), the function name (``text(``), or the import that
aliases it (``from sqlalchemy import text as T``). So a file in which none of those
identifiers occurs as a whole word *in the shape of a call or of an alias* cannot
yield a site, and the engine may skip parsing it. The shape: after the name, only
blanks, newlines, comments and line continuations (all legal between a callee and
its ``(`` inside brackets), then ``(`` or the word ``as``. A false ``True`` only
costs a parse; a false ``False`` would lose a finding, so the gate errs towards
``True``:

* words are matched on raw bytes with ASCII word boundaries; a non-ASCII byte before
  a name counts as a boundary (more matches, never fewer);
* the gap after a name is read one blank run, newline, continuation or comment at a
  time, at most `MAX_GAP` of them; a longer gap counts as a call. So each name costs
  a bounded scan, and a long comment block full of sink names stays linear;
* a file that declares a non-UTF-8 source encoding (PEP 263) is decoded and searched
  as text when the byte search fails, in case the codec does not spell ASCII
  letters as ASCII bytes (``utf-7``); a file that does not decode yields no site.

The call shape keeps about a quarter of the files the words alone keep (CPython's
standard library, django, sqlalchemy: 228 of 851), and a third of the bytes, so the
parse that follows does a third of the work. `tests/test_gate.py` runs it over every
fixture and rule example and checks that no result changes.

Driver and framework configuration (the PIN7xx rules) passes the same way: its
entry points (`drivers.config_names`: ``connect``, ``create_pool``, ``create_engine``,
``listens_for``, ``cursor``, ...) are called or aliased like sinks, and a Django
settings module assigns ``DATABASES`` at the start of a line. So does transaction code
(PIN501): ``session.begin()`` may be all there is of it in a file
(`drivers.TRANSACTION_ATTRIBUTES`).

A function sink (``text``, ``DDL``, ``RawSQL``) called as an attribute (``x.text(``)
is a sink only through an import of its package (``sa.text(`` after ``import
sqlalchemy as sa``): such a call counts only in a file that names one of those
packages. Without it, email, HTML and template code that calls ``self.text(...)``
would pass, and their functions would look like wrappers.

The gate answers for the file's own sites. Whatever reads other modules (constants
imported from them, wrappers defined there) must read them whatever their gate says.
"""

from __future__ import annotations

import codecs
import io
import re
import tokenize

from pinlint.extract.drivers import (
    FUNCTION_SINKS,
    SETTINGS_NAMES,
    TRANSACTION_ATTRIBUTES,
    config_names,
    function_sink_packages,
    sink_names,
)

_NAMES = sink_names() | config_names() | TRANSACTION_ATTRIBUTES
_WORDS = "|".join(re.escape(name) for name in sorted(_NAMES))
#: A module-level assignment of a framework setting (Django's ``DATABASES = {``).
_SETTINGS_RE = re.compile(
    rb"^(?:" + b"|".join(re.escape(n.encode("ascii")) for n in sorted(SETTINGS_NAMES)) + rb")"
    rb"[ \t]*[:=]",
    re.MULTILINE,
)
_BYTES_RE = re.compile(rb"\b(?:" + _WORDS.encode("ascii") + rb")\b")
_SINKS_RE = re.compile(
    rb"\b(?:" + "|".join(re.escape(n) for n in sorted(sink_names())).encode("ascii") + rb")\b"
)
_TEXT_RE = re.compile(r"(?<!\w)(?:" + _WORDS + r")(?!\w)")
_COOKIE_HINT = re.compile(rb"coding[:=]")
#: One piece of what may separate a callee from its `(`.
_GAP = re.compile(rb"[ \t\f]+|\\(?:\r\n?|\n)|\r\n?|\n|#[^\r\n]*")
_IDENTIFIER_BYTE = re.compile(rb"[A-Za-z0-9_\x80-\xff]")
MAX_GAP = 64
_UTF8 = codecs.lookup("utf-8").name
_FUNCTION_NAMES = frozenset(f.name.encode("ascii") for f in FUNCTION_SINKS)
#: The packages whose import makes ``alias.text(`` a function sink.
_FUNCTION_PACKAGES = re.compile(
    rb"\b(?:"
    + b"|".join(sorted(re.escape(p.encode("ascii")) for p in function_sink_packages()))
    + rb")\b"
)


def might_matter(source: bytes) -> bool:
    """False only when `source` cannot contain an SQL site (no sink name is called
    or aliased)."""
    if _called(source) or _SETTINGS_RE.search(source):
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
    return _TEXT_RE.search(text) is not None and _called(text.encode("utf-8", "surrogatepass"))


def calls_a_sink(source: bytes) -> bool:
    """Whether a name that sends SQL (`drivers.sink_names`, not the configuration
    names) is called or aliased in `source`: the byte test for a module that may
    define a wrapper (`pinlint.project`). True for a file with a coding cookie,
    whatever its codec spells."""
    if _called(source, _SINKS_RE):
        return True
    head = b"\n".join(source.split(b"\n", 2)[:2])
    return _COOKIE_HINT.search(head) is not None


def _called(source: bytes, words: re.Pattern[bytes] = _BYTES_RE) -> bool:
    """Whether a sink name occurs followed by `(` or `as` (see the module docstring);
    a function sink's name after a dot only in a file that names its package."""
    packages: bool | None = None
    for match in words.finditer(source):
        if match.group() in _FUNCTION_NAMES and _after_dot(source, match.start()):
            if packages is None:
                packages = _FUNCTION_PACKAGES.search(source) is not None
            if not packages:
                continue
        at = match.end()
        for _ in range(MAX_GAP):
            gap = _GAP.match(source, at)
            if gap is None:
                break
            at = gap.end()
        else:
            return True  # a long run of blanks and comments: say yes
        if source.startswith(b"(", at):
            return True
        if source.startswith(b"as", at) and not _IDENTIFIER_BYTE.match(source, at + 2):
            return True
    return False


def _after_dot(source: bytes, start: int) -> bool:
    """Whether the name at `start` follows a dot (blanks and continuations between)."""
    at = start - 1
    while at >= 0 and source[at] in b" \t\f\r\n\\":
        at -= 1
    return at >= 0 and source[at] == 0x2E  # "."
