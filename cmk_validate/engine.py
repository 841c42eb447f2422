"""Run the rules (and optionally cfn-lint) over an assembly, in every condition scenario."""

from __future__ import annotations

import copy
import datetime
import itertools
import time
from typing import Iterable

from cmk_validate import suppressions
from cmk_validate.context import Context, Options
from cmk_validate.findings import Finding, Report
from cmk_validate.model import Assembly, Resolver
from cmk_validate.progress import steps
from cmk_validate.rules import Rule, discover

MAX_SCENARIOS = 64


def undecided_conditions(assembly: Assembly) -> list[tuple[str, str]]:
    """(stack, condition) pairs whose value only deploy time knows: both branches must be checked."""
    found = []
    for stack in assembly.stacks:
        resolver = Resolver(assembly, stack)
        for name in stack.conditions:
            if resolver.condition(name) is None:
                found.append((stack.name, name))
    return found


def scenarios(assembly: Assembly) -> list[dict[str, dict[str, bool]]]:
    """Every assignment of the undecided conditions that can happen, or (past MAX_SCENARIOS) all-true,
    all-false and each flip among those that can. Whether an assignment can happen (IsDev and
    Not(IsDev) cannot both be true; Equals on one parameter's two values cannot) is cfn-lint's
    condition model's answer, so an impossible branch never produces a finding."""
    undecided = undecided_conditions(assembly)
    if not undecided:
        return [{}]
    if 2 ** len(undecided) <= MAX_SCENARIOS:
        assignments = list(itertools.product([True, False], repeat=len(undecided)))
    else:
        assignments = [tuple([True] * len(undecided)), tuple([False] * len(undecided))]
        for index in range(len(undecided)):
            assignments.append(tuple(i == index for i in range(len(undecided))))
            assignments.append(tuple(i != index for i in range(len(undecided))))
    possible = _Possible(assembly)
    out = []
    for values in dict.fromkeys(assignments):
        scenario: dict[str, dict[str, bool]] = {}
        for (stack, name), value in zip(undecided, values):
            scenario.setdefault(stack, {})[name] = value
        if all(possible(stack, conditions) for stack, conditions in scenario.items()):
            out.append(scenario)
    return out or [{}]


class _Possible:
    """Whether one stack's conditions can take the given values together, by cfn-lint's condition model
    (built once per stack). A template cfn-lint cannot model keeps every assignment: checking an
    impossible branch can only add findings, never hide one."""

    def __init__(self, assembly: Assembly) -> None:
        self._assembly = assembly
        self._models: dict[str, object] = {}

    def __call__(self, stack_name: str, values: dict[str, bool]) -> bool:
        model = self._model(stack_name)
        if model is None:
            return True
        try:
            return any(True for _ in model.build_scenarios({name: {value} for name, value in values.items()}))
        except Exception:  # cfn-lint's model on a template it does not expect
            return True

    def _model(self, stack_name: str):
        if stack_name not in self._models:
            stack = self._assembly.stack(stack_name)
            try:
                from cfnlint.template import Template

                # A copy: building the model reorders each Fn::Equals in place, which would move every
                # finding path under Conditions.
                self._models[stack_name] = Template(stack.template_file, copy.deepcopy(stack.template),
                                                    ["us-east-1"]).conditions
            except Exception:
                self._models[stack_name] = None
        return self._models[stack_name]


def run_rules(assembly: Assembly, rules: Iterable[type[Rule]] | None = None,
              options: Options | None = None, seconds: dict[str, float] | None = None) -> list[Finding]:
    """Every rule on every condition scenario; `seconds`, if given, receives each rule's time by id."""
    rule_classes = list(rules) if rules is not None else discover()
    all_scenarios = scenarios(assembly)
    seen: dict[tuple, tuple[Finding, list[int]]] = {}
    for number, scenario in enumerate(all_scenarios):
        ctx = Context(assembly, scenario, options)
        for rule_class in steps(rule_classes, _progress_label(number, len(all_scenarios)), unit="rule"):
            rule = rule_class()
            began = time.perf_counter()
            try:
                produced = list(rule.check(ctx))
            except Exception as error:  # fail closed: a rule that cannot finish is a finding, never a pass
                produced = [_failed(rule, assembly, error)]
            if seconds is not None:
                seconds[rule.id] = seconds.get(rule.id, 0.0) + time.perf_counter() - began
            for finding in produced:
                entry = seen.setdefault(finding.key(), (finding, []))
                entry[1].append(number)
    findings = []
    for finding, hits in seen.values():
        if len(all_scenarios) > 1 and len(set(hits)) < len(all_scenarios):
            when = "; ".join(_describe(all_scenarios[i]) for i in sorted(set(hits))[:3])
            finding.message += f" [when {when}]"
        findings.append(finding)
    return findings


def _progress_label(number: int, scenario_count: int) -> str:
    return "rules" if scenario_count == 1 else f"rules, condition scenario {number + 1}/{scenario_count}"


def _failed(rule: Rule, assembly: Assembly, error: Exception) -> Finding:
    detail = " ".join(str(error).split())[:300]
    return rule.cannot_prove(assembly.stacks[0], (), f"the rule failed internally on this input "
                             f"({error.__class__.__name__}: {detail})",
                             fix="Simplify the value the rule stopped on, or report the template to the "
                                 "validator's maintainers; until then the invariant is unproved.")


def _describe(scenario: dict) -> str:
    return ", ".join(f"{stack}:{name}={'true' if value else 'false'}"
                     for stack, conditions in scenario.items() for name, value in conditions.items())


def run(assembly: Assembly, rules: Iterable[type[Rule]] | None = None, options: Options | None = None,
        cfn_lint: bool = False, cfn_lint_ignore: tuple[str, ...] = (), cfn_lint_config: str | None = None,
        with_lines: bool = True) -> Report:
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0, tzinfo=None)
    rule_classes = list(rules) if rules is not None else discover()
    rule_seconds: dict[str, float] = {}
    findings = run_rules(assembly, rule_classes, options, rule_seconds) if rule_classes else []
    lint_seconds: dict[str, float] = {}
    external_rules: dict[str, dict] = {}
    if cfn_lint:
        from cmk_validate.cfn_lint_bridge import CfnLint

        linter = CfnLint(config_file=cfn_lint_config, extra_ignores=cfn_lint_ignore)
        for stack in assembly.stacks:
            began = time.perf_counter()
            findings.extend(linter.lint(stack))
            lint_seconds[stack.name] = time.perf_counter() - began
        external_rules = {rule_id: linter.describe(rule_id)
                          for rule_id in sorted({f.rule_id for f in findings if f.source == "cfn-lint"})}
    suppressions.apply(findings, assembly)
    if with_lines:
        for finding in findings:
            if finding.line is None and finding.path:
                stack = assembly.stack(finding.stack)
                if stack is not None:
                    finding.line, finding.column = stack.locate(finding.path)
    findings.sort(key=lambda f: (f.stack, f.resource, f.rule_id, f.path_text, f.message))
    return Report(findings=findings, stacks=[s.name for s in assembly.stacks], rules_run=rule_classes,
                  input_path=assembly.root, input_given=assembly.source or assembly.root,
                  started=started.isoformat(), rule_seconds=rule_seconds, lint_seconds=lint_seconds,
                  assembly=assembly, external_rules=external_rules)
