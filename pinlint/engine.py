"""Orchestration without I/O: source bytes in, diagnostics out.

extract (Python) or split (.sql) -> SQL analysis -> rules -> diagnostics. Every
failure becomes a PIN9xx diagnostic; nothing here raises for bad input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from pinlint.config import Config
from pinlint.extract import extract_python, might_matter
from pinlint.model import (
    Confidence,
    Diagnostic,
    Effect,
    Extraction,
    FileResult,
    Origin,
    Problem,
    Span,
    SqlSite,
)
from pinlint.rules.base import MetaRule, Rule, RuleContext, SqlRule
from pinlint.sql.statement import analyse, split_sql

_SNIPPET = 200


def lint_source(source: bytes, path: str, config: Config) -> FileResult:
    """Check one file's content; `path` decides the language (`.sql` or Python)."""
    try:
        diagnostics = list(_lint(source, path, config))
    except Exception as err:  # a bug in pinlint: report it, keep the run going
        diagnostics = list(
            _meta(
                config,
                [Problem("internal", f"{type(err).__name__}: {err}", Span(1, 1, 1, 1))],
                path,
            )
        )
    unique = sorted(set(diagnostics), key=lambda d: d.sort_key)
    return FileResult(path, tuple(unique))


def _lint(source: bytes, path: str, config: Config) -> Iterator[Diagnostic]:
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
        extraction = _extract_sql(source, path)
    elif might_matter(source):
        extraction = extract_python(source, path)
    else:
        return
    yield from _meta(config, extraction.problems, path)
    yield from check_sites(extraction.sites, config)


def _extract_sql(source: bytes, path: str) -> Extraction:
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
    for start, end in split_sql(text):
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
    ctx = RuleContext(config.target, config.dialect, config.max_statement_bytes)
    sql_rules = [
        r() for r in config.rules if issubclass(r, SqlRule) and r.applies_to(config.target)
    ]
    meta = {r.code: r for r in config.rules if issubclass(r, MetaRule)}
    for site in sites:
        snippet = " ".join(site.text.split())[:_SNIPPET]
        for stmt in analyse(site.text):
            if stmt.parse_error and "PIN901" in meta:
                message = (
                    f"sqlglot could not parse the statement ({stmt.parse_error}); "
                    "checked with the token-level fallback"
                )
                yield _diagnostic(meta["PIN901"], message, site, snippet, Effect.OK, config)
            for rule in sql_rules:
                try:
                    findings = list(rule.check(stmt, ctx))
                except Exception as err:  # one broken rule must not stop the others
                    if "PIN905" in meta:
                        message = f"rule {rule.code} failed: {type(err).__name__}: {err}"
                        yield _diagnostic(meta["PIN905"], message, site, snippet, Effect.OK, config)
                    continue
                for finding in findings:
                    yield _diagnostic(
                        type(rule), finding.message, site, snippet, finding.effect, config
                    )


def _diagnostic(
    rule: type[Rule], message: str, site: SqlSite, snippet: str, effect: Effect, config: Config
) -> Diagnostic:
    return Diagnostic(
        code=rule.code,
        name=rule.name,
        message=message,
        help=rule.help,
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
        yield Diagnostic(
            code=rule.code,
            name=rule.name,
            message=problem.message,
            help=rule.help,
            severity=rule.severity,
            path=path,
            span=problem.span,
            target=config.target,
            effect=Effect.OK,
            confidence=Confidence.HIGH,
            tags=rule.tags,
        )
