"""The result cache, `.pinlint_cache/`: a file that has not changed is not analysed again.

Layout, under the project root (the directory of the configuration file, else the
current directory)::

    .pinlint_cache/
        CACHEDIR.TAG, .gitignore          # backup tools and git leave it alone
        v1-<salt>/<ab>/<key>               # one entry per checked file

The *salt* names everything that decides results besides the files: the entry
format, pinlint's version and a fingerprint of its installed code (so an edited
checkout never reads entries an older build wrote), the versions of libcst and
sqlglot, and every `Config` field except those that only choose files or the exit
code (`IGNORED_SETTINGS`). A new `Config` field is part of the salt unless it is
added there, so forgetting about the cache costs hits, never correctness.

An entry is keyed by the path as reported plus the file's location under the
project root, and holds up to `KEEP` *records* (newest first), one per content the
file had, so switching branches back and forth still hits. A record lists the
**dependencies** it was computed from, as (location, content hash) pairs: the file
itself, then the modules named in `FileResult.dependencies` (whose constants or
wrapper summaries the dataflow used; their hash must be `digest` of the bytes it
read). A record is used only while every one of them still has the recorded hash,
so changing a module re-analyses its dependants. What a file did *not* use is not
recorded: a fact whose absence changed the result (a module that was read and found
to define no wrapper) must be reported as a dependency too, or the entry outlives it.

Hashing reads the file. A record also keeps the size, mtime and inode each
dependency had when it was hashed, and an unchanged stat is trusted instead of
reading the file again, but only for a file that had then been left alone for
`STABLE_NS` (so a write in the same clock tick as the hashing cannot go unseen, nor
one between the analysis and the stat). A tool that rewrites a file in place and
then restores its old size, mtime and inode defeats this, as it defeats make.

Entries are JSON, never pickle (a cache directory can come with an untrusted
checkout), written to a temporary file and renamed into place (`os.replace`), so
a reader sees a whole entry or none and concurrent runs at worst redo each
other's work. An entry that cannot be read, parsed or decoded is a miss, never
an error; a cache directory that cannot be written is simply not written.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import importlib.util
import json
import os
import tempfile
import types
import typing
from collections.abc import Iterable
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from pinlint import __version__
from pinlint.model import Diagnostic, FileResult

if typing.TYPE_CHECKING:
    from pinlint.config import Config

DIRECTORY = ".pinlint_cache"
FORMAT = 1
#: Records (contents) kept per file.
KEEP = 4
#: A stat is trusted for a file that had not changed for this long when it was hashed.
STABLE_NS = 2_000_000_000
#: `Config` fields that do not change a file's diagnostics: they choose the files
#: (exclude), act after the cache (per-file-ignores, fail-on) or run the run.
IGNORED_SETTINGS = frozenset(
    {"exclude", "extend_exclude", "per_file_ignores", "fail_on", "source", "jobs", "cache"}
)
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by pinlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


def digest(data: bytes) -> str:
    """The content hash the cache compares."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Dependency:
    """A file a result was computed from, as it was when it was read."""

    location: str  # relative to the project root (posix), or absolute outside it
    digest: str
    size: int
    mtime_ns: int
    inode: int


def snapshot(location: str, data: bytes, stat: os.stat_result) -> Dependency:
    """The `Dependency` for a file read as `data`, `stat` taken after the read."""
    return Dependency(location, digest(data), stat.st_size, stat.st_mtime_ns, stat.st_ino)


# -- the salt ---------------------------------------------------------------------


def _code_fingerprint() -> str:
    """pinlint's own files and the libraries that decide results, by stat."""
    parts = [__version__]
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        with contextlib.suppress(OSError):
            st = path.stat()
            parts.append(f"{path.relative_to(package)}:{st.st_size}:{st.st_mtime_ns}")
    for library in ("libcst", "sqlglot"):
        spec = importlib.util.find_spec(library)  # finds, does not import
        origin = spec.origin if spec is not None else None
        if origin is None:
            parts.append(f"{library}:-")
            continue
        # The package directory changes when the library is upgraded or replaced.
        with contextlib.suppress(OSError):
            st = Path(origin).parent.stat()
            parts.append(f"{library}:{origin}:{st.st_mtime_ns}:{st.st_ino}")
    return "\n".join(parts)


