"""A throwaway MariaDB (or MySQL) server for conformance tests.

The server lives in a private temporary directory, listens only on a Unix socket
there (`--skip-networking`), starts from an empty data directory made by
`mariadb-install-db` (root without a password, no test database) and is stopped
(SIGTERM) and deleted afterwards. `--no-defaults` keeps the machine's own MariaDB
configuration out of it.

mariadbd refuses to run as root: when the tests run as root, the server runs as an
unprivileged user, the same one the PostgreSQL fixture uses (`postgres` if it
exists, otherwise `pinlint-test`).
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pymysql
import pymysql.cursors
from pymysql.constants import CLIENT

from .pgcluster import _server_user
from .server import ServerProcess

SEARCH_DIRS = ("/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin")


class MariaDBStartError(RuntimeError):
    pass


def _find(*names: str) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
        for directory in SEARCH_DIRS:
            candidate = Path(directory) / name
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def find_mariadb() -> tuple[Path, Path] | None:
    """(install-db program, server program), or None when either is missing.

    `$PINLINT_MARIADB_BINDIR` is searched first."""
    override = os.environ.get("PINLINT_MARIADB_BINDIR")
    if override:
        install = Path(override) / "mariadb-install-db"
        server = Path(override) / "mariadbd"
        if os.access(install, os.X_OK) and os.access(server, os.X_OK):
            return install, server
    install_db = _find("mariadb-install-db", "mysql_install_db")
    server_program = _find("mariadbd", "mysqld")
    if install_db is None or server_program is None:
        return None
    return install_db, server_program


class MariaDB(ServerProcess):
    """Start with `start()` (or as a context manager); `stop()` always cleans up."""

    stop_timeout = 60.0

    def __init__(self, install_db: Path, server: Path) -> None:
        super().__init__()
        self.install_db = install_db
        self.server = server
        self.run_as: str | None = None

    @property
    def socket(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("MariaDB not started")
        return self.base_dir / "mysqld.sock"

    @property
    def data_dir(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("MariaDB not started")
        return self.base_dir / "data"

    def _user_kwargs(self) -> dict[str, Any]:
        if self.run_as is None:
            return {}
        entry = pwd.getpwnam(self.run_as)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> MariaDB:
        self.run_as = _server_user()
        self.base_dir = Path(tempfile.mkdtemp(prefix="pinlint-mdb-", dir="/tmp"))
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        base = self.base_dir
        assert base is not None
        (base / "tmp").mkdir()
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            for path in (base, base / "tmp"):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        os.chmod(base, 0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL")}
        init = subprocess.run(
            [
                str(self.install_db),
                "--no-defaults",
                f"--datadir={self.data_dir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
            cwd=base,
            env=env,
            **self._user_kwargs(),
        )
        if init.returncode != 0:
            raise MariaDBStartError(
                f"{self.install_db.name} failed ({init.returncode}):\n{init.stdout}\n{init.stderr}"
            )
        self._proc = subprocess.Popen(
            [
                str(self.server),
                "--no-defaults",
                f"--datadir={self.data_dir}",
                f"--socket={self.socket}",
                f"--pid-file={base / 'mysqld.pid'}",
                f"--log-error={base / 'error.log'}",
                f"--tmpdir={base / 'tmp'}",
                "--skip-networking",
                "--skip-name-resolve",
                "--performance-schema=OFF",
                "--innodb-buffer-pool-size=32M",
                "--innodb-log-file-size=16M",
                "--innodb-flush-log-at-trx-commit=0",
                "--skip-log-bin",
                "--max-connections=60",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=base,
            env=env,
            **self._user_kwargs(),
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise MariaDBStartError(f"the server exited:\n{self.log()}")
            if self.socket.exists():
                try:
                    self.connect().close()
                    return
                except pymysql.err.OperationalError:
                    pass
            time.sleep(0.1)
        raise MariaDBStartError(f"the server did not start in 60 s:\n{self.log()}")

    def log(self) -> str:
        try:
            return (self.socket.parent / "error.log").read_text(errors="replace")
        except (OSError, RuntimeError) as exc:
            return f"(no log: {exc})"

    def connect(self, database: str | None = None, **kwargs: Any) -> pymysql.Connection[Any]:
        """A root connection over the socket; autocommit, several statements per query.

        Lock waits give up after 3 s and reads after 60 s, so a test that meets a lock
        held by another of its sessions fails instead of hanging."""
        kwargs.setdefault("autocommit", True)
        kwargs.setdefault("client_flag", CLIENT.MULTI_STATEMENTS)
        kwargs.setdefault(
            "init_command", "SET SESSION lock_wait_timeout = 3, innodb_lock_wait_timeout = 3"
        )
        kwargs.setdefault("read_timeout", 60)
        return pymysql.connect(
            unix_socket=str(self.socket), user="root", database=database, **kwargs
        )
