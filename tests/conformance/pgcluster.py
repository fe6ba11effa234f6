"""A throwaway PostgreSQL cluster for conformance tests.

The cluster lives in a private temporary directory, listens only on a Unix
socket inside that directory (``listen_addresses=''``), trusts every local
connection and is stopped (``pg_ctl -m immediate``) and deleted afterwards.

PostgreSQL refuses to run as root. When the tests run as root, the server
binaries are run through ``runuser`` as an unprivileged system user: the
existing ``postgres`` account if there is one, otherwise ``pinlint-test``,
which is created with ``useradd -r``.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import random
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")
FALLBACK_USER = "pinlint-test"
PREFERRED_USER = "postgres"
SUPERUSER = "postgres"
# sun_path is 108 bytes including the NUL; leave room for "/.s.PGSQL.NNNNN".
_MAX_SOCKET_DIR_LEN = 80


_RESET_DATABASE_SQL = """
SELECT pg_catalog.pg_terminate_backend(pid, 5000)
  FROM pg_catalog.pg_stat_activity
 WHERE datname = pg_catalog.current_database() AND pid <> pg_catalog.pg_backend_pid();
DO $$
DECLARE
    schema_name text;
BEGIN
    FOR schema_name IN
        SELECT nspname FROM pg_catalog.pg_namespace
         WHERE nspname NOT IN ('pg_catalog', 'information_schema')
           AND nspname NOT LIKE 'pg\\_toast%'
           AND nspname NOT LIKE 'pg\\_temp\\_%'
    LOOP
        EXECUTE pg_catalog.format('DROP SCHEMA %I CASCADE', schema_name);
    END LOOP;
