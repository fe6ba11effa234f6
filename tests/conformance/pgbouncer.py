"""A throwaway PgBouncer in transaction mode in front of the throwaway PostgreSQL.

It listens only on a Unix socket in a private temporary directory (`listen_addr`
empty), trusts every client (`auth_type = any`, each database entry names the
server user) and has two pools onto the same database:

- `pool1`: one server connection, so two clients always share it: whatever one
  client leaves on the server connection, the other finds;
- `pool2`: two server connections, so a client can be moved to the second one
  while another client holds the first in a transaction.

PgBouncer refuses to run as root; as root it runs as the same unprivileged user
as the PostgreSQL cluster (which also gives it access to the cluster's socket).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from .pgcluster import PgCluster
from .server import ServerProcess

POOLS = {"pool1": 1, "pool2": 2}


class PgBouncerStartError(RuntimeError):
    pass


def find_pgbouncer() -> Path | None:
    """The `pgbouncer` program: `$PINLINT_PGBOUNCER`, `PATH`, or `/usr/sbin`."""
    candidates = [os.environ.get("PINLINT_PGBOUNCER"), shutil.which("pgbouncer")]
    candidates.append("/usr/sbin/pgbouncer")
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def pgbouncer_version(program: Path) -> tuple[int, ...]:
    """The version `pgbouncer --version` prints (`PgBouncer 1.18.0` -> (1, 18))."""
    out = subprocess.run(
        [str(program), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    m = re.search(r"PgBouncer (\d+)\.(\d+)", out.stdout + out.stderr)
    if m is None:
        raise PgBouncerStartError(f"cannot read the version of {program}: {out.stdout!r}")
    return (int(m.group(1)), int(m.group(2)))


class PgBouncer(ServerProcess):
    """Start with `start()` (or as a context manager); `stop()` always cleans up."""

    def __init__(self, program: Path, cluster: PgCluster, dbname: str) -> None:
        super().__init__()
        self.program = program
        self.cluster = cluster
        self.dbname = dbname
        self.version = pgbouncer_version(program)
        self.port = random.randint(20000, 60000)

    @property
    def socket_dir(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("PgBouncer not started")
        return self.base_dir

    def _config(self) -> str:
        server = self.cluster.conninfo_params(self.dbname)
        databases = "\n".join(
            f"{name} = host={server['host']} port={server['port']} dbname={self.dbname} "
            f"user={server['user']} pool_size={size}"
            for name, size in POOLS.items()
        )
        return f"""[databases]
{databases}

[pgbouncer]
listen_addr =
listen_port = {self.port}
unix_socket_dir = {self.socket_dir}
unix_socket_mode = 0777
auth_type = any
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
admin_users = {server["user"]}
logfile = {self.socket_dir / "pgbouncer.log"}
pidfile = {self.socket_dir / "pgbouncer.pid"}
server_check_delay = 0
ignore_startup_parameters = extra_float_digits
"""

    def start(self) -> PgBouncer:
        run_as = self.cluster.run_as
        self.base_dir = Path(tempfile.mkdtemp(prefix="pinlint-pgb-", dir="/tmp"))
        atexit.register(self.stop)
        try:
            os.chmod(self.base_dir, 0o755)
            config = self.base_dir / "pgbouncer.ini"
            config.write_text(self._config())
            kwargs: dict[str, Any] = {}
            if run_as is not None:
                entry = pwd.getpwnam(run_as)
                os.chown(self.base_dir, entry.pw_uid, entry.pw_gid)
                kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
            self._proc = subprocess.Popen(
                [str(self.program), str(config)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                cwd=self.base_dir,
                **kwargs,
            )
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        socket = self.socket_dir / f".s.PGSQL.{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise PgBouncerStartError(f"pgbouncer exited:\n{self.log()}")
            if socket.exists():
                with contextlib.suppress(psycopg.Error), self.connect("pool1") as conn:
                    conn.execute("SELECT 1")
                    return
            time.sleep(0.05)
        raise PgBouncerStartError(f"pgbouncer did not start in 30 s:\n{self.log()}")

    def log(self) -> str:
        try:
            return (self.socket_dir / "pgbouncer.log").read_text(errors="replace")
        except (OSError, RuntimeError) as exc:
            return f"(no log: {exc})"

    def connect(self, pool: str, **kwargs: Any) -> psycopg.Connection[Any]:
        """A client connection through PgBouncer (autocommit, never prepared by name)."""
        kwargs.setdefault("prepare_threshold", None)
        kwargs.setdefault("autocommit", True)
        conninfo = make_conninfo(
            host=str(self.socket_dir), port=self.port, user=self.cluster.user, dbname=pool
        )
        return psycopg.connect(conninfo, **kwargs)

    def admin(self, command: str) -> list[tuple[Any, ...]]:
        """Run a command on PgBouncer's admin console (`SHOW SERVERS`, `RECONNECT`)."""
        conninfo = make_conninfo(
            host=str(self.socket_dir), port=self.port, user=self.cluster.user, dbname="pgbouncer"
        )
        # The admin console speaks the simple query protocol only.
        with psycopg.connect(
            conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor
        ) as conn:
            cur = conn.execute(command)
            return cur.fetchall() if cur.description else []

    def drop_server_connections(self) -> None:
        """Close every server connection, so the next test starts on fresh backends.

        Client connections must be closed first: PgBouncer then holds only idle
        server connections, which it closes on `RECONNECT`."""
        self.admin("RECONNECT")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            servers = [r for r in self.admin("SHOW SERVERS")]
            if not servers:
                return
            time.sleep(0.05)
        raise RuntimeError(f"PgBouncer kept server connections: {servers}")
