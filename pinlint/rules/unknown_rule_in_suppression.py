from __future__ import annotations

from pinlint.model import Severity
from pinlint.rules.base import MetaRule


class UnknownRuleInSuppression(MetaRule):
    """
    ## What it flags
    A rule in a suppression comment that pinlint does not know (a typo such as
    `PIN110`, a code prefix such as `PIN1`, a name from another tool), or one of the
    directive rules PIN906 to PIN909, which a comment cannot suppress.

    ## Why it pins
    It does not pin; but the misspelt rule is not suppressed. The other rules named in
    the same comment still are.

    ## How to fix
    Use a rule code (`PIN101`) or name (`session-set`) from `pinlint rules`. To turn off
    a directive rule, use `ignore` or `per-file-ignores` in the configuration.

    ## Known limitations
    A rule removed in a later pinlint version is reported here after the upgrade.

    ## References
    - pinlint README, section "Suppressing a finding"
    """

    code = "PIN907"
    name = "unknown-rule-in-suppression"
    summary = "A suppression comment names a rule that does not exist or cannot be suppressed"
    help = "Name a rule from `pinlint rules` by code or name"
    severity = Severity.WARNING
    tags = ("meta", "suppression")
