"""The settings of one run: declared once, read from `pyproject.toml`/`pinlint.toml`
and the command line, and frozen into a `Config`.

`OPTIONS` is the single declaration of every setting. The CLI builds its options
from it, the file loader validates keys and values against it, and the README's
configuration table is generated from it. Adding a setting is adding a row here
and a field to `Config`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from pinlint.model import Dialect, Severity, Target
from pinlint.rules import SelectionError, select
from pinlint.rules.base import EXCLUDE_VARIABLE_SETS, Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".pinlint_cache",
    ".eggs",
    "site-packages",
    "*.egg-info",
)
SEVERITY_ORDER = {Severity.NOTE: 0, Severity.WARNING: 1, Severity.ERROR: 2}


class ConfigError(ValueError):
    """A configuration problem; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class Option:
    """One setting. `kind` is one of: choice, int, bool, codes (rule selectors),
    globs (a list of glob patterns), map (glob -> rule selectors), names (a list of
    `choices`), version (a dotted version such as "1.21")."""

    key: str  # kebab-case, as in the config file and as `--key` on the command line
    kind: str
    help: str
    choices: tuple[str, ...] = ()
    cli: bool = True  # also a command-line option
    minimum: int | None = None
    file: bool = True  # also a configuration-file key (False: command line only)
    aliases: tuple[str, ...] = ()  # more command-line spellings

    @property
    def attr(self) -> str:
        return self.key.replace("-", "_")

    @property
    def metavar(self) -> str:
        """How `--help` shows the option's value."""
        return {"codes": "CODES", "globs": "GLOB", "names": "NAME", "version": "X.Y"}.get(
            self.kind, self.key.upper()
        )


OPTIONS: tuple[Option, ...] = (
    Option("target", "choice", "The proxy the code runs behind.", tuple(t.value for t in Target)),
    Option(
        "dialect",
        "choice",
        "SQL dialect for code whose driver imports do not tell (`mysql` also means MariaDB).",
        tuple(d.value for d in Dialect),
    ),
    Option(
        "pgbouncer-version",
        "version",
        "PgBouncer version (`--target pgbouncer`): which parameters and statements it tracks.",
    ),
    Option(
        "max-prepared-statements",
        "int",
        "PgBouncer's `max_prepared_statements`; above 0 (1.21+) it tracks protocol-level "
        "prepared statements.",
        minimum=0,
    ),
    Option(
        "session-pinning-filters",
        "names",
        "RDS Proxy session pinning filters (MySQL only): `SET` statements then do not pin.",
        (EXCLUDE_VARIABLE_SETS,),
    ),
    Option("select", "codes", "Only these rules: codes (PIN101), prefixes (PIN1), names, or ALL."),
    Option("extend-select", "codes", "Rules to enable on top of the selection (e.g. PIN901)."),
    Option("ignore", "codes", "Rules to turn off."),
    Option("per-file-ignores", "map", "Glob -> rules to turn off for matching files.", cli=False),
    Option(
        "exclude", "globs", "Files and directories to skip (replaces the built-in list).", cli=False
    ),
    Option(
        "extend-exclude",
        "globs",
        "Files and directories to skip, on top of the built-in list.",
        aliases=("--exclude",),
    ),
    Option(
        "fail-on",
        "choice",
        "Lowest severity that makes the exit code 1.",
        tuple(s.value for s in sorted(Severity, key=SEVERITY_ORDER.__getitem__)),
    ),
    Option(
        "max-statement-bytes", "int", "Query size above which RDS Proxy pins (PIN601).", minimum=1
    ),
    Option(
        "max-file-bytes", "int", "Larger files are reported by PIN904 and not checked.", minimum=1
    ),
    Option(
        "require-reason",
        "bool",
        "Suppression comments must give a reason (`-- why`); PIN909 reports those without.",
    ),
    Option(
        "jobs",
        "int",
        "Worker processes; 0 uses every core, 1 checks in this process. Command line only: "
        "the machine decides it, not the project.",
        minimum=0,
        file=False,
    ),
    Option(
        "cache",
        "bool",
        "Reuse the results of unchanged files from `.pinlint_cache/` (next to the "
        "configuration file, else in the current directory); `--no-cache` neither reads "
        "nor writes it.",
    ),
)
OPTIONS_BY_KEY = {o.key: o for o in OPTIONS}


