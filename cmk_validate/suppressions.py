"""Acknowledgements: one rule, waived on one scope, with a reason of at least 10 characters.

One format, `ArchitectureInvariants::<rule id>` + reason, in two carriers:
- a CDK app: `cmk_validate.acknowledge(construct, "CKE104", reason)`, which is CDK's own
  `Validations.of(construct).acknowledge(Acknowledgment(id="ArchitectureInvariants::CKE104", ...))`, as
  the synth message suggests. CDK honours it at synth; the command line reads it from the cloud
  assembly's construct metadata. It covers the construct and everything under it.
- a template written by hand: resource metadata
      "Metadata": {"ArchitectureInvariants": {"acknowledge": [{"id": "CKE104", "reason": "..."}]}}
  honoured by the command line and by the synth-time plugin.
A suppressed finding stays in JSON and SARIF output, marked, so a reviewer sees what was waived and why.
"""

from __future__ import annotations

from typing import Any

METADATA_KEY = "ArchitectureInvariants"
MIN_REASON = 10


def acknowledgements(resource: Any) -> list[dict]:
    """The raw entries of one resource (may include malformed ones; CKE100 reports those)."""
    if not isinstance(resource, dict):
        return []
    metadata = resource.get("Metadata")
    block = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    entries = block.get("acknowledge") if isinstance(block, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def valid_reason(entry: dict) -> bool:
    return is_reason(entry.get("reason"))


def is_reason(reason: Any) -> bool:
    return isinstance(reason, str) and len(reason.strip()) >= MIN_REASON


def cdk_acknowledgements(stack) -> list[tuple[str, str, str]]:
    """(scope path, rule id, reason) of this plugin's CDK acknowledgements on the stack."""
    prefix = METADATA_KEY + "::"
    return [(scope, rule[len(prefix):], reason) for scope, rule, reason in stack.cdk_acknowledgements
            if rule.startswith(prefix)]


def apply(findings: list, assembly) -> None:
    """Mark findings acknowledged (with a valid reason) on their resource, or on a scope above it, as suppressed."""
    for finding in findings:
        if finding.rule_id == "CKE100":
            continue
        stack = assembly.stack(finding.stack)
        if stack is None:
            continue
        for entry in acknowledgements(stack.resources.get(finding.resource)) if finding.resource else []:
            if str(entry.get("id", "")).upper() == finding.rule_id.upper() and valid_reason(entry):
                _suppress(finding, entry["reason"], "template metadata")
                break
        else:
            path = _construct_path(stack, finding.resource)
            for scope, rule_id, reason in cdk_acknowledgements(stack):
                if rule_id.upper() == finding.rule_id.upper() and is_reason(reason) and path is not None and \
                        (scope in ("/", path) or path.startswith(scope.rstrip("/") + "/")):
                    _suppress(finding, reason, "CDK")
                    break


def _suppress(finding, reason: str, carrier: str) -> None:
    finding.suppressed = True
    finding.suppression_reason = reason.strip()
    finding.suppressed_by = carrier


def _construct_path(stack, logical_id: str) -> str | None:
    """The construct path of a resource, or of the stack itself for a stack-wide finding."""
    if not logical_id:
        return "/" + stack.name if stack.name_is_deployed else None
    path = stack.construct_paths.get(logical_id)
    if path is None:
        resource = stack.resources.get(logical_id)
        metadata = resource.get("Metadata") if isinstance(resource, dict) else None
        cdk_path = metadata.get("aws:cdk:path") if isinstance(metadata, dict) else None
        path = "/" + cdk_path if isinstance(cdk_path, str) else None
    return path


def acknowledge(construct: Any, rule_id: str, reason: str) -> None:
    """Acknowledge `rule_id` on `construct` and everything under it, through CDK's own
    `Validations.of(construct).acknowledge`, so that CDK's validation report lists the waiver with its
    reason and place, and the command line honours it on the same cloud assembly.

    Raises ValueError without a real reason: an unexplained waiver is worse than a finding.
    """
    if not is_reason(reason):
        raise ValueError(f"acknowledge({rule_id}): give a reason of at least {MIN_REASON} characters")
    import aws_cdk as cdk

    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=f"{METADATA_KEY}::{rule_id}",
                                                                 reason=reason.strip()))
