"""Every fixture file under tests/fixtures/{sql,python} against its inline expectations."""

from __future__ import annotations

from pathlib import Path

import pytest
from checking import check_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = sorted(
    [
        *FIXTURES.glob("sql/*.sql"),
        *FIXTURES.glob("python/*.py"),
        # one directory per target profile beyond RDS Proxy for PostgreSQL
        *FIXTURES.glob("pgbouncer/*.py"),
        *FIXTURES.glob("mysql/*.py"),
        *FIXTURES.glob("mysql/*.sql"),
    ]
)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture(path: Path) -> None:
    check_file(path)


def test_fixtures_exist() -> None:
    assert len(FILES) >= 4
