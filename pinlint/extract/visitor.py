"""The one traversal of a parsed module: it collects, it never judges.

It records the module's imports (an alias table, see `Imports`) and every call that
could be a sink, together with the innermost statement that holds it (its *owner*,
where a suppression comment would go). Deciding which calls are sinks needs the
whole import table (an import may follow its use), so that happens afterwards, in
`pinlint.extract.calls`.

Why not a ``libcst.CSTVisitor``: ``Module.visit`` rebuilds every node it passes
(``_visit_and_replace_children``) and dispatches through ``getattr`` per node; over
CPython's ``Lib/*.py`` that costs 0.8x the parse itself, while this explicit-stack
walk over dataclass fields costs under 0.1x and, being iterative, cannot overflow
the interpreter stack on deeply nested expressions. It skips the fields that can
only hold whitespace, comments and punctuation, and classifies node types once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import libcst as cst

from pinlint.extract.drivers import (
    CONFIG_ATTRIBUTES,
    FUNCTIONS_BY_NAME,
    METHODS_BY_NAME,
    TRANSACTION_ATTRIBUTES,
    is_db_module,
)

#: Nodes whose first line is where a suppression comment for code inside them goes.
OWNER_TYPES: tuple[type[cst.CSTNode], ...] = (
    cst.BaseSmallStatement,
    cst.BaseCompoundStatement,  # the header: `if`, `for`, `with`, `def` (not decorators)
    cst.Decorator,
    cst.ExceptHandler,
    cst.ExceptStarHandler,
    cst.MatchCase,
)

#: Fields that never hold an expression or a statement.
_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "leading_lines",
        "lines_after_decorators",
        "trailing_whitespace",
        "header",
        "footer",
        "comma",
        "semicolon",
        "operator",
        "newline",
        "colon",
        "equal",
        "dot",
        "asynchronous",
    }
)
#: Nodes with nothing below them worth visiting.
_LEAVES: tuple[type[cst.CSTNode], ...] = (
    cst.Name,
    cst.SimpleString,
    cst.Integer,
    cst.Float,
    cst.Imaginary,
    cst.Ellipsis,
    cst.Import,
    cst.ImportFrom,
    cst.Comment,
    cst.EmptyLine,
    cst.Newline,
    cst.TrailingWhitespace,
)


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """What the walk needs to know about a node type, computed once per type.

    ``isinstance`` against libcst's abstract base classes goes through
    ``ABCMeta.__instancecheck__``; a dict lookup on the exact type does not.
    """

    fields: tuple[str, ...]
    owner: bool
    leaf: bool


_TYPES: dict[type[cst.CSTNode], TypeInfo] = {}


def type_info(node_type: type[cst.CSTNode]) -> TypeInfo:
    info = _TYPES.get(node_type)
    if info is None:
        leaf = issubclass(node_type, _LEAVES)
        fields = (
            ()
            if leaf
            else tuple(
                f.name
                for f in dataclasses.fields(node_type)
                if f.name not in _SKIPPED_FIELDS and not f.name.startswith("whitespace")
            )
        )
        info = TypeInfo(fields, issubclass(node_type, OWNER_TYPES), leaf)
        _TYPES[node_type] = info
    return info


@dataclass(slots=True)
class Imports:
    """The module's import bindings, all scopes flattened into one table.

    ``import a.b`` binds ``a`` to ``a``; ``import a.b as x`` binds ``x`` to ``a.b``;
    ``from a import b as c`` binds ``c`` to ``a.b``. A name bound several times (a
    ``try``/``except ImportError`` fallback) keeps every target. Relative imports
    are kept with their leading dots, so they never match a package.
    """

    aliases: dict[str, set[str]] = field(default_factory=dict)
    star_modules: set[str] = field(default_factory=set)
    db_import: bool = False

    def bind(self, name: str, target: str) -> None:
        self.aliases.setdefault(name, set()).add(target)
        if not target.startswith(".") and is_db_module(target):
            self.db_import = True

    def add(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                dotted = alias.evaluated_name
                asname = alias.evaluated_alias
                if asname is not None:
                    self.bind(asname, dotted)
                else:
                    head = dotted.split(".", 1)[0]
                    self.bind(head, head)
                    if is_db_module(dotted):
                        self.db_import = True
            return
        module = "." * len(node.relative)
        if node.module is not None:
            module += _dotted(node.module)
        if not module.startswith(".") and is_db_module(module):
            self.db_import = True
        if isinstance(node.names, cst.ImportStar):
            self.star_modules.add(module)
            return
        for alias in node.names:
            name = alias.evaluated_name
            prefix = module if module.endswith(".") else module + "."
            self.bind(alias.evaluated_alias or name, prefix + name)

    def resolve(self, parts: tuple[str, ...]) -> set[str]:
        """Qualified names a dotted callee may stand for (itself if its head is unbound)."""
        targets = self.aliases.get(parts[0])
        rest = "".join("." + p for p in parts[1:])
        if not targets:
            return {".".join(parts)}
        return {target + rest for target in targets}


def _dotted(node: cst.BaseExpression) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def callee_parts(func: cst.BaseExpression) -> tuple[str, ...] | None:
    """``("sa", "text")`` for ``sa.text``; None when the callee is not a dotted name."""
    parts: list[str] = []
    while isinstance(func, cst.Attribute):
        parts.append(func.attr.value)
        func = func.value
    if not isinstance(func, cst.Name):
        return None
    parts.append(func.value)
    return tuple(reversed(parts))


@dataclass(frozen=True, slots=True)
class CallRecord:
    """A call that may be a sink, and the statement (or header) that holds it."""

    call: cst.Call
    owner: cst.CSTNode


@dataclass(slots=True)
class Collected:
    imports: Imports = field(default_factory=Imports)
    #: ``<expr>.<name>(...)`` where ``<name>`` is a method or function sink name.
    attribute_calls: list[CallRecord] = field(default_factory=list)
    #: ``<name>(...)``: a function sink only if `imports` says so (known at the end).
    name_calls: list[CallRecord] = field(default_factory=list)
    #: ``<expr>.<name>(...)`` where ``<name>`` may configure a driver or framework
    #: (``psycopg.connect``, ``conn.cursor``; `drivers.CONFIG_ATTRIBUTES`), with or
    #: without arguments; bare-name ones are among `name_calls`.
    config_calls: list[CallRecord] = field(default_factory=list)
    #: Every function and class definition (connect hooks, connection classes).
    definitions: list[cst.FunctionDef | cst.ClassDef] = field(default_factory=list)
    #: ``<expr>.<name>(...)`` with arguments, ``<name>`` not a sink name: calls that
    #: may go to a project function wrapping a sink (`pinlint.extract.dataflow`).
    method_calls: list[CallRecord] = field(default_factory=list)
    #: ``<expr>.<name>``, called or not, where ``<name>`` may start a transaction
    #: (`drivers.TRANSACTION_ATTRIBUTES`), with its statement (`pinlint.extract.flow`).
    transaction_attributes: list[tuple[cst.Attribute, cst.CSTNode]] = field(default_factory=list)


def collect(module: cst.Module) -> Collected:
    """Walk `module` once, recording its imports and candidate sink calls."""
    out = Collected()
    method_or_function = METHODS_BY_NAME.keys() | FUNCTIONS_BY_NAME.keys()
    stack: list[tuple[cst.CSTNode, cst.CSTNode]] = [(module, module)]
    while stack:
        node, owner = stack.pop()
        node_type = type(node)
        info = _TYPES.get(node_type) or type_info(node_type)
        if info.owner:
            owner = node
        if info.leaf:
            if isinstance(node, (cst.Import, cst.ImportFrom)):
                out.imports.add(node)
            continue
        if type(node) is cst.Call and node.args:
            func = node.func
            if type(func) is cst.Attribute:
                if func.attr.value in method_or_function:
                    out.attribute_calls.append(CallRecord(node, owner))
                else:
                    out.method_calls.append(CallRecord(node, owner))
            elif type(func) is cst.Name:
                out.name_calls.append(CallRecord(node, owner))
        if type(node) is cst.Call:
            func = node.func
            if type(func) is cst.Attribute and func.attr.value in CONFIG_ATTRIBUTES:
                out.config_calls.append(CallRecord(node, owner))
        elif type(node) is cst.FunctionDef or type(node) is cst.ClassDef:
            out.definitions.append(node)
        elif type(node) is cst.Attribute and node.attr.value in TRANSACTION_ATTRIBUTES:
            out.transaction_attributes.append((node, owner))
        for name in info.fields:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                stack.append((value, owner))
            elif isinstance(value, (list, tuple)):
                stack.extend((item, owner) for item in value if isinstance(item, cst.CSTNode))
    return out