END
$$;
CREATE SCHEMA public AUTHORIZATION pg_database_owner;
GRANT USAGE ON SCHEMA public TO PUBLIC;
"""


class PgUnavailable(RuntimeError):
    """No usable PostgreSQL server binaries were found."""


class PgStartError(RuntimeError):
    """The throwaway cluster could not be created or started."""


def _has_server_programs(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in SERVER_PROGRAMS)


def _version_key(path: str) -> tuple[int, ...]:
    # /usr/lib/postgresql/<version>/bin
    version = Path(path).parent.name
    return tuple(int(part) for part in re.findall(r"\d+", version))


def find_pg_bindir() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or None.

    Looked for, in order: ``$PINLINT_PG_BINDIR``, the directory of ``initdb``
    on ``PATH``, then ``/usr/lib/postgresql/*/bin`` (newest version first).
    """
    candidates: list[Path] = []
    override = os.environ.get("PINLINT_PG_BINDIR")
    if override:
        candidates.append(Path(override))
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    versioned = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    candidates.extend(Path(p) for p in versioned)
    for candidate in candidates:
        if _has_server_programs(candidate):
            return candidate
    return None


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _server_user() -> str | None:
    """The account to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    explicit = os.environ.get("PINLINT_PG_USER")
    if explicit:
        if not _user_exists(explicit):
            raise PgStartError(f"PINLINT_PG_USER={explicit!r} is not an existing user")
        return explicit
    if _user_exists(PREFERRED_USER):
        return PREFERRED_USER
    if not _user_exists(FALLBACK_USER):
        useradd = shutil.which("useradd")
        if useradd is None:
            raise PgStartError(
                "running as root, no 'postgres' user and no useradd to create "
                f"{FALLBACK_USER!r}; PostgreSQL cannot run as root"
            )
        nologin = shutil.which("nologin") or "/bin/false"
        result = subprocess.run(
            [useradd, "-r", "-M", "-d", "/nonexistent", "-s", nologin, FALLBACK_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        # A concurrent session may have created it meanwhile: re-check.
        if not _user_exists(FALLBACK_USER):
            raise PgStartError(
                f"could not create system user {FALLBACK_USER!r}: {result.stderr.strip()}"
            )
    return FALLBACK_USER


def _traversable_by_others(directory: Path) -> bool:
    path = directory.resolve()
    return all(part.stat().st_mode & stat.S_IXOTH for part in (path, *path.parents))


def _make_base_dir(run_as: str | None) -> Path:
    parent = Path(tempfile.gettempdir())
    too_long = len(str(parent)) > _MAX_SOCKET_DIR_LEN - 25
    if too_long or (run_as is not None and not _traversable_by_others(parent)):
        parent = Path("/tmp")
    return Path(tempfile.mkdtemp(prefix="pinlint-pg-", dir=parent))


class PgCluster:
    """A private PostgreSQL cluster reachable only through a Unix socket.

    Use as a context manager (``with PgCluster() as pg: ...``) or call
    :meth:`start` and :meth:`stop`; :meth:`stop` is idempotent and always
    removes the temporary directory.
    """

    def __init__(self, bindir: Path | None = None, *, port: int | None = None) -> None:
        found = bindir if bindir is not None else find_pg_bindir()
        if found is None:
            raise PgUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found "
                "on PATH, under /usr/lib/postgresql/*/bin or in $PINLINT_PG_BINDIR"
            )
        self.bindir: Path = found
        # Only the socket file name depends on the port, and the socket lives in
        # a private directory, so any number works; a random one keeps
        # concurrent clusters' SysV shared-memory keys apart.
        self.port: int = port if port is not None else random.randint(20000, 60000)
        self.user: str = SUPERUSER
        self.dbname: str = "postgres"
        self.run_as: str | None = None
        self.base_dir: Path | None = None
        self._running = False

    # -- paths -----------------------------------------------------------
    def _require_base(self) -> Path:
        if self.base_dir is None:
            raise RuntimeError("cluster not started")
        return self.base_dir

    @property
    def data_dir(self) -> Path:
        return self._require_base() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._require_base()

    @property
    def log_file(self) -> Path:
        return self._require_base() / "server.log"

    # -- connecting ------------------------------------------------------
    def conninfo_params(self, dbname: str | None = None) -> dict[str, Any]:
        return {
            "host": str(self.socket_dir),
            "port": self.port,
            "user": self.user,
            "dbname": dbname or self.dbname,
        }

    @property
    def conninfo(self) -> str:
        """libpq connection string: socket directory as host, port, user, dbname."""
        return make_conninfo(**self.conninfo_params())

    def connect(
        self, dbname: str | None = None, *, autocommit: bool = True, **kwargs: Any
    ) -> psycopg.Connection[Any]:
        """Open a new connection. Never creates named prepared statements
        unless ``prepare_threshold`` is passed explicitly."""
        kwargs.setdefault("prepare_threshold", None)
        return psycopg.connect(
            make_conninfo(**self.conninfo_params(dbname)), autocommit=autocommit, **kwargs
        )

    def create_database(self, name: str) -> None:
        with self.connect() as conn:
            strategy = " STRATEGY = FILE_COPY" if conn.info.server_version >= 150000 else ""
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0{strategy}')

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            force = " WITH (FORCE)" if conn.info.server_version >= 130000 else ""
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"{force}')

    def reset_database(self, name: str) -> None:
        """Empty database ``name`` again, much faster than dropping it.

        Ends other sessions on it, drops every user schema with its contents
        and recreates ``public`` as PostgreSQL 15 creates it.
        """
        with self.connect(name) as conn:
            conn.execute(_RESET_DATABASE_SQL)

    # -- running the server binaries --------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        return env

    def _run(self, program: str, args: Sequence[str]) -> subprocess.CompletedProcess[str]:
        argv = [str(self.bindir / program), *args]
        if self.run_as is not None:
            runuser = shutil.which("runuser")
            if runuser is not None:
                argv = [runuser, "-u", self.run_as, "--", *argv]
            else:
                argv = ["su", "-s", "/bin/sh", "-c", shlex.join(argv), self.run_as]
        return subprocess.run(
            argv,
            cwd=self._require_base(),
            env=self._env(),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    def server_log(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")
        except OSError as exc:
            return f"(no server log: {exc})"

    def start(self) -> PgCluster:
        if self._running:
            return self
        self.run_as = _server_user()
        self.base_dir = _make_base_dir(self.run_as)
        # Backstop for exits that skip the fixture's teardown (not SIGKILL).
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        base = self._require_base()
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            os.chown(base, entry.pw_uid, entry.pw_gid)
        os.chmod(base, 0o700)

        init = self._run(
            "initdb",
            [
                "-D", str(self.data_dir),
                "-A", "trust",
                "-U", SUPERUSER,
                "-E", "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )  # fmt: skip
        if init.returncode != 0:
            raise PgStartError(
                f"initdb failed (exit {init.returncode}):\n{init.stdout}\n{init.stderr}"
            )

        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-k {shlex.quote(str(self.socket_dir))}",
                f"-p {self.port}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c shared_buffers=16MB",
                "-c max_connections=40",
                "-c autovacuum=off",
                "-c unix_socket_permissions=0700",
            ]
        )
        started = self._run(
            "pg_ctl",
            ["-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", "60",
             "-o", options, "start"],
        )  # fmt: skip
        if started.returncode != 0:
            log = self.server_log()
            message = (
                f"pg_ctl start failed (exit {started.returncode}):\n"
                f"{started.stdout}\n{started.stderr}\n--- server log ---\n{log}"
            )
            print(message, file=sys.stderr)
            self._running = True  # so stop() tries to shut a half-started server down
            raise PgStartError(message)
        self._running = True

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete the directory. Idempotent."""
        base = self.base_dir
        if base is None:
            return
        try:
            if self._running and (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", ["-D", str(self.data_dir), "-m", "immediate", "-w", "stop"])
        finally:
            self._running = False
            self.base_dir = None
            atexit.unregister(self.stop)
            with contextlib.suppress(OSError):
                shutil.rmtree(base, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
