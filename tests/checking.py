"""Run pinlint over a fixture file and compare with its inline expectations."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from expectations import Expectations, parse, render_mismatch

from pinlint.api import lint_source
from pinlint.config import Config
from pinlint.model import Diagnostic, Dialect, Target


def config_for(exp: Expectations, **overrides: object) -> Config:
    settings = dict(exp.settings)
    kwargs: dict[str, object] = {}
    if "max-statement-bytes" in settings:
        kwargs["max_statement_bytes"] = int(settings["max-statement-bytes"])
    if "target" in settings:
        kwargs["target"] = Target(settings["target"])
    if "dialect" in settings:
        kwargs["dialect"] = Dialect(settings["dialect"])
    if "pgbouncer-version" in settings:
        kwargs["pgbouncer_version"] = settings["pgbouncer-version"]
    if "max-prepared-statements" in settings:
        kwargs["max_prepared_statements"] = int(settings["max-prepared-statements"])
    if "session-pinning-filters" in settings:
        kwargs["session_pinning_filters"] = tuple(settings["session-pinning-filters"].split(","))
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


def check_project(directory: Path, **overrides: object) -> dict[str, list[Diagnostic]]:
    """Check a directory as `pinlint check` does (one run, modules seeing each other)
    and compare each Python file's findings with its own inline markers."""
    from pinlint.api import lint_paths

    config = Config(**{"cache": False, "jobs": 1, **overrides})  # type: ignore[arg-type]
    result = lint_paths([directory], config, root=directory)
    found = {f.path: list(f.diagnostics) for f in result.files}
    mismatches = []
    for path in sorted(directory.rglob("*.py")):
        exp = parse(path)
        shown = path.relative_to(directory).as_posix()
        actual = Counter((location_line(d), d.code) for d in found.get(shown, []))
        if actual != exp.expected:
            mismatches.append(render_mismatch(path, actual, exp.expected))
    if mismatches:
        pytest.fail("\n\n".join(mismatches), pytrace=False)
    return found


def cli_codes(directory: Path, *paths: str) -> dict[str, list[str]]:
    """The codes ``pinlint check`` reports per file, run in `directory` on `paths`
    (default: ``.``), with the cache (a process of its own, as a user runs it)."""
    command = [sys.executable, "-m", "pinlint", "check", *(paths or (".",))]
    done = subprocess.run(
        [*command, "--isolated", "--format", "json"],
        cwd=directory,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    found: dict[str, list[str]] = {}
    for finding in json.loads(done.stdout)["findings"]:
        found.setdefault(finding["path"], []).append(finding["code"])
    return found