def salt(config: Config) -> str:
    """Names every input of a result except the files themselves."""
    settings = [
        f"{f.name}={getattr(config, f.name)!r}"
        for f in fields(config)
        if f.name not in IGNORED_SETTINGS and f.name != "rules"
    ]
    settings.append("rules=" + ",".join(sorted(r.code for r in config.rules)))
    text = f"format={FORMAT}\n{_code_fingerprint()}\n" + "\n".join(settings)
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


# -- encoding results as JSON -------------------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    found = _HINTS.get(cls)
    if found is None:
        found = typing.get_type_hints(cls)
        _HINTS[cls] = found
    return found


def encode(value: Any) -> Any:
    """A model value (dataclasses, enums, tuples, scalars) as plain JSON data."""
    if isinstance(value, enum.Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


def decode(hint: Any, data: Any) -> Any:
    """The inverse of `encode`, driven by the type hints; ValueError on any mismatch."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None):
                with contextlib.suppress(ValueError, TypeError):
                    return decode(option, data)
        raise ValueError(f"{data!r} is none of {hint}")
    if origin is tuple:
        args = typing.get_args(hint)
        if not isinstance(data, list):
            raise ValueError(f"expected a list, got {type(data).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], v) for v in data)
        if len(args) != len(data):
            raise ValueError("tuple length")
        return tuple(decode(a, v) for a, v in zip(args, data, strict=True))
    if isinstance(hint, type):
        if issubclass(hint, enum.Enum):
            return hint(data)
        if is_dataclass(hint):
            if not isinstance(data, dict):
                raise ValueError(f"expected an object for {hint.__name__}")
            hints = _hints(hint)
            unknown = data.keys() - hints.keys()
            if unknown:
                raise ValueError(f"unknown fields {sorted(unknown)}")
            return hint(**{name: decode(hints[name], v) for name, v in data.items()})
        if hint is int and isinstance(data, int) and not isinstance(data, bool):
            return data
        if hint in (str, bool, float) and type(data) is hint:
            return data
    raise ValueError(f"cannot read {data!r} as {hint}")


# -- the cache ----------------------------------------------------------------------


def _dependency(data: Any) -> Dependency:
    location, hashed, size, mtime_ns, inode = data
    if not (isinstance(location, str) and isinstance(hashed, str)):
        raise ValueError("not a dependency")
    if not all(type(n) is int for n in (size, mtime_ns, inode)):
        raise ValueError("not a dependency")
    return Dependency(location, hashed, size, mtime_ns, inode)


class Cache:
    """One run's view of the cache for one configuration (`salt`).

    Safe to use from several processes at once; each keeps its own memo of the
    content hashes it has computed.
    """

    def __init__(self, root: Path, salt: str) -> None:
        self.project = root.resolve()
        self._prefix = os.path.join(str(self.project), "")
        self.base = self.project / DIRECTORY
        self.directory = self.base / f"v{FORMAT}-{salt}"
        self.salt = salt
        self._digests: dict[str, str | None] = {}
        self._made: set[Path] = set()
        self._writable = True

    @classmethod
    def for_config(cls, config: Config, cwd: Path | None = None) -> Cache:
        """The cache of a run: under the configuration file's directory, else `cwd`."""
        root = Path(config.source).parent if config.source else (cwd or Path.cwd())
        return cls(root, salt(config))

    def location(self, path: Path | str) -> str:
        """How entries name `path`: relative to the project root, else absolute."""
        absolute = os.path.abspath(path)
        if absolute.startswith(self._prefix):
            absolute = absolute[len(self._prefix) :]
        return absolute.replace(os.sep, "/") if os.sep != "/" else absolute

    def _entry(self, shown: str, location: str) -> Path:
        key = hashlib.blake2b(f"{shown}\0{location}".encode(), digest_size=16).hexdigest()
        return self.directory / key[:2] / key

    # -- reading --

    def lookup(self, path: Path, shown: str) -> FileResult | None:
        """The cached result for `path` (reported as `shown`), if still valid."""
        location = self.location(path)
        try:
            raw = self._entry(shown, location).read_bytes()
        except OSError:
            return None
        try:
            return self._valid(raw, location, shown)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
            return None  # corrupt, truncated, or written by an incompatible build

    def _valid(self, raw: bytes, location: str, shown: str) -> FileResult | None:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        for record in data["records"]:
            deps = [_dependency(d) for d in record["dependencies"]]
            hashed_at = decode(int, record["hashed_at_ns"])
            if not deps or deps[0].location != location:
                continue
            if all(self._unchanged(dep, hashed_at) for dep in deps):
                raw = record["diagnostics"]
                # Most files have no findings: nothing to decode.
                diagnostics = decode(tuple[Diagnostic, ...], raw) if raw else ()
                reported = decode(tuple[tuple[str, str], ...], record["reported"])
                return FileResult(shown, diagnostics, reported)
        return None

    def _unchanged(self, dep: Dependency, hashed_at_ns: int) -> bool:
        path = os.path.join(self.project, dep.location)  # an absolute location stays as it is
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_size != dep.size:
            return False
        stable = hashed_at_ns - dep.mtime_ns >= STABLE_NS
        if stable and (st.st_mtime_ns, st.st_ino) == (dep.mtime_ns, dep.inode):
            return True
        return self.current_digest(dep.location, path) == dep.digest

    def current_digest(self, location: str, path: str) -> str | None:
        """The content hash of a file now (memoised for the run); None if unreadable."""
        if location not in self._digests:
            try:
                with open(path, "rb") as handle:
                    self._digests[location] = digest(handle.read())
            except OSError:
                self._digests[location] = None
        return self._digests[location]

    # -- writing --

    def store(
        self,
        shown: str,
        dependencies: Iterable[Dependency],
        hashed_at_ns: int,
        result: FileResult,
    ) -> None:
        """Record `result` for the file `dependencies[0]`; never raises."""
        deps = tuple(dependencies)
        if not deps or not self._writable:
            return
        entry = self._entry(shown, deps[0].location)
        record = {
            "dependencies": [[d.location, d.digest, d.size, d.mtime_ns, d.inode] for d in deps],
            "hashed_at_ns": hashed_at_ns,
            "diagnostics": encode(result.diagnostics),
            "reported": [list(pair) for pair in result.dependencies],
        }
        records: list[Any] = [record]
        with contextlib.suppress(
            OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError
        ):
            old = json.loads(entry.read_bytes())
            if isinstance(old, dict) and old.get("format") == FORMAT:
                keys = {tuple(d.digest for d in deps)}
                for previous in old["records"]:
                    key = tuple(d[1] for d in previous["dependencies"])
                    if key not in keys and len(records) < KEEP:
                        keys.add(key)
                        records.append(previous)
        payload = json.dumps({"format": FORMAT, "records": records}, separators=(",", ":"))
        try:
            self._write(entry, payload.encode("utf-8", "surrogatepass"))
        except OSError:
            self._writable = False  # read-only checkout, full disk: stop trying

    def _write(self, entry: Path, payload: bytes) -> None:
        if entry.parent not in self._made:
            if not self.base.is_dir():
                self._make_base()
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(entry.parent)
        fd, temporary = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.replace(temporary, entry)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def _make_base(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        for name, text in (("CACHEDIR.TAG", _TAG), (".gitignore", "# created by pinlint\n*\n")):
            target = self.base / name
            if not target.exists():
                with contextlib.suppress(OSError):
                    target.write_text(text, encoding="utf-8")
