"""`.pinlint_cache/`: hits, invalidation, dependencies, corruption, concurrency."""

from __future__ import annotations

import json
import os
import shutil
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


@pytest.fixture(params=["entries", "index"])
def both_ways(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run the test with lookups from each file's entry, then through the index."""
    monkeypatch.setattr(cache_module, "INDEX_MIN_FILES", 1 if request.param == "index" else 10**9)
    return str(request.param)


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run reads and writes the index, however few its files."""
    monkeypatch.setattr(cache_module, "INDEX_MIN_FILES", 1)


def index_of(project: Path) -> Path:
    [found] = (project / DIRECTORY).glob(f"v*/{cache_module.INDEX}")
    return found


def age(path: Path, seconds: float = 60) -> None:
    """Make `path` look untouched for a while (so its stat may be trusted)."""
    then = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(then, then))


@pytest.mark.usefixtures("both_ways")
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


@pytest.mark.usefixtures("both_ways")
def test_a_changed_file_is_analysed_again(project: Path) -> None:
    check()
    (project / "app" / "ok.py").write_text(CLEAN.replace("UPDATE t SET a = 1", "LISTEN x"))
    results, stats = check()
    assert (stats.analysed, stats.cached) == (1, 2)
    assert "PIN303" in [d.code for d in results[1].diagnostics]


@pytest.mark.usefixtures("both_ways")
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


@pytest.mark.usefixtures("both_ways")
def test_an_old_unchanged_stat_is_trusted(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path in (project / "app").iterdir():
        age(path)
    check()

    def no_reading(self: Cache, location: str, path: str) -> str | None:
        raise AssertionError(f"{location} was read")

    monkeypatch.setattr(Cache, "current_digest", no_reading)
    _, stats = check()
    assert stats.cached == 3


@pytest.mark.usefixtures("both_ways")
def test_a_touched_file_is_hashed_not_analysed(project: Path) -> None:
    for path in (project / "app").iterdir():
        age(path)
    check()
    os.utime(project / "app" / "bad.py")  # `touch`: new mtime, same content
    _, stats = check()
    assert stats.analysed == 0


@pytest.mark.usefixtures("both_ways")
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
    b'{"format": 2}',
    b'{"format": 2, "records": {}}',
    b'{"format": 2, "records": [{"dependencies": "x"}]}',
    b'{"format": 2, "records": [{"dependencies": [[1, 2, 3]], "diagnostics": []}]}',
    b'{"format": 2, "records": [{"dependencies": ["abcde"], "diagnostics": []}]}',
    b'{"format": 99, "records": []}',
    b'{"format": 2, "records": [' + b"[" * 5000 + b"]" * 5000 + b"]}",
    # an index's shape, where an entry is expected (and the other way round)
    b'{"format": 2, "files": [["app/ok.py", "0", 1, 1, 1]], "entries": {}}',
    b'{"format": 2, "files": {}, "entries": []}',
    b'{"format": 2, "files": [], "entries": {"0": [[-1], [], null]}}',
    b'{"format": 2, "files": [], "entries": {"0": "x"}}',
]


def corrupt_everything(project: Path, garbage: bytes) -> None:
    """Every entry, and the index if there is one, become `garbage`."""
    for path in [*entries(project), *(project / DIRECTORY).glob(f"v*/{cache_module.INDEX}")]:
        path.write_bytes(garbage)


@pytest.mark.parametrize("garbage", CORRUPTIONS, ids=range(len(CORRUPTIONS)))
@pytest.mark.usefixtures("both_ways")
def test_a_corrupt_entry_is_a_miss(project: Path, garbage: bytes) -> None:
    expected, _ = check()
    corrupt_everything(project, garbage)
    results, stats = check()
    assert results == expected and stats.analysed == 3
    _, stats = check()  # and the entries were written again
    assert stats.cached == 3


@pytest.mark.usefixtures("both_ways")
def test_an_entry_with_bad_values_is_a_miss(project: Path) -> None:
    expected, _ = check()
    for entry in entries(project):
        data = json.loads(entry.read_bytes())
        for record in data["records"]:
            for diag in record["diagnostics"]:
                diag["severity"] = "catastrophic"
            record["diagnostics"] = record["diagnostics"] or [{"code": 1}]
        entry.write_text(json.dumps(data))
    for index in (project / DIRECTORY).glob(f"v*/{cache_module.INDEX}"):
        data = json.loads(index.read_bytes())
        for item in data["entries"].values():
            item[1] = [{"code": 1}]
        index.write_text(json.dumps(data))
    results, stats = check()
    assert results == expected and stats.analysed == 3


@pytest.mark.parametrize("garbage", CORRUPTIONS, ids=range(len(CORRUPTIONS)))
@pytest.mark.usefixtures("indexed")
def test_a_corrupt_index_is_ignored(project: Path, garbage: bytes) -> None:
    """The entries still serve every file, and the run writes the index again."""
    expected, _ = check()
    index_of(project).write_bytes(garbage)
    results, stats = check()
    assert results == expected and stats.cached == 3
    assert json.loads(index_of(project).read_bytes())["format"] == cache_module.FORMAT


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
    count = cache_module.INDEX_MIN_FILES  # enough for the runs to share the index too
    for i in range(count):
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
    assert len(json.loads(outputs[0])["findings"]) == count + 2
    written = entries(project)
    assert len(written) >= count + 3  # one per file (more if pinlint's code changed meanwhile)
    indexes = list((project / DIRECTORY).glob(f"v*/{cache_module.INDEX}"))
    for entry in [*written, *indexes]:  # whole files only: each was renamed into place
        assert json.loads(entry.read_bytes())["format"] == cache_module.FORMAT
    assert indexes
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


@pytest.mark.usefixtures("both_ways")
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


# -- the index ------------------------------------------------------------------------


def no_entry_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def reading(self: Cache, key: str) -> None:
        raise AssertionError("an entry was read")

    monkeypatch.setattr(Cache, "_records", reading)


@pytest.mark.usefixtures("indexed")
def test_a_large_run_reads_the_index_not_the_entries(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = check()
    data = json.loads(index_of(project).read_bytes())
    assert data["format"] == cache_module.FORMAT and len(data["entries"]) == 3
    locations = [f[0] for f in data["files"]]
    assert sorted(locations) == ["app/bad.py", "app/ok.py", "app/schema.sql"]  # each once
    with monkeypatch.context() as patched:
        no_entry_reads(patched)
        second, stats = check()
    assert stats.cached == 3 and second == first
    written = index_of(project).stat().st_mtime_ns
    check()
    assert index_of(project).stat().st_mtime_ns == written  # nothing new: not rewritten


@pytest.mark.usefixtures("indexed")
def test_the_index_follows_changes(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = project / "app" / "ok.py"
    check()
    ok.write_text(PINNING)
    results, stats = check()  # the index's record no longer holds: analysed, index rewritten
    assert stats.analysed == 1 and "PIN101" in [d.code for d in results[1].diagnostics]
    with monkeypatch.context() as patched:
        no_entry_reads(patched)
        _, stats = check()
    assert stats.cached == 3
    ok.write_text(CLEAN)  # back: the index has the other content, the entry has both
    _, stats = check()
    assert stats.analysed == 0
    with monkeypatch.context() as patched:
        no_entry_reads(patched)
        _, stats = check()
    assert stats.cached == 3


@pytest.mark.parametrize("ids", [[-1], [99], ["0"], None, [0.0]])
@pytest.mark.usefixtures("indexed")
def test_an_index_record_naming_no_file_is_a_miss(project: Path, ids: object) -> None:
    expected, _ = check()
    index = index_of(project)
    data = json.loads(index.read_bytes())
    for item in data["entries"].values():
        item[0] = ids
    index.write_text(json.dumps(data))
    results, stats = check()
    assert results == expected and stats.cached == 3  # from the entries


@pytest.mark.usefixtures("indexed")
def test_the_index_keeps_the_files_a_run_did_not_look_at(project: Path) -> None:
    check()
    only = [(Path("app/ok.py"), "app/ok.py")]
    (project / "app" / "ok.py").write_text(PINNING)
    runner.run(only, CONFIG, Path.cwd())
    assert len(json.loads(index_of(project).read_bytes())["entries"]) == 3


def test_small_runs_leave_the_index_alone(project: Path) -> None:
    check()
    assert not list((project / DIRECTORY).glob(f"v*/{cache_module.INDEX}"))


def test_a_warm_run_builds_no_project_index(project: Path) -> None:
    files = [(p, p.as_posix()) for p in sorted(Path("app").rglob("*")) if p.is_file()]
    built: list[int] = []

    def project_index() -> None:
        built.append(1)
        return None

    runner.run(files, CONFIG, Path.cwd(), project=project_index)
    assert built == [1]
    _, stats = runner.run(files, CONFIG, Path.cwd(), project=project_index)
    assert stats.cached == 3 and built == [1]


# -- old salt directories ----------------------------------------------------------


DAY = 24 * 3600


def salt_dir(base: Path, name: str, idle_seconds: float) -> Path:
    path = base / name
    (path / "ab").mkdir(parents=True)
    (path / "ab" / "entry").write_text("{}")
    age(path, idle_seconds)
    return path


def test_a_new_salt_directory_removes_stale_ones(project: Path) -> None:
    base = project / DIRECTORY
    stale = salt_dir(base, "v1-0123abcd", 8 * DAY)
    recent = salt_dir(base, "v1-4567abcd", 3600 / 2)
    idle = salt_dir(base, "v2-89abcdef", 2 * DAY)
    other = salt_dir(base, "not-a-salt", 30 * DAY)  # not ours: left alone
    (base / "v1-feedface").write_text("a file")
    age(base / "v1-feedface", 30 * DAY)
    _, stats = check()
    assert stats.analysed == 3
    assert not stale.exists()
    assert recent.exists() and idle.exists() and other.exists()
    assert (base / "v1-feedface").exists()
    assert not list(base.glob(".trash-*"))
    ours = [p for p in base.glob("v*-*") if p.is_dir() and p not in (recent, idle)]
    assert len(ours) == 1 and list(ours[0].glob("*/*"))


def test_only_the_most_recently_used_salt_directories_stay(project: Path) -> None:
    base = project / DIRECTORY
    kept = cache_module.MAX_SALTS - 1  # besides the run's own
    olds = [salt_dir(base, f"v2-{i:08x}", 2 * 3600 + i * 60) for i in range(kept + 3)]
    busy = salt_dir(base, "v2-bbbbbbbb", 60)  # in use by another run: never removed
    check()
    remaining = {p.name for p in olds if p.exists()}
    assert remaining == {p.name for p in olds[: kept - 1]}  # `busy` is among the most recent
    assert busy.exists()


def test_a_used_salt_directory_is_marked_and_sweeps_nothing(project: Path) -> None:
    check()
    [ours] = [p for p in (project / DIRECTORY).glob("v*-*")]
    stale = salt_dir(project / DIRECTORY, "v1-0123abcd", 8 * DAY)
    age(ours, 3 * DAY)
    check()
    assert time.time() - ours.stat().st_mtime < 600  # used now
    assert stale.exists()  # only a run that makes its directory sweeps


def test_sweeping_tolerates_races_and_refusals(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = project / DIRECTORY
    stale = [salt_dir(base, f"v1-{i:08x}", 8 * DAY + i * 3600) for i in range(3)]  # [0] newest
    cache = Cache.for_config(CONFIG, project)
    real_rename = os.rename
    calls: list[str] = []

    def rename(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(os.fspath(src))
        if len(calls) == 1:
            raise PermissionError("not yours")
        if len(calls) == 2:
            shutil.rmtree(src)  # another run took it first
        real_rename(src, dst)

    with monkeypatch.context() as patched:
        patched.setattr(os, "rename", rename)
        assert cache.sweep() == [stale[2].name]
    assert stale[0].exists() and not stale[1].exists() and not stale[2].exists()
    assert not list(base.glob(".trash-*"))
    assert cache.sweep() == [stale[0].name]
    _, stats = check()  # and the run goes on as usual
    assert stats.analysed == 3


def test_sweeping_a_cache_that_is_not_a_directory(project: Path) -> None:
    (project / DIRECTORY).write_text("a file where the directory should be")
    assert Cache.for_config(CONFIG, project).sweep() == []


@pytest.mark.usefixtures("indexed")
def test_reported_dependencies_survive_the_index(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`FileResult.dependencies` that are other pairs than the record's dependencies
    (a file listed twice, a path as reported) come back from the index unchanged."""
    from pinlint import engine

    real = engine.lint_source

    def reporting(source: bytes, path: str, config: Config) -> FileResult:
        result = real(source, path, config)
        own = (path, digest(source))
        extra = (("./" + path, digest(source)),) if path.endswith(".sql") else ()
        return FileResult(result.path, result.diagnostics, (own, own, *extra))

    monkeypatch.setattr(engine, "lint_source", reporting)
    first, _ = check()
    entries_ = json.loads(index_of(project).read_bytes())["entries"].values()
    shapes = sorted(type(item[2][-1]).__name__ for item in entries_)
    assert shapes == ["int", "int", "list"]  # rows of the table, or [path, hash] pairs
    with monkeypatch.context() as patched:
        no_entry_reads(patched)
        second, stats = check()
    assert stats.cached == 3 and second == first
    assert [len(r.dependencies) for r in second] == [2, 2, 3]
