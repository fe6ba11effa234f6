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
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from pinlint import __version__
from pinlint.api import RunResult, lint_paths
from pinlint.config import OPTIONS, Config, ConfigError, convert, resolve
from pinlint.model import Diagnostic
from pinlint.rules import all_rules, by_code, lookup
from pinlint.suppress import reveal
from pinlint.triage import triage

if TYPE_CHECKING:  # baselines and git diffs load only when an option asks for them
    from pinlint.baseline import Baseline
    from pinlint.gitdiff import ChangedLines

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
        elif option.kind == "version":
            func = click.option(flag, option.attr, metavar=option.metavar, help=option.help)(func)
        else:  # codes, globs, names: repeatable, comma-separated
            func = click.option(
                flag,
                *option.aliases,
                option.attr,
                multiple=True,
                metavar=option.metavar,
                help=option.help,
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


def _run_options(func: Any) -> Any:
    """The options `check` and `audit` share: where to write, and which settings apply."""
    func = click.option("--isolated", is_flag=True, help="Ignore every configuration file.")(func)
    func = click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Read settings from this file instead of discovering one.",
    )(func)
    func = _config_options(func)
    return click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Write the report to FILE instead of standard output.",
    )(func)


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif", "github", "gitlab"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@_run_options
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option(
    "--no-suppress",
    is_flag=True,
    help="Ignore `# pinlint: ignore` comments and report every finding (for audits).",
)
@click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Report only the findings not recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Record the current findings in FILE (a new baseline) and exit 0.",
)
@click.option(
    "--diff-base",
    metavar="REV",
    help="Report only findings on lines changed since git revision REV (e.g. origin/main).",
)
@click.option(
    "--statistics", is_flag=True, help="Print how many findings each rule has (text or json)."
)
@click.option(
    "--fix",
    "apply_fix",
    is_flag=True,
    help="Rewrite the safe, local cases of configuration findings in place, say what "
    "changed, and report what remains.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print what --fix would change as a unified diff and write nothing.",
)
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
    no_suppress: bool,
    baseline_file: Path | None,
    write_baseline: Path | None,
    diff_base: str | None,
    statistics: bool,
    apply_fix: bool,
    show_diff: bool,
    **params: Any,
) -> None:
    """Check PATHS (default: the current directory) for pinning SQL."""
    from pinlint.report import KEEPS_SUPPRESSED, REPORTERS, ReportContext

    if statistics and fmt not in ("text", "json"):
        raise click.UsageError("--statistics works with --format text or json")
    if (apply_fix or show_diff) and write_baseline is not None:
        raise click.UsageError("--fix and --diff cannot be combined with --write-baseline")
    for path in paths:
        if not path.exists():
            raise click.UsageError(f"{path}: no such file or directory")
    targets = list(paths) or [Path(".")]
    try:
        config = resolve(targets, _cli_values(ctx, params), config_file, isolated)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None
    baseline, changed = _new_only_inputs(targets[0], baseline_file, diff_base, write_baseline)
    result = _run(targets, config, quiet)
    if write_baseline is not None:
        _write_baseline(write_baseline, result.diagnostics, no_suppress)
        return
    triaged = triage(
        result.diagnostics,
        Path.cwd(),
        no_suppress=no_suppress,
        baseline=baseline,
        changed=changed,
        diff_base=diff_base,
    )
    if show_diff:
        sys.exit(EXIT_FINDINGS if _fix(triaged.shown, config, write=False) else EXIT_OK)
    if apply_fix and _fix(triaged.shown, config, write=True):
        result = _run(targets, config, quiet)  # report what remains
        triaged = triage(
            result.diagnostics,
            Path.cwd(),
            no_suppress=no_suppress,
            baseline=baseline,
            changed=changed,
            diff_base=diff_base,
        )
    diagnostics = list(triaged.shown)
    context = ReportContext(
        root=Path.cwd(),
        rules=by_code(),
        version=__version__,
        files_checked=result.files_checked,
        target=config.target.value,
        quiet=quiet,
        notes=triaged.notes,
        new_findings=triaged.new,
    )
    color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if statistics:
        from pinlint.report import statistics as stats

        report = (stats.render_json if fmt == "json" else stats.render_text)(diagnostics, context)
    else:
        given = list(triaged.everything) if fmt in KEEPS_SUPPRESSED else diagnostics
        report = REPORTERS[fmt](given, context, color=color)
    if fmt != "text" and not quiet:
        for note in triaged.notes:  # never mixed into machine output
            click.echo(f"pinlint: {note}" if not note.startswith(" ") else note, err=True)
    if output is not None:
        try:
            output.write_text(report, encoding="utf-8")
        except OSError as err:
            raise click.ClickException(f"cannot write {output}: {err.strerror or err}") from None
    else:
        click.echo(report, nl=False)
    if not exit_zero and any(config.fails(d.severity) for d in diagnostics):
        sys.exit(EXIT_FINDINGS)


