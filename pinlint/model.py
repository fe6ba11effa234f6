"""The values every layer shares: spans, SQL sites, diagnostics and their enums.

Nothing here imports libcst, sqlglot or click. Extraction produces `SqlSite`s,
the SQL layer turns their text into statements, rules turn statements into
findings, and the engine turns findings into `Diagnostic`s for the reporters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

#: Stands for a part of a SQL string that extraction could not evaluate (an
#: f-string field, a parameter of unknown value). The SQL layer reads it as an
#: opaque value, so ``f"SET search_path TO {schema}"`` is still a ``SET``.
HOLE = "\ufffc"


class Severity(str, Enum):
    """How bad a finding is; the values are SARIF levels."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Confidence(str, Enum):
    """How sure extraction is that the SQL reaches the database as analysed."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Target(str, Enum):
    """The multiplexing proxy the code runs behind."""

    RDS_PROXY = "rds-proxy"


class Dialect(str, Enum):
    POSTGRES = "postgres"


class Effect(str, Enum):
    """What a statement does to a connection behind a given target."""

    PINS = "pins"  # the proxy keeps the client on one backend for the rest of the session
    LEAKS = "leaks"  # session state reaches another client of the same backend
    ERRORS = "errors"  # the statement or the connection attempt fails
    OK = "ok"


class Origin(str, Enum):
    """How the analysed SQL text was obtained."""

    LITERAL = "literal"  # a string literal (or implicit concatenation) at the call
    BUILT = "built"  # built from literals and unknown parts (an f-string, `+`, `%`)
    CONSTANT = "constant"  # a name bound to SQL in the same module
    IMPORTED_CONSTANT = "imported-constant"  # a constant imported from another module
    WRAPPER = "wrapper"  # passed to a project function that sends it to the database
    CONFIG = "config"  # a driver or framework setting, not SQL text
    SQL_FILE = "sql-file"  # a statement in a .sql file


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A source range. Lines are 1-based; columns are 1-based character offsets."""

    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class RelatedLocation:
    """Another place that explains a finding: where a constant is defined, the
    wrapper a call goes through, the `return` that leaves a transaction open."""

    path: str
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class SqlSite:
    """A piece of SQL text that the code sends to the database.

    `text` holds `HOLE` where a part could not be evaluated. `sink` names the call
    that sends it (``cursor.execute``, ``sqlalchemy.text``, ...). `statement_line`
    is the first line of the Python statement holding the call, where a
    suppression comment would sit.
    """

    path: str
    span: Span
    text: str
    origin: Origin
    confidence: Confidence
    sink: str
    statement_line: int
    #: The steps from the call to the SQL text (constant definitions, wrappers), in order.
    related: tuple[RelatedLocation, ...] = ()


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that stopped pinlint from analysing part of a file.

    `kind` is ``syntax`` (the file is not valid Python), ``decode`` (not text in
    its declared encoding), ``too-large``, or ``internal``.
    """

    kind: str
    message: str
    span: Span


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the one traversal of a source file collected."""

    sites: tuple[SqlSite, ...] = ()
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding as the reporters see it. Reporters format it; they never decide."""

    code: str
    name: str
    message: str
    help: str
    severity: Severity
    path: str
    span: Span
    target: Target
    effect: Effect
    confidence: Confidence
    origin: Origin | None = None
    sink: str | None = None
    sql: str | None = None
    statement_line: int | None = None
    tags: tuple[str, ...] = field(default=())
    related: tuple[RelatedLocation, ...] = field(default=())

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.code)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    diagnostics: tuple[Diagnostic, ...]