@dataclass(frozen=True)
class Config:
    target: Target = Target.RDS_PROXY
    dialect: Dialect = Dialect.POSTGRES
    pgbouncer_version: str = "1.21"
    max_prepared_statements: int = 0
    session_pinning_filters: tuple[str, ...] = ()
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    fail_on: Severity = Severity.NOTE
    max_statement_bytes: int = 16384
    max_file_bytes: int = 2 * 1024 * 1024
    require_reason: bool = False
    jobs: int = 0
    cache: bool = True
    #: The Lambda handlers the project's deployment files name, as ``module.function``
    #: (`pinlint.lambdas`): filled by `api.lint_paths`, never read from a file.
    lambda_handlers: tuple[str, ...] = ()
    #: Where the settings came from (a file path), for messages; None for defaults/CLI only.
    source: str | None = field(default=None, compare=False)
    rules: tuple[type[Rule], ...] = field(default=(), compare=False, repr=False)

    def __post_init__(self) -> None:
        # Selection is validated here, once, so an unknown code is a usage error.
        object.__setattr__(self, "rules", select(self.select, self.ignore, self.extend_select))
        for _, codes in self.per_file_ignores:
            select(ignore=codes)
        self._check_target_settings()

    def _check_target_settings(self) -> None:
        """Settings that contradict the target or the dialect are usage errors."""
        where = f"{self.source}: " if self.source else ""
        if self.target is Target.PGBOUNCER and self.dialect is Dialect.MYSQL:
            raise ConfigError(
                f'{where}`dialect = "mysql"` cannot be used with `target = "pgbouncer"`: '
                "PgBouncer pools PostgreSQL connections only"
            )
        if self.session_pinning_filters and self.dialect is Dialect.POSTGRES:
            raise ConfigError(
                f"{where}`session-pinning-filters`: {', '.join(self.session_pinning_filters)} "
                "does not exist for PostgreSQL; RDS Proxy supports session pinning filters for "
                'MySQL and MariaDB only. Remove it, or set `dialect = "mysql"`'
            )
        try:
            parse_version(self.pgbouncer_version)
        except ValueError as err:
            raise ConfigError(f"{where}`pgbouncer-version`: {err}") from None

    @property
    def pgbouncer_version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.pgbouncer_version)

    @property
    def enabled_codes(self) -> frozenset[str]:
        return frozenset(r.code for r in self.rules)

    @property
    def excludes(self) -> tuple[str, ...]:
        return self.exclude + self.extend_exclude

    def fails(self, severity: Severity) -> bool:
        return SEVERITY_ORDER[severity] >= SEVERITY_ORDER[self.fail_on]


_VERSION = re.compile(r"\d{1,3}(\.\d{1,3}){0,2}\Z")


def parse_version(text: str) -> tuple[int, ...]:
    """`"1.21"` -> `(1, 21)`; ValueError for anything else."""
    if not isinstance(text, str) or not _VERSION.match(text.strip()):
        raise ValueError(f'{text!r} is not a version such as "1.21"')
    return tuple(int(part) for part in text.strip().split("."))


