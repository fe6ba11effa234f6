"""How a run executes: which files come from the cache, which are analysed, and where.

`api.lint_paths` discovers the files; `run` returns their results, in the order
given. The work per file is `engine.lint_source`, which stays pure; around it:

1. with the cache on (`pinlint.cache`), the parent looks every file up first (a run
   of `cache.INDEX_MIN_FILES` files or more through the cache's index); an
   unchanged tree costs a stat per file (or a read and a hash), and never imports
   the engine, so libcst and sqlglot are not even loaded, nor is the project index
   built (`project` may be given as a function that builds it);
2. the remaining files are analysed in this process when they are small in total
   (`POOL_MIN_BYTES`) or `jobs` is 1, else in a pool of worker processes (`fork`
   where the platform has it). Each worker builds its shared state once, in the
   pool's initializer: the configuration, its rule classes, the engine and its
   compiled patterns, its own handle on the cache. Files are handed out in small
   chunks, largest first, so that one big file does not finish last. Wherever it
   runs, the analysis tunes Python's garbage collector (`tune_gc`), and gives the
   memory a file freed back to the system (`malloc_trim`). The parent keeps one
   copy of each dependency pair the results name (`_shared`);
3. every analysed file is stored in the cache by whoever analysed it, with the
   dependencies it was computed from: the file itself and the modules named in
   `FileResult.dependencies` (constants and wrappers the dataflow read); the
   parent then brings the index up to date.

A worker that dies (a crash in native code, the out-of-memory killer) does not
end the run: the unfinished files are retried in a fresh pool one file per task,
then one at a time in a single worker, and a file that kills that worker gets a
PIN905 diagnostic.

Set PINLINT_STATS=1 to get one line on standard error saying how many files came
from the cache, how many were analysed and with how many processes.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from pinlint.model import Diagnostic, FileResult, Span

if TYPE_CHECKING:  # the pool's modules load only when a pool is started
    import multiprocessing.context
    from concurrent.futures import Future, ProcessPoolExecutor

    from pinlint.cache import Cache, Dependency
    from pinlint.config import Config
    from pinlint.project import ProjectIndex
    from pinlint.rules.base import Rule

Progress = Callable[[int, int], None]

#: Below this many bytes to analyse, a pool costs more than it saves: starting
#: workers that each import libcst and sqlglot (~0.3 s of CPU) is worth it from
#: about a quarter of a megabyte of Python, the size of a few large modules.
POOL_MIN_BYTES = 256 * 1024
#: Files per task: small enough to balance the load, large enough to amortise a round trip.
MAX_CHUNK = 16
#: Garbage collector thresholds while analysing (Python's default: 700, 10, 10): the
#: youngest generation every 100,000 allocations, the middle one only between files
#: (`Worker.analyse`), the oldest as Python decides; see `tune_gc`.
GC_THRESHOLDS = (100_000, 1_000_000, 10)


@dataclass(frozen=True, slots=True)
class Task:
    path: str  # as the file system knows it
    shown: str  # as results report it


@dataclass(frozen=True, slots=True)
class Stats:
    files: int
    cached: int
    analysed: int
    processes: int


def default_jobs() -> int:
    """Every core this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def run(
    files: Sequence[tuple[Path, str]],
    config: Config,
    cwd: Path,
    progress: Progress | None = None,
    project: ProjectIndex | Callable[[], ProjectIndex | None] | None = None,
) -> tuple[list[FileResult], Stats]:
    """The results of `files` ((path, path as reported) pairs), in the same order.

    `project` (the analysed tree, `pinlint.project`), or a function that builds it
    (called only if a file has to be analysed), goes to every worker; each process
    fills its own memo of module summaries."""
    from pinlint.cache import INDEX_MIN_FILES

    total = len(files)
    results: list[FileResult | None] = [None] * total
    cache = _open_cache(config, cwd)
    if cache is not None:
        cache.touch()
        if total >= INDEX_MIN_FILES:
            cache.load_index()
    pending: list[int] = []
    done = 0
    for index, (path, shown) in enumerate(files):
        hit = cache.lookup(path, shown) if cache is not None else None
        if hit is None:
            pending.append(index)
            continue
        results[index] = hit
        done += 1
        if progress is not None:
            progress(done, total)

    tasks = [Task(str(files[i][0]), files[i][1]) for i in pending]
    jobs = config_jobs(config)
    processes = 1
    sizes = [_size(t.path) for t in tasks] if jobs > 1 and len(tasks) > 1 else []
    if not tasks:
        pass  # everything came from the cache: the engine is not even imported
    elif jobs == 1 or len(tasks) < 2 or sum(sizes) < POOL_MIN_BYTES:
        worker = Worker(config, cache, _built(project), trim=True)
        restore = tune_gc()
        try:
            for index, task in zip(pending, tasks, strict=True):
                results[index] = worker.analyse(task)
                done += 1
                if progress is not None:
                    progress(done, total)
        finally:
            restore()
    else:
        processes = min(jobs, len(tasks))
        pool = _in_pool(
            pending, tasks, sizes, config, cache, processes, done, total, progress, _built(project)
        )
        pairs: dict[tuple[str, str], tuple[str, str]] = {}
        for index, result in pool:
            results[index] = _shared(result, pairs)
    if cache is not None:
        cache.save_index()
    stats = Stats(total, total - len(tasks), len(tasks), processes)
    if os.environ.get("PINLINT_STATS"):
        print(
            f"pinlint: stats files={stats.files} cached={stats.cached} "
            f"analysed={stats.analysed} processes={stats.processes}",
            file=sys.stderr,
        )
    assert all(r is not None for r in results)
    return [r for r in results if r is not None], stats


