"""A module's text with its line starts: positions from `ast` made into offsets,
and whole-word search. No libcst here: the outline and the pre-pass share it."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

_NEWLINE = re.compile(r"\r\n|\r|\n")


class Source:
    """The text, its lines, and conversions from `ast` positions (UTF-8 byte columns)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        """The offset of each line's first character (computed when first needed)."""
        if self._starts is None:
            self._starts = [0, *(m.end() for m in _NEWLINE.finditer(self.text))]
        return self._starts

    def offset(self, line: int, byte_col: int) -> int:
        """The character offset in `text` of an `ast` (line, column) position."""
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.text)
        head = self.text[start:end]
        if head.isascii():
            return start + byte_col
        return start + len(head.encode("utf-8")[:byte_col].decode("utf-8", "surrogatepass"))

    def words(self, names: Iterable[str]) -> list[int]:
        """Where each of `names` occurs as a whole word (like ``\\b`` in a regex), in
        order. One `str.find` scan per name: much faster than a regex alternation."""
        text = self.text
        found: list[int] = []
        for name in names:
            at = text.find(name)
            while at != -1:
                end = at + len(name)
                if not (_word_char(text, at - 1) or _word_char(text, end)):
                    found.append(at)
                at = text.find(name, end)
        found.sort()
        return found

    def lines_of(self, offsets: list[int]) -> list[int]:
        """The lines of `offsets` (sorted), each once."""
        text = self.text
        lines: list[int] = []
        if "\r" in text:  # "\r" and "\r\n" end lines too
            for offset in offsets:
                line = bisect_right(self.starts, offset)
                if not lines or lines[-1] != line:
                    lines.append(line)
            return lines
        line, at = 1, 0
        for offset in offsets:
            line += text.count("\n", at, offset)
            at = offset
            if not lines or lines[-1] != line:
                lines.append(line)
        return lines


def _word_char(text: str, at: int) -> bool:
    if at < 0 or at >= len(text):
        return False
    char = text[at]
    return char.isalnum() or char == "_"


