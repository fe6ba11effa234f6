"""The rule contract.

A rule is a class in its own module under `pinlint/rules/`. Its metadata are class
attributes, its documentation is the docstring (fixed `##` sections, rendered for
`pinlint rule`, the docs pages and SARIF), and `check` turns one analysed SQL
statement into findings. Rules never see libcst, never format output, and never
know which reporter is in use. Subclassing validates the metadata at import, so a
malformed rule cannot be loaded.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from pinlint.model import Dialect, Effect, Severity, Target

if TYPE_CHECKING:
    from pinlint.sql.statement import Statement

DOC_SECTIONS = ("What it flags", "Why it pins", "How to fix", "Known limitations", "References")
_CODE = re.compile(r"PIN\d{3}\Z")
_NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*\Z")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a rule says about a statement; the engine adds location and metadata."""

    message: str
    effect: Effect = Effect.PINS


@dataclass(frozen=True, slots=True)
class RuleContext:
    """The settings a rule may read to decide its verdict."""

    target: Target = Target.RDS_PROXY
    dialect: Dialect = Dialect.POSTGRES
    max_statement_bytes: int = 16384


class Rule:
    """Metadata shared by SQL rules and meta (PIN9xx) rules."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]  # one line, for `pinlint rules` and SARIF shortDescription
    help: ClassVar[str]  # one line: what to do instead
    severity: ClassVar[Severity] = Severity.WARNING
    #: The effect on each target the rule knows. A target missing here is not checked.
    effects: ClassVar[Mapping[Target, Effect]] = {Target.RDS_PROXY: Effect.PINS}
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
    def applies_to(cls, target: Target) -> bool:
        return target in cls.effects


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

    def effect(self, ctx: RuleContext) -> Effect:
        return self.effects[ctx.target]


class MetaRule(Rule, abstract=True):
    """A PIN9xx diagnostic about pinlint's own ability to analyse the code.

    The engine raises these from extraction problems and SQL parse failures;
    they have no `check` of their own.
    """

    effects: ClassVar[Mapping[Target, Effect]] = {t: Effect.OK for t in Target}
    severity: ClassVar[Severity] = Severity.WARNING
    #: The extraction `Problem.kind` this rule reports, if any.
    problem_kind: ClassVar[str | None] = None
