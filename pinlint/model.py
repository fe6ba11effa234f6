"""The values every layer shares: spans, SQL sites, diagnostics and their enums.

Nothing here imports libcst, sqlglot or click. Extraction produces `SqlSite`s,
the SQL layer turns their text into statements, rules turn statements into
findings, and the engine turns findings into `Diagnostic`s for the reporters.
Extraction also produces `CallSite`s (driver and framework configuration, with
arguments evaluated into `Value`s) for the call rules, whose findings may carry a
`Fix` that `pinlint.fix` applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pinlint.flow import FunctionFlow

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
    #: PgBouncer in `pool_mode = transaction` (pgcat, Supavisor and Odyssey behave alike).
    PGBOUNCER = "pgbouncer"


class Dialect(str, Enum):
    """The database's SQL dialect (MySQL also stands for MariaDB and Aurora MySQL)."""

    POSTGRES = "postgres"
    MYSQL = "mysql"


class Profile(str, Enum):
    """A (target, dialect) pair that verdicts are given for.

    PgBouncer pools PostgreSQL connections only, so there is no PgBouncer/MySQL
    profile: MySQL SQL behind `--target pgbouncer` has no verdict at all.
    """

    RDS_PROXY_POSTGRES = "rds-proxy/postgres"
    RDS_PROXY_MYSQL = "rds-proxy/mysql"
    PGBOUNCER = "pgbouncer/postgres"

    @property
    def target(self) -> Target:
        return Target(self.value.split("/", 1)[0])

    @property
    def dialect(self) -> Dialect:
        return Dialect(self.value.split("/", 1)[1])

    @property
    def label(self) -> str:
        """How documentation and messages name it."""
        return _PROFILE_LABELS[self]

    @classmethod
    def of(cls, target: Target, dialect: Dialect) -> Profile | None:
        """The profile of a target and dialect, or None when the pair does not exist."""
        for profile in cls:
            if profile.target is target and profile.dialect is dialect:
                return profile
        return None


