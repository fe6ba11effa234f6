"""Fixtures for tests that run against a real, throwaway PostgreSQL server.

``pg`` (session scope) is a private cluster reachable only through a Unix
socket; ``pg_connect`` (function scope) is a factory of connections to a
database that is empty when the test starts; ``role_name`` is a role name
unique to the test, dropped after it.

Without server binaries the tests are skipped, unless ``PINLINT_REQUIRE_PG``
is set (to anything but "" or "0"): then a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import psycopg
import pytest

from .pgcluster import PgCluster, PgUnavailable, find_pg_bindir


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "pg: needs the throwaway PostgreSQL server started by tests/conformance"
    )


def pg_required() -> bool:
    return os.environ.get("PINLINT_REQUIRE_PG", "") not in ("", "0")


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster]:
    """A running throwaway cluster; stopped and deleted at session end."""
    bindir = find_pg_bindir()
    if bindir is None:
        message = (
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found on PATH, "
            "under /usr/lib/postgresql/*/bin or in $PINLINT_PG_BINDIR"
        )
        if pg_required():
            pytest.fail(f"{message}; PINLINT_REQUIRE_PG is set", pytrace=False)
        pytest.skip(message)
    try:
        cluster = PgCluster(bindir)
    except PgUnavailable as exc:  # pragma: no cover - bindir was just found
        pytest.fail(str(exc), pytrace=False)
    with cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_probe_db(pg: PgCluster) -> str:
    """Name of a database shared by the probe tests, emptied after each one."""
    name = "pinlint_probe"
    pg.create_database(name)
    return name


@pytest.fixture
def pg_connect(pg: PgCluster, pg_probe_db: str) -> Iterator[Callable[[], psycopg.Connection[Any]]]:
    """Factory of fresh autocommit connections to an empty database.

    The database is emptied again after the test (creating one per test
    costs about 0.2 s), so objects made by a probe's setup never leak into
    the next test. Roles are cluster-wide: use ``role_name``.
    """
    try:
        yield partial(pg.connect, pg_probe_db)
    finally:
        pg.reset_database(pg_probe_db)


@pytest.fixture
def role_name(pg: PgCluster) -> Iterator[str]:
    """A role name unique to this test (roles are cluster-wide); dropped after."""
    name = f"pinlint_role_{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        with pg.connect() as conn:
            conn.execute(f'DROP ROLE IF EXISTS "{name}"')
