"""`.pinlint_cache/`: hits, invalidation, dependencies, corruption, concurrency."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from pinlint import cache as cache_module
from pinlint import runner
from pinlint.cache import DIRECTORY, Cache, digest, salt, snapshot
from pinlint.config import Config
from pinlint.model import Confidence, Diagnostic, Effect, FileResult, Severity, Span, Target

PINNING = 'import psycopg2\n\ndef f(cur):\n    cur.execute("SET search_path TO app")\n'
CLEAN = 'def f(cur):\n    cur.execute("UPDATE t SET a = 1")\n'
CONFIG = Config(jobs=1)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "bad.py").write_text(PINNING)
    (tmp_path / "app" / "ok.py").write_text(CLEAN)
    (tmp_path / "app" / "schema.sql").write_text("LISTEN jobs;\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def check(config: Config = CONFIG) -> tuple[list[FileResult], runner.Stats]:
    files = [(p, p.as_posix()) for p in sorted(Path("app").rglob("*")) if p.is_file()]
    return runner.run(files, config, Path.cwd())


def entries(project: Path) -> list[Path]:
    return sorted(p for p in (project / DIRECTORY).glob("v*/*/*") if p.is_file())


def age(path: Path, seconds: float = 60) -> None:
    """Make `path` look untouched for a while (so its stat may be trusted)."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(then, then))


def test_a_second_run_analyses_nothing(project: Path) -> None:
    first, stats = check()
    assert stats.analysed == 3 and stats.cached == 0
    second, stats = check()
    assert stats.analysed == 0 and stats.cached == 3
    assert first == second
    assert [d.code for r in second for d in r.diagnostics] == ["PIN101", "PIN303"]


