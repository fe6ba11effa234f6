"""Orchestration without I/O: source bytes in, diagnostics out.

extract (Python) or split (.sql) -> SQL analysis -> rules -> diagnostics. Every
failure becomes a PIN9xx diagnostic; nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pinlint import suppress
from pinlint.cache import digest
from pinlint.config import Config
from pinlint.extract.gate import might_matter
from pinlint.flow import FunctionFlow
from pinlint.model import (
    CallSite,
    Confidence,
    Diagnostic,
    Dialect,
    Effect,
    Extraction,
    FileResult,
    Origin,
    Problem,
    Profile,
    RelatedLocation,
    Span,
    SqlSite,
)
from pinlint.rules.base import (
    CallRule,
    FlowFinding,
    FlowRule,
    MetaRule,
    Rule,
    RuleContext,
    SqlRule,
)
from pinlint.sql.statement import analyse, split_sql

if TYPE_CHECKING:
    from pinlint.project import FileView, ProjectIndex

_SNIPPET = 200


def lint_source(
    source: bytes, path: str, config: Config, project: ProjectIndex | None = None
) -> FileResult:
    """Check one file's content; `path` decides the language (`.sql` or Python).

    `project`, the analysed tree, answers for the constants and wrappers of the
    modules a Python file imports (it reads them; this function does no I/O). The
    result's `dependencies` are this file and every module whose summary was used.
    """
    view = project.view(path) if project is not None and not path.endswith(".sql") else None
    try:
        diagnostics = list(_lint(source, path, config, view))
    except Exception as err:  # a bug in pinlint: report it, keep the run going
        diagnostics = list(
            _meta(
                config,
                [Problem("internal", f"{type(err).__name__}: {err}", Span(1, 1, 1, 1))],
                path,
            )
        )
    # The message breaks ties (two findings from one site), so the order, and the
    # occurrence numbers of baselines and fingerprints, do not depend on hashing.
    unique = sorted(set(diagnostics), key=lambda d: (*d.sort_key, d.message))
    dependencies = ((path, digest(source)), *(view.dependencies() if view is not None else ()))
    return FileResult(path, suppress.apply(source, path, unique, config), dependencies)


def _lint(
    source: bytes, path: str, config: Config, view: FileView | None = None
) -> Iterator[Diagnostic]:
    if len(source) > config.max_file_bytes:
        if path.endswith(".sql") or might_matter(source):
            size = f"{len(source):,} bytes, over the {config.max_file_bytes:,}-byte limit"
            yield from _meta(
                config,
                [Problem("too-large", f"file is {size}; not checked", Span(1, 1, 1, 1))],
                path,
            )
        return
    if path.endswith(".sql"):
        extraction = _extract_sql(source, path, config.dialect)
    elif might_matter(source) or (view is not None and view.may_call_wrappers(source)):
        from pinlint.extract.python import extract_python  # (libcst: only when needed)

        extraction = extract_python(source, path, view)
    else:
        return
    yield from _meta(config, extraction.problems, path)
    yield from check_sites(extraction.sites, config)
    yield from check_flows(extraction.flows, config)
    yield from check_calls(extraction.calls, config)


def _extract_sql(source: bytes, path: str, dialect: Dialect) -> Extraction:
    try:
        text = source.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        return Extraction(
            problems=(
                Problem(
                    "decode", f"not valid UTF-8: {err.reason} at byte {err.start}", Span(1, 1, 1, 1)
                ),
            )
        )
    sites = []
    for start, end in split_sql(text, dialect):
        span = _span_of(text, start, end)
        sites.append(
            SqlSite(
                path, span, text[start:end], Origin.SQL_FILE, Confidence.HIGH, "sql-file", span.line
            )
        )
    return Extraction(sites=tuple(sites))


def _span_of(text: str, start: int, end: int) -> Span:
    line = text.count("\n", 0, start) + 1
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    end_line = line + text.count("\n", start, end)
    end_col = end - (text.rfind("\n", 0, end) + 1) + 1
    return Span(line, col, end_line, end_col)


def check_sites(sites: Iterable[SqlSite], config: Config) -> Iterator[Diagnostic]:
    """Run the enabled SQL rules over every statement of every site."""
    contexts = rule_contexts(config)
    instances = [r() for r in config.rules if issubclass(r, SqlRule)]
    # The rules with something to say on each profile (target and the site's dialect).
    rules_for = {p: [r for r in instances if r.applies_to(p)] for p in Profile}
    meta = {r.code: r for r in config.rules if issubclass(r, MetaRule)}
    # The values one argument may have (if/else) are sites at the same span: a rule
    # reports the first that it finds something in, once.
    reported: dict[tuple[str, Span, str, tuple[str, ...]], set[str]] = {}
    for site in sites:
        ctx = contexts[site.dialect or config.dialect]
        profile = ctx.profile
        if profile is None:
            continue  # MySQL code behind PgBouncer: that code does not go through it
        earlier = reported.setdefault((site.path, site.span, site.sink, site.via), set())
        found_here: set[str] = set()
        sql_rules = [r for r in rules_for[profile] if r.code not in earlier]
        snippet = " ".join(site.text.split())[:_SNIPPET]
        # SQL passed to a wrapper: what the wrapper's own SQL pins is reported there.
        own = _own_codes(site.callee_text, ctx, sql_rules) if site.callee_text is not None else ()
        for stmt in analyse(site.text, ctx.dialect):
            if stmt.parse_error and "PIN901" in meta and "PIN901" not in own:
                message = (
                    f"sqlglot could not parse the statement ({stmt.parse_error}); "
                    "checked with the token-level fallback"
                )
                yield _diagnostic(meta["PIN901"], message, site, snippet, Effect.OK, config)
            for rule in sql_rules:
                findings, failure = _checked(rule, stmt, ctx, meta, config, site, snippet)
                if failure is not None:
                    yield failure
                if rule.code in own:
                    continue
                if findings:
                    found_here.add(rule.code)
                for finding in findings:
                    yield _diagnostic(
                        type(rule),
                        finding.message + _via(site),
                        site,
                        snippet,
                        finding.effect,
                        config,
                        help=type(rule).help_on(profile),
                    )
        earlier |= found_here


def _own_codes(text: str, ctx: RuleContext, rules: Iterable[SqlRule]) -> set[str]:
    """The codes the rules find in `text` by itself (PIN901 for a parse error)."""
    codes: set[str] = set()
    for stmt in analyse(text, ctx.dialect):
        if stmt.parse_error:
            codes.add("PIN901")
        for rule in rules:
            try:
                if any(True for _ in rule.check(stmt, ctx)):
                    codes.add(rule.code)
            except Exception:  # reported when the caller's SQL is checked
                continue
    return codes


def _via(site: SqlSite) -> str:
    """How a wrapper finding's message names the path to the sink."""
    return f" (via {' → '.join(site.via)})" if site.via else ""


