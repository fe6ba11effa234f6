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

import click

from pinlint import __version__
from pinlint.api import lint_paths
from pinlint.config import Config
from pinlint.model import Dialect, Target
from pinlint.rules import SelectionError, all_rules, by_code, lookup

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(values: Sequence[str]) -> tuple[str, ...]:
    """`--select PIN1,PIN201 --select PIN301` -> ('PIN1', 'PIN201', 'PIN301')."""
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pinlint")
def cli() -> None:
    """Find SQL and settings that pin or leak connections behind RDS Proxy."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.option("--select", multiple=True, metavar="CODES",
              help="Only these rules (codes, prefixes like PIN1, names, or ALL); comma-separated.")
@click.option("--extend-select", multiple=True, metavar="CODES",
              help="Rules to enable on top of the default set (e.g. PIN901).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Rules to turn off.")
@click.option("--exclude", multiple=True, metavar="GLOB",
              help="Skip files and directories matching GLOB (name or path); repeatable.")
@click.option("--target", type=click.Choice([t.value for t in Target]), default=Target.RDS_PROXY.value,
              show_default=True, help="The proxy the code runs behind.")
@click.option("--dialect", type=click.Choice([d.value for d in Dialect]), default=Dialect.POSTGRES.value,
              show_default=True, help="SQL dialect of the database.")
@click.option("--max-statement-bytes", type=click.IntRange(min=1), default=16384, show_default=True,
              help="Query size above which RDS Proxy pins (PIN601).")
@click.option("--max-file-bytes", type=click.IntRange(min=1), default=2 * 1024 * 1024,
              show_default=True, help="Files larger than this are not checked (PIN904).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
def check(
    paths: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    exclude: tuple[str, ...],
    target: str,
    dialect: str,
    max_statement_bytes: int,
    max_file_bytes: int,
    exit_zero: bool,
    quiet: bool,
) -> None:
    """Check PATHS (default: the current directory) for pinning SQL."""
    from pinlint.report import REPORTERS, ReportContext

    try:
        config = Config(
            target=Target(target),
            dialect=Dialect(dialect),
            select=_codes(select),
            ignore=_codes(ignore),
            extend_select=_codes(extend_select),
            exclude=tuple(exclude),
            max_statement_bytes=max_statement_bytes,
            max_file_bytes=max_file_bytes,
        )
    except SelectionError as err:
        raise click.UsageError(str(err)) from None
    for path in paths:
        if not path.exists():
            raise click.UsageError(f"{path}: no such file or directory")
    result = lint_paths(list(paths) or [Path(".")], config)
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
    if diagnostics and not exit_zero:
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
        cli.main(args=list(argv) if argv is not None else None, prog_name="pinlint",
                 standalone_mode=False)
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