_PROFILE_LABELS = {
    Profile.RDS_PROXY_POSTGRES: "RDS Proxy for PostgreSQL",
    Profile.RDS_PROXY_MYSQL: "RDS Proxy for MySQL/MariaDB",
    Profile.PGBOUNCER: "PgBouncer (transaction pooling)",
}


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
    #: The dialect the code around the call talks (from the module's driver imports or
    #: engine URLs); None when unknown, and then the configured dialect applies.
    dialect: Dialect | None = None
    #: For SQL passed to a project function that sends it on (origin WRAPPER): the
    #: wrappers, then the sink, e.g. ``("run()", "cursor.execute")``.
    via: tuple[str, ...] = ()
    #: For the same: the wrapper's own SQL with the caller's part a `HOLE`. What it
    #: pins by itself is reported in the wrapper, not again at each caller.
    callee_text: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something that stopped pinlint from analysing part of a file.

    `kind` is ``syntax`` (the file is not valid Python), ``decode`` (not text in
    its declared encoding), ``too-large``, or ``internal``.
    """

    kind: str
    message: str
    span: Span


class ValueKind(str, Enum):
    """What extraction could read of an argument of a driver or framework call."""

    LITERAL = "literal"  # a str, int, float, bool or None written in the code
    DICT = "dict"  # a dict display or `dict(...)` call: `Value.entries`
    NAME = "name"  # a name or dotted attribute that is not a readable constant
    OTHER = "other"  # anything else: a call, an expression, a lambda


@dataclass(frozen=True, slots=True)
class Value:
    """An argument of a `CallSite`, evaluated as far as the module alone allows.

    Module-level names bound once to a literal or a dict are followed (`shared` is
    then set: editing the value changes every user of the name), and `**` expansion
    of a known dict is merged into the dict or the call it expands into.
    """

    kind: ValueKind
    literal: str | int | float | bool | None = None
    #: DICT: the entries with string keys, in source order (a later duplicate wins).
    entries: tuple[tuple[str, Value], ...] = ()
    #: DICT: some entries could not be read (`**unknown`, a computed key), so a key
    #: missing from `entries` may still be there at run time.
    open: bool = False
    #: LITERAL str holding `HOLE` where an f-string field was: the text is partial.
    partial: bool = False
    #: NAME: the dotted name, resolved through the module's imports.
    name: str | None = None
    #: NAME of a class defined in the same module: the methods it defines itself.
    methods: tuple[str, ...] | None = None
    #: Where the value is written (the expression, without parentheses).
    span: Span | None = None
    #: Reached through a module-level name rather than written at the call.
    shared: bool = False

    def get(self, key: str) -> Value | None:
        """The entry for `key` of a DICT value (the last one, as at run time)."""
        for name, value in reversed(self.entries):
            if name == key:
                return value
        return None

    def has(self, key: str) -> bool | None:
        """Whether a DICT holds `key`: None when it may (an entry could not be read)."""
        if self.get(key) is not None:
            return True
        return None if self.open else False

    @property
    def text(self) -> str | None:
        """The string of a LITERAL str value, else None."""
        return self.literal if isinstance(self.literal, str) else None


@dataclass(frozen=True, slots=True)
class CallSite:
    """A call that configures a driver or framework, or a settings entry that does.

    Collected by the same traversal as `SqlSite`s; the PIN7xx rules judge it. `callee`
    is the resolved dotted name of what is called, canonical per entry point
    (`psycopg.connect`, `asyncpg.create_pool`, `sqlalchemy.create_engine`,
    `sqlalchemy.event.listens_for`, `psycopg.Connection.cursor`, ...); a Django
    `DATABASES` entry is `django.DATABASES`, with the alias as its argument and the
    entry's keys as keywords. `sql` holds the SQL the configuration runs on every
    connection (the statements of a connect hook, an `init_command`), already
    extracted as sites.
    """

    path: str
    span: Span
    callee: str
    statement_line: int
    args: tuple[Value, ...] = ()
    kwargs: tuple[tuple[str, Value], ...] = ()
    #: A `*args` hides the positions after it.
    open_args: bool = False
    #: A `**mapping` of unknown content: any keyword may be given.
    open_kwargs: bool = False
    confidence: Confidence = Confidence.HIGH
    #: From the driver called (or the module's imports); None: the configured one.
    dialect: Dialect | None = None
    #: The function a hook registers, or the function holding the call.
    function: str | None = None
    sql: tuple[SqlSite, ...] = ()
    #: Module-level settings the call depends on (Django `USE_TZ`, `TIME_ZONE`).
    context: tuple[tuple[str, Value], ...] = ()
    related: tuple[RelatedLocation, ...] = ()

    @property
    def origin(self) -> Origin:
        return Origin.CONFIG

    @property
    def sink(self) -> str:
        return self.callee

    def keyword(self, name: str) -> Value | None:
        """The value given for keyword `name` (directly or through `**`), or None."""
        for key, value in reversed(self.kwargs):
            if key == name:
                return value
        return None

    def has_keyword(self, name: str) -> bool | None:
        """Whether keyword `name` is given: None when a `**unknown` may give it."""
        if self.keyword(name) is not None:
            return True
        return None if self.open_kwargs else False

    def argument(self, position: int, *keywords: str) -> Value | None:
        """The argument at `position`, or given by one of `keywords`."""
        if position < len(self.args):
            return self.args[position]
        for name in keywords:
            value = self.keyword(name)
            if value is not None:
                return value
        return None

    def setting(self, name: str) -> Value | None:
        """A module-level setting from `context`."""
        for key, value in self.context:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Edit:
    """One local source change, as data; `pinlint.fix` applies it with libcst.

    `kind` is ``add-keyword`` (append ``key=value`` to the call at `span`) or
    ``add-entry`` (append ``"key": value`` to the dict display at `span`); `value`
    is Python source.
    """

    kind: str
    span: Span
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A safe, local rewrite that removes a finding (`pinlint check --fix`)."""

    #: What it changes, for the report: "add `prepare_threshold=None` to the call".
    description: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Extraction:
    """What the one traversal of a source file collected."""

    sites: tuple[SqlSite, ...] = ()
    problems: tuple[Problem, ...] = ()
    #: Driver and framework configuration (PIN7xx rules).
    calls: tuple[CallSite, ...] = ()
    #: The control flow of the functions that open a transaction (PIN501).
    flows: tuple[FunctionFlow, ...] = ()
    #: (path, content hash) of the other modules whose constants or wrappers the
    #: sites were computed from.
    dependencies: tuple[tuple[str, str], ...] = ()


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
    #: Set when a `# pinlint: ignore[...]` comment covers the finding: the comment's
    #: reason ("" when it gives none). Suppressed findings stay in the results so that
    #: SARIF can carry them; the other reporters are given only the active ones.
    suppressed: str | None = None
    #: The rewrite `pinlint check --fix` may apply (configuration findings only).
    fix: Fix | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.span.line, self.span.col, self.code)


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    diagnostics: tuple[Diagnostic, ...]
    #: (path, content hash) of the files the diagnostics were computed from: the file
    #: itself, then every module whose constants or wrappers it used. A cache keeps a
    #: result while all of them are unchanged.
    dependencies: tuple[tuple[str, str], ...] = ()
