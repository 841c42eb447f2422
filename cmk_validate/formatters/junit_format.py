"""JUnit XML as the Ant JUnit task writes it (the schema CI viewers validate against): one test suite
per stack, one test case per rule (a failure per finding), cfn-lint's findings under their own ids.

The Ant schema requires, on each suite, `id`, `package`, `hostname`, `timestamp` (ISO 8601 to the
second, no zone), `time`, `tests`, `failures`, `errors`, `skipped`, and the `properties`,
`system-out` and `system-err` elements; on each case `time`. A rule checks the whole assembly at
once, so a case's time is the rule's time shared evenly over the stacks; a suite's time is its cases'
plus cfn-lint's on that stack.
"""

from __future__ import annotations

import socket
from xml.etree import ElementTree as ET

from cmk_validate.findings import Report, Severity


def render(report: Report, min_severity: Severity) -> str:
    shown = report.active(min_severity)
    suites = ET.Element("testsuites", name="cmk-validate")
    rule_ids = [rule.id for rule in report.rules_run]
    extra = sorted({f.rule_id for f in shown} - set(rule_ids))
    share = 1 / max(len(report.stacks), 1)
    for number, stack in enumerate(report.stacks):
        stack_findings = [f for f in shown if f.stack == stack]
        suite = ET.SubElement(suites, "testsuite", name=stack, id=str(number), package=stack,
                              hostname=socket.gethostname() or "localhost", timestamp=report.started or "1970-01-01T00:00:00")
        ET.SubElement(suite, "properties")
        failures, cases, seconds = 0, 0, report.lint_seconds.get(stack, 0.0)
        for rule_id in rule_ids + extra:
            rule_findings = [f for f in stack_findings if f.rule_id == rule_id]
            if rule_id in extra and not rule_findings:
                continue
            cases += 1
            case_seconds = report.rule_seconds.get(rule_id, 0.0) * share
            seconds += case_seconds
            case = ET.SubElement(suite, "testcase", classname=stack, name=rule_id, time=f"{case_seconds:.3f}")
            for finding in rule_findings:
                failures += 1
                failure = ET.SubElement(case, "failure", type=finding.severity.label,
                                        message=f"{finding.path_text}: {finding.message}")
                failure.text = (f"{finding.rule_id} [{finding.severity.label}] {finding.message}\n"
                                f"at {finding.template_file}:{finding.line or 0} {finding.path_text}\n"
                                f"fix: {finding.fix}")
        ET.SubElement(suite, "system-out")
        ET.SubElement(suite, "system-err")
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        suite.set("time", f"{seconds:.3f}")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
