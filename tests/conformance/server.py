"""What the throwaway servers of the conformance tests (MariaDB, PgBouncer) share:
a process and a temporary directory, both gone after `stop()`, also at exit."""

from __future__ import annotations

import atexit
import shutil
import subprocess
from pathlib import Path
from typing import Self


class ServerProcess:
    """Subclasses start the process in `start()` (registering `stop` with `atexit`)
    and set `_proc` and `base_dir`; `stop()` always cleans up."""

    #: Seconds a terminated server gets to exit before it is killed.
    stop_timeout = 10.0

    def __init__(self) -> None:
        self.base_dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        base, proc = self.base_dir, self._proc
        self._proc, self.base_dir = None, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if base is not None:
            shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
