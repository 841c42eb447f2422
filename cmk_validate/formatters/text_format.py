"""Human output: grouped by stack, then resource; each finding with id, severity, path and fix."""

from __future__ import annotations

from itertools import groupby

from cmk_validate.findings import Report, Severity


def render(report: Report, min_severity: Severity) -> str:
    shown = report.active(min_severity)
    lines: list[str] = []
    for stack, stack_findings in groupby(shown, key=lambda f: f.stack):
        lines.append(f"{stack}")
        for resource, resource_findings in groupby(list(stack_findings), key=lambda f: f.resource):
            lines.append(f"  {resource or '(template)'}")
            for finding in resource_findings:
                where = finding.path_text or "(template)"
                if finding.line:
                    where += f"  (line {finding.line})"
                lines.append(f"    {finding.rule_id} [{finding.severity.label}] {finding.message}")
                lines.append(f"      at  {where}")
                if finding.fix:
                    lines.append(f"      fix {finding.fix}")
        lines.append("")
    counts = {s: sum(1 for f in shown if f.severity == s) for s in Severity}
    suppressed = sum(1 for f in report.findings if f.suppressed)
    undecided = sum(1 for f in shown if f.undecided)
    lines.append(f"{len(report.stacks)} stack(s), {len(report.rules_run)} rule(s): "
                 f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s), "
                 f"{counts[Severity.INFO]} info, {suppressed} acknowledged"
                 + (f", {undecided} undecided (cannot prove: the run fails closed)" if undecided else ""))
    return "\n".join(lines) + "\n"
