"""Source ranges for the few nodes extraction reports, without a metadata pass.

libcst nodes carry no positions; ``PositionProvider`` computes one for *every* node
by regenerating the module's code, which costs about twice the parse itself. We need
a handful (the reported strings and their statements), so we regenerate the code
once with a `CodegenState` that records, for the wanted nodes only, the number of
tokens emitted when the node's syntactic range opens and closes, and stops as soon
as the last wanted node is closed. Token counts become character offsets, then
line/column, afterwards. The same ``record_syntactic_position`` hook that defines
``PositionProvider``'s ranges defines ours (so parentheses around an expression are
outside its range), and the tests check that they agree, with one exception we do
not need: where libcst takes a node's *end* from a child (``end_node``: compound
statements end with their body), our end is where the node's own tokens stop.
Extraction only uses the start of statements.

This leans on libcst's codegen protocol (``CodegenState`` from ``libcst._nodes``
and ``Module._codegen``), which is internal. If it changes shape, or a wanted node
is not recorded, we fall back to ``PositionProvider`` over the module, which is
slower but public. libcst's code generation is recursive; see `_deeper` for nodes
nested hundreds of levels deep (long implicit concatenations).
"""

from __future__ import annotations

import re
import sys
from bisect import bisect_right
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

try:
    from libcst._nodes.internal import CodegenState
except ImportError:  # pragma: no cover - a libcst that reorganised its internals
    CodegenState = None  # type: ignore[assignment,misc]

_T = TypeVar("_T")
_DEEP_RECURSION_LIMIT = 100_000
_NEWLINE = re.compile(r"\r\n?|\n")
_NULL: AbstractContextManager[None] = nullcontext()


class _AllRecorded(Exception):
    """Stops code generation once every wanted node has been closed."""


class _Mark(AbstractContextManager[None]):
    __slots__ = ("end", "node", "start", "state")

    def __init__(self, state: _RecordingState, node: cst.CSTNode) -> None:
        self.state = state
        self.node = node
        self.start = -1
        self.end = -1

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.end = len(self.state.tokens)
        if exc_type is None:
            self.state.remaining -= 1
            if self.state.remaining == 0:
                raise _AllRecorded


if CodegenState is not None:

    @dataclass
    class _RecordingState(CodegenState):
        wanted: dict[int, cst.CSTNode] = field(default_factory=dict)
        marks: dict[int, _Mark] = field(default_factory=dict)
        remaining: int = 0

        def record_syntactic_position(  # type: ignore[override]
            self,
            node: cst.CSTNode,
            *,
            start_node: cst.CSTNode | None = None,
            end_node: cst.CSTNode | None = None,
        ) -> AbstractContextManager[None]:
            key = id(node)
            if key not in self.wanted or key in self.marks or start_node is not None:
                return _NULL
            mark = _Mark(self, node)
            self.marks[key] = mark
            return mark


def node_ranges(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[int, CodeRange]:
    """The ranges of `nodes` (nodes of `module`), keyed by ``id``.

    As ``PositionProvider`` computes them: lines 1-based, columns 0-based, the end
    exclusive (but see the module docstring about ``end_node``). A node that has no
    syntactic range is missing from the result.
    """
    wanted = {id(node): node for node in nodes}
    if not wanted:
        return {}
    found: dict[int, CodeRange] = {}
    if CodegenState is not None:
        try:
            found = _recorded(module, wanted)
        except RecursionError:
            found = _deeper(lambda: _recorded(module, wanted), {})
        except Exception:
            found = {}
    if len(found) < len(wanted):
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        found = {key: positions[node] for key, node in wanted.items() if node in positions}
    return found


def _deeper(compute: Callable[[], _T], default: _T) -> _T:
    """`compute()` with room for libcst's recursive codegen of very deep nodes.

    Code generation recurses about three frames per nesting level, so an implicit
    concatenation of ~350 strings exhausts the default limit. From Python 3.11 on,
    Python-to-Python calls do not consume the C stack, so a higher limit is safe
    there; on 3.10 we keep the limit and give up (`default`).
    """
    if sys.version_info < (3, 11):
        return default
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _DEEP_RECURSION_LIMIT))
    try:
        return compute()
    except RecursionError:
        return default
    finally:
        sys.setrecursionlimit(previous)


def _recorded(module: cst.Module, wanted: dict[int, cst.CSTNode]) -> dict[int, CodeRange]:
    state = _RecordingState(
        default_indent=module.default_indent,
        default_newline=module.default_newline,
        wanted=wanted,
        remaining=len(wanted),
    )
    with suppress(_AllRecorded):
        module._codegen(state)
    marks = [m for m in state.marks.values() if m.start >= 0 and m.end >= 0]
    if not marks:
        return {}
    tokens = state.tokens
    indices = sorted({i for m in marks for i in (m.start, m.end)})
    offsets: dict[int, int] = {}
    offset = previous = 0
    for index in indices:
        offset += sum(map(len, tokens[previous:index]))
        offsets[index] = offset
        previous = index
    text = "".join(tokens[: indices[-1]])
    starts = [0, *(m.end() for m in _NEWLINE.finditer(text))]

    def position(index: int) -> CodePosition:
        char = offsets[index]
        line = bisect_right(starts, char)
        return CodePosition(line, char - starts[line - 1])

    return {id(m.node): CodeRange(position(m.start), position(m.end)) for m in marks}
