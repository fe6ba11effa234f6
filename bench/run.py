"""Time pinlint against its floor and its peers on a large corpus, side by side.

    python bench/run.py                  # everything: about 15 minutes on 2 cores
    python bench/run.py --repeat 5       # more repetitions (medians are reported)
    python bench/run.py --only pinlint   # pinlint's rows only, while iterating
    python bench/run.py --scales 1       # skip the 2x/4x growth curve

What it does, in order:

1. makes `bench/.venv` (``python -m venv``) and installs django, sqlalchemy, bandit,
   semgrep, ruff and pinlint itself (editable, so the working tree is measured);
2. copies the `.py` files of this interpreter's standard library (`Lib/`, without
   site-packages) and of the installed django and sqlalchemy packages into a fresh
   temporary corpus, so that no .gitignore, config file or cache of this checkout
   changes the results; and copies the `pinlint` package as it is now, which every
   pinlint run uses (`PYTHONPATH`), so that edits during the run change nothing;
3. runs every tool once on a small subtree (byte-compiles the tools, warms the page
   cache), then, repetition by repetition, interleaved so that drift hits every tool
   alike: the `ast.parse` floor (1 process), pinlint cold (``--no-cache``), warm (a
   second run, nothing changed, on the corpus and on its django part), after
   changing one file, on 5 files (the pre-commit shape: five files just edited,
   with the cache the earlier runs left, as pre-commit runs it, and the same five
   with ``--no-cache``, as on a fresh clone), ``bandit -t B608``,
   semgrep with the local rules in `bench/semgrep-rules.yml` and
   ``ruff check --select S608``;
4. times pinlint cold on 2x and 4x the corpus (copies of the tree, hard-linked);
5. prints medians, the ratios for every target of issue 9 and peak memory, and
   writes the same report to `bench/results/latest.md`.

Wall time is measured around each process; peak memory is the largest resident set
of any one process of the run (``os.wait4``), and the peak of the sum over the
process tree, sampled every 20 ms from /proc (approximate: short peaks are missed).
Compare ratios from one run, never absolute seconds from different runs: the
machines this runs on are shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
VENV = BENCH / ".venv"
BIN = VENV / "bin"
RESULTS = BENCH / "results" / "latest.md"
PACKAGES = ("django", "sqlalchemy", "bandit", "semgrep", "ruff")
VERSIONS_OF = ("django", "sqlalchemy", "bandit", "semgrep", "ruff", "libcst", "sqlglot", "pinlint")
#: Pre-commit passes the changed files. Two shapes: five files drawn at random
#: (seeded) from the corpus, and five of its largest database modules (the worst
#: case: every one needs a full parse). Relative to the corpus; missing ones are
#: replaced by others.
SEED = 9
PRECOMMIT = (
    "django/db/backends/postgresql/operations.py",
    "django/db/backends/postgresql/base.py",
    "django/db/backends/sqlite3/base.py",
    "django/db/models/sql/compiler.py",
    "sqlalchemy/dialects/postgresql/base.py",
)
#: The file changed between the warm run and the "one file changed" run.
TOUCHED = "django/db/backends/postgresql/operations.py"
#: Warm-up runs go over this subtree.
SMALL = "django/db/backends"
ENV = {
    **os.environ,
    "NO_COLOR": "1",
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "SEMGREP_SEND_METRICS": "off",
    "PINLINT_STATS": "1",
}


# -- processes -------------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    max_rss_kb: int  # the largest resident set of any one process (os.wait4)
    tree_rss_kb: int  # the peak of the sum over the process tree (sampled)
    returncode: int
    stdout: str
    stderr: str


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return []
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
        except OSError:
            continue
    return found


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(root: int) -> int:
    total, stack, seen = 0, [root], set()
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _rss_kb(pid)
        stack += _children(pid)
    return total


def run(cmd: Sequence[str | Path], cwd: Path) -> Sample:
    """Run `cmd` to completion; wall time, peak memory, exit code and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=ENV, stdout=out, stderr=err)
        peak = 0
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.is_set():
                peak = max(peak, _tree_rss_kb(proc.pid))
                stop.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Sample(
            wall,
            usage.ru_maxrss,
            max(peak, usage.ru_maxrss),
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


# -- environment and corpus ------------------------------------------------------


def ensure_venv(reinstall: bool) -> None:
    python = BIN / "python"
    if not python.exists():
        print(f"creating {VENV.relative_to(REPO)} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        reinstall = True
    missing = [
        name for name in ("bandit", "semgrep", "ruff", "pinlint") if not (BIN / name).exists()
    ]
    if reinstall or missing:
        print("installing " + ", ".join(PACKAGES) + " and pinlint (editable) ...", flush=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for args in (["--upgrade", "pip"], [*PACKAGES, "-e", str(REPO)]):
            done = subprocess.run([*pip, *args], capture_output=True, text=True)
            if done.returncode != 0:
                sys.stderr.write(done.stdout + done.stderr)
                raise SystemExit(f"pip install {' '.join(args)} failed")


def versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json\n"
        "out = {}\n"
        f"for name in {list(VERSIONS_OF)!r}:\n"
        "    try:\n"
        "        out[name] = m.version(name)\n"
        "    except m.PackageNotFoundError:\n"
        "        out[name] = '-'\n"
        "print(json.dumps(out))\n"
    )
    done = subprocess.run([str(BIN / "python"), "-c", code], capture_output=True, text=True)
    return dict(json.loads(done.stdout))


def site_packages() -> Path:
    done = subprocess.run(
        [str(BIN / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(done.stdout.strip())


def _copy_py(source: Path, dest: Path, skip: Callable[[Path], bool]) -> None:
    for directory, subdirs, names in os.walk(source):
        here = Path(directory)
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not skip(here / d))
        for name in names:
            if name.endswith(".py"):
                target = dest / (here / name).relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(here / name, target)


def build_corpus(root: Path) -> Path:
    corpus = root / "corpus"
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    excluded = {Path(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
    _copy_py(
        stdlib,
        corpus / "stdlib",
        lambda p: p in excluded or p.name in ("site-packages", "dist-packages"),
    )
    packages = site_packages()
    for name in ("django", "sqlalchemy"):
        _copy_py(packages / name, corpus / name, lambda p: False)
    # semgrep skips tests/ and test/ without a .semgrepignore; the other tools do not.
    (corpus / ".semgrepignore").write_text("# scan everything, like the other tools\n")
    return corpus


def scaled(corpus: Path, factor: int, root: Path) -> Path:
    """`factor` copies of the corpus side by side (hard links where possible)."""
    if factor == 1:
        return corpus
    out = root / f"corpus-x{factor}"
    for i in range(factor):
        dest = out / f"copy{i + 1}"
        shutil.copytree(corpus, dest, copy_function=_link_or_copy, ignore=_no_cache)
    (out / ".semgrepignore").write_text("")
    return out


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _no_cache(directory: str, names: list[str]) -> list[str]:
    return [n for n in names if n == ".pinlint_cache"]


@dataclass(frozen=True)
class CorpusInfo:
    files: int
    lines: int
    megabytes: float
    parts: dict[str, int]


def describe(corpus: Path) -> CorpusInfo:
    files = lines = size = 0
    parts: dict[str, int] = {}
    for path in corpus.rglob("*.py"):
        data = path.read_bytes()
        files += 1
        size += len(data)
        lines += data.count(b"\n")
        part = path.relative_to(corpus).parts[0]
        parts[part] = parts.get(part, 0) + 1
    return CorpusInfo(files, lines, size / 1e6, parts)


# -- the measured commands -------------------------------------------------------


@dataclass
class Row:
    key: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def max_rss_mb(self) -> float:
        return max(s.max_rss_kb for s in self.samples) / 1024

    @property
    def tree_rss_mb(self) -> float:
        return max(s.tree_rss_kb for s in self.samples) / 1024


def pinlint_supports(flag: str) -> bool:
    done = subprocess.run(
        [str(BIN / "pinlint"), "check", "--help"], capture_output=True, text=True, env=ENV
    )
    return flag in done.stdout


def pinlint_cmd(*args: str | Path, report: Path | None = None) -> list[str | Path]:
    cmd: list[str | Path] = [BIN / "pinlint", "check", *args, "--exit-zero", "-q"]
    if report is not None:
        cmd += ["--format", "json", "-o", report]
    return cmd


def pinlint_summary(report: Path, sample: Sample) -> str:
    try:
        data = json.loads(report.read_text())
        found = f"{data['files_checked']} files, {len(data['findings'])} findings"
    except (OSError, ValueError, KeyError):
        found = "no report"
    stats = [line for line in sample.stderr.splitlines() if line.startswith("pinlint: stats")]
    return found + (f"; {stats[-1].removeprefix('pinlint: stats').strip()}" if stats else "")


def check_ok(name: str, sample: Sample, allowed: tuple[int, ...] = (0, 1)) -> None:
    if sample.returncode not in allowed:
        tail = "\n".join(sample.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"{name} failed with exit code {sample.returncode}:\n{tail}")


def pick_random(corpus: Path) -> list[str]:
    every = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.py"))
    return random.Random(SEED).sample(every, 5)


def pick_precommit(corpus: Path) -> list[str]:
    chosen = [p for p in PRECOMMIT if (corpus / p).is_file()]
    for extra in sorted((corpus / "django/db/backends").rglob("*.py")):
        if len(chosen) >= 5:
            break
        rel = extra.relative_to(corpus).as_posix()
        if rel not in chosen:
            chosen.append(rel)
    return chosen[:5]


def bandit_summary(path: Path) -> str:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return "no report"
    files = len([k for k in data.get("metrics", {}) if k != "_totals"])
    return f"{files} files, {len(data.get('results', []))} findings, {len(data.get('errors', []))} errors"


def semgrep_summary(path: Path) -> str:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return "no report"
    scanned = len(data.get("paths", {}).get("scanned", []))
    return f"{scanned} files, {len(data.get('results', []))} findings"


def ruff_summary(sample: Sample) -> str:
    try:
        return f"{len(json.loads(sample.stdout))} findings"
    except ValueError:
        return "no report"


# -- the run ---------------------------------------------------------------------


def snapshot_code(target: Path) -> None:
    """Copy the package (and the rule catalogue it ships) as it is now."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "pinlint", target / "pinlint", ignore=skip)
    shutil.copytree(REPO / "rules", target / "pinlint" / "catalogue", ignore=skip)


def git_state() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    head = git("rev-parse", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--", "pinlint", "rules"))
    when = time.strftime("%H:%M:%S")
    return head + (f" with uncommitted changes (working tree copied at {when})" if dirty else "")


def machine() -> str:
    model = "unknown cpu"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}, "
        f"load average at start {load}"
    )


def fmt_s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"


def table(rows: Sequence[Sequence[str]]) -> list[str]:
    head, *body = rows
    out = ["| " + " | ".join(head) + " |", "|" + "|".join(" --- " for _ in head) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in body]
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per command (>= 3)")
    parser.add_argument("--scales", default="1,2,4", help="corpus multiples for the curve")
    parser.add_argument(
        "--curve-repeat", type=int, help="repetitions at 2x and 4x (default: --repeat)"
    )
    parser.add_argument(
        "--only", choices=("all", "pinlint"), default="all", help="skip the peers with `pinlint`"
    )
    parser.add_argument("--jobs", type=int, help="pass --jobs N to pinlint (default: its own)")
    parser.add_argument("--reinstall", action="store_true", help="re-run pip in bench/.venv")
    parser.add_argument("--keep", action="store_true", help="keep the temporary corpus")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the report")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    scales = sorted({int(s) for s in args.scales.split(",") if s.strip()} | {1})

    ensure_venv(args.reinstall)
    tool_versions = versions()
    work = Path(tempfile.mkdtemp(prefix="pinlint-bench-"))
    # Measure a frozen copy of the code: edits made to the checkout while the
    # benchmark runs would change what is measured (and invalidate the cache).
    commit = git_state()
    snapshot_code(work / "code")
    ENV["PYTHONPATH"] = str(work / "code")
    started = machine()
    has_cache = pinlint_supports("--no-cache")
    has_jobs = pinlint_supports("--jobs")
    jobs: list[str] = ["--jobs", str(args.jobs)] if args.jobs and has_jobs else []
    no_cache: list[str] = ["--no-cache"] if has_cache else []

    try:
        print(f"building the corpus in {work} ...", flush=True)
        corpus = build_corpus(work)
        info = describe(corpus)
        print(
            f"corpus: {info.files:,} files, {info.lines:,} lines, {info.megabytes:.0f} MB "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(info.parts.items()))})",
            flush=True,
        )
        reports = work / "reports"
        reports.mkdir()
        precommit = pick_precommit(corpus)
        sample = pick_random(corpus)
        touched = corpus / TOUCHED if (corpus / TOUCHED).is_file() else corpus / precommit[0]
        rules = BENCH / "semgrep-rules.yml"

        def floor(target: Path) -> list[str | Path]:
            return [BIN / "python", BENCH / "floor.py", target]

        def bandit(target: Path, report: Path) -> list[str | Path]:
            return [BIN / "bandit", "-r", target, "-t", "B608", "-q", "-f", "json", "-o", report]

        def semgrep(target: Path, report: Path) -> list[str | Path]:
            return [
                BIN / "semgrep", "scan", "--config", rules, "--metrics=off", "--disable-version-check",
                "--max-target-bytes", "2097152", "--json", "-o", report, "-q", target,
            ]  # fmt: skip

        def ruff(target: Path) -> list[str | Path]:
            return [
                BIN / "ruff", "check", "--isolated", "--select", "S608", "--no-cache",
                "--exit-zero", "--output-format", "json", target,
            ]  # fmt: skip

        # Warm-up: byte-compile every tool and read the corpus once.
        print("warming up ...", flush=True)
        small = corpus / SMALL
        check_ok("floor", run(floor(corpus), corpus))
        check_ok("pinlint", run(pinlint_cmd(*no_cache, *jobs, small), corpus))
        if args.only == "all":
            check_ok("bandit", run(bandit(small, reports / "bandit.json"), corpus))
            check_ok("semgrep", run(semgrep(small, reports / "semgrep.json"), corpus))
            check_ok("ruff", run(ruff(small), corpus))

        rows: dict[str, Row] = {}

        def row(key: str, label: str) -> Row:
            return rows.setdefault(key, Row(key, label))

        # The cache a warm run reads: written by a first run.
        if has_cache:
            shutil.rmtree(corpus / ".pinlint_cache", ignore_errors=True)
            first = run(pinlint_cmd(*jobs, ".", report=reports / "first.json"), corpus)
            check_ok("pinlint", first)
            r = row("first", "pinlint, first run (empty cache, writes it)")
            r.samples.append(first)
            r.note = pinlint_summary(reports / "first.json", first)

        for rep in range(args.repeat):
            print(f"repetition {rep + 1} of {args.repeat} ...", flush=True)
            s = run(floor(corpus), corpus)
            check_ok("floor", s)
            r = row("floor", "`ast.parse` every file (floor, 1 process)")
            r.samples.append(s)
            r.note = "{parsed} parsed, {failed} rejected".format(**json.loads(s.stdout))

            s = run(pinlint_cmd(*no_cache, *jobs, ".", report=reports / "cold.json"), corpus)
            check_ok("pinlint", s)
            r = row("cold", "pinlint cold" + (" (`--no-cache`)" if has_cache else ""))
            r.samples.append(s)
            r.note = pinlint_summary(reports / "cold.json", s)

            if has_cache:
                s = run(pinlint_cmd(*jobs, ".", report=reports / "warm.json"), corpus)
                check_ok("pinlint", s)
                r = row("warm", "pinlint warm (nothing changed)")
                r.samples.append(s)
                r.note = pinlint_summary(reports / "warm.json", s)

                s = run(pinlint_cmd(*jobs, "django", report=reports / "warm-dj.json"), corpus)
                check_ok("pinlint", s)
                r = row("warm-django", "pinlint warm, django part only")
                r.samples.append(s)
                r.note = pinlint_summary(reports / "warm-dj.json", s)

                with touched.open("a") as handle:
                    handle.write(f"\n# bench: changed in repetition {rep + 1}\n")
                s = run(pinlint_cmd(*jobs, ".", report=reports / "touched.json"), corpus)
                check_ok("pinlint", s)
                r = row("touched", f"pinlint after changing one file (`{touched.name}`)")
                r.samples.append(s)
                r.note = pinlint_summary(reports / "touched.json", s)

                # Pre-commit as it runs: the files just edited, the cache holding what
                # the earlier runs learnt of the rest of the tree. The edits are undone
                # afterwards: a module many others import reaches the cached results
                # of its importers too (see the "warm" row), which is not what the
                # other rows measure.
                originals = {name: (corpus / name).read_bytes() for name in sample}
                for name in sample:
                    with (corpus / name).open("a") as handle:
                        handle.write(f"\n# bench: edited in repetition {rep + 1}\n")
                s = run(pinlint_cmd(*sample, report=reports / "five.json"), corpus)
                for name, data in originals.items():
                    (corpus / name).write_bytes(data)
                check_ok("pinlint", s)
                r = row(
                    "five-edited",
                    "pinlint on the 5 random files just edited (pre-commit, cache of earlier runs)",
                )
                r.samples.append(s)
                r.note = pinlint_summary(reports / "five.json", s)

            s = run(pinlint_cmd(*no_cache, *sample, report=reports / "five.json"), corpus)
            check_ok("pinlint", s)
            r = row(
                "five-random", "pinlint on 5 random files (pre-commit, `--no-cache`: a fresh clone)"
            )
            r.samples.append(s)
            r.note = pinlint_summary(reports / "five.json", s)

            s = run(pinlint_cmd(*no_cache, *precommit, report=reports / "five.json"), corpus)
            check_ok("pinlint", s)
            r = row(
                "five",
                "pinlint on 5 large database modules (pre-commit, worst case"
                + (", `--no-cache`)" if has_cache else ")"),
            )
            r.samples.append(s)
            r.note = pinlint_summary(reports / "five.json", s)

            if args.only == "all":
                s = run(bandit(corpus, reports / "bandit.json"), corpus)
                check_ok("bandit", s)
                r = row("bandit", "`bandit -r -t B608`")
                r.samples.append(s)
                r.note = bandit_summary(reports / "bandit.json")

                s = run(semgrep(corpus, reports / "semgrep.json"), corpus)
                check_ok("semgrep", s)
                r = row("semgrep", "semgrep CE, 4 local rules (`--metrics=off`)")
                r.samples.append(s)
                r.note = semgrep_summary(reports / "semgrep.json")

                s = run(ruff(corpus), corpus)
                check_ok("ruff", s)
                r = row("ruff", "`ruff check --select S608 --no-cache`")
                r.samples.append(s)
                r.note = ruff_summary(s)

        curve: list[tuple[int, int, Row]] = [(1, info.files, rows["cold"])]
        for factor in scales:
            if factor == 1:
                continue
            print(f"growth curve: {factor}x ...", flush=True)
            target = scaled(corpus, factor, work)
            r = Row(f"x{factor}", f"pinlint cold, {factor}x")
            for _ in range(args.curve_repeat or args.repeat):
                s = run(pinlint_cmd(*no_cache, *jobs, ".", report=reports / "scaled.json"), target)
                check_ok("pinlint", s)
                r.samples.append(s)
            r.note = pinlint_summary(reports / "scaled.json", r.samples[-1])
            curve.append((factor, info.files * factor, r))
            shutil.rmtree(target, ignore_errors=True)

        lines = report(
            rows,
            curve,
            info,
            tool_versions,
            commit,
            started,
            args,
            precommit,
            sample,
            has_cache,
            argv,
        )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    print()
    print(text, end="")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    print(f"\nwritten to {args.output}")


def report(
    rows: dict[str, Row],
    curve: list[tuple[int, int, Row]],
    info: CorpusInfo,
    tool_versions: dict[str, str],
    commit: str,
    started: str,
    args: argparse.Namespace,
    precommit: list[str],
    sample: list[str],
    has_cache: bool,
    argv: Sequence[str] | None,
) -> list[str]:
    command = " ".join(["python", "bench/run.py", *(sys.argv[1:] if argv is None else argv)])
    out = [
        "# pinlint benchmark",
        "",
        f"- command: `{command}`",
        f"- commit: {commit}",
        f"- date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- machine: {started}; shared with other work, so compare ratios, not seconds",
        "- versions: " + ", ".join(f"{k} {v}" for k, v in tool_versions.items()),
        f"- corpus: {info.files:,} `.py` files, {info.lines:,} lines, {info.megabytes:.0f} MB: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(info.parts.items()))
        + " (CPython `Lib/` of this interpreter, django and sqlalchemy from bench/.venv)",
        f"- repetitions: {args.repeat} per command, interleaved; the table shows medians",
        f"- pre-commit, 5 random files (seed {SEED}): {', '.join(sample)}",
        f"- pre-commit, 5 large database modules: {', '.join(precommit)}",
        "",
        "## Medians",
        "",
    ]
    body = [
        ["command", "median wall", "min-max", "max RSS, 1 process", "RSS, whole tree", "result"]
    ]
    for r in rows.values():
        walls = [s.wall for s in r.samples]
        body.append(
            [
                r.label,
                fmt_s(r.median),
                f"{fmt_s(min(walls))}-{fmt_s(max(walls))}",
                f"{r.max_rss_mb:.0f} MB",
                f"{r.tree_rss_mb:.0f} MB",
                r.note,
            ]
        )
    out += table(body)

    def ratio(a: str, b: str) -> str:
        if a not in rows or b not in rows:
            return "not measured"
        return f"{rows[a].median / rows[b].median:.3f}"

    def secs(key: str) -> str:
        return fmt_s(rows[key].median) if key in rows else "not measured"

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("yes" if ok else "**no**")

    def under(key: str, other: str | None, limit: float) -> bool | None:
        if key not in rows or (other is not None and other not in rows):
            return None
        value = rows[key].median / (rows[other].median if other else 1.0)
        return value <= limit

    cold_rss = rows["cold"].max_rss_mb if "cold" in rows else 0.0
    cold_tree = rows["cold"].tree_rss_mb if "cold" in rows else 0.0
    growth = [
        f"{factor}x: {fmt_s(r.median)} ({r.median / curve[0][2].median:.2f}x)"
        for factor, _, r in curve
    ]
    targets = [
        ["target (issue 9)", "goal", "measured", "met"],
        ["cold / `bandit -t B608`", "<= 0.25", ratio("cold", "bandit"), verdict(under("cold", "bandit", 0.25))],
        ["cold / `ast.parse` floor", "<= 3", ratio("cold", "floor"), verdict(under("cold", "floor", 3.0))],
        [
            f"warm, whole corpus ({info.files:,} files)",
            "<= 1 s on ~3,000 files",
            secs("warm"),
            verdict(under("warm", None, 1.0 * max(1.0, info.files / 3000))) + " (scaled to the file count)",
        ],
        [
            f"warm, django part ({info.parts.get('django', 0):,} files)",
            "<= 1 s",
            secs("warm-django"),
            verdict(under("warm-django", None, 1.0)),
        ],
        [
            "one file changed",
            "re-analyses that file, not the tree",
            secs("touched") + (f" ({rows['touched'].note.split('; ', 1)[-1]})" if "touched" in rows else ""),
            verdict(under("touched", "cold", 0.5)) + " (judged: < half of cold)",
        ],
        [
            "5 random files just edited (pre-commit as it runs, with its cache)",
            "<= 0.5 s",
            secs("five-edited"),
            verdict(under("five-edited", None, 0.5)),
        ],
        [
            "5 random files, `--no-cache` (the first run on a fresh clone)",
            "<= 0.5 s",
            secs("five-random"),
            verdict(under("five-random", None, 0.5)),
        ],
        [
            "5 large database modules (pre-commit, worst case)",
            "<= 0.5 s",
            secs("five"),
            verdict(under("five", None, 0.5)),
        ],
        [
            "peak memory, cold, default jobs",
            "<= 300 MB",
            f"{cold_rss:.0f} MB per process, {cold_tree:.0f} MB all processes",
            verdict(cold_tree <= 300 if "cold" in rows else None),
        ],
        ["linear growth (cold)", "time ~ files", "; ".join(growth), "see the curve"],
        ["cold / semgrep", "(faster than the peers)", ratio("cold", "semgrep"), verdict(under("cold", "semgrep", 1.0))],
        ["cold / ruff S608", "(informative: Rust)", ratio("cold", "ruff"), ""],
    ]  # fmt: skip
    out += ["", "## Targets", "", *table(targets)]
    curve_rows = [["corpus", "files", "median wall", "per 1,000 files", "vs 1x", "max RSS"]]
    for factor, files, r in curve:
        curve_rows.append(
            [
                f"{factor}x",
                f"{files:,}",
                fmt_s(r.median),
                fmt_s(r.median / files * 1000),
                f"{r.median / curve[0][2].median:.2f}",
                f"{r.max_rss_mb:.0f} MB",
            ]
        )
    out += ["", "## Growth (pinlint cold)", "", *table(curve_rows)]
    if not has_cache:
        out += ["", "This pinlint has no cache (`--no-cache` unknown): warm rows not measured."]
    return out


if __name__ == "__main__":
    main()
