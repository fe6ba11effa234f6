"""What one module tells the others, as plain data: its constants and its wrappers.

A `ModuleSummary` is filled one member at a time, when another module first asks
for it (`pinlint.project`, from `pinlint.extract.dataflow.ModuleAnalysis.export` and
friends): a constant, a function, a class's method or attribute is analysed once per
process, and nothing else of the module is. It holds no libcst node: every `Step` in
it is a resolved location, so it can be memoised, pickled and shared.

Wrappers are described by *flows*: a `Flow` says that a function sends the SQL
text `value` to the database through `sink`, where ``marker(i)`` in the text stands
for the value of its parameter ``i``. A call to the function with known arguments
substitutes them (`substitute`) and gives the SQL that reaches the database; a
function that calls a wrapper with its own parameter gets a flow of its own, so a
chain of any length is followed one summary at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

from pinlint.extract.strings import Evaluated, Step
from pinlint.model import HOLE, Confidence, Dialect

#: ``chr(PARAM_BASE + i)`` stands for the value of parameter ``i`` in a flow's text.
PARAM_BASE = 0xE100
MAX_PARAMS = 0x100
_MARKERS = re.compile("[\ue100-\ue1ff]")


def marker(index: int) -> str:
    return chr(PARAM_BASE + index)


def has_markers(text: str) -> bool:
    return _MARKERS.search(text) is not None


def markers_in(text: str) -> list[int]:
    """The parameters `text` stands on, in order of first appearance."""
    seen: list[int] = []
    for match in _MARKERS.finditer(text):
        index = ord(match.group()) - PARAM_BASE
        if index not in seen:
            seen.append(index)
    return seen


def substitute(text: str, values: dict[int, str]) -> str:
    """`text` with each marker replaced by its parameter's value (HOLE when missing),
    all at once: a value that holds markers itself is not substituted again."""
    return _MARKERS.sub(lambda m: values.get(ord(m.group()) - PARAM_BASE, HOLE), text)


def unmark(text: str) -> str:
    """`text` with every parameter a plain HOLE."""
    return _MARKERS.sub(HOLE, text)


def only_holes(text: str) -> bool:
    """Whether `text` has nothing but parameters, HOLEs and whitespace."""
    return not unmark(text).replace(HOLE, "").strip()


class ParamKind(Enum):
    POSITIONAL_ONLY = "positional-only"
    POSITIONAL = "positional"
    KEYWORD_ONLY = "keyword-only"
    VAR_POSITIONAL = "var-positional"
    VAR_KEYWORD = "var-keyword"


class MethodKind(Enum):
    """How a function defined in a class body is called."""

    INSTANCE = "instance"  # the first parameter is the instance when called through one
    CLASS = "class"  # @classmethod: the first parameter is always bound
    STATIC = "static"  # @staticmethod: nothing is bound


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    #: The default's value when it is a string (its variants), else None.
    default: Evaluated | None = None
    has_default: bool = False


@dataclass(frozen=True, slots=True)
class Flow:
    """A function sends `value` to the database; see the module docstring."""

    value: Evaluated  # one variant; markers stand for the parameters
    sink: str
    #: The sink call's confidence in its module, before lowering for the SQL's provenance.
    confidence: Confidence
    #: The hops from this function's call to the sink call, each where the SQL is passed on.
    steps: tuple[Step, ...]
    #: How the path reads: ``("run()", "query()", "cursor.execute")``.
    via: tuple[str, ...]
    #: The dialect of the module that holds the sink call, when its imports tell.
    dialect: Dialect | None = None


@dataclass(frozen=True, slots=True)
class FunctionSummary:
    """A function (or method) whose parameters reach a sink: a wrapper."""

    name: str  # qualified within its module: "run", "Repo.run"
    module: str | None  # the module that defines it; None for the module being linted
    params: tuple[Param, ...]
    method: MethodKind | None
    flows: tuple[Flow, ...]

    @property
    def display(self) -> str:
        return self.name.replace(".<locals>", "") + "()"


@dataclass(slots=True)
class ClassSummary:
    """A class, as far as it was asked about (None: asked, and not there)."""

    name: str
    #: The base classes, as qualified names (resolved in the defining module).
    bases: tuple[str, ...]
    #: Class attributes and attributes assigned on ``self`` in its methods.
    attributes: dict[str, tuple[object, ...] | None] = field(default_factory=dict)
    #: Methods defined in the class itself.
    methods: dict[str, FunctionSummary | None] = field(default_factory=dict)


@dataclass(slots=True)
class ModuleSummary:
    """What other modules asked of a module so far (see the module docstring)."""

    module: str
    path: str  # as reported
    digest: str  # the content hash of the file it was computed from
    #: Module-level names bound to strings, sequences or dicts of strings.
    constants: dict[str, tuple[object, ...]] = field(default_factory=dict)
    #: Module-level functions (wrappers or not).
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    #: Module-level names bound by imports: name -> absolute qualified name.
    imports: dict[str, str] = field(default_factory=dict)
    star_imports: tuple[str, ...] = ()
    #: (path, content hash) of this module and of every module its members used.
    dependencies: tuple[tuple[str, str], ...] = ()