def config_jobs(config: Config) -> int:
    jobs = getattr(config, "jobs", 0)
    return jobs if jobs and jobs > 0 else default_jobs()


def _built(project: ProjectIndex | Callable[[], ProjectIndex | None] | None) -> ProjectIndex | None:
    return project() if callable(project) else project


def _open_cache(config: Config, cwd: Path) -> Cache | None:
    if not getattr(config, "cache", False):
        return None
    from pinlint.cache import Cache

    return Cache.for_config(config, cwd)


def tune_gc() -> Callable[[], None]:
    """Tune Python's cyclic garbage collector for the analysis, once the engine is
    imported; returns what restores it (the in-process path does, a worker need not).

    Analysing a file allocates millions of objects (libcst's tree, its metadata,
    the dataflow's values) that live until the file is done, and then become
    garbage. The extraction keeps its trees out of reference cycles, so they go by
    reference counting as soon as a file is done; what is left to the collector
    (a few closures of `ast.literal_eval`, position records) is small. With the
    default thresholds (the youngest generation every 700 allocations, the next
    every 10 of those) the file's objects are promoted to the oldest generation
    while it is analysed, and their number soon triggers full collections, each of which scans
    everything alive, the memos of module summaries included: about a third of the
    analysis time. Instead (`GC_THRESHOLDS`), the youngest generation is collected
    every 100,000 allocations, nothing is promoted further during a file, and after
    each file a collection of the two young generations (`Worker.analyse`) frees
    that file's garbage, scanning only what was allocated since the previous one.
    What survives it (memos) reaches the oldest generation, collected by Python's
    own rule (when it has grown by a quarter). Peak memory stays where it was (the
    default thresholds lower a corpus run's peak by 0 to 3% and cost 40% more time).
    `gc.freeze` takes what exists now (the modules, the rules, the compiled
    patterns) out of every collection; in a forked worker it also keeps those pages
    shared with the parent."""
    thresholds = gc.get_threshold()
    freeze = gc.get_freeze_count() == 0  # a caller's own frozen objects stay frozen
    if freeze:
        gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)

    def restore() -> None:
        gc.set_threshold(*thresholds)
        if freeze:
            gc.unfreeze()

    return restore


# -- one file -------------------------------------------------------------------------


class Worker:
    """What analysing a file needs, built once per process."""

    def __init__(
        self,
        config: Config,
        cache: Cache | None,
        project: ProjectIndex | None = None,
        *,
        trim: bool = False,
    ) -> None:
        from pinlint import engine  # libcst and sqlglot load here, not before

        self.config = config
        self.cache = cache
        self.project = project
        self.lint_source = engine.lint_source
        #: Hands the memory freed by a file back to the system (`malloc_trim`).
        self.trim = malloc_trim() if trim else None
        if project is not None:
            project.store = cache  # what the modules export, kept between runs

    def analyse(self, task: Task) -> FileResult:
        from pinlint.cache import snapshot

        started = time.time_ns()
        try:
            with open(task.path, "rb") as handle:
                data = handle.read()
                stat = os.fstat(handle.fileno())
        except OSError as err:
            reason = os.strerror(err.errno) if err.errno else str(err)
            return unreadable(task.shown, reason, self.config)
        if self.project is None:
            result = self.lint_source(data, task.shown, self.config)
        else:
            result = self.lint_source(data, task.shown, self.config, self.project)
        if self.cache is not None:
            own = snapshot(self.cache.location(task.path), data, stat)
            others = self.dependencies(own, result)
            if others is not None:
                self.cache.store(task.shown, (own, *others), started, result)
        gc.collect(1)  # this file's garbage, before the next file's (see `tune_gc`)
        if self.trim is not None:
            self.trim()
        return result

    def dependencies(self, own: Dependency, result: FileResult) -> list[Dependency] | None:
        """The other files `result` was computed from (`FileResult.dependencies`), as
        the cache stores them (`Cache.snapshots`); None when one of them changed."""
        assert self.cache is not None
        return self.cache.snapshots(result.dependencies, skip=own.location)


def malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)`` (None elsewhere): it gives the free memory of the C
    heap back to the system. libcst's native parser allocates there about 0.4 MB per
    KB it parses and frees it when done, but the allocator keeps it, so a worker's
    resident size otherwise stays at the most any file needed, plus fragmentation.
    About 0.2 ms a call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        trim = ctypes.CDLL(None).malloc_trim  # absent from musl
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return lambda: trim(0)


