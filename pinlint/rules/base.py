"""The rule contract.

A rule is a class in its own module under `pinlint/rules/`. Its metadata are class
attributes, its documentation is the docstring (fixed `##` sections, rendered for
`pinlint rule`, the docs pages and SARIF), and `check` turns one analysed SQL
statement (`SqlRule`), one function's control flow (`FlowRule`) or one driver or
framework call (`CallRule`) into findings.
Rules never see libcst, never format output, and never
know which reporter is in use. Subclassing validates the metadata at import, so a
malformed rule cannot be loaded.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pinlint.model import (
    CallSite,
    Confidence,
    Diagnostic,
    Dialect,
    Effect,
    Fix,
    Origin,
    Profile,
    RelatedLocation,
    Severity,
    Span,
    Target,
)

if TYPE_CHECKING:
    from pinlint.flow import FunctionFlow
    from pinlint.sql.statement import Statement

DOC_SECTIONS = ("What it flags", "Why it pins", "How to fix", "Known limitations", "References")
_CODE = re.compile(r"PIN\d{3}\Z")
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule says about a statement; the engine adds location and metadata."""

    message: str
    effect: Effect = Effect.PINS
    #: The rest is for call rules (`CallRule`), whose findings depend on more than
    #: the rule: how sure this verdict is (None: as sure as the call site), the fix
    #: for this case when it differs from the rule's `help` (the suggested change
    #: where `--fix` will not rewrite), the rewrite itself, and the part of the call
    #: to point at (None: the whole call).
    confidence: Confidence | None = None
    help: str | None = None
    fix: Fix | None = None
    span: Span | None = None
    related: tuple[RelatedLocation, ...] = ()


@dataclass(frozen=True, slots=True)
class FlowFinding:
    """What a flow rule says about a function: the finding carries its own location
    (the statement that opens a transaction) and the path that explains it; the
    engine adds the rule's metadata. The fields are the ones `Diagnostic` takes."""

    message: str
    path: str
    span: Span
    statement_line: int
    related: tuple[RelatedLocation, ...] = ()
    effect: Effect = Effect.PINS
    confidence: Confidence = Confidence.HIGH
    sink: str | None = None
    sql: str | None = None
    origin: Origin | None = None


#: The only session pinning filter RDS Proxy has (MySQL and MariaDB only).
EXCLUDE_VARIABLE_SETS = "EXCLUDE_VARIABLE_SETS"


@dataclass(frozen=True, slots=True)
class RuleContext:
    """The settings a rule may read to decide its verdict.

    `dialect` is the dialect of the call site being checked (from its module's imports,
    else the configured one), so one run can hold PostgreSQL and MySQL sites. The
    PgBouncer settings are read by the PgBouncer verdicts: which parameters it tracks
    depends on `pgbouncer_version`, and protocol-level prepared statements are safe
    only when `pgbouncer_tracks_prepared_statements`.
    """

    target: Target = Target.RDS_PROXY
    dialect: Dialect = Dialect.POSTGRES
    max_statement_bytes: int = 16384
    pgbouncer_version: tuple[int, ...] = (1, 21)
    max_prepared_statements: int = 0
    session_pinning_filters: frozenset[str] = frozenset()
    #: AWS Lambda handlers named by the project's deployment files, as
    #: ``dotted.module.function`` (see `pinlint.lambdas`); filled by `api.lint_paths`.
    lambda_handlers: tuple[str, ...] = ()

    @property
    def profile(self) -> Profile | None:
        """The (target, dialect) pair, or None when it does not exist (PgBouncer/MySQL)."""
        return Profile.of(self.target, self.dialect)

    @property
    def exclude_variable_sets(self) -> bool:
        """RDS Proxy for MySQL ignores `SET` statements when deciding to pin."""
        return (
            self.profile is Profile.RDS_PROXY_MYSQL
            and EXCLUDE_VARIABLE_SETS in self.session_pinning_filters
        )

    def pgbouncer_at_least(self, *version: int) -> bool:
        return self.pgbouncer_version >= version

    @property
    def pgbouncer_tracks_prepared_statements(self) -> bool:
        """PgBouncer 1.21+ with `max_prepared_statements > 0` renames and re-prepares
        protocol-level named statements on whichever server connection a client gets."""
        return self.pgbouncer_at_least(1, 21) and self.max_prepared_statements > 0