def test_the_cache_directory(project: Path) -> None:
    check()
    base = project / DIRECTORY
    assert (base / ".gitignore").read_text().strip().endswith("*")
    assert (base / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    for entry in entries(project):
        data = json.loads(entry.read_bytes())  # JSON, never pickle
        assert data["format"] == cache_module.FORMAT
    assert len(entries(project)) == 3
    assert not list(base.rglob(".tmp-*"))


def test_a_changed_file_is_analysed_again(project: Path) -> None:
    check()
    (project / "app" / "ok.py").write_text(CLEAN.replace("UPDATE t SET a = 1", "LISTEN x"))
    results, stats = check()
    assert (stats.analysed, stats.cached) == (1, 2)
    assert "PIN303" in [d.code for d in results[1].diagnostics]


def test_same_size_same_mtime_right_after_hashing(project: Path) -> None:
    """A write in the same clock tick as the hashing is still seen: a stat is only
    trusted for a file that had not changed for a while when it was hashed."""
    path = project / "app" / "ok.py"
    check()
    stat = path.stat()
    path.write_text(CLEAN.replace("UPDATE", "LISTEN").replace("t SET a = 1", "x;;;;;;;;;;"))
    assert path.stat().st_size == stat.st_size
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    _, stats = check()
    assert stats.analysed == 1


def test_an_old_unchanged_stat_is_trusted(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in (project / "app").iterdir():
        age(path)
    check()

    def no_reading(self: Cache, location: str, path: str) -> str | None:
        raise AssertionError(f"{location} was read")

    monkeypatch.setattr(Cache, "current_digest", no_reading)
    _, stats = check()
    assert stats.cached == 3


def test_a_touched_file_is_hashed_not_analysed(project: Path) -> None:
    for path in (project / "app").iterdir():
        age(path)
    check()
    os.utime(project / "app" / "bad.py")  # `touch`: new mtime, same content
    _, stats = check()
    assert stats.analysed == 0


def test_branch_switching_hits(project: Path) -> None:
    path = project / "app" / "ok.py"
    check()
    path.write_text(PINNING)
    check()
    path.write_text(CLEAN)
    _, stats = check()
    assert stats.analysed == 0


def test_a_dependency_change_invalidates_its_dependants(project: Path) -> None:
    """Entries record the files they were computed from; cross-module facts add the
    modules they read. Any of them changing makes the entry a miss."""
    constants = project / "app" / "constants.py"
    constants.write_text('QUERY = "SET search_path TO app"\n')
    bad = project / "app" / "bad.py"
    store = Cache.for_config(CONFIG, project)
    poisoned = FileResult("app/bad.py", (_diagnostic("app/bad.py"),))
    started = time.time_ns()
    deps = (
        snapshot("app/bad.py", bad.read_bytes(), bad.stat()),
        snapshot("app/constants.py", constants.read_bytes(), constants.stat()),
    )
    store.store("app/bad.py", deps, started, poisoned)
    assert Cache.for_config(CONFIG, project).lookup(bad, "app/bad.py") == poisoned
    constants.write_text('QUERY = "SELECT 1"\n')
    assert Cache.for_config(CONFIG, project).lookup(bad, "app/bad.py") is None
    constants.write_text('QUERY = "SET search_path TO app"\n')
    assert Cache.for_config(CONFIG, project).lookup(bad, "app/bad.py") == poisoned
    constants.unlink()
    assert Cache.for_config(CONFIG, project).lookup(bad, "app/bad.py") is None


def _diagnostic(path: str) -> Diagnostic:
    return Diagnostic(
        code="PIN101",
        name="session-set",
        message="from the cache",
        help="",
        severity=Severity.WARNING,
        path=path,
        span=Span(1, 2, 3, 4),
        target=Target.RDS_PROXY,
        effect=Effect.PINS,
        confidence=Confidence.MEDIUM,
        tags=("a", "b"),
    )


def test_diagnostics_survive_the_round_trip() -> None:
    diag = replace(_diagnostic("x.py"), suppressed="because", sql="SET x", statement_line=3)
    data = json.loads(json.dumps(cache_module.encode((diag,))))
    assert cache_module.decode(tuple[Diagnostic, ...], data) == (diag,)


CORRUPTIONS = [
    b"",
    b"\x00\xff garbage",
    b"{",
    b"[]",
    b'{"format": 1}',
    b'{"format": 1, "records": {}}',
    b'{"format": 1, "records": [{"dependencies": "x"}]}',
    b'{"format": 1, "records": [{"dependencies": [[1, 2, 3]], "hashed_at_ns": 0}]}',
    b'{"format": 99, "records": []}',
    b'{"format": 1, "records": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
]


@pytest.mark.parametrize("garbage", CORRUPTIONS, ids=range(len(CORRUPTIONS)))
def test_a_corrupt_entry_is_a_miss(project: Path, garbage: bytes) -> None:
    expected, _ = check()
    for entry in entries(project):
        entry.write_bytes(garbage)
    results, stats = check()
    assert results == expected and stats.analysed == 3
    _, stats = check()  # and the entries were written again
    assert stats.cached == 3


def test_an_entry_with_bad_values_is_a_miss(project: Path) -> None:
    expected, _ = check()
    for entry in entries(project):
        data = json.loads(entry.read_bytes())
        for record in data["records"]:
            for diag in record["diagnostics"]:
                diag["severity"] = "catastrophic"
            record["diagnostics"] = record["diagnostics"] or [{"code": 1}]
        entry.write_text(json.dumps(data))
    results, stats = check()
    assert results == expected and stats.analysed == 3


def test_a_cache_that_cannot_be_written(project: Path) -> None:
    (project / DIRECTORY).write_text("a file where the directory should be")
    expected, _ = check(Config(jobs=1, cache=False))
    results, stats = check()
    assert results == expected and stats.analysed == 3
    _, stats = check()
    assert stats.analysed == 3


def test_no_cache_neither_reads_nor_writes(project: Path) -> None:
    check(Config(jobs=1, cache=False))
    assert not (project / DIRECTORY).exists()
    check()
    for entry in entries(project):  # poison every entry with a valid-looking result
        data = json.loads(entry.read_bytes())
        data["records"][0]["diagnostics"] = cache_module.encode((_diagnostic("app/x.py"),))
        entry.write_text(json.dumps(data))
    poisoned, _ = check()
    assert {d.message for r in poisoned for d in r.diagnostics} == {"from the cache"}
    clean, stats = check(Config(jobs=1, cache=False))
    assert stats.analysed == 3 and "from the cache" not in {
        d.message for r in clean for d in r.diagnostics
    }


def test_the_salt_follows_what_changes_results() -> None:
    base = salt(Config())
    for changed in (
        Config(select=("PIN1",)),
        Config(ignore=("PIN101",)),
        Config(target=Target.PGBOUNCER),
        Config(max_statement_bytes=10),
        Config(max_file_bytes=10),
        Config(require_reason=True),
    ):
        assert salt(changed) != base, changed
    for same in (
        Config(jobs=3),
        Config(cache=False),
        Config(extend_exclude=("x",)),
        Config(fail_on=Severity.ERROR),
        Config(per_file_ignores=(("*.py", ("PIN101",)),)),
    ):
        assert salt(same) == base, same


def test_the_cache_lives_next_to_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.pinlint]\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(PINNING)
    proc = _cli("check", ".", cwd=tmp_path / "pkg")
    assert proc.returncode == 1
    assert (tmp_path / DIRECTORY).is_dir() and not (tmp_path / "pkg" / DIRECTORY).exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "m.py").write_text(PINNING)
    assert _cli("check", "--isolated", "m.py", cwd=plain).returncode == 1
    assert (plain / DIRECTORY).is_dir()


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "PINLINT_STATS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pinlint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_concurrent_runs(project: Path) -> None:
    for i in range(40):
        (project / "app" / f"m{i}.py").write_text(PINNING.replace("app", f"app{i}"))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pinlint", "check", "app", "--format", "json", "--jobs", "2"],
            cwd=project,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "NO_COLOR": "1"},
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert len(set(outputs)) == 1
    assert len(json.loads(outputs[0])["findings"]) == 42
    written = entries(project)
    assert len(written) >= 43  # one per file (more if pinlint's code changed meanwhile)
    for entry in written:  # whole entries only: each was renamed into place
        assert json.loads(entry.read_bytes())["format"] == cache_module.FORMAT
    assert not list((project / DIRECTORY).rglob(".tmp-*"))


