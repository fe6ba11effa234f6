"""The analysed tree: which file a module name is, and what each module exports.

`api.lint_paths` builds one `ProjectIndex` from the checked paths and hands it to
`engine.lint_source` for every file. Extraction of a file asks it, through that
file's `FileView`, for the constants and wrappers of the modules the file imports.

*Module names.* Every checked file lies under a *root* (a ``sys.path`` entry): the
directory above its outermost package (walking up the ``__init__.py`` files), or
the file's own directory; each checked directory and its ``src/`` are roots too.
``app.queries`` is ``<root>/app/queries.py`` or ``<root>/app/queries/__init__.py``
under the first root that has it, searching the importing file's own roots first.
A name found only under several other roots is *ambiguous*: it is used, one step
less sure. Relative imports are resolved from the importing file's module name.

*Summaries.* `summary` reads, parses and summarises a module the first time it is
needed (whatever the gate says about it), once per process; a module that imports
itself back (a cycle) sees nothing of the module being summarised. Before parsing,
a byte test: a module in which the wanted name does not occur (and that has no
star import) is not parsed for it. libcst parses the module with the functions that
cannot reach SQL blanked (`pinlint.extract.outline`); a question about an instance
attribute that only a blanked method assigns parses it whole.

*Wrappers and the gate.* `reached` outlines a module with `ast` and tells what it
exports that may lead to SQL: its wrappers, classes with wrapper methods, and what
it re-exports. It does so only for a module that calls a sink name or names an
export of a module it imports (`names_wrappers`, a byte test); any other module
exports nothing. A file that names no sink is analysed only when `names_wrappers`
says it may call one (`FileView.may_call_wrappers`), and the dataflow asks
`may_wrap` before it parses another module to look for a wrapper.

*Dependencies.* Each `FileView` records the (path, content hash) of every summary
it used, with those the summary itself used, and of every module whose exports the
gate and the outline read, so a cache can invalidate a file when a module it read
changes (`FileResult.dependencies`).

*Kept answers.* With the cache on, each process that analyses keeps the `reached`
answer of every module it asks about in the cache (`store`), with the module's
content hash and the exports of each module it consulted; a later run uses it while
those still hold, so a pre-commit run does not outline the packages its five files
import again, and an edit re-outlines a module's importers only when its exports
change.

The index is picklable: its memos are dropped on the way, and each worker process
fills its own.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import tokenize
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pinlint.cache import digest

if TYPE_CHECKING:  # the extraction (libcst) is imported when first needed
    from pinlint.cache import Cache
    from pinlint.extract.bindings import Member
    from pinlint.extract.dataflow import ModuleAnalysis
    from pinlint.extract.outline import Exports, Outline, Reach
    from pinlint.extract.summary import ClassSummary, FunctionSummary, ModuleSummary

#: How many re-exports, bases and wrappers deep a name is followed across modules.
MAX_DEPTH = 8
#: Modules larger than this are not summarised (as files this large are not checked).
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
#: Parsed modules kept in memory at once, for more questions about their members.
MAX_LIVE = 64

_FROM = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n;#]*)", re.M)
_IMPORT = re.compile(rb"^[ \t]*import[ \t]+([^\n;#]+)", re.M)
_STAR = re.compile(rb"\bimport[ \t]*\*")
_FROM_STAR = re.compile(rb"^[ \t]*from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*\*", re.M)
#: An ASCII identifier (exported names are compared with the words of a file).
_WORD = re.compile(rb"(?<![\w\x80-\xff])[A-Za-z_][A-Za-z0-9_]*(?![\w\x80-\xff])")


@dataclass(frozen=True, slots=True)
class Reached:
    """`ProjectIndex.reached`: the module's outline reach (None when it cannot
    define a wrapper), its exports, and the (shown path, hash) of every module the
    answer read."""

    reach: Reach | None
    exports: Exports
    dependencies: frozenset[tuple[str, str]]


class ProjectIndex:
    """The modules of the analysed tree; see the module docstring."""

    def __init__(
        self,
        roots: Iterable[Path],
        files: Iterable[tuple[Path, str]] = (),
        *,
        display: Callable[[Path], str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        #: Directories that module names are relative to, deepest first.
        self.roots: tuple[Path, ...] = tuple(
            sorted({Path(os.path.abspath(r)) for r in roots}, key=lambda p: (-len(p.parts), str(p)))
        )
        #: The checked files: as reported -> on disk.
        self.files: dict[str, Path] = {shown: Path(os.path.abspath(p)) for p, shown in files}
        self.display = display
        self.max_bytes = max_bytes
        #: Where `reached` answers are kept between runs (`pinlint.cache`): set in
        #: each process that analyses (`runner.Worker`), never pickled.
        self.store: Cache | None = None
        self._reset()

    def _reset(self) -> None:
        self._modules: dict[Path, _Module] = {}
        self._live: OrderedDict[Path, _Module] = OrderedDict()
        self._classes: dict[str, tuple[_Module, str, bool]] = {}
        self._found: dict[tuple[str, tuple[Path, ...]], tuple[Path, bool] | None] = {}
        self._own: dict[Path, tuple[Path, ...]] = {}
        self._names: dict[Path, tuple[str, bool] | None] = {}
        self._package_roots: dict[Path, Path] = {}
        self._top: dict[Path, frozenset[str]] = {}
        self._reached: dict[Path, Reached] = {}
        #: Per `reached` question being answered: the answers it consulted.
        self._consulted: list[dict[Path, Reached]] = []

    def __getstate__(self) -> dict[str, Any]:
        return {
            "roots": self.roots,
            "files": self.files,
            "display": self.display,
            "max_bytes": self.max_bytes,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.roots = state["roots"]
        self.files = state["files"]
        self.display = state["display"]
        self.max_bytes = state["max_bytes"]
        self.store = None
        self._reset()

    @classmethod
    def for_paths(
        cls,
        paths: Sequence[Path],
        files: Sequence[Path],
        *,
        display: Callable[[Path], str] | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> ProjectIndex:
        """The index of a run: `paths` as given on the command line, `files` discovered."""
        roots: set[Path] = set()
        seen: dict[Path, Path] = {}
        for path in paths:
            if path.is_dir():
                roots.add(path)
                if (path / "src").is_dir():
                    roots.add(path / "src")
        for file in files:
            if file.suffix == ".py":
                roots.add(_package_root(file.parent, seen))
        shown = display or str
        return cls(
            roots,
            [(f, shown(f)) for f in files if f.suffix == ".py"],
            display=display,
            max_bytes=max_bytes,
        )

    # -- module names ------------------------------------------------------------------

    def path_of(self, shown: str) -> Path:
        found = self.files.get(shown)
        return found if found is not None else Path(os.path.abspath(shown))

    def shown(self, path: Path) -> str:
        return self.display(path) if self.display is not None else str(path)

    def module_name(self, path: Path) -> tuple[str, bool] | None:
        """The dotted name of a file and whether it is a package (``__init__.py``)."""
        if path in self._names:
            return self._names[path]
        found: tuple[str, bool] | None = None
        root = _package_root(path.parent, self._package_roots)
        try:
            parts = list(path.with_suffix("").relative_to(root).parts)
        except ValueError:
            parts = []
        package = bool(parts) and parts[-1] == "__init__"
        if package:
            parts = parts[:-1]
        if parts and all(p.isidentifier() for p in parts):
            found = (".".join(parts), package)
        self._names[path] = found
        return found

    def find(self, module: str, near: Path | None = None) -> tuple[Path, bool] | None:
        """The file of `module` and whether the name was ambiguous (see the docstring)."""
        own = self._own_roots(near) if near is not None else ()
        key = (module, own)
        if key in self._found:
            return self._found[key]
        parts = module.split(".") if module else []
        found: tuple[Path, bool] | None = None
        if parts and all(p.isidentifier() for p in parts):
            relative = Path(*parts)
            for root in own:
                hit = self._module_file(root, parts[0], relative)
                if hit is not None:
                    found = (hit, False)
                    break
            if found is None:
                hits = {
                    h
                    for r in self.roots
                    if r not in own
                    for h in [self._module_file(r, parts[0], relative)]
                    if h is not None
                }
                unique = sorted(hits, key=str)
                if unique:
                    found = (unique[0], len(unique) > 1)
        self._found[key] = found
        return found

    def _own_roots(self, near: Path) -> tuple[Path, ...]:
        """The roots a file lies under, deepest first."""
        found = self._own.get(near)
        if found is None:
            text = str(near)
            found = tuple(r for r in self.roots if text.startswith(str(r).rstrip(os.sep) + os.sep))
            self._own[near] = found
        return found

    def _module_file(self, root: Path, head: str, relative: Path) -> Path | None:
        """``root/relative.py`` or ``root/relative/__init__.py``, if it exists; a root's
        top-level names are listed once, so a name it lacks costs no ``stat``."""
        top = self._top.get(root)
        if top is None:
            try:
                names = os.listdir(root)
            except OSError:
                names = []
            top = frozenset(n[:-3] if n.endswith(".py") else n for n in names)
            self._top[root] = top
        if head not in top:
            return None
        return _module_file(root, relative)

    # -- summaries ---------------------------------------------------------------------

    def read(self, path: Path) -> bytes | None:
        """The bytes of a module (None when it is too large or unreadable). Not kept:
        `reached` and `_module` each read a module once, and keeping every module a
        worker reads would cost it the size of the tree."""
        try:
            size = path.stat().st_size
            return path.read_bytes() if size <= self.max_bytes else None
        except OSError:
            return None

    def _module(self, module: str, path: Path) -> _Module | None:
        entry = self._modules.get(path)
        if entry is None:
            data = self.read(path)
            if data is None:
                return None
            entry = _Module(self, module, path, data)
            self._modules[path] = entry
        return entry

    def _alive(self, entry: _Module) -> None:
        """Keep at most `MAX_LIVE` parsed modules; the others are parsed again if asked."""
        self._live[entry.path] = entry
        self._live.move_to_end(entry.path)
        while len(self._live) > MAX_LIVE:
            _, oldest = self._live.popitem(last=False)
            oldest.release()

    def summary(self, module: str, near: Path | None = None) -> ModuleSummary | None:
        """What the tree has asked of `module` so far; the module is read and parsed on
        the first request (whatever the gate would say of it)."""
        found = self.find(module, near)
        entry = self._module(module, found[0]) if found is not None else None
        if entry is None or entry.analysis() is None:
            return None
        return entry.summary

    def member(
        self, qualified: str, near: Path | None, used: set[tuple[str, str]], depth: int = 0
    ) -> Member | None:
        """What `qualified` is in the tree, as seen from the file `near`."""
        from pinlint.extract.bindings import Member, MemberKind
        from pinlint.extract.dataflow import imported

        if depth > MAX_DEPTH or not qualified:
            return None
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            module = ".".join(parts[:cut])
            found = self.find(module, near)
            if found is not None:
                break
        else:
            return None
        path, ambiguous = found
        rest = parts[cut:]
        if not rest:
            return Member(MemberKind.MODULE, module)
        entry = self._module(module, path)
        if entry is None or not entry.mentions(rest[0]):
            return None  # the byte test: the module cannot define the name
        export = entry.export(rest[0])
        used.update(entry.dependencies())
        drop = 2 if ambiguous else 1
        if export is None:
            for star in entry.star_imports():
                found_member = self.member(".".join([star, *rest]), path, used, depth + 1)
                if found_member is not None:
                    return found_member
            return None
        kind, value = export
        if kind == "import":
            assert isinstance(value, str)
            return self.member(".".join([value, *rest[1:]]), path, used, depth + 1)
        if kind == "class":
            assert isinstance(value, str)
            defined = f"{entry.summary.module}.{rest[0]}"
            self._classes[defined] = (entry, value, ambiguous)
            if len(rest) == 1:
                return Member(MemberKind.CLASS, defined, drop=drop - 1)
            if len(rest) != 2:
                return None
            method = self.method(defined, rest[1], path, used, depth + 1)
            if method is not None:
                return Member(MemberKind.FUNCTION, qualified, function=method, drop=drop - 1)
            values = self.class_attribute(defined, rest[1], path, used, depth + 1)
            return Member(MemberKind.CONSTANT, qualified, values) if values is not None else None
        if len(rest) != 1:
            return None
        if kind == "function":
            function = cast("FunctionSummary", value)
            return Member(MemberKind.FUNCTION, qualified, function=function, drop=drop - 1)
        return Member(
            MemberKind.CONSTANT, qualified, imported(cast("tuple[object, ...]", value), drop)
        )

    def _class(
        self, qualified: str, near: Path | None, used: set[tuple[str, str]], depth: int
    ) -> tuple[_Module, str, bool] | None:
        from pinlint.extract.bindings import MemberKind

        if depth > MAX_DEPTH:
            return None
        member = self.member(qualified, near, used, depth)
        if member is None or member.kind is not MemberKind.CLASS:
            return None
        return self._classes.get(member.qualified)

    def method(
        self,
        qualified: str,
        name: str,
        near: Path | None,
        used: set[tuple[str, str]],
        depth: int = 0,
    ) -> FunctionSummary | None:
        """A method of a class of the tree, looked up through its bases."""
        found = self._class(qualified, near, used, depth)
        if found is None:
            return None
        entry, key, _ = found
        summary = entry.method(key, name)
        used.update(entry.dependencies())
        if summary is not None:
            return summary
        for base in entry.bases(key):
            summary = self.method(base, name, entry.path, used, depth + 1)
            if summary is not None:
                return summary
        return None

    def class_attribute(
        self,
        qualified: str,
        name: str,
        near: Path | None,
        used: set[tuple[str, str]],
        depth: int = 0,
    ) -> tuple[object, ...] | None:
        """An attribute of a class of the tree, looked up through its bases."""
        from pinlint.extract.dataflow import imported

        found = self._class(qualified, near, used, depth)
        if found is None:
            return None
        entry, key, ambiguous = found
        values = entry.attribute(key, name)
        used.update(entry.dependencies())
        if values is not None:
            return imported(values, 2 if ambiguous else 1)
        for base in entry.bases(key):
            values = self.class_attribute(base, name, entry.path, used, depth + 1)
            if values is not None:
                return values
        return None

    # -- the gate and the wrappers -----------------------------------------------------

    def names_wrappers(
        self, data: bytes, path: Path, depth: int, used: set[tuple[str, str]]
    ) -> bool:
        """The byte test for a file that calls no sink: whether it names an export of a
        module it imports (`reached`: a wrapper, or a class with wrapper methods),
        star-imports one that has exports, or reaches a submodule's wrapper through a
        package (``import app`` then ``app.db.run(...)``). A file that does not cannot
        call a wrapper of the tree, nor define or re-export one. Adds to `used` the
        modules it read."""
        view = FileView(self, path)
        words: set[str] | None = None
        stars = {m.decode("ascii", "replace") for m in _FROM_STAR.findall(data)}
        for module, plain in _imported_modules(data).items():
            absolute = view.absolute(module)
            found = self.find(absolute, path) if absolute else None
            if absolute is None or found is None:
                continue
            reached = self.reached(found[0], depth)
            used.update(reached.dependencies)
            if reached.exports:
                if module in stars:
                    return True
                if words is None:
                    words = {w.decode("ascii") for w in _WORD.findall(data)}
                if not words.isdisjoint(reached.exports) or any(
                    not name.isascii() and name.encode() in data for name in reached.exports
                ):
                    return True
            if plain and found[0].name == "__init__.py":
                text = data.decode("utf-8", "replace")
                if _chained(text, module, absolute, partial(self._exports, view, depth, used)):
                    return True
        return False

    def _exports(
        self, view: FileView, depth: int, used: set[tuple[str, str]], module: str
    ) -> Exports | None:
        """What `module`, as `view`'s file names it, exports (None when it is not a
        module of the tree); adds to `used` the modules the answer read."""
        absolute = view.absolute(module)
        found = self.find(absolute, view.path) if absolute else None
        if found is None:
            return None
        reached = self.reached(found[0], depth)
        used.update(reached.dependencies)
        return reached.exports

    def may_wrap(self, qualified: str, near: Path | None, used: set[tuple[str, str]]) -> bool:
        """False when `qualified` names a function, or a class's method, that the
        module defining it does not export as a wrapper (`reached`), or nothing of
        the tree: then `member` and `method` need not parse the module to say so."""
        parts = qualified.split(".")
        for cut in range(len(parts), 0, -1):
            found = self.find(".".join(parts[:cut]), near)
            if found is not None:
                break
        else:
            return False
        rest = parts[cut:]
        if not rest:
            return True
        reached = self.reached(found[0])
        used.update(reached.dependencies)
        members = reached.exports.get(rest[0])
        return members is not None and (len(rest) == 1 or rest[1] in members)

    def reached(self, path: Path, depth: int = 0) -> Reached:
        """What the module in `path` exports that may lead to SQL, and which of its
        functions matter (`pinlint.extract.outline`); each module once per process.
        A module that calls no sink and names no wrapper of the modules it imports
        (`names_wrappers`), or that `ast` rejects, exports nothing. With a `store`,
        an answer a run kept is used while it still holds (`_kept`)."""
        known = self._reached.get(path)
        if known is None:
            keeps = self.store is not None and depth <= MAX_DEPTH
            known = self._kept(path, depth) if keeps else None
            if known is None:
                known = self._reach(path, depth)
        if self._consulted:
            self._consulted[-1][path] = known
        return known

    def _reach(self, path: Path, depth: int) -> Reached:
        started = time.time_ns()
        data = self.read(path)
        own = frozenset({(self.shown(path), digest(data))}) if data is not None else frozenset()
        self._reached[path] = Reached(None, {}, own)  # a cycle sees nothing
        result = Reached(None, {}, own)
        self._consulted.append({})
        try:
            if data is not None and depth <= MAX_DEPTH:
                from pinlint.extract.gate import calls_a_sink
                from pinlint.extract.outline import Outline

                read: set[tuple[str, str]] = set()
                if calls_a_sink(data) or self.names_wrappers(data, path, depth + 1, read):
                    text = _decoded(data)
                    outline = Outline.of(text) if text is not None else None
                    if outline is not None:
                        imported, used = self.imported(outline, path, depth + 1)
                        reach = outline.reach(imported)
                        result = Reached(reach, reach.exports, own | read | used)
                else:
                    result = Reached(None, {}, own | read)
        finally:
            consulted = self._consulted.pop()
        self._reached[path] = result
        if self.store is not None and data is not None and depth <= MAX_DEPTH:
            self._keep(self.store, path, result, own, consulted, started)
        return result

    # -- answers kept between runs ------------------------------------------------------
    #
    # A module's `reached` answer is a function of its own content, of the answers
    # for the modules it consulted (their exports) and of what import names resolve
    # to (the roots). So a run keeps, per module, its answer with its content hash
    # and the hash of each consulted module's exports; a later run uses it while the
    # content is the same and each consulted module, asked again (from what was
    # kept, or anew), still exports the same: editing a module re-outlines it, and
    # its importers only if its exports changed. A module met again while it is
    # being asked (an import cycle) sees nothing, as when it was computed; when the
    # order of the questions differs, the hashes differ and the answer is computed
    # anew; the consulted modules are asked again in the order they were first
    # asked, so that a kept answer is what this run would compute. The answers a
    # run keeps are those of every module it asked about, one per content and
    # order (`cache.KEEP` at most), since runs of the whole tree and of a few files
    # ask in different orders.

    def _keep(
        self,
        store: Cache,
        path: Path,
        result: Reached,
        own: frozenset[tuple[str, str]],
        consulted: dict[Path, Reached],
        started: int,
    ) -> None:
        deps = store.snapshots(sorted(own))
        if deps is None:
            return  # the module changed while it was read
        reach = result.reach
        payload = {
            "exports": {name: sorted(members) for name, members in result.exports.items()},
            "reach": None
            if reach is None
            else [
                [list(span) for span in reach.spans],
                sorted(reach.blanked_assigns),
                sorted(reach.needed),
                reach.uses_imported,
            ],
            # (in the order asked: in a cycle, what is asked first changes the answers)
            "consulted": [
                [self.shown(other), _exports_hash(answer.exports)]
                for other, answer in consulted.items()
            ],
        }
        # (one record per content and order of the questions: a full run and a
        # pre-commit run, in turn, each find theirs)
        variant = digest(json.dumps(payload["consulted"]).encode("utf-8", "surrogatepass"))
        store.store_facts(self._store_kind(), self.shown(path), deps, started, payload, variant)

    def _kept(self, path: Path, depth: int) -> Reached | None:
        """The answer a run kept for `path`, if the module is unchanged and every
        module it consulted still exports the same (of those kept for other orders
        of the questions, the first that holds)."""
        assert self.store is not None
        shown = self.shown(path)
        for payload, hashed in self.store.lookup_facts(self._store_kind(), path, shown):
            found = self._holds(path, frozenset({(shown, hashed)}), payload, depth)
            if found is not None:
                return found
        return None

    def _holds(
        self, path: Path, own: frozenset[tuple[str, str]], payload: Any, depth: int
    ) -> Reached | None:
        from pinlint.extract.outline import Reach

        try:
            exports = {name: frozenset(members) for name, members in payload["exports"].items()}
            reach = None
            if payload["reach"] is not None:
                spans, assigns, needed, uses_imported = payload["reach"]
                reach = Reach(
                    {int(index) for index in needed},
                    exports,
                    bool(uses_imported),
                    frozenset(map(str, assigns)),
                    tuple((int(first), int(last), str(code)) for first, last, code in spans),
                )
            consulted = [(str(other), str(hashed)) for other, hashed in payload["consulted"]]
        except (TypeError, ValueError, KeyError, AttributeError):
            return None
        self._reached[path] = Reached(None, {}, own)  # a cycle sees nothing, as it did
        self._consulted.append({})
        try:
            holds = all(
                _exports_hash(self.reached(self.path_of(other), depth + 1).exports) == hashed
                for other, hashed in consulted
            )
        finally:
            answers = self._consulted.pop()
        del self._reached[path]
        if not holds:
            return None
        used = set(own)
        for answer in answers.values():
            used.update(answer.dependencies)
        result = Reached(reach, exports, frozenset(used))
        self._reached[path] = result
        return result

    def _store_kind(self) -> str:
        """What `reached` answers are stored as: they depend on the roots, which
        decide what each import names."""
        roots = "\n".join(map(str, self.roots)).encode("utf-8", "surrogatepass")
        return f"reached-{digest(roots)}"

    def imported(
        self, outline: Outline, path: Path, depth: int = 0
    ) -> tuple[dict[str, frozenset[str]], frozenset[tuple[str, str]]]:
        """The names `outline`'s imports bind to wrappers of other modules of the tree
        (local name -> the method names it brings), and the modules that answer read."""
        view = FileView(self, path)
        found: dict[str, set[str]] = {}
        used: set[tuple[str, str]] = set()

        def module_file(module: str) -> Path | None:
            absolute = view.absolute(module)
            hit = self.find(absolute, path) if absolute else None
            return hit[0] if hit is not None else None

        exports = partial(self._exports, view, depth, used)

        for local, targets in outline.aliases.items():
            for target in targets:
                whole = exports(target)
                if whole is not None:  # a module: ``local.run(...)``, ``local.sub.run(...)``
                    dotted = {f"{local}.{name}": brought for name, brought in whole.items()}
                    if getattr(module_file(target), "name", "") == "__init__.py":
                        dotted.update(_chained(outline.source.text, local, target, exports))
                    for name, brought in dotted.items():
                        found.setdefault(name, set()).update(brought)
                    continue
                module, _, name = target.rpartition(".")
                names = exports(module) if module else None
                if names and name in names:
                    found.setdefault(local, set()).update(names[name])
        for star in outline.stars:
            for name, brought in (exports(star) or {}).items():
                found.setdefault(name, set()).update(brought)
        return {k: frozenset(v) for k, v in found.items()}, frozenset(used)

    def view(self, shown: str) -> FileView:
        return FileView(self, self.path_of(shown))


class FileView:
    """The tree as one file sees it (`pinlint.extract.dataflow.ProjectView`)."""

    def __init__(self, project: ProjectIndex, path: Path) -> None:
        self.project = project
        self.path = path
        named = project.module_name(path)
        self.module_name: str | None = named[0] if named is not None else None
        self.package = named[1] if named is not None else False
        self.used: set[tuple[str, str]] = set()

    def absolute(self, name: str) -> str | None:
        """`name` made absolute, when it is relative (``..models``) to this file."""
        if not name.startswith("."):
            return name
        if self.module_name is None:
            return None
        level = len(name) - len(name.lstrip("."))
        parts = self.module_name.split(".")
        if not self.package:
            parts = parts[:-1]
        if level > 1:
            if level - 1 > len(parts):
                return None
            parts = parts[: len(parts) - (level - 1)]
        rest = name[level:]
        return ".".join([*parts, rest] if rest else parts) or None

    def member(self, qualified: str) -> Member | None:
        return self.project.member(qualified, self.path, self.used)

    def may_wrap(self, qualified: str) -> bool:
        return self.project.may_wrap(qualified, self.path, self.used)

    def method(self, class_qualified: str, name: str) -> FunctionSummary | None:
        return self.project.method(class_qualified, name, self.path, self.used)

    def class_attribute(self, class_qualified: str, name: str) -> tuple[object, ...] | None:
        return self.project.class_attribute(class_qualified, name, self.path, self.used)

    def may_call_wrappers(self, data: bytes) -> bool:
        """`ProjectIndex.names_wrappers` for this file, recording what it read."""
        return self.project.names_wrappers(data, self.path, 1, self.used)

    def imported(self, outline: Outline) -> dict[str, frozenset[str]]:
        """`ProjectIndex.imported` for this file, recording what it read."""
        found, used = self.project.imported(outline, self.path, 1)
        self.used.update(used)
        return found

    def dependencies(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.used))


class _Module:
    """One module of the tree: read once, parsed when first asked about (and again
    after `ProjectIndex` let it go), each member summarised once."""

    def __init__(self, project: ProjectIndex, name: str, path: Path, data: bytes) -> None:
        from pinlint.extract.summary import ModuleSummary

        self.project = project
        self.path = path
        self.data = data
        shown = project.shown(path)
        own = digest(data)
        self.own = (shown, own)
        self.summary = ModuleSummary(name, shown, own, dependencies=(self.own,))
        self.view = FileView(project, path)
        self._analysis: ModuleAnalysis | None = None
        self._failed = False
        self._exports: dict[str, tuple[str, object] | None] = {}
        self._running: set[tuple[str, ...]] = set()
        self._stars: tuple[str, ...] | None = None
        #: Parse the whole text, not the blanked one (see `attribute`).
        self._whole = False
        self._blanked_assigns: frozenset[str] = frozenset()

    def mentions(self, name: str) -> bool:
        if re.search(rb"\b" + re.escape(name.encode()) + rb"\b", self.data):
            return True
        return _STAR.search(self.data) is not None

    def dependencies(self) -> set[tuple[str, str]]:
        found = {self.own, *self.view.used}
        self.summary.dependencies = tuple(sorted(found))
        return found

    def analysis(self) -> ModuleAnalysis | None:
        """The module's dataflow, parsed from its text with the functions that cannot
        reach SQL blanked (`pinlint.extract.outline`), or whole once a question needed
        what a blanked method assigns (`attribute`)."""
        if self._analysis is None and not self._failed:
            import libcst as cst

            from pinlint.extract import outline as outlines
            from pinlint.extract.dataflow import ModuleAnalysis
            from pinlint.extract.dialect import module_dialect
            from pinlint.extract.python import whole_imports
            from pinlint.extract.visitor import collect

            try:
                text = _decoded(self.data)
                if text is None:
                    raise ValueError("undecodable")
                code, imports = text, None
                if not self._whole and outlines.BLANK:
                    reach = self.project.reached(self.path).reach
                    if reach is None:
                        outline = outlines.Outline.of(text)
                        reach = outline.reach() if outline is not None else None
                    # (the import table stays the whole module's)
                    imports = whole_imports(text) if reach is not None else None
                    if reach is not None and imports is not None:
                        code = outlines.blank(text, reach.spans)
                        self._blanked_assigns = reach.blanked_assigns
                tree = cst.parse_module(code)
                collected = collect(tree)
                if code is not text and imports is not None:
                    collected.imports = imports
                self._analysis = ModuleAnalysis(
                    tree,
                    collected,
                    module_dialect(collected.imports, text),
                    self.view,
                    self.summary.module,
                )
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # not Python, not decodable, or a bug: nothing known
                self._failed = True
                return None
            self.project._alive(self)
        return self._analysis

    def release(self) -> None:
        self._analysis = None

    def _guarded(self, key: tuple[str, ...], compute: Callable[[ModuleAnalysis], object]) -> object:
        """`compute(analysis)`, unless the same question is already being answered (a
        cycle) or the module cannot be analysed: then None."""
        if key in self._running:
            return None
        analysis = self.analysis()
        if analysis is None:
            return None
        self._running.add(key)
        try:
            return compute(analysis)
        except (KeyboardInterrupt, SystemExit, RecursionError):
            raise
        except Exception:  # a bug in pinlint: this member is not known
            return None
        finally:
            self._running.discard(key)

    def export(self, name: str) -> tuple[str, object] | None:
        if name in self._exports:
            return self._exports[name]
        found = self._guarded(("export", name), lambda a: self._export(a, name))
        if ("export", name) not in self._running:
            self._exports[name] = found  # type: ignore[assignment]
        return found  # type: ignore[return-value]

    def _export(self, analysis: ModuleAnalysis, name: str) -> tuple[str, object] | None:
        from pinlint.extract.summary import ClassSummary

        export = analysis.export(name)
        if export is None:
            return None
        kind, value = export
        shown = self.summary.path
        if kind == "function":
            located = analysis.located_function(shown, cast("FunctionSummary", value))
            self.summary.functions[name] = located
            return kind, located
        if kind == "constant":
            assert isinstance(value, tuple)
            values = analysis.located(shown, value)
            self.summary.constants[name] = values
            return kind, values
        if kind == "class":
            assert isinstance(value, str)
            self.summary.classes[name] = ClassSummary(name, analysis.class_bases(value))
            return kind, value
        assert isinstance(value, str)
        self.summary.imports[name] = value
        return kind, value

    def star_imports(self) -> tuple[str, ...]:
        if self._stars is None:
            if _STAR.search(self.data) is None:
                self._stars = ()
            else:
                analysis = self.analysis()
                self._stars = analysis.star_imports() if analysis is not None else ()
                self.summary.star_imports = self._stars
        return self._stars

    def _class_summary(self, key: str) -> ClassSummary | None:
        return self.summary.classes.get(key.rpartition(".")[2] if "." in key else key)

    def bases(self, key: str) -> tuple[str, ...]:
        cls = self._class_summary(key)
        return cls.bases if cls is not None else ()

    def method(self, key: str, name: str) -> FunctionSummary | None:
        cls = self._class_summary(key)
        if cls is not None and name in cls.methods:
            return cls.methods[name]
        shown = self.summary.path

        def compute(analysis: ModuleAnalysis) -> FunctionSummary | None:
            found = analysis.class_method(key, name)
            return analysis.located_function(shown, found) if found is not None else None

        found = cast("FunctionSummary | None", self._guarded(("method", key, name), compute))
        if cls is not None and ("method", key, name) not in self._running:
            cls.methods[name] = found
        return found

    def attribute(self, key: str, name: str) -> tuple[object, ...] | None:
        cls = self._class_summary(key)
        if cls is not None and name in cls.attributes:
            return cls.attributes[name]
        self.analysis()  # (which tells what the blanked methods assign)
        if name in self._blanked_assigns and not self._whole and not self._running:
            self._whole = True  # a blanked method assigns it: parse the whole module
            self._blanked_assigns = frozenset()
            self.release()
        shown = self.summary.path

        def compute(analysis: ModuleAnalysis) -> tuple[object, ...] | None:
            values = analysis.class_attribute(key, name)
            return analysis.located(shown, values) if values is not None else None

        found = cast("tuple[object, ...] | None", self._guarded(("attribute", key, name), compute))
        if cls is not None and ("attribute", key, name) not in self._running:
            cls.attributes[name] = found
        return found


# -- helpers ------------------------------------------------------------------------------


def _package_root(directory: Path, memo: dict[Path, Path]) -> Path:
    """The directory above the outermost package that holds `directory`."""
    start = Path(os.path.abspath(directory))
    known = memo.get(start)
    if known is not None:
        return known
    current = start
    while (current / "__init__.py").is_file() and current.parent != current:
        current = current.parent
    memo[start] = current
    return current


def _module_file(root: Path, relative: Path) -> Path | None:
    candidate = root / relative.with_suffix(".py") if relative.name else None
    if candidate is not None and candidate.is_file():
        return candidate
    package = root / relative / "__init__.py"
    if package.is_file():
        return package
    return None


def _imported_modules(data: bytes) -> dict[str, bool]:
    """The modules a source imports, as written (relative ones with their dots), each
    with whether an ``import`` statement names it (then ``module.sub.name`` may be
    used); for ``from X import a, b`` both ``X`` and ``X.a``, ``X.b`` (either may be
    a module)."""
    out: dict[str, bool] = {}
    for match in _FROM.finditer(data):
        module = match.group(1).decode("ascii", "replace")
        out.setdefault(module, False)
        names = match.group(2).decode("ascii", "replace").strip("() \t\r\n\\")
        for item in names.split(","):
            name = item.split()[0] if item.split() else ""
            if name.isidentifier():
                full = f"{module}.{name}" if not module.endswith(".") else module + name
                out.setdefault(full, False)
    for match in _IMPORT.finditer(data):
        for item in match.group(1).decode("ascii", "replace").split(","):
            words = item.split()
            if words and all(p.isidentifier() for p in words[0].split(".")):
                out[words[0]] = True
    return out


def _exports_hash(exports: Exports) -> str:
    text = json.dumps(sorted((name, sorted(members)) for name, members in exports.items()))
    return digest(text.encode("utf-8", "surrogatepass"))


def _decoded(data: bytes) -> str | None:
    """`data` decoded as PEP 263 says; None when it cannot be."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, UnicodeDecodeError, LookupError):
        return None


def _chained(
    text: str, local: str, target: str, exports: Callable[[str], Exports | None]
) -> dict[str, frozenset[str]]:
    """For a package bound to `local`: the wrappers of its submodules that the text
    reaches as ``local.sub.name`` (the dotted name as written -> the method names
    it brings)."""
    found: dict[str, frozenset[str]] = {}
    if local + "." not in text and not re.search(re.escape(local) + r"\s", text):
        return found
    chains: set[tuple[str, ...]] = set()
    for match in re.finditer(re.escape(local) + r"((?:\s*\.\s*\w+)+)", text):
        before = text[match.start() - 1] if match.start() else ""
        if not (before.isalnum() or before in "_."):
            chains.add(tuple(part.strip() for part in match.group(1).split(".")[1:]))
    for chain in chains:
        for cut in range(1, len(chain)):
            names = exports(".".join((target, *chain[:cut])))
            if names is None:
                break  # not a module: neither is anything longer
            if chain[cut] in names:
                found[".".join((local, *chain[: cut + 1]))] = names[chain[cut]]
                break
    return found