def convert(option: Option, value: Any, where: str) -> Any:
    """A raw value (from TOML or the CLI) as the `Config` field wants it."""

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"{where}: `{option.key}` must be {expected}, not {value!r}")

    if option.kind == "choice":
        if not isinstance(value, str) or value not in option.choices:
            raise bad("one of " + ", ".join(repr(c) for c in option.choices))
        field_type = {"target": Target, "dialect": Dialect, "fail-on": Severity}[option.key]
        return field_type(value)
    if option.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad("an integer")
        if option.minimum is not None and value < option.minimum:
            raise bad(f"at least {option.minimum}")
        return value
    if option.kind == "bool":
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if option.kind == "version":
        if isinstance(value, float | int) and not isinstance(value, bool):
            # 1.20 as a TOML number is 1.2: only a string keeps the version as written
            raise bad('a quoted version string such as "1.21" (a number loses trailing zeros)')
        try:
            parse_version(value)
        except ValueError:
            raise bad('a version such as "1.21"') from None
        return value.strip()
    if option.kind == "names":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        names = [p.strip() for v in value for p in v.split(",") if p.strip()]
        allowed = {c.upper(): c for c in option.choices}
        unknown = [n for n in names if n.upper() not in allowed]
        if unknown:
            raise bad("a list of " + ", ".join(repr(c) for c in option.choices))
        return tuple(dict.fromkeys(allowed[n.upper()] for n in names))
    if option.kind in ("codes", "globs"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise bad("a list of strings")
        items = tuple(p.strip() for v in value for p in v.split(",") if p.strip())
        if option.kind == "codes":
            try:
                select(ignore=items)
            except SelectionError as err:
                raise ConfigError(f"{where}: `{option.key}`: {err}") from None
        return items
    if option.kind == "map":
        if not isinstance(value, dict):
            raise bad("a table of glob = [rules]")
        out = []
        for glob, codes in value.items():
            items = convert(Option(f"{option.key}.{glob}", "codes", ""), codes, where)
            out.append((str(glob), items))
        return tuple(out)
    raise AssertionError(option.kind)


def settings_from_table(table: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Validate a `[tool.pinlint]` table into `Config` keyword arguments."""
    out: dict[str, Any] = {}
    for key, value in table.items():
        option = OPTIONS_BY_KEY.get(key)
        if option is not None and not option.file:
            raise ConfigError(f"{where}: `{key}` is a command-line option only (`--{key}`)")
        if option is None:
            known = ", ".join(sorted(k for k, o in OPTIONS_BY_KEY.items() if o.file))
            raise ConfigError(f"{where}: unknown key `{key}`; known keys: {known}")
        out[option.attr] = convert(option, value, where)
    return out


def find_config_file(start: Path) -> Path | None:
    """The nearest `pinlint.toml`, or `pyproject.toml` with a `[tool.pinlint]` table,
    in `start` or above it."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        own = candidate / "pinlint.toml"
        if own.is_file():
            return own
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _has_pinlint_table(pyproject):
            return pyproject
    return None


def _has_pinlint_table(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return True  # let load_file report the problem instead of skipping silently
    return isinstance(data.get("tool"), dict) and "pinlint" in data["tool"]


def load_file(path: Path) -> dict[str, Any]:
    """The settings in a config file, validated; `ConfigError` on any problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"{path}: cannot read: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("pinlint", {})
        where = f"{path} [tool.pinlint]"
    else:
        table, where = data, str(path)
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: must be a table")
    return settings_from_table(table, where)


def resolve(
    paths: Sequence[Path],
    cli_values: Mapping[str, Any],
    config_file: Path | None = None,
    isolated: bool = False,
) -> Config:
    """The run's `Config`: defaults, then the discovered (or given) file, then the CLI.

    `cli_values` holds only the options given on the command line, keyed by `Config`
    attribute, already converted."""
    values: dict[str, Any] = {}
    source = None
    if not isolated:
        path = config_file or find_config_file(_common_start(paths))
        if path is not None:
            values.update(load_file(path))
            source = str(path)
    values.update(cli_values)
    try:
        return Config(**values, source=source)
    except SelectionError as err:
        raise ConfigError(str(err)) from None


def _common_start(paths: Sequence[Path]) -> Path:
    resolved = [p.resolve() for p in paths] or [Path.cwd()]
    common = resolved[0]
    for p in resolved[1:]:
        while common not in (p, *p.parents):
            common = common.parent
    return common


def config_fields() -> frozenset[str]:
    return frozenset(f.name for f in fields(Config))
