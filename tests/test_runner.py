"""Running over many files: processes, order, progress, crashes, and `--jobs`."""

from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from pinlint import runner
from pinlint.api import RunResult, lint_paths
from pinlint.config import Config
from pinlint.model import FileResult

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    [*(ROOT / "tests" / "fixtures" / "python").glob("*.py"), *(ROOT / "rules").glob("*.py")]
)
FORK = "fork" in multiprocessing.get_all_start_methods()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Three copies of the Python fixtures and rule examples, plus a SQL file."""
    for copy in range(3):
        target = tmp_path / "src" / f"copy{copy}"
        target.mkdir(parents=True)
        for source in SOURCES:
            shutil.copyfile(source, target / source.name)
    (tmp_path / "src" / "schema.sql").write_text("SET search_path TO app;\nLISTEN jobs;\n")
    (tmp_path / "src" / "clean.py").write_text("print('nothing to see')\n")
    return tmp_path


def run(tree: Path, monkeypatch: pytest.MonkeyPatch, **settings: object) -> RunResult:
    monkeypatch.chdir(tree)
    config = Config(cache=False, **settings)  # type: ignore[arg-type]
    return lint_paths([Path("src")], config)


def test_processes_give_the_results_of_one(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    one = run(tree, monkeypatch, jobs=1)
    two = run(tree, monkeypatch, jobs=2)
    three = run(tree, monkeypatch, jobs=3)
    assert one.diagnostics, "the fixtures have findings"
    assert one == two == three
    paths = [f.path for f in one.files]
    assert paths == sorted(paths)
    assert len(paths) == 3 * len(SOURCES) + 2


def test_the_pool_is_used_for_large_runs(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    files = [(p, p.relative_to(tree).as_posix()) for p in sorted((tree / "src").rglob("*.py"))]
    _, stats = runner.run(files, Config(cache=False, jobs=2), tree)
    assert stats.processes == 2 and stats.analysed == len(files) and stats.cached == 0


def test_jobs_1_stays_in_this_process(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(runner, "_executor", no_pool)
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    assert run(tree, monkeypatch, jobs=1).files
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 1 << 40)  # small runs too
    assert run(tree, monkeypatch, jobs=2).files


def test_progress_counts_every_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    monkeypatch.chdir(tree)
    calls: list[tuple[int, int]] = []
    result = lint_paths(
        [Path("src")], Config(cache=False, jobs=2), progress=lambda *a: calls.append(a)
    )
    total = len(result.files)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.skipif(not FORK, reason="the crash is injected through fork")
def test_a_worker_that_dies_costs_one_file(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tree / "src" / "copy1" / "boom.py").write_text("cur.execute('SET a = 1')\n")
    expected = run(tree, monkeypatch, jobs=1)
    analyse = runner.Worker.analyse

    def dying(self: runner.Worker, task: runner.Task) -> object:
        if task.path.endswith("boom.py") and os.getpid() != parent:
            os._exit(3)  # like a segfault or the OOM killer: no exception, no cleanup
        return analyse(self, task)

    parent = os.getpid()
    monkeypatch.setattr(runner.Worker, "analyse", dying)
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    got = run(tree, monkeypatch, jobs=2, select=("ALL",))
    by_path = {f.path: f for f in got.files}
    [crash] = by_path.pop("src/copy1/boom.py").diagnostics
    assert crash.code == "PIN905" and "died" in crash.message
    reference = run(tree, monkeypatch, jobs=1, select=("ALL",))
    assert by_path == {f.path: f for f in reference.files if f.path != "src/copy1/boom.py"}
    assert len(expected.files) == len(got.files)


def test_default_jobs_is_every_usable_core() -> None:
    assert runner.config_jobs(Config()) == runner.default_jobs() >= 1
    assert runner.config_jobs(Config(jobs=3)) == 3


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
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


def test_jobs_on_the_command_line(tree: Path) -> None:
    one = cli("check", "src", "--jobs", "1", "--no-cache", "--format", "json", cwd=tree)
    every = cli("check", "src", "--jobs", "0", "--no-cache", "--format", "json", cwd=tree)
    assert one.returncode == every.returncode == 1
    assert one.stdout == every.stdout
    bad = cli("check", "src", "--jobs", "-1", cwd=tree)
    assert bad.returncode == 2 and "--jobs" in bad.stderr


def test_jobs_is_not_a_file_setting(tree: Path) -> None:
    (tree / "pyproject.toml").write_text("[tool.pinlint]\njobs = 2\n")
    proc = cli("check", "src", cwd=tree)
    assert proc.returncode == 2
    assert "`jobs` is a command-line option only" in proc.stderr


def test_the_analysis_tunes_the_garbage_collector_and_restores_it(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[tuple[int, int, int], bool]] = []
    analyse = runner.Worker.analyse

    def watched(self: runner.Worker, task: runner.Task) -> object:
        seen.append((gc.get_threshold(), gc.get_freeze_count() > 0))
        return analyse(self, task)

    monkeypatch.setattr(runner.Worker, "analyse", watched)
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    assert run(tree, monkeypatch, jobs=1).files
    assert seen and set(seen) == {(runner.GC_THRESHOLDS, True)}
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


@pytest.mark.skipif(not FORK, reason="the probe reaches the workers through fork")
def test_workers_tune_their_garbage_collector(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def probe(self: runner.Worker, task: runner.Task) -> FileResult:
        return FileResult(f"{gc.get_threshold()} {gc.get_freeze_count() > 0} {os.getpid()}", ())

    monkeypatch.setattr(runner.Worker, "analyse", probe)
    monkeypatch.setattr(runner, "POOL_MIN_BYTES", 0)
    files = [(p, p.name) for p in sorted((tree / "src").rglob("*.py"))]
    results, stats = runner.run(files, Config(cache=False, jobs=2), tree)
    assert stats.processes == 2
    assert {r.path.rsplit(" ", 1)[0] for r in results} == {f"{runner.GC_THRESHOLDS} True"}
    assert str(os.getpid()) not in {r.path.rsplit(" ", 1)[1] for r in results}
    assert gc.get_threshold() != runner.GC_THRESHOLDS  # the parent's is untouched


def test_a_handful_of_files_starts_no_pool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-commit shape: a few files, analysed in this process whatever `--jobs` says."""

    def no_pool(*args: object, **kwargs: object) -> None:
        raise AssertionError("a process pool was started")

    monkeypatch.setattr(runner, "_executor", no_pool)
    for i in range(5):
        shutil.copyfile(SOURCES[i], tmp_path / f"m{i}.py")
    files = [(p, p.name) for p in sorted(tmp_path.glob("*.py"))]
    results, stats = runner.run(files, Config(cache=False, jobs=4), tmp_path)
    assert stats.processes == 1 and len(results) == 5