def unreadable(path: str, reason: str, config: Config) -> FileResult:
    """The result for a file that could not be read: PIN903, if enabled."""
    rule = next((r for r in config.rules if r.code == "PIN903"), None)
    if rule is None:
        return FileResult(path, ())
    return FileResult(
        path, (_meta_diagnostic(rule, path, f"could not read the file: {reason}", config),)
    )


def _meta_diagnostic(rule: type[Rule], path: str, message: str, config: Config) -> Diagnostic:
    return rule.diagnostic_at(message, path, Span(1, 1, 1, 1), config.target)


def _crashed(path: str, reason: str, config: Config) -> FileResult:
    rule = next((r for r in config.rules if r.code == "PIN905"), None)
    if rule is None:
        return FileResult(path, ())
    message = f"the process analysing this file died ({reason}); the file was not checked"
    return FileResult(path, (_meta_diagnostic(rule, path, message, config),))


# -- the pool -------------------------------------------------------------------------

_WORKER: Worker | None = None


def _initialize(config: Config, cache: Cache | None, project: ProjectIndex | None = None) -> None:
    """Runs once in each worker process."""
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _die_with_parent()
    _WORKER = Worker(config, cache, project, trim=True)
    tune_gc()  # for the life of the process


def _die_with_parent() -> None:
    """Linux: end this worker when the parent dies (killed, not just interrupted),
    instead of finishing its chunk for nobody. Elsewhere the worker stops at its
    next task, when it finds the parent's pipe closed."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _analyse_chunk(tasks: list[Task]) -> list[FileResult]:
    assert _WORKER is not None
    return [_WORKER.analyse(task) for task in tasks]


def _context() -> multiprocessing.context.BaseContext:
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


def _executor(
    processes: int, config: Config, cache: Cache | None, project: ProjectIndex | None
) -> ProcessPoolExecutor:
    """A pool of `processes` workers (the pool's modules are imported here, so that
    a run that starts none never loads them)."""
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers=processes,
        mp_context=_context(),
        initializer=_initialize,
        initargs=(config, cache, project),
    )


def _chunks(order: list[int], size: int) -> list[list[int]]:
    return [order[i : i + size] for i in range(0, len(order), size)]


def _in_pool(
    indices: list[int],
    tasks: list[Task],
    sizes: list[int],
    config: Config,
    cache: Cache | None,
    processes: int,
    done: int,
    total: int,
    progress: Progress | None,
    project: ProjectIndex | None = None,
) -> Iterable[tuple[int, FileResult]]:
    """Yield (index, result) for every task, analysed by `processes` workers."""
    from concurrent.futures import as_completed
    from concurrent.futures.process import BrokenProcessPool

    order = sorted(range(len(tasks)), key=lambda i: -sizes[i])
    size = max(1, min(MAX_CHUNK, len(tasks) // (processes * 8)))
    remaining = order
    for attempt, chunk_size in enumerate((size, 1)):
        failed: list[int] = []
        with _executor(min(processes, len(remaining)), config, cache, project) as pool:
            futures: dict[Future[list[FileResult]], list[int]] = {}
            for chunk in _chunks(remaining, chunk_size):
                futures[pool.submit(_analyse_chunk, [tasks[i] for i in chunk])] = chunk
            try:
                for future in as_completed(futures):
                    chunk = futures.pop(future)  # (and its results, once taken)
                    try:
                        results = future.result()
                    except BrokenProcessPool:
                        failed += chunk
                        continue
                    for i, result in zip(chunk, results, strict=True):
                        yield indices[i], result
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        if not failed:
            return
        remaining = sorted(failed, key=lambda i: -sizes[i])
        if attempt == 1:
            break
    # Each of these killed a worker or shared a pool with one that did. One worker,
    # one file at a time: a file that breaks it is the culprit; a new worker goes on.
    yield from _one_by_one(remaining, indices, tasks, config, cache, done, total, progress, project)


def _one_by_one(
    remaining: list[int],
    indices: list[int],
    tasks: list[Task],
    config: Config,
    cache: Cache | None,
    done: int,
    total: int,
    progress: Progress | None,
    project: ProjectIndex | None = None,
) -> Iterable[tuple[int, FileResult]]:
    from concurrent.futures.process import BrokenProcessPool

    pool: ProcessPoolExecutor | None = None
    try:
        for i in remaining:
            if pool is None:
                pool = _executor(1, config, cache, project)
            try:
                result = pool.submit(_analyse_chunk, [tasks[i]]).result()[0]
            except BrokenProcessPool:
                result = _crashed(tasks[i].shown, "it crashed or was killed", config)
                pool.shutdown(wait=False)
                pool = None
            yield indices[i], result
            done += 1
            if progress is not None:
                progress(done, total)
    finally:
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _shared(result: FileResult, pairs: dict[tuple[str, str], tuple[str, str]]) -> FileResult:
    """`result` with each (path, hash) dependency pair replaced by an equal one received
    before. A result from a worker comes unpickled with its own copies, and most
    files list the modules their imports reach: over a large tree, hundreds of
    thousands of pairs, a few thousand of them different."""
    if not result.dependencies:
        return result
    shared = tuple(pairs.setdefault(pair, pair) for pair in result.dependencies)
    return replace(result, dependencies=shared)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
