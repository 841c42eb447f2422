"""Machine output: every finding, suppressed ones included (marked), plus a summary."""

from __future__ import annotations

import json

from cmk_validate.findings import Report, Severity


def render(report: Report, min_severity: Severity) -> str:
    findings = report.shown(min_severity)
    return json.dumps({
        "input": report.input_given or report.input_path,
        "stacks": report.stacks,
        "rules": [rule.id for rule in report.rules_run],
        "summary": {
            "errors": sum(1 for f in findings if not f.suppressed and f.severity == Severity.ERROR),
            "warnings": sum(1 for f in findings if not f.suppressed and f.severity == Severity.WARNING),
            "info": sum(1 for f in findings if not f.suppressed and f.severity == Severity.INFO),
            "suppressed": sum(1 for f in findings if f.suppressed),
            "undecided": sum(1 for f in findings if not f.suppressed and f.undecided),
        },
        "findings": [f.to_dict() for f in findings],
    }, indent=2) + "\n"