def rule_contexts(config: Config) -> dict[Dialect, RuleContext]:
    """What the rules may read, for code in each dialect."""
    base = RuleContext(
        config.target,
        config.dialect,
        config.max_statement_bytes,
        pgbouncer_version=config.pgbouncer_version_tuple,
        max_prepared_statements=config.max_prepared_statements,
        session_pinning_filters=frozenset(config.session_pinning_filters),
        lambda_handlers=config.lambda_handlers,
    )
    return {d: replace(base, dialect=d) for d in Dialect}


def _checked(
    rule: SqlRule | FlowRule | CallRule,
    subject: Any,
    ctx: RuleContext,
    meta: Mapping[str, type[Rule]],
    config: Config,
    where: SqlSite | FlowFinding | CallSite,
    snippet: str | None = None,
) -> tuple[list[Any], Diagnostic | None]:
    """`rule`'s findings on `subject`. One broken rule must not stop the others: it
    finds nothing, and PIN905 (when enabled) reports it at `where`."""
    try:
        return list(rule.check(subject, ctx)), None
    except Exception as err:
        if "PIN905" not in meta:
            return [], None
        message = f"rule {rule.code} failed: {type(err).__name__}: {err}"
        failure = _diagnostic(meta["PIN905"], message, where, snippet, Effect.OK, config)
        return [], failure


