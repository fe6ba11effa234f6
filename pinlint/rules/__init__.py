"""Rule discovery and selection.

Every module in this package (except `base`) that defines a `Rule` subclass is a
rule; dropping a module here is all it takes to add one.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil

from pinlint.rules.base import MetaRule, Rule, SqlRule


@functools.cache
def all_rules() -> tuple[type[Rule], ...]:
    """Every rule class, ordered by code."""
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
                and value not in (Rule, SqlRule, MetaRule)
            ):
                if value.code in found:
                    raise TypeError(f"duplicate rule code {value.code}")
                found[value.code] = value
    return tuple(found[c] for c in sorted(found))


def by_code() -> dict[str, type[Rule]]:
    return {r.code: r for r in all_rules()}


def lookup(code_or_name: str) -> type[Rule] | None:
    """A rule by its code (`PIN101`) or name (`session-set`), case-insensitive for codes."""
    key = code_or_name.strip()
    for rule in all_rules():
        if rule.code == key.upper() or rule.name == key.lower():
            return rule
    return None


class SelectionError(ValueError):
    pass


def _matches(rule: type[Rule], selector: str) -> bool:
    sel = selector.strip()
    if sel.upper() == "ALL":
        return True
    return rule.code.startswith(sel.upper()) or rule.name == sel.lower()


def _check_selectors(selectors: tuple[str, ...]) -> None:
    for sel in selectors:
        if not any(_matches(r, sel) for r in all_rules()):
            raise SelectionError(
                f"unknown rule selector {sel!r}: use a code (PIN101), a code prefix (PIN1), "
                "a rule name, or ALL; `pinlint rules` lists them"
            )


def select(
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    extend_select: tuple[str, ...] = (),
) -> tuple[type[Rule], ...]:
    """The enabled rules: `select` replaces the default set, `extend_select` adds to it,
    and `ignore` removes from the result. Unknown selectors raise `SelectionError`."""
    _check_selectors(select + ignore + extend_select)
    chosen = []
    for rule in all_rules():
        on = any(_matches(rule, s) for s in select) if select else rule.enabled_by_default
        on = on or any(_matches(rule, s) for s in extend_select)
        if on and not any(_matches(rule, s) for s in ignore):
            chosen.append(rule)
    return tuple(chosen)
