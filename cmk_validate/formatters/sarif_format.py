"""SARIF 2.1.0 as GitHub code scanning reads it (docs: "SARIF support for code scanning").

- Locations: a finding on a resource that a CDK construct made points at the source line that created
  the construct (`source_map`, from the creation stack trace in the cloud assembly), relative to the
  repository root (`%SRCROOT%`). Otherwise it points at the template, relative to the assembly
  (`ASSEMBLY`, whose `originalUriBaseIds` entry says where that is: under `%SRCROOT%` when the assembly
  is inside the repository, else an absolute file URI). `logicalLocations` keep the CDK path.
- Rules: every rule object has short and full descriptions, help (text and Markdown), `helpUri`,
  `properties.tags` and `properties.security-severity`.
- Results: `partialFingerprints` from what the finding is about (rule, stack, template path), never
  from lines; `region.endLine`; `level`; `suppressions` for acknowledged findings.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib

from cmk_validate import __version__
from cmk_validate.findings import Finding, Report, Severity
from cmk_validate.formatters.source_map import SourceMap, find_source_root

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# GitHub reads `security-severity` (a number from 0.0 to 10.0, written as a string) on the rules tagged
# "security": above 9.0 is critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low. An error here is a
# broken invariant of the architecture's security (data reachable other than through the endpoint, a key
# not in the HSMs): high, not critical, because it is found before deployment and is not an exploit on
# its own. A warning is a weakened control or a risky default: medium. Information: low.
SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.0", Severity.INFO: "2.0"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT, ASSEMBLY = "%SRCROOT%", "ASSEMBLY"
CFN_LINT_RULES_URL = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md"
FINGERPRINT = "cmkValidateFinding/v1"


def render(report: Report, min_severity: Severity) -> str:
    findings = report.shown(min_severity)
    assembly_dir = os.path.realpath(report.input_path or ".")
    root = report.source_root or find_source_root(assembly_dir)
    sources = SourceMap(report.assembly, root)
    rules = _rules(report, findings)
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    fingerprints = _fingerprints(findings)
    results = []
    for finding, fingerprint in zip(findings, fingerprints):
        result = {"ruleId": finding.rule_id, "ruleIndex": index[finding.rule_id], "level": LEVEL[finding.severity],
                  "message": {"text": finding.message + (f" Fix: {finding.fix}" if finding.fix else "")},
                  "locations": [_location(finding, report, sources, assembly_dir)],
                  # GitHub matches alerts across runs on primaryLocationLineHash; given here, the upload
                  # action does not compute one from the file's lines (a template is not in the repository).
                  "partialFingerprints": {FINGERPRINT: fingerprint, "primaryLocationLineHash": fingerprint},
                  "properties": {"stack": finding.stack, "templatePath": finding.path_text, "source": finding.source,
                                 "undecided": finding.undecided}}
        if finding.suppressed:
            result["suppressions"] = [{"kind": "inSource", "justification": finding.suppression_reason}]
        results.append(result)
    sarif = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "cmk-validate", "version": __version__,
                                "informationUri": "https://docs.aws.amazon.com/kms/latest/developerguide/keystore-cloudhsm.html",
                                "rules": rules}},
            "originalUriBaseIds": _base_ids(sources, assembly_dir),
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _rules(report: Report, findings: list[Finding]) -> list[dict]:
    from cmk_validate.rules_doc import rule_url

    rules = []
    for rule in report.rules_run:
        url = rule_url(rule, report.rules_doc_url)
        severity = rule.severity()
        rules.append(_rule(rule.id, rule.__name__, rule.title, rule.rationale, severity,
                           text=f"{rule.rationale}\n\nFix: {rule.fix}\n\nReference: {rule.source_url}",
                           markdown=(f"**Why.** {rule.rationale}\n\n**Fix.** {rule.fix}\n\n"
                                     f"[Rule documentation]({url}) · [AWS reference]({rule.source_url})"),
                           help_uri=url, tags=["security", "cloudformation", *rule.tags]))
    known = {rule["id"] for rule in rules}
    for finding in findings:   # cfn-lint's, described by its own rule classes
        if finding.rule_id in known:
            continue
        known.add(finding.rule_id)
        about = report.external_rules.get(finding.rule_id) or {
            "title": finding.title or finding.rule_id, "description": "", "help_uri": finding.help_uri, "tags": []}
        description = about["description"] or about["title"]
        link = about["help_uri"] if about["help_uri"].startswith("http") else CFN_LINT_RULES_URL
        # cfn-lint checks template correctness: tagged so, not "security", which GitHub keeps for
        # security alerts; the severity number follows the same scale as the project's rules.
        rules.append(_rule(finding.rule_id, f"cfn-lint {finding.rule_id}", about["title"], description,
                           finding.severity, text=f"{description}\n\nSee {link}",
                           markdown=f"{description}\n\n[cfn-lint rule {finding.rule_id}]({link}) · "
                                    f"[cfn-lint rules]({CFN_LINT_RULES_URL})",
                           help_uri=link, tags=["cfn-lint", "correctness", *about["tags"]]))
    return rules


def _rule(rule_id: str, name: str, title: str, description: str, severity: Severity, *, text: str,
          markdown: str, help_uri: str, tags: list[str]) -> dict:
    return {"id": rule_id, "name": name, "shortDescription": {"text": title},
            "fullDescription": {"text": description}, "help": {"text": text, "markdown": markdown},
            "helpUri": help_uri, "defaultConfiguration": {"level": LEVEL[severity]},
            "properties": {"tags": list(dict.fromkeys(tags)), "security-severity": SECURITY_SEVERITY[severity]}}


def _location(finding: Finding, report: Report, sources: SourceMap, assembly_dir: str) -> dict:
    construct = sources.construct_path(finding.stack, finding.resource)
    logical = {"name": finding.resource or finding.stack, "kind": "resource",
               "fullyQualifiedName": construct or f"{finding.stack}/{finding.path_text}"}
    source = sources.source(finding.stack, finding.resource)
    if source is not None:
        file_name, line = source
        physical = {"artifactLocation": {"uri": file_name, "uriBaseId": SRCROOT},
                    "region": {"startLine": line, "endLine": line}}
    else:
        template = finding.template_file
        uri = os.path.relpath(os.path.realpath(template), assembly_dir) if template else finding.stack
        physical = {"artifactLocation": {"uri": pathlib.PurePath(uri).as_posix(), "uriBaseId": ASSEMBLY}}
        if finding.line:
            physical["region"] = {"startLine": finding.line,
                                  "endLine": max(finding.line, _end_line(finding, report) or finding.line)}
            if finding.column:
                physical["region"]["startColumn"] = finding.column
    return {"physicalLocation": physical, "logicalLocations": [logical]}


def _end_line(finding: Finding, report: Report) -> int | None:
    """Where the flagged part ends: cfn-lint's own end line, else the end of the resource's block."""
    if finding.end_line:
        return finding.end_line
    stack = report.assembly.stack(finding.stack) if report.assembly is not None else None
    if stack is None or not finding.resource:
        return None
    try:
        return stack.resource_end_line(finding.resource)
    except OSError:
        return None


def _base_ids(sources: SourceMap, assembly_dir: str) -> dict:
    bases = {}
    if sources.root:
        bases[SRCROOT] = {"uri": pathlib.Path(sources.root).as_uri().rstrip("/") + "/",
                          "description": {"text": "The repository root."}}
    inside = sources.relative_to_root(assembly_dir)
    if inside is not None:
        bases[ASSEMBLY] = {"uri": "./" if inside == "." else inside + "/", "uriBaseId": SRCROOT}
    else:
        bases[ASSEMBLY] = {"uri": pathlib.Path(assembly_dir).as_uri().rstrip("/") + "/"}
    bases[ASSEMBLY]["description"] = {"text": "The cloud assembly (cdk.out) or the template's directory."}
    return bases


def _fingerprints(findings: list[Finding]) -> list[str]:
    """A hash of what a finding is about (rule, stack, template path: logical id and property path), with
    the occurrence number among the same in this run (findings are sorted); lines never count."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        digest = hashlib.sha256("\0".join((finding.rule_id, finding.stack, finding.path_text)).encode()).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        out.append(f"{digest[:32]}:{seen[digest]}")
    return out
