"""The settings of one run, as a frozen value. The CLI builds it; nothing else reads options."""

from __future__ import annotations

from dataclasses import dataclass, field

from pinlint.model import Dialect, Target
from pinlint.rules import all_rules, select
from pinlint.rules.base import Rule

DEFAULT_EXCLUDES = (
    ".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", "node_modules", "build", "dist",
    "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pinlint_cache", ".eggs",
    "site-packages", "*.egg-info",
)


@dataclass(frozen=True)
class Config:
    target: Target = Target.RDS_PROXY
    dialect: Dialect = Dialect.POSTGRES
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_statement_bytes: int = 16384
    max_file_bytes: int = 2 * 1024 * 1024
    rules: tuple[type[Rule], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        # Selection is validated here, once, so an unknown code is a usage error.
        object.__setattr__(self, "rules", select(self.select, self.ignore, self.extend_select))

    @property
    def enabled_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.rules)

    @staticmethod
    def known_codes() -> frozenset[str]:
        return frozenset(r.code for r in all_rules())
