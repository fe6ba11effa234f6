"""Every rule's example files in `rules/` run with only that rule enabled.

A rule has one example file per profile (target and dialect) it covers: the main
file `PIN###-<name>.py` and variants `PIN###-<name>.<variant>.py` (see
`pinlint.docs`). Each file's settings line says its target and dialect.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from checking import check_file, location_line

from pinlint.docs import VARIANTS, example_files, profile_of
from pinlint.model import Effect
from pinlint.rules import all_rules
from pinlint.rules.base import CallRule, FlowRule, SqlRule

CATALOGUE = Path(__file__).resolve().parents[1] / "rules"
#: The rules with example files: SQL rules and flow rules (PIN501).
SQL_RULES = [r for r in all_rules() if issubclass(r, (SqlRule, FlowRule, CallRule))]
EXAMPLES = [(rule, name) for rule in SQL_RULES for name, _, _ in example_files(rule)]


def example_path(rule: type) -> Path:
    return CATALOGUE / f"{rule.code}-{rule.name}.py"


@pytest.mark.parametrize(
    ("rule", "name"), EXAMPLES, ids=[name.removesuffix(".py") for _, name in EXAMPLES]
)
def test_example_file(rule: type[SqlRule], name: str) -> None:
    path = CATALOGUE / name
    profile = profile_of(path.read_text(encoding="utf-8"))
    assert profile is not None, f"{name}: its settings line names no target/dialect pair"
    assert profile in rule.effects, f"{name}: {rule.code} says nothing about {profile.label}"
    variant = name.removesuffix(".py").removeprefix(f"{rule.code}-{rule.name}").lstrip(".")
    assert variant in ("", VARIANTS[profile]), (
        f"{name}: a {profile.label} example is .{VARIANTS[profile]}.py"
    )
    exp, diagnostics = check_file(path, select=(rule.code,))
    kinds = {s.kind for s in exp.sections}
    if rule.effects[profile] is Effect.OK:
        assert kinds == {"good"}, (
            f"{name}: {rule.code} is ok on {profile.label}: good sections only"
        )
    else:
        assert kinds == {"bad", "good"}, f"{name} needs both bad and good sections"
    for section in exp.sections:
        hits = [d for d in diagnostics if section.start <= location_line(d) <= section.end]
        if section.kind == "bad":
            assert hits, f"bad section {section.title!r} produced nothing"
        else:
            assert not hits, f"good section {section.title!r} produced {hits}"


@pytest.mark.parametrize("rule", SQL_RULES, ids=lambda r: r.code)
def test_every_profile_a_rule_flags_has_an_example(rule: type[SqlRule]) -> None:
    covered = {profile for _, profile, _ in example_files(rule)}
    missing = [p.label for p, e in rule.effects.items() if e is not Effect.OK and p not in covered]
    assert not missing, f"{rule.code} has no example file for {missing}"


def test_every_example_file_belongs_to_a_rule() -> None:
    names = {name for _, name in EXAMPLES}
    stray = sorted(p.name for p in CATALOGUE.glob("*.py") if p.name not in names)
    assert not stray, f"example files without a rule (or with an unknown variant): {stray}"
