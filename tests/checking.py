"""Run pinlint over a fixture file and compare with its inline expectations."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from expectations import Expectations, parse, render_mismatch

from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.model import Diagnostic


def config_for(exp: Expectations, **overrides: object) -> Config:
    settings = dict(exp.settings)
    kwargs: dict[str, object] = {}
    if "max-statement-bytes" in settings:
        kwargs["max_statement_bytes"] = int(settings["max-statement-bytes"])
    if "select" in settings:
        kwargs["select"] = tuple(settings["select"].split(","))
    kwargs.update(overrides)
    return Config(**kwargs)  # type: ignore[arg-type]


def location_line(d: Diagnostic) -> int:
    return d.statement_line if d.statement_line is not None else d.span.line


def check_file(path: Path, **overrides: object) -> tuple[Expectations, list[Diagnostic]]:
    exp = parse(path)
    result = lint_source(path.read_bytes(), path.name, config_for(exp, **overrides))
    actual = Counter((location_line(d), d.code) for d in result.diagnostics)
    unexpected, missing = actual - exp.expected, exp.expected - actual
    stray = unexpected - exp.todo_ok - exp.todo_expect
    if missing or stray:
        pytest.fail(render_mismatch(path, actual, exp.expected), pytrace=False)
    fixed = (unexpected & exp.todo_expect) + (exp.todo_ok - unexpected)
    if fixed:
        pytest.fail(
            f"{path}: known gaps fixed at {sorted(fixed)}; turn the todo markers into expect/ok"
        )
    if exp.todo_ok or exp.todo_expect:
        pytest.xfail(f"known gaps: {sorted((exp.todo_ok + exp.todo_expect).elements())}")
    return exp, list(result.diagnostics)
