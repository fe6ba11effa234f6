"""Every rule's example file in `rules/` runs with only that rule enabled."""

from __future__ import annotations

from pathlib import Path

import pytest
from checking import check_file, location_line

from pinlint.rules import all_rules
from pinlint.rules.base import SqlRule

CATALOGUE = Path(__file__).resolve().parents[1] / "rules"
SQL_RULES = [r for r in all_rules() if issubclass(r, SqlRule)]


def example_path(rule: type) -> Path:
    return CATALOGUE / f"{rule.code}-{rule.name}.py"


@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.code)
def test_example_file(rule: type[SqlRule]) -> None:
    path = example_path(rule)
    assert path.is_file(), f"missing example file {path.name}"
    exp, diagnostics = check_file(path, select=(rule.code,))
    kinds = {s.kind for s in exp.sections}
    assert kinds == {"bad", "good"}, f"{path.name} needs both bad and good sections"
    for section in exp.sections:
        hits = [d for d in diagnostics if section.start <= location_line(d) <= section.end]
        if section.kind == "bad":
            assert hits, f"bad section {section.title!r} produced nothing"
        else:
            assert not hits, f"good section {section.title!r} produced {hits}"


def test_every_example_file_belongs_to_a_rule() -> None:
    names = {example_path(r).name for r in SQL_RULES}
    stray = sorted(p.name for p in CATALOGUE.glob("*.py") if p.name not in names)
    assert not stray, f"example files without a rule: {stray}"
