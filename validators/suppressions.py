"""Per-resource acknowledgements kept in template metadata, each with a mandatory reason.

    "Metadata": {"ArchitectureInvariants": {"acknowledge": [{"id": "CKE104", "reason": "..."}]}}

Written from CDK by `validators.acknowledge(construct, rule_id, reason)`. A suppressed finding
stays in JSON and SARIF output, marked suppressed, so a reviewer sees what was waived and why.
"""

from __future__ import annotations

from typing import Any

METADATA_KEY = "ArchitectureInvariants"


def acknowledgements(resource: Any) -> list[dict]:
    """The raw entries of one resource (may include malformed ones; CKE100 reports those)."""
    if not isinstance(resource, dict):
        return []
    metadata = resource.get("Metadata")
    block = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    entries = block.get("acknowledge") if isinstance(block, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def valid_reason(entry: dict) -> bool:
    reason = entry.get("reason")
    return isinstance(reason, str) and len(reason.strip()) >= 10


def apply(findings: list, assembly) -> None:
    """Mark findings acknowledged (with a valid reason) on their resource as suppressed."""
    for finding in findings:
        if not finding.resource or finding.rule_id == "CKE100":
            continue
        stack = assembly.stack(finding.stack)
        if stack is None:
            continue
        for entry in acknowledgements(stack.resources.get(finding.resource)):
            if str(entry.get("id", "")).upper() == finding.rule_id.upper() and valid_reason(entry):
                finding.suppressed = True
                finding.suppression_reason = entry["reason"].strip()
                break


def acknowledge(construct: Any, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` on the CloudFormation resource of `construct` (or its default child).

    Raises ValueError without a real reason: an unexplained waiver is worse than a finding.
    """
    if not isinstance(reason, str) or len(reason.strip()) < 10:
        raise ValueError(f"acknowledge({rule_id}): give a reason of at least 10 characters")
    import aws_cdk as cdk

    resource = construct if isinstance(construct, cdk.CfnResource) else construct.node.default_child
    if not isinstance(resource, cdk.CfnResource):
        raise ValueError(f"acknowledge({rule_id}): {construct.node.path} has no CloudFormation resource")
    existing = resource.get_metadata(METADATA_KEY) or {}
    entries = [e for e in existing.get("acknowledge", []) if e.get("id") != rule_id]
    entries.append({"id": rule_id, "reason": reason.strip()})
    resource.add_metadata(METADATA_KEY, {"acknowledge": entries})
