"""Rule base class and discovery: every module in this package defining a `Rule` subclass is a rule.

No registry to edit: drop a file named after the rule here and it runs.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Iterable, Iterator

from cmk_validate.findings import Finding, Severity

SEVERITY_BY_LETTER = {"E": Severity.ERROR, "W": Severity.WARNING, "I": Severity.INFO}


class Rule:
    """One architecture invariant. Subclasses set the class attributes and implement `check`.

    The id is `CK` + severity letter + number (`CKE101` is an error); a rule that cannot prove its
    invariant says so in an undecided warning (`cannot_prove`), never a pass.
    """

    id: str = ""
    title: str = ""
    rationale: str = ""
    fix: str = ""
    source_url: str = ""
    tags: tuple = ()

    @classmethod
    def severity(cls) -> Severity:
        return SEVERITY_BY_LETTER[cls.id[2]]

    @classmethod
    def module_name(cls) -> str:
        return cls.__module__.rsplit(".", 1)[-1]

    def check(self, ctx) -> Iterable[Finding]:  # pragma: no cover - interface
        raise NotImplementedError

    def finding(self, stack, path: tuple, message: str, fix: str | None = None,
                severity: Severity | None = None, undecided: bool = False) -> Finding:
        return Finding(rule_id=self.id, severity=severity or self.severity(), message=message,
                       stack=stack.name, path=tuple(path), fix=self.fix if fix is None else fix,
                       template_file=stack.template_file, title=self.title, help_uri=self.source_url,
                       undecided=undecided)

    def cannot_prove(self, stack, path: tuple, reason: str, fix: str | None = None) -> Finding:
        """The invariant may hold, but the rule cannot show it. A warning, not an error: nothing wrong was
        found. Undecided all the same, so every gate (the command line, the synth plugin, the cfn-lint
        pack) fails closed on it, whatever severity threshold it was given."""
        return self.finding(stack, path, f"cannot prove: {reason}", undecided=True, severity=Severity.WARNING,
                            fix=fix or "Make the value resolvable in the template (a literal, a Ref or GetAtt "
                                       "within this assembly), or acknowledge the finding with a reason.")


def discover() -> list[type[Rule]]:
    """All rule classes in this package, sorted by id."""
    found: dict[str, type[Rule]] = {}
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule \
                    and value.__module__ == module.__name__ and value.id:
                found[value.id] = value
    return [found[key] for key in sorted(found)]


def select(rules: list[type[Rule]], only: Iterable[str] = (), skip: Iterable[str] = ()) -> Iterator[type[Rule]]:
    only_set = {r.upper() for r in only}
    skip_set = {r.upper() for r in skip}
    for rule in rules:
        names = {rule.id.upper(), rule.module_name().upper()}
        if only_set and not names & only_set:
            continue
        if names & skip_set:
            continue
        yield rule