WARM = """
import sys
from pinlint.cli import main
try:
    main(["check", "app", "-q"])
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules} & {"libcst", "sqlglot"})
print("loaded:", ",".join(loaded))
"""


def test_a_warm_run_imports_neither_libcst_nor_sqlglot(project: Path) -> None:
    env = {**os.environ, "NO_COLOR": "1", "PINLINT_STATS": "1"}
    cold = subprocess.run(
        [sys.executable, "-c", WARM], cwd=project, capture_output=True, text=True, env=env
    )
    assert "loaded: libcst,sqlglot" in cold.stdout  # the first run needs them
    for _ in range(3):  # pinlint's own files may change meanwhile (in development)
        warm = subprocess.run(
            [sys.executable, "-c", WARM], cwd=project, capture_output=True, text=True, env=env
        )
        if "cached=3 analysed=0" in warm.stderr:
            break
    assert "cached=3 analysed=0" in warm.stderr
    assert "loaded: \n" in warm.stdout
    assert "SET search_path" in warm.stdout


def test_reported_dependencies_are_followed(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`FileResult.dependencies` (what the dataflow read in other modules) becomes
    part of the entry: changing such a module re-analyses its dependants."""
    from pinlint import engine

    constants = project / "app" / "constants.py"
    constants.write_text('QUERY = "SET search_path TO app"\n')
    real = engine.lint_source

    def reading_constants(source: bytes, path: str, config: Config) -> FileResult:
        result = real(source, path, config)
        if not path.endswith("bad.py"):
            return result
        used = (
            ("app/bad.py", digest(source)),
            ("app/constants.py", digest(constants.read_bytes())),
        )
        return FileResult(result.path, result.diagnostics, used)

    monkeypatch.setattr(engine, "lint_source", reading_constants)
    first, stats = check()
    assert stats.analysed == 4
    again, stats = check()
    assert stats.analysed == 0 and again == first
    constants.write_text('QUERY = "SELECT 1"\n')
    _, stats = check()
    assert stats.analysed == 2  # the module itself and its dependant
    _, stats = check()
    assert stats.analysed == 0