def _fix(diagnostics: Sequence[Diagnostic], config: Config, *, write: bool) -> int:
    """Apply (`write`) or print as a diff the fixes of the shown findings; say what
    changed, and why a file was left alone, on standard error. Returns how many
    files changed (or would)."""
    from pinlint.fix import fix_files

    outcomes = fix_files(diagnostics, config, Path.cwd(), write=write)
    changed = [o for o in outcomes if o.changed]
    for outcome in outcomes:
        if outcome.error is not None:
            click.echo(f"pinlint: {outcome.shown}: {outcome.error}; left unchanged", err=True)
        elif write:
            for change in outcome.changes:
                where = f"{change.path}:{change.line}: {change.code}"
                click.echo(f"pinlint: fixed {where}: {change.description}", err=True)
        else:
            click.echo(outcome.diff(), nl=False)
    count = sum(len(o.changes) for o in changed)
    verb = "fixed" if write else "would fix"
    click.echo(
        f"pinlint: {verb} {count} finding{'s' if count != 1 else ''} "
        f"in {len(changed)} file{'s' if len(changed) != 1 else ''}",
        err=True,
    )
    return len(changed)


def _run(targets: list[Path], config: Config, quiet: bool) -> RunResult:
    """`lint_paths` with a progress bar on standard error when it is a terminal."""
    from pinlint.progress import for_terminal

    bar = for_terminal(enabled=not quiet)
    try:
        return lint_paths(targets, config, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def _new_only_inputs(
    start: Path, baseline_file: Path | None, diff_base: str | None, write_baseline: Path | None
) -> tuple[Baseline | None, ChangedLines | None]:
    """The baseline and the changed lines (in the repository holding `start`), read
    before the run so that a bad file or revision stops it at once (exit 2)."""
    if write_baseline is not None and (baseline_file is not None or diff_base is not None):
        raise click.UsageError(
            "--write-baseline records every current finding; "
            "do not combine it with --baseline or --diff-base"
        )
    baseline = changed = None
    if baseline_file is None and diff_base is None:
        return baseline, changed
    from pinlint.baseline import BaselineError
    from pinlint.baseline import load as load_baseline
    from pinlint.gitdiff import GitError, changed_lines

    try:
        if baseline_file is not None:
            baseline = load_baseline(baseline_file)
        if diff_base is not None:
            changed = changed_lines(diff_base, start if start.is_dir() else start.parent)
    except (BaselineError, GitError) as err:
        raise click.ClickException(str(err)) from None
    return baseline, changed


def _write_baseline(path: Path, diagnostics: Sequence[Diagnostic], no_suppress: bool) -> None:
    from pinlint.baseline import BaselineError
    from pinlint.baseline import write as write_baseline_file

    active = (
        reveal(diagnostics) if no_suppress else [d for d in diagnostics if d.suppressed is None]
    )
    try:
        count = write_baseline_file(path, active, Path.cwd(), __version__)
    except BaselineError as err:
        raise click.ClickException(str(err)) from None
    files = len({d.path for d in active})
    click.echo(
        f"pinlint: wrote {count} finding{'s' if count != 1 else ''} "
        f"in {files} file{'s' if files != 1 else ''} to {path}",
        err=True,
    )


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["html", "markdown"]),
    help="Report format (default: markdown for an --output ending in .md, else html).",
)
@_run_options
@click.option(
    "--no-suppress",
    is_flag=True,
    help="Count findings suppressed by `# pinlint: ignore` comments like the others.",
)
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    paths: tuple[Path, ...],
    fmt: str | None,
    output: Path | None,
    config_file: Path | None,
    isolated: bool,
    no_suppress: bool,
    **params: Any,
) -> None:
    """Write the audit report for PATHS: a document to read before adopting the proxy.

    Totals per cause and per target, SQL versus configuration, the files and
    functions with the most findings, how to fix each cause, and every finding.
    Exits 0 whatever it finds."""
    from datetime import datetime, timezone

    from pinlint.progress import for_terminal
    from pinlint.report import DOCS_BASE_URL
    from pinlint.report import audit as audit_report

    for path in paths:
        if not path.exists():
            raise click.UsageError(f"{path}: no such file or directory")
    targets = list(paths) or [Path(".")]
    try:
        config = resolve(targets, _cli_values(ctx, params), config_file, isolated)
    except ConfigError as err:
        raise click.UsageError(str(err)) from None
    if fmt is None:
        fmt = "markdown" if output is not None and output.suffix.lower() == ".md" else "html"
    bars: list[Any] = []

    def progress() -> Any:
        bar = for_terminal()
        bars.append(bar)
        return bar

    try:
        data = audit_report.collect(
            targets,
            config,
            Path.cwd(),
            version=__version__,
            generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            docs_base_url=DOCS_BASE_URL,
            no_suppress=no_suppress,
            progress=progress,
            command=" ".join(["pinlint audit", *(str(p) for p in paths)]),
            project=(targets[0].resolve().name if len(targets) == 1 else None),
        )
    finally:
        for bar in bars:
            if bar is not None:
                bar.close()
    render = audit_report.render_markdown if fmt == "markdown" else audit_report.render_html
    report = render(data)
    if output is None:
        click.echo(report, nl=False)
        return
    try:
        output.write_text(report, encoding="utf-8")
    except OSError as err:
        raise click.ClickException(f"cannot write {output}: {err.strerror or err}") from None
    found, files = len(data.problems), data.files_checked
    click.echo(
        f"pinlint: wrote the audit of {found} finding{'' if found == 1 else 's'} "
        f"in {files} file{'' if files == 1 else 's'} to {output}",
        err=True,
    )


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
