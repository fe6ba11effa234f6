"""A rule that raises does not stop the others: PIN905 reports it where the rule
was looking (an SQL statement, a function's control flow, a driver call)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pinlint.api import lint_source
from pinlint.rules.open_transaction import OpenTransaction
from pinlint.rules.server_side_cursor import ServerSideCursor
from pinlint.rules.session_set import SessionSet

SOURCE = """\
import psycopg2

conn = psycopg2.connect("")


def lambda_handler(event, context):
    cur = conn.cursor(name="big")
    cur.execute("SET search_path TO tenant")
    cur.execute("LISTEN jobs")
    cur.execute("BEGIN")
    return cur.fetchall()
"""


def _raises(self: object, subject: object, ctx: object) -> Iterator[object]:
    raise ValueError("boom")
    yield  # (a generator, like every rule's check)


@pytest.mark.parametrize(
    ("rule", "line"),
    [(SessionSet, 8), (OpenTransaction, 6), (ServerSideCursor, 7)],
    ids=["sql", "flow", "call"],
)
def test_a_broken_rule_is_reported_and_the_others_still_run(
    rule: type, line: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = {d.code for d in lint_source(SOURCE, "app.py").diagnostics}
    assert rule.code in codes and "PIN303" in codes  # (LISTEN)
    monkeypatch.setattr(rule, "check", _raises)
    found = lint_source(SOURCE, "app.py").diagnostics
    broken = [d for d in found if d.code == "PIN905"]
    assert {d.message for d in broken} == {f"rule {rule.code} failed: ValueError: boom"}
    assert broken[0].span.line == line  # (the SQL rule fails on every statement)
    assert rule.code not in {d.code for d in found}
    assert "PIN303" in {d.code for d in found}