def check_flows(flows: Iterable[FunctionFlow], config: Config) -> Iterator[Diagnostic]:
    """Run the enabled flow rules over the control flow of every function given."""
    instances = [r() for r in config.rules if issubclass(r, FlowRule)]
    if not instances:
        return
    contexts = rule_contexts(config)
    meta = {r.code: r for r in config.rules if issubclass(r, MetaRule)}
    for flow in flows:
        ctx = contexts[flow.dialect or config.dialect]
        profile = ctx.profile
        for rule in instances:
            if not rule.applies_to(profile):
                continue
            at = FlowFinding("", flow.path, flow.span, flow.span.line)
            findings, failure = _checked(rule, flow, ctx, meta, config, at)
            if failure is not None:
                yield failure
            for finding in findings:
                snippet = finding.sql[:_SNIPPET] if finding.sql is not None else None
                yield _diagnostic(
                    type(rule),
                    finding.message,
                    finding,
                    snippet,
                    finding.effect,
                    config,
                    help=type(rule).help_on(profile),
                )


def check_calls(calls: Iterable[CallSite], config: Config) -> Iterator[Diagnostic]:
    """Run the enabled call rules over every driver and framework configuration."""
    instances = [r() for r in config.rules if issubclass(r, CallRule)]
    if not instances:
        return
    contexts = rule_contexts(config)
    meta = {r.code: r for r in config.rules if issubclass(r, MetaRule)}
    for call in calls:
        ctx = contexts[call.dialect or config.dialect]
        profile = ctx.profile
        for rule in instances:
            if not rule.applies_to(profile) or (rule.callees and call.callee not in rule.callees):
                continue
            findings, failure = _checked(rule, call, ctx, meta, config, call)
            if failure is not None:
                yield failure
            for finding in findings:
                diagnostic = _diagnostic(
                    type(rule),
                    finding.message,
                    call,
                    None,
                    finding.effect,
                    config,
                    help=finding.help or type(rule).help_on(profile),
                )
                span, related = call.span, finding.related
                if finding.span is not None and _within(finding.span, call.span):
                    span = finding.span
                elif finding.span is not None:  # in a module-level dict the call expands
                    related = (RelatedLocation(call.path, finding.span, "set here"), *related)
                if finding.span is None:
                    related = (*related, *call.related)
                if finding.fix is not None:
                    fixable = f"{diagnostic.help}; `--fix` will {finding.fix.description}"
                    diagnostic = replace(diagnostic, help=fixable)
                yield replace(
                    diagnostic,
                    span=span,
                    confidence=finding.confidence or call.confidence,
                    related=related,
                    fix=finding.fix,
                )


def _within(inner: Span, outer: Span) -> bool:
    return (outer.line, outer.col) <= (inner.line, inner.col) and (
        inner.end_line,
        inner.end_col,
    ) <= (outer.end_line, outer.end_col)


def _diagnostic(
    rule: type[Rule],
    message: str,
    site: SqlSite | FlowFinding | CallSite,
    snippet: str | None,
    effect: Effect,
    config: Config,
    help: str | None = None,
) -> Diagnostic:
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=message,
        help=help or rule.help,
        severity=rule.severity,
        path=site.path,
        span=site.span,
        target=config.target,
        effect=effect,
        confidence=site.confidence,
        origin=site.origin,
        sink=site.sink,
        sql=snippet,
        statement_line=site.statement_line,
        tags=rule.tags,
        related=site.related,
    )


def _meta(config: Config, problems: Iterable[Problem], path: str) -> Iterator[Diagnostic]:
    by_kind = {
        r.problem_kind: r for r in config.rules if issubclass(r, MetaRule) and r.problem_kind
    }
    for problem in problems:
        rule = by_kind.get(problem.kind)
        if rule is None:
            continue
        yield rule.diagnostic_at(problem.message, path, problem.span, config.target)
