"""The command line. The only module that imports click.

Exit codes follow ruff: 0 no findings, 1 findings, 2 usage, configuration or
internal error. No traceback reaches the user (set PINLINT_DEBUG=1 to see one).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from pinlint import __version__
from pinlint.api import lint_paths
from pinlint.config import OPTIONS, ConfigError, convert, resolve
from pinlint.rules import all_rules, by_code, lookup

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pinlint")
def cli() -> None:
    """Find SQL and settings that pin or leak connections behind RDS Proxy."""


def _config_options(func: Any) -> Any:
    """Add a command-line option for every setting in `config.OPTIONS`."""
    for option in reversed([o for o in OPTIONS if o.cli]):
        flag = f"--{option.key}"
        if option.kind == "choice":
            func = click.option(
                flag, option.attr, type=click.Choice(option.choices), help=option.help
            )(func)
        elif option.kind == "int":
            func = click.option(
                flag, option.attr, type=click.IntRange(min=option.minimum), help=option.help
            )(func)
        elif option.kind == "bool":
            func = click.option(
                f"{flag}/--no-{option.key}", option.attr, default=None, help=option.help
            )(func)
        else:  # codes, globs: repeatable, comma-separated
            metavar = "CODES" if option.kind == "codes" else "GLOB"
            func = click.option(
                flag, *option.aliases, option.attr, multiple=True, metavar=metavar, help=option.help
            )(func)
    return func


def _cli_values(ctx: click.Context, params: dict[str, Any]) -> dict[str, Any]:
    """Only the settings given on the command line, converted like file values."""
    values = {}
    for option in OPTIONS:
        if not option.cli:
            continue
        if ctx.get_parameter_source(option.attr) is not ParameterSource.COMMANDLINE:
            continue
        raw = params[option.attr]
        values[option.attr] = convert(
            option, list(raw) if isinstance(raw, tuple) else raw, "command line"
        )
    return values


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of standard output.",
)
@_config_options
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read settings from this file instead of discovering one.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.pass_context
def check(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    config_file: Path | None,
    isolated: bool,
    exit_zero: bool,
    quiet: bool,
    **params: Any,
) -> None:
    """Check PATHS (default: the current directory) for pinning SQL."""
    from pinlint.report import REPORTERS, ReportContext

    for path in paths:
        if not path.exists():
            raise click.UsageError(f"{path}: no such file or directory")
    targets = list(paths) or [Path(".")]
    try:
        config = resolve(targets, _cli_values(ctx, params), config_file, isolated)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None
    result = lint_paths(targets, config)
    diagnostics = result.diagnostics
    context = ReportContext(
        root=Path.cwd(),
        rules=by_code(),
        version=__version__,
        files_checked=result.files_checked,
        target=config.target.value,
        quiet=quiet,
    )
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    report = REPORTERS[fmt](diagnostics, context, color=color)
    if output is not None:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as err:
            raise click.ClickException(f"cannot write {output}: {err.strerror or err}") from None
    else:
        click.echo(report, nl=False)
    if not exit_zero and any(config.fails(d.severity) for d in diagnostics):
        sys.exit(EXIT_FINDINGS)


@cli.command("rules")
def list_rules() -> None:
    """List every rule: code, name, and what it flags."""
    width = max(len(r.name) for r in all_rules())
    for rule in all_rules():
        default = "" if rule.enabled_by_default else "  (off by default)"
        click.echo(f"{rule.code}  {rule.name:<{width}}  {rule.summary}{default}")


@cli.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Print the full documentation of one rule (by code or name)."""
    rule = lookup(code)
    if rule is None:
        raise click.UsageError(f"unknown rule {code!r}; `pinlint rules` lists them")
    from pinlint.docs import rule_markdown

    click.echo(rule_markdown(rule), nl=False)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point: click's parsing, our exit codes, never a traceback."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="pinlint",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug in pinlint: say so plainly, exit 2
        if os.environ.get("PINLINT_DEBUG"):
            traceback.print_exc()
        click.echo(f"pinlint: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("Set PINLINT_DEBUG=1 to see the traceback, and please report it.", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)