def test_a_small_run_loads_no_pool_or_report_modules(tmp_path: Path) -> None:
    """What a run does not need is not imported: the process pool for a few files,
    the formats not chosen (SARIF's object model), pathspec without ignore files."""
    (tmp_path / "m.py").write_text("import os\n")
    script = (
        "import sys\n"
        "from pinlint.cli import main\n"
        "try:\n"
        "    main(['check', 'm.py', '--no-cache', '--isolated'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "wanted = {'concurrent.futures', 'multiprocessing', 'sarif_om', 'attr', 'pathspec',\n"
        "          'pinlint.report.sarif', 'pinlint.report.json'}\n"
        "print('loaded:', sorted(wanted & set(sys.modules)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert "loaded: []" in proc.stdout, proc.stdout + proc.stderr


def test_a_files_cyclic_garbage_is_freed_before_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the youngest generation collected only every `GC_THRESHOLDS[0]`
    allocations, the collection after each file is what frees its cycles."""
    from pinlint import engine

    class Node:
        me: object

    alive: list[weakref.ref[Node]] = []

    def cyclic(source: bytes, path: str, config: Config, project: object = None) -> FileResult:
        assert all(ref() is None for ref in alive), "the previous file's garbage is still there"
        node = Node()
        node.me = node
        alive.append(weakref.ref(node))
        return FileResult(path, ())

    monkeypatch.setattr(engine, "lint_source", cyclic)
    for i in range(3):
        (tmp_path / f"m{i}.py").write_text("x = 1\n")
    files = [(p, p.name) for p in sorted(tmp_path.glob("*.py"))]
    runner.run(files, Config(cache=False, jobs=1), tmp_path)
    assert len(alive) == 3 and all(ref() is None for ref in alive)
