"""Several inputs in one run (a pre-commit hook passes every staged template): each is loaded and checked
as if it were given alone, so a template gets the same verdict wherever it appears on the command line,
and the findings are merged into one report for the formatters.

Two templates in different directories often share a file name (`template.yaml`), which names the stack
of a template given alone; with several inputs a template's stack is named by its path as given, less the
extension, instead. The name of a template given alone is a label, not its deployed name (`AWS::StackName`
is unknown then), so this changes no verdict.
"""

from __future__ import annotations

import os

from cmk_validate.findings import InputError, Report
from cmk_validate.model import Assembly, load


def load_each(paths: list[str]) -> list[Assembly]:
    """One assembly per distinct path, in the order given; InputError naming the path on bad input."""
    unique = list(dict.fromkeys(paths))
    assemblies = [load(path) for path in unique]
    if len(assemblies) > 1:
        for path, assembly in zip(unique, assemblies):
            if not os.path.isdir(path):
                _relabel(assembly, os.path.splitext(os.path.normpath(path))[0])
        seen: dict[str, str] = {}
        for path, assembly in zip(unique, assemblies):
            for stack in assembly.stacks:
                if stack.name in seen:
                    raise InputError(f"{path}: stack {stack.name!r} is also in {seen[stack.name]}; "
                                     "validate the two separately")
                seen[stack.name] = path
    return assemblies


def _relabel(assembly: Assembly, label: str) -> None:
    """Name a single template's stack (and its nested stacks, `<parent>/<logical id>`) by `label`."""
    top = assembly.stacks[0].name
    for stack in assembly.stacks:
        stack.name = label + stack.name[len(top):]


def merge(reports: list[Report]) -> Report:
    """One report of several inputs' reports (one report is returned as it is)."""
    if len(reports) == 1:
        return reports[0]
    first = reports[0]
    roots = [os.path.realpath(report.input_path or ".") for report in reports]
    root = os.path.commonpath(roots)
    combined = Assembly(root=root, source="")
    for report in reports:
        combined.stacks.extend(report.assembly.stacks)
        combined.tokens.update(report.assembly.tokens)
    findings = [finding for report in reports for finding in report.findings]
    findings.sort(key=lambda f: (f.stack, f.resource, f.rule_id, f.path_text, f.message))
    rule_seconds: dict[str, float] = {}
    for report in reports:
        for rule_id, seconds in report.rule_seconds.items():
            rule_seconds[rule_id] = rule_seconds.get(rule_id, 0.0) + seconds
    return Report(findings=findings, stacks=[stack for report in reports for stack in report.stacks],
                  rules_run=first.rules_run, input_path=root,
                  input_given=", ".join(report.input_given for report in reports), started=first.started,
                  rule_seconds=rule_seconds,
                  lint_seconds={stack: seconds for report in reports for stack, seconds in report.lint_seconds.items()},
                  assembly=combined,
                  external_rules={rule_id: about for report in reports
                                  for rule_id, about in report.external_rules.items()})
