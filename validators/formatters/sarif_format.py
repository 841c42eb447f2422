"""SARIF 2.1.0 for code-scanning viewers; suppressed findings carry a `suppressions` entry."""

from __future__ import annotations

import json
import os

from validators import __version__
from validators.findings import Report, Severity

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render(report: Report, min_severity: Severity) -> str:
    findings = report.shown(min_severity)
    rules, index = [], {}
    for rule in report.rules_run:
        index[rule.id] = len(rules)
        rules.append({"id": rule.id, "name": rule.__name__, "shortDescription": {"text": rule.title},
                      "fullDescription": {"text": rule.rationale}, "help": {"text": rule.fix},
                      "helpUri": rule.source_url,
                      "defaultConfiguration": {"level": LEVEL[rule.severity()]}})
    for finding in findings:
        if finding.rule_id not in index:
            index[finding.rule_id] = len(rules)
            rules.append({"id": finding.rule_id, "shortDescription": {"text": finding.title or finding.rule_id},
                          **({"helpUri": finding.help_uri} if finding.help_uri.startswith("http") else {})})
    base = os.path.abspath(report.input_path or ".")
    results = []
    for finding in findings:
        region = {"startLine": finding.line} if finding.line else {}
        if finding.line and finding.column:
            region["startColumn"] = finding.column
        uri = os.path.relpath(finding.template_file, base) if finding.template_file else finding.stack
        location = {"physicalLocation": {"artifactLocation": {"uri": uri.replace(os.sep, "/"),
                                                              "uriBaseId": "ASSEMBLY"}},
                    "logicalLocations": [{"name": finding.resource or finding.stack,
                                          "fullyQualifiedName": f"{finding.stack}/{finding.path_text}",
                                          "kind": "resource"}]}
        if region:
            location["physicalLocation"]["region"] = region
        result = {"ruleId": finding.rule_id, "ruleIndex": index[finding.rule_id], "level": LEVEL[finding.severity],
                  "message": {"text": finding.message + (f" Fix: {finding.fix}" if finding.fix else "")},
                  "locations": [location],
                  "properties": {"stack": finding.stack, "templatePath": finding.path_text, "source": finding.source,
                                 "undecided": finding.undecided}}
        if finding.suppressed:
            result["suppressions"] = [{"kind": "inSource", "justification": finding.suppression_reason}]
        results.append(result)
    sarif = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "validators", "version": __version__,
                                "informationUri": "https://docs.aws.amazon.com/kms/latest/developerguide/keystore-cloudhsm.html",
                                "rules": rules}},
            "originalUriBaseIds": {"ASSEMBLY": {"uri": "file://" + base.replace(os.sep, "/").rstrip("/") + "/"}},
            "results": results,
        }],
    }
    return json.dumps(sarif, indent=2) + "\n"
