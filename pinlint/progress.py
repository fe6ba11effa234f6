"""A progress bar on standard error, for long runs in a terminal.

Shown only when standard error is a terminal and the run has at least
`THRESHOLD` files; it redraws one line in place at most every `INTERVAL`
seconds and erases itself when the run ends, so nothing of it stays in the
terminal's scrollback, in a redirected log, or in machine output (which goes to
standard output or a file).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

THRESHOLD = 200
INTERVAL = 0.1
WIDTH = 30


class ProgressBar:
    """Call it with (files done, files in total); `close` erases it."""

    def __init__(
        self,
        stream: TextIO,
        threshold: int = THRESHOLD,
        interval: float = INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.threshold = threshold
        self.interval = interval
        self._clock = clock
        self._last = float("-inf")
        self._drawn = False

    def __call__(self, done: int, total: int) -> None:
        if total < self.threshold:
            return
        now = self._clock()
        if done < total and now - self._last < self.interval:
            return
        self._last = now
        filled = WIDTH * done // total
        bar = "=" * filled + (">" if filled < WIDTH else "") + " " * (WIDTH - filled - 1)
        percent = 100 * done // total
        self.stream.write(f"\r[{bar}] {percent:3d}% {done}/{total} files")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


def for_terminal(stream: TextIO | None = None, enabled: bool = True) -> ProgressBar | None:
    """A bar on `stream` (standard error by default) when it is a terminal that
    can redraw a line; None otherwise."""
    stream = stream if stream is not None else sys.stderr
    if not enabled or os.environ.get("TERM") == "dumb":
        return None
    try:
        if not stream.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return ProgressBar(stream)
