"""JUnit XML: one test case per rule and stack (a failure per finding), which CI viewers list as tests."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from validators.findings import Report, Severity


def render(report: Report, min_severity: Severity) -> str:
    shown = report.active(min_severity)
    suites = ET.Element("testsuites", name="validators")
    rule_ids = [rule.id for rule in report.rules_run]
    extra = sorted({f.rule_id for f in shown} - set(rule_ids))
    for stack in report.stacks:
        stack_findings = [f for f in shown if f.stack == stack]
        suite = ET.SubElement(suites, "testsuite", name=stack)
        failures = 0
        cases = 0
        for rule_id in rule_ids + extra:
            rule_findings = [f for f in stack_findings if f.rule_id == rule_id]
            if rule_id in extra and not rule_findings:
                continue
            cases += 1
            case = ET.SubElement(suite, "testcase", classname=stack, name=rule_id)
            for finding in rule_findings:
                failures += 1
                failure = ET.SubElement(case, "failure", type=finding.severity.label,
                                        message=f"{finding.path_text}: {finding.message}")
                failure.text = (f"{finding.rule_id} [{finding.severity.label}] {finding.message}\n"
                                f"at {finding.template_file}:{finding.line or 0} {finding.path_text}\n"
                                f"fix: {finding.fix}")
        suite.set("tests", str(cases))
        suite.set("failures", str(failures))
        suite.set("errors", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
