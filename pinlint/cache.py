"""The result cache, `.pinlint_cache/`: a file that has not changed is not analysed again.

Layout, under the project root (the directory of the configuration file, else the
current directory)::

    .pinlint_cache/
        CACHEDIR.TAG, .gitignore          # backup tools and git leave it alone
        v2-<salt>/<ab>/<key>               # one entry per checked file
        v2-<salt>/index.json               # every file's record, for large runs

The *salt* names everything that decides results besides the files: the entry
format, pinlint's version and a fingerprint of its installed code (so an edited
checkout never reads entries an older build wrote), the versions of libcst and
sqlglot, and every `Config` field except those that only choose files or the exit
code (`IGNORED_SETTINGS`). A new `Config` field is part of the salt unless it is
added there, so forgetting about the cache costs hits, never correctness. A run
marks its salt directory as used (its mtime), and one that makes a new directory
removes the siblings no run has used for a while (`Cache.sweep`).

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

The same entries keep *facts about modules* that other files' analyses use
(`lookup_facts`, `store_facts`; `pinlint.project` keeps what each module exports
that may lead to SQL), keyed by a kind, the path as reported and the location; a
fact's first dependency is its module, and its payload says what else it holds for.

Every record is checked against the files as they are when it is used, wherever it
was read from, so the **index** (`index.json`: one record per file and a single table
of the files they depend on) can only save time, never change a result: a run of many
files reads it instead of an entry per file and checks each dependency once; a file
it lacks, or whose record no longer holds, falls back to its entry, and the run then
writes the index again (`Cache.load_index`, `Cache.save_index`).

Hashing reads the file. A record also keeps the size, mtime and inode each
dependency had when it was hashed, and an unchanged stat is trusted instead of
reading the file again, but only for a file that had then been left alone for
`STABLE_NS` (so a write in the same clock tick as the hashing cannot go unseen, nor
one between the analysis and the stat); other files are stored with no mtime
(`UNTRUSTED`) and always hashed. A different size means a different content; when
only the mtime or inode differ, the content hash decides, so a touched but unchanged
file is still a hit. A tool that rewrites a file in place and then restores its old
size, mtime and inode defeats this, as it defeats make. Each file is stat'ed (and, if
need be, hashed) at most once per run.

Entries are JSON, never pickle (a cache directory can come with an untrusted
checkout), written to a temporary file and renamed into place (`os.replace`), so
a reader sees a whole entry or none and concurrent runs at worst redo each
other's work. An entry (or index) that cannot be read, parsed or decoded is a miss,
never an error; a cache directory that cannot be written is simply not written.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import importlib.util
import json
import os
import re
import time
import types
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from pinlint import __version__
from pinlint.model import Diagnostic, FileResult

if typing.TYPE_CHECKING:
    from pinlint.config import Config

DIRECTORY = ".pinlint_cache"
FORMAT = 2
#: The index of a salt directory (`Cache.load_index`), read by runs of at least
#: `INDEX_MIN_FILES` files (smaller ones read their few entries).
INDEX = "index.json"
INDEX_MIN_FILES = 100
#: Records (contents) kept per file.
KEEP = 4
#: A stat is trusted for a file that had not changed for this long when it was hashed.
STABLE_NS = 2_000_000_000
#: The mtime stored for a file whose stat is not to be trusted: it is always hashed.
UNTRUSTED = -1
#: A salt directory that no run has used for this long is removed (`Cache.sweep`) ...
STALE_NS = 7 * 24 * 3600 * 1_000_000_000
#: ... and so is one idle for `BUSY_NS` that is not among the `MAX_SALTS` most recent.
MAX_SALTS = 8
BUSY_NS = 3600 * 1_000_000_000
_SALT_DIRECTORY = re.compile(r"v[0-9]+-[0-9a-f]+\Z")
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


def trusted(dep: Dependency, hashed_at_ns: int) -> Dependency:
    """`dep` as stored, for a file hashed at `hashed_at_ns`: its mtime is kept only if
    the file had been left alone for `STABLE_NS` then, else it is `UNTRUSTED`."""
    if hashed_at_ns - dep.mtime_ns >= STABLE_NS:
        return dep
    return Dependency(dep.location, dep.digest, dep.size, UNTRUSTED, dep.inode)


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

#: What a damaged entry or index raises while it is read: a miss, never an error.
_CORRUPT = (ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError)


def _dependency(data: Any) -> Dependency:
    location, hashed, size, mtime_ns, inode = data
    if not (isinstance(location, str) and isinstance(hashed, str)):
        raise ValueError("not a dependency")
    if not all(type(n) is int for n in (size, mtime_ns, inode)):
        raise ValueError("not a dependency")
    return Dependency(location, hashed, size, mtime_ns, inode)


def _pairs(data: Any) -> tuple[tuple[str, str], ...]:
    """`FileResult.dependencies` as stored: a list of [path, hash] lists."""
    if not isinstance(data, list):
        raise ValueError("not a list of pairs")
    for pair in data:
        if not (isinstance(pair, list) and len(pair) == 2):
            raise ValueError("not a pair")
        if not (type(pair[0]) is str and type(pair[1]) is str):
            raise ValueError("not a pair of strings")
    return tuple((path, hashed) for path, hashed in data)


@dataclass(frozen=True, slots=True)
class _Record:
    """One stored result: what it was computed from, and the result as stored JSON
    (decoded only when used)."""

    dependencies: tuple[Dependency, ...]
    diagnostics: Any
    #: `FileResult.dependencies` (as [path, hash] lists or pairs), or None when they
    #: are the dependencies' (location, digest).
    reported: Any

    def as_json(self) -> dict[str, Any]:
        return {
            "dependencies": [
                [d.location, d.digest, d.size, d.mtime_ns, d.inode] for d in self.dependencies
            ],
            "diagnostics": self.diagnostics,
            "reported": self.reported,
        }

    @classmethod
    def from_json(cls, data: Any) -> _Record:
        deps = tuple(_dependency(d) for d in data["dependencies"])
        return cls(deps, data["diagnostics"], data["reported"])


class Cache:
    """One run's view of the cache for one configuration (`salt`).

    Safe to use from several processes at once; each keeps its own memo of the
    files it has checked and of the content hashes it has computed.
    """

    def __init__(self, root: Path, salt: str) -> None:
        self.project = root.resolve()
        self._prefix = os.path.join(str(self.project), "")
        self.base = self.project / DIRECTORY
        self.directory = self.base / f"v{FORMAT}-{salt}"
        self.salt = salt
        self._writable = True
        self._made: set[Path] = set()
        # What this process has learnt during the run (not handed to workers):
        self._digests: dict[str, str | None] = {}
        self._checked: dict[Dependency, bool] = {}
        #: The index (`load_index`): its entries, or None; its table of files, whether
        #: each is unchanged, and its (location, digest).
        self._index: dict[str, Any] | None = None
        self._files: list[Dependency] = []
        self._fresh: list[bool] = []
        self._pairs: list[tuple[str, str]] = []
        #: With the index loaded: each key looked up, with the record that served it
        #: (None: a miss), and whether the index must be written again.
        self._seen: dict[str, _Record | None] = {}
        self._stale = False
        #: Dependencies this process read and hashed (stable ones), by location.
        self._snapshots: dict[str, Dependency] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Workers get the configuration of the cache, not what this process read."""
        state = dict(self.__dict__)
        state.update(
            _digests={},
            _checked={},
            _index=None,
            _files=[],
            _fresh=[],
            _pairs=[],
            _seen={},
            _snapshots={},
        )
        return state

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

    def _key(self, shown: str, location: str) -> str:
        return hashlib.blake2b(f"{shown}\0{location}".encode(), digest_size=16).hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key

    # -- reading --

    def lookup(self, path: Path | str, shown: str) -> FileResult | None:
        """The cached result for `path` (reported as `shown`), if still valid."""
        location = self.location(path)
        key = self._key(shown, location)
        if self._index is not None:
            with contextlib.suppress(*_CORRUPT):
                found = self._from_index(key, location, shown)
                if found is not None:
                    return found
            self._stale = True  # the index lacks this file, or has an outdated record
        with contextlib.suppress(*_CORRUPT):
            for record in self._records(key):
                if self._holds(record, location):
                    if record.reported is None:
                        used = tuple((d.location, d.digest) for d in record.dependencies)
                    else:
                        used = _pairs(record.reported)
                    return self._result(key, shown, record, used)
        if self._index is not None:
            self._seen[key] = None
        return None

    def lookup_facts(self, kind: str, path: Path | str, shown: str) -> Iterator[tuple[Any, str]]:
        """What `store_facts` stored for `path` under `kind` (a fact about a module
        that other files' analyses use, not a result) while every file it was
        computed from is unchanged: (payload, the content hash of `path`), each
        variant kept, newest first."""
        location = self.location(path)
        with contextlib.suppress(*_CORRUPT):
            for record in self._records(self._key(f"{kind}\0{shown}", location)):
                if self._holds(record, location):
                    yield record.diagnostics, record.dependencies[0].digest

    def store_facts(
        self,
        kind: str,
        shown: str,
        dependencies: Iterable[Dependency],
        hashed_at_ns: int,
        payload: Any,
        variant: str | None = None,
    ) -> None:
        """Record a fact about the module `dependencies[0]` (see `lookup_facts`): JSON
        data, computed from the files `dependencies`, hashed from `hashed_at_ns` on;
        records of other `variant`s (facts that also hold under other conditions,
        which the payload names) are kept beside it. Never raises."""
        deps = tuple(trusted(d, hashed_at_ns) for d in dependencies)
        if deps and self._writable:
            entry = self._entry(self._key(f"{kind}\0{shown}", deps[0].location))
            self._save(entry, deps, payload, None, variant)

    def _result(
        self, key: str, shown: str, record: _Record, used: tuple[tuple[str, str], ...]
    ) -> FileResult:
        """The result of a record that holds (`used`: its `FileResult.dependencies`)."""
        result = FileResult(shown, decode(tuple[Diagnostic, ...], record.diagnostics), used)
        if self._index is not None:
            self._seen[key] = record
        return result

    def _records(self, key: str) -> Iterator[_Record]:
        """The records of a file's entry, newest first, each read as it is reached."""
        try:
            raw = self._entry(key).read_bytes()
        except OSError:
            return
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return
        for record in data["records"]:
            yield _Record.from_json(record)

    def _holds(self, record: _Record, location: str) -> bool:
        """Whether `record` is about the file at `location` and every file it was
        computed from is unchanged."""
        deps = record.dependencies
        return bool(deps) and deps[0].location == location and all(map(self._unchanged, deps))

    def _unchanged(self, dep: Dependency) -> bool:
        """Whether `dep` still has its content (memoised for the run: many results
        share their dependencies)."""
        known = self._checked.get(dep)
        if known is None:
            known = self._checked[dep] = self._check(dep)
        return known

    def _check(self, dep: Dependency) -> bool:
        path = os.path.join(self.project, dep.location)  # an absolute location stays as it is
        try:
            st = os.stat(path)
        except OSError:
            return False
        if st.st_size != dep.size:
            return False
        # Another size is another content. Otherwise the stat decides only when it is
        # exactly the one recorded, and was recorded as trustworthy (`trusted`); when
        # the mtime or inode differ, the content hash decides.
        if dep.mtime_ns != UNTRUSTED and (st.st_mtime_ns, st.st_ino) == (dep.mtime_ns, dep.inode):
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

    # -- the index --

    def load_index(self) -> None:
        """Read the index, so that lookups need not read an entry per file.

        `index.json` holds one record per file, as the last large run found them,
        with a single table of the files they depend on; a record names its
        dependencies (and its `FileResult.dependencies`, when they are other pairs
        than those) by their row in the table. A warm run reads one file, checks
        each row of the table once, here, and then a record with a few lookups per
        dependency. The index is only an accelerator: a file it lacks, or whose
        record no longer holds, is looked up in its own entry, and `save_index` then
        writes it again. Small runs leave it alone (reading it would cost more than
        their few entries)."""
        self._index, self._files, self._fresh, self._pairs = {}, [], [], []
        try:
            data = json.loads((self.directory / INDEX).read_bytes())
            if data.get("format") != FORMAT:
                raise ValueError("another format")
            files = [_dependency(d) for d in data["files"]]
            entries = data["entries"]
            if not isinstance(entries, dict):
                raise ValueError("no entries")
        except (OSError, *_CORRUPT):
            self._stale = True
            return
        self._index, self._files = entries, files
        self._fresh = [self._unchanged(d) for d in files]
        self._pairs = [(d.location, d.digest) for d in files]

    def _rows(self, ids: Any) -> list[int]:
        """Rows of the index's table (`IndexError`, `TypeError` or `ValueError` if
        they are not)."""
        if not isinstance(ids, list) or (ids and min(ids) < 0):
            raise ValueError("not rows of the table")
        return ids

    def _from_index(self, key: str, location: str, shown: str) -> FileResult | None:
        """The index's result for the file, if its record still holds. Per dependency
        this is a few lookups in lists (`map`), no Python code."""
        assert self._index is not None
        item = self._index.get(key)
        if item is None:
            return None
        ids, diagnostics, reported = item
        if not self._rows(ids) or not all(map(self._fresh.__getitem__, ids)):
            return None
        deps = tuple(map(self._files.__getitem__, ids))
        if deps[0].location != location:
            return None
        used = self._used(reported)
        record = _Record(deps, diagnostics, used)
        if used is None:
            used = tuple(map(self._pairs.__getitem__, ids))
        return self._result(key, shown, record, used)

    def _used(self, reported: Any) -> tuple[tuple[str, str], ...] | None:
        """An index record's `FileResult.dependencies`: None (its dependencies' pairs),
        rows of the table, or [path, hash] lists."""
        if reported is None:
            return None
        if reported and type(reported[0]) is int:
            return tuple(map(self._pairs.__getitem__, self._rows(reported)))
        return _pairs(reported)

    def save_index(self) -> None:
        """Write the index again if this run found it missing, outdated or incomplete:
        the records that served this run's files, the newest entry of each file
        analysed, and the old index's records of the files this run did not look up.
        Never raises; concurrent runs each write a whole index, and the last one wins."""
        if self._index is None or not self._stale or not self._writable:
            return
        table: dict[Dependency, int] = {}
        rows: dict[tuple[str, str], int] = {}  # (location, digest) -> a row that has them

        def add(key: str, record: _Record | None) -> None:
            if record is None:
                return
            ids = []
            for dep in record.dependencies:
                row = table.setdefault(dep, len(table))
                rows.setdefault((dep.location, dep.digest), row)
                ids.append(row)
            reported = record.reported
            if reported is not None:
                found = [rows.get((path, hashed)) for path, hashed in reported]
                reported = found if None not in found else reported
            entries[key] = [ids, record.diagnostics, reported]

        entries: dict[str, Any] = {}
        for key in self._index.keys() - self._seen.keys():
            with contextlib.suppress(*_CORRUPT):
                ids, diagnostics, reported = self._index[key]
                deps = tuple(map(self._files.__getitem__, self._rows(ids)))
                add(key, _Record(deps, diagnostics, self._used(reported)))
        for key, record in self._seen.items():
            if record is None:  # analysed by this run: what was stored for it
                with contextlib.suppress(*_CORRUPT):
                    record = next(self._records(key), None)
            with contextlib.suppress(*_CORRUPT):
                add(key, record)
        files = [[d.location, d.digest, d.size, d.mtime_ns, d.inode] for d in table]
        payload = json.dumps(
            {"format": FORMAT, "files": files, "entries": entries}, separators=(",", ":")
        )
        with contextlib.suppress(OSError):
            self._write(self.directory / INDEX, payload.encode("utf-8", "surrogatepass"))

    # -- writing --

    def store(
        self,
        shown: str,
        dependencies: Iterable[Dependency],
        hashed_at_ns: int,
        result: FileResult,
    ) -> None:
        """Record `result` for the file `dependencies[0]`, whose contents were hashed
        from `hashed_at_ns` on; never raises."""
        deps = tuple(trusted(d, hashed_at_ns) for d in dependencies)
        if not deps or not self._writable:
            return
        entry = self._entry(self._key(shown, deps[0].location))
        own = [(d.location, d.digest) for d in deps]
        reported = None if list(result.dependencies) == own else result.dependencies
        self._save(entry, deps, encode(result.diagnostics), encode(reported))

    def _save(
        self,
        entry: Path,
        deps: tuple[Dependency, ...],
        stored: Any,
        reported: Any,
        variant: Any = None,
    ) -> None:
        """Write `entry` with this record first, then up to `KEEP` - 1 of its older
        records computed from other contents (or, for facts, other `variant`s)."""
        record = _Record(deps, stored, reported).as_json()
        if variant is not None:
            record["variant"] = variant
        records: list[Any] = [record]
        with contextlib.suppress(OSError, *_CORRUPT):
            old = json.loads(entry.read_bytes())
            if isinstance(old, dict) and old.get("format") == FORMAT:
                keys = {(tuple(d.digest for d in deps), variant)}
                for previous in old["records"]:
                    key = (tuple(d[1] for d in previous["dependencies"]), previous.get("variant"))
                    if key not in keys and len(records) < KEEP:
                        keys.add(key)
                        records.append(previous)
        payload = json.dumps({"format": FORMAT, "records": records}, separators=(",", ":"))
        try:
            self._write(entry, payload.encode("utf-8", "surrogatepass"))
        except OSError:
            self._writable = False  # read-only checkout, full disk: stop trying

    def snapshots(
        self, pairs: Iterable[tuple[str, str]], skip: str | None = None
    ) -> list[Dependency] | None:
        """The `Dependency` of each (path, content hash) pair (but the one at location
        `skip`): None when a file is gone or no longer has that hash (what was
        computed from it is not to be stored: that content is not there any more).

        What used a module may have read it long before, so each one is read again
        here, and its stat is kept only when it had been left alone for `STABLE_NS`
        before that read; otherwise the entry will hash it instead of trusting its
        stat. A file read so (stable) earlier in this process is only stat-ed again:
        the same size, mtime and inode, and the hash wanted, reuse that reading."""
        found: list[Dependency] = []
        seen = self._snapshots
        for path, hashed in pairs:
            location = self.location(path)
            if location == skip:
                continue
            known = seen.get(location)
            if known is not None and known.digest == hashed:
                try:
                    st = os.stat(path)
                except OSError:
                    return None
                if (st.st_size, st.st_mtime_ns, st.st_ino) == (
                    known.size,
                    known.mtime_ns,
                    known.inode,
                ):
                    found.append(known)  # read and hashed earlier in this process, unchanged
                    continue
            read_at = time.time_ns()
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                    st = os.fstat(handle.fileno())
            except OSError:
                return None
            if digest(data) != hashed:
                return None
            dependency = trusted(
                Dependency(location, hashed, st.st_size, st.st_mtime_ns, st.st_ino), read_at
            )
            if dependency.mtime_ns != UNTRUSTED:  # (changed this recently: read it again)
                seen[location] = dependency
            found.append(dependency)
        return found

    def _write(self, entry: Path, payload: bytes) -> None:
        import tempfile  # not before: a run that writes nothing does not need it

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

    # -- old salt directories --

    def touch(self) -> None:
        """Mark this salt directory as used now (its mtime says when a run last used
        it); when it does not exist yet, this run is about to make it: `sweep`."""
        try:
            os.utime(self.directory)
        except FileNotFoundError:
            self.sweep()
        except OSError:
            pass  # a read-only cache is only read

    def sweep(self) -> list[str]:
        """Remove the salt directories beside this one that no run has used for
        `STALE_NS`, and, beyond the `MAX_SALTS` most recently used (this one
        included), those idle for `BUSY_NS`. Returns the names removed.

        A run touches its directory when it starts (`touch`), so one in use is not
        idle. Each is first renamed into a `.trash-*` directory: of concurrent
        sweepers only one takes it, and no run finds it half deleted. Whatever fails
        (a race, permissions) is left for a later sweep; nothing is raised."""
        import shutil
        import tempfile

        now = time.time_ns()
        found: list[tuple[int, str]] = []
        trash: list[str] = []
        try:
            with os.scandir(self.base) as scan:
                for item in scan:
                    if not item.is_dir(follow_symlinks=False):
                        continue
                    if item.name.startswith(".trash-"):
                        trash.append(item.path)  # what an interrupted sweep left
                    elif _SALT_DIRECTORY.match(item.name) and item.name != self.directory.name:
                        found.append((item.stat(follow_symlinks=False).st_mtime_ns, item.name))
        except OSError:
            return []
        found.sort(reverse=True)  # most recently used first
        removed: list[str] = []
        for rank, (used, name) in enumerate(found, start=1):  # this directory is rank 0
            idle = now - used
            if idle < BUSY_NS or (idle < STALE_NS and rank < MAX_SALTS):
                continue
            try:
                holder = tempfile.mkdtemp(dir=self.base, prefix=".trash-")
            except OSError:
                break
            trash.append(holder)
            with contextlib.suppress(OSError):
                os.rename(self.base / name, os.path.join(holder, name))
                removed.append(name)
        for path in trash:
            shutil.rmtree(path, ignore_errors=True)
        return removed
