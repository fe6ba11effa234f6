"""Fingerprints that keep a finding's identity when the code around it moves.

Two kinds go into a SARIF result's `partialFingerprints`:

* `primaryLocationLineHash`, the value GitHub code scanning uses to match an alert
  across commits. `upload-sarif` computes it when it is missing, but a direct API
  upload does not, so pinlint computes the same value locally. The algorithm is the
  one in GitHub's codeql-action (`src/fingerprints.ts`): drop spaces and tabs, turn
  CR and CRLF into LF, append an end marker (65535) and zero padding, and for each
  line take a base-37 polynomial hash, modulo 2**64, of the 100 UTF-16 code units
  that start at the line's first kept character. The value is ``"<hex>:<n>"``,
  where ``n`` numbers identical hashes in the file from 1, in line order.
* `pinlint/v1`, pinlint's own key for baselines: a SHA-256 of the rule code, the
  path and the whitespace-normalised SQL (or the message when there is no SQL),
  numbered the same way. It survives edits elsewhere in the file, and on the
  finding's own line as long as the SQL stays the same; only an identical finding
  added earlier in the same file shifts the number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pinlint.model import Diagnostic

WINDOW = 100
_BASE = 37
_MASK = (1 << 64) - 1
#: Weight of the code unit that leaves the window: BASE ** WINDOW (mod 2**64).
_LEAVING = pow(_BASE, WINDOW, 1 << 64)
_SPACE, _TAB, _LF, _CR = 0x20, 0x09, 0x0A, 0x0D
_END = 0xFFFF

SEMANTIC_KEY = "pinlint/v1"
LINE_HASH_KEY = "primaryLocationLineHash"


def _utf16_units(text: str) -> Iterable[int]:
    """The text as UTF-16 code units (what JavaScript's `charCodeAt` sees)."""
    for char in text:
        point = ord(char)
        if point > 0xFFFF:
            point -= 0x10000
            yield 0xD800 + (point >> 10)
            yield 0xDC00 + (point & 0x3FF)
        else:
            yield point


def _kept_units(text: str) -> tuple[list[int], list[int]]:
    """The code units that enter the hash, and the index where each line starts."""
    units: list[int] = []
    starts: list[int] = []
    at_line_start = True
    after_cr = False
    for unit in [*_utf16_units(text), _END]:
        if unit in (_SPACE, _TAB) or (after_cr and unit == _LF):
            after_cr = False
            continue
        after_cr = unit == _CR
        if after_cr:
            unit = _LF
        if at_line_start:
            starts.append(len(units))
            at_line_start = False
        if unit == _LF:
            at_line_start = True
        units.append(unit)
    return units, starts


def line_hashes(text: str) -> list[str]:
    """`primaryLocationLineHash` for every line of a file; item 0 is line 1.

    Lines end at LF, CR or CRLF. A file that ends with a line break has one more
    (empty) line after it, as in GitHub's implementation.
    """
    units, starts = _kept_units(text)
    units.extend([0] * WINDOW)
    raw: list[int] = []
    pending = iter(starts)
    # The hash of the window that starts at `start` is ready once the unit at
    # start + WINDOW - 1 has been added.
    due = next(pending, None)
    value = 0
    for pos, unit in enumerate(units):
        if due is None:
            break
        leaving = units[pos - WINDOW] if pos >= WINDOW else 0
        value = (value * _BASE + unit - leaving * _LEAVING) & _MASK
        if pos == due + WINDOW - 1:
            raw.append(value)
            due = next(pending, None)
    return _numbered(format(h, "x") for h in raw)


def _numbered(values: Iterable[str]) -> list[str]:
    """Append ``:n`` to each value, n counting equal values so far (from 1)."""
    seen: dict[str, int] = {}
    out = []
    for value in values:
        seen[value] = seen.get(value, 0) + 1
        out.append(f"{value}:{seen[value]}")
    return out


def primary_location_line_hash(lines: Sequence[str], line: int) -> str | None:
    """The line hash of 1-based `line` in a file given as lines *with* their endings."""
    hashes = line_hashes("".join(lines))
    return hashes[line - 1] if 1 <= line <= len(hashes) else None


def _normalised(text: str) -> str:
    return " ".join(text.split())


def semantic_key(diagnostic: Diagnostic, path: str | None = None) -> str:
    """SHA-256 hex of (code, path, normalised SQL or message), without the counter.

    `path` overrides `diagnostic.path` (pass the repo-relative form)."""
    subject = diagnostic.sql if diagnostic.sql else diagnostic.message
    where = diagnostic.path if path is None else path
    payload = json.dumps([diagnostic.code, where, _normalised(subject)])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def semantic_fingerprints(
    diagnostics: Sequence[Diagnostic], paths: Sequence[str] | None = None
) -> list[str]:
    """`pinlint/v1` for each diagnostic: ``"<sha256>:<n>"``.

    ``n`` numbers equal keys in input order, so two identical statements in one
    file stay distinct. Pass the diagnostics sorted by position, and `paths`
    (one per diagnostic) when they differ from `Diagnostic.path`.
    """
    where = paths if paths is not None else [d.path for d in diagnostics]
    return _numbered(semantic_key(d, p) for d, p in zip(diagnostics, where, strict=True))