class Rule:
    """Metadata shared by SQL rules and meta (PIN9xx) rules."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for `pinlint rules` and SARIF shortDescription
    help: ClassVar[str]  # one line: what to do instead
    severity: ClassVar[Severity] = Severity.WARNING
    #: The worst effect the rule reports on each profile (target and dialect). A profile
    #: mapped to `Effect.OK` was considered and needs no finding; a missing one is
    #: outside the rule (MySQL-only rules on PostgreSQL). The rule runs only where the
    #: effect is not OK; its findings may carry a milder effect than this one.
    effects: ClassVar[Mapping[Profile, Effect]] = {Profile.RDS_PROXY_POSTGRES: Effect.PINS}
    #: For the verdict tables: when the effect applies, per profile (one short phrase).
    conditions: ClassVar[Mapping[Profile, str]] = {}
    #: The fix where it differs from `help` on a profile (one line each).
    help_for: ClassVar[Mapping[Profile, str]] = {}
    tags: ClassVar[tuple[str, ...]] = ()
    enabled_by_default: ClassVar[bool] = True
    since: ClassVar[str] = "0.1.0"

    def __init_subclass__(cls, abstract: bool = False, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not _CODE.match(getattr(cls, "code", "")):
            raise TypeError(f"{where}: code must look like PIN123")
        if not _NAME.match(getattr(cls, "name", "")):
            raise TypeError(f"{where}: name must be kebab-case")
        for attr in ("summary", "help"):
            value = getattr(cls, attr, "")
            if not value or "\n" in value:
                raise TypeError(f"{where}: {attr} must be one non-empty line")
        module_stem = cls.__module__.rsplit(".", 1)[-1]
        if module_stem != cls.name.replace("-", "_"):
            raise TypeError(f"{where}: module must be named {cls.name.replace('-', '_')}.py")
        missing = [s for s in DOC_SECTIONS if s not in cls.doc_sections()]
        if missing:
            raise TypeError(f"{where}: docstring lacks sections {missing}")
        if not all(isinstance(p, Profile) for p in cls.effects):
            raise TypeError(f"{where}: effects must be keyed by Profile")
        if not set(cls.conditions) <= set(cls.effects):
            raise TypeError(f"{where}: conditions name a profile missing from effects")
        if not set(cls.help_for) <= set(cls.effects):
            raise TypeError(f"{where}: help_for names a profile missing from effects")
        if any(not h or "\n" in h for h in cls.help_for.values()):
            raise TypeError(f"{where}: help_for values must be one non-empty line")

    @classmethod
    def doc_sections(cls) -> dict[str, str]:
        """The docstring's `## Heading` sections, in order."""
        doc = inspect.cleandoc(cls.__doc__ or "")
        sections: dict[str, str] = {}
        current: str | None = None
        lines: list[str] = []
        for line in doc.splitlines():
            if line.startswith("## "):
                if current is not None:
                    sections[current] = "\n".join(lines).strip()
                current, lines = line[3:].strip(), []
            elif current is not None:
                lines.append(line)
        if current is not None:
            sections[current] = "\n".join(lines).strip()
        return sections

    @classmethod
    def markdown(cls) -> str:
        """The rule's full documentation as Markdown (without examples)."""
        parts = [f"# {cls.code} {cls.name}", "", cls.summary, ""]
        for heading, body in cls.doc_sections().items():
            parts += [f"## {heading}", "", body, ""]
        return "\n".join(parts).rstrip() + "\n"

    @classmethod
    def help_on(cls, profile: Profile | None) -> str:
        """The fix to show on a profile."""
        return cls.help_for.get(profile, cls.help) if profile is not None else cls.help

    @classmethod
    def applies_to(cls, profile: Profile | None) -> bool:
        """Whether the rule has anything to say on this profile."""
        return profile is not None and cls.effects.get(profile, Effect.OK) is not Effect.OK

    @classmethod
    def diagnostic_at(cls, message: str, path: str, span: Span, target: Target) -> Diagnostic:
        """A diagnostic at `span` with no SQL site behind it (file and directive problems)."""
        return Diagnostic(
            code=cls.code,
            name=cls.name,
            message=message,
            help=cls.help,
            severity=cls.severity,
            path=path,
            span=span,
            target=target,
            effect=Effect.OK,
            confidence=Confidence.HIGH,
            tags=cls.tags,
        )

    def effect(self, ctx: RuleContext) -> Effect:
        """The rule's declared effect on the profile being checked."""
        profile = ctx.profile
        return self.effects.get(profile, Effect.OK) if profile is not None else Effect.OK


class SqlRule(Rule, abstract=True):
    """A rule that judges one SQL statement at a time."""

    #: The kinds of session state a real PostgreSQL shows after the statements this
    #: rule flags (the conformance suite checks every bad example against it):
    #: setting, role, prepared-statement, cursor, cursor-with-hold, temp-object,
    #: listen, advisory-lock, sequence-state, library. Empty when the reason to flag is one
    #: the database cannot show (the 16 KB limit); such examples say so explicitly.
    db_state: ClassVar[frozenset[str]] = frozenset()

    def check(self, stmt: Statement, ctx: RuleContext) -> Iterator[Finding]:
        raise NotImplementedError


class FlowRule(Rule, abstract=True):
    """A rule that judges the control flow of one function (`pinlint.flow`)."""

    def check(self, flow: FunctionFlow, ctx: RuleContext) -> Iterator[FlowFinding]:
        raise NotImplementedError


class CallRule(Rule, abstract=True):
    """A rule that judges one driver or framework call, or one settings entry
    (`pinlint.model.CallSite`): configuration that makes a driver send pinning SQL
    on its own, or that the proxy refuses. Its findings are `Origin.CONFIG`."""

    #: The canonical callees (`CallSite.callee`) the rule looks at.
    callees: ClassVar[frozenset[str]] = frozenset()

    def check(self, call: CallSite, ctx: RuleContext) -> Iterator[Finding]:
        raise NotImplementedError


class MetaRule(Rule, abstract=True):
    """A PIN9xx diagnostic about pinlint's own ability to analyse the code.

    The engine raises these from extraction problems and SQL parse failures;
    they have no `check` of their own.
    """

    effects: ClassVar[Mapping[Profile, Effect]] = {p: Effect.OK for p in Profile}
    severity: ClassVar[Severity] = Severity.WARNING
    #: The extraction `Problem.kind` this rule reports, if any.
    problem_kind: ClassVar[str | None] = None
