"""CKE100: every acknowledgement (template metadata or CDK's) names a rule and gives a reason."""

from __future__ import annotations

from cmk_validate.rules import Rule
from cmk_validate.suppressions import (
    METADATA_KEY,
    MIN_REASON,
    acknowledgements,
    cdk_acknowledgements,
    is_reason,
    valid_reason,
)


class AcknowledgementHasReason(Rule):
    id = "CKE100"
    title = "Acknowledgement without a reason"
    rationale = ("A waived invariant must say why, so the next reviewer can judge whether the reason still "
                 "holds; a waiver without one is ignored and reported as an error.")
    fix = (f"Give each entry of Metadata/{METADATA_KEY}/acknowledge an id and a reason of at least {MIN_REASON} "
           "characters (CDK: cmk_validate.acknowledge(construct, rule_id, reason)).")
    source_url = "https://github.com/cdklabs/cdk-nag#suppressing-a-rule"
    tags = ("meta",)

    def check(self, ctx):
        for stack in ctx.stacks:
            for lid, resource in stack.resources.items():
                for index, entry in enumerate(acknowledgements(resource)):
                    if entry.get("id") and valid_reason(entry):
                        continue
                    problem = _problem(entry)
                    yield self.finding(stack, ("Resources", lid, "Metadata", METADATA_KEY, "acknowledge", index),
                                       f"acknowledgement of {entry.get('id') or '(no rule id)'} on {lid} {problem}; "
                                       "it is ignored")
            for scope, rule_id, reason in cdk_acknowledgements(stack):
                if not is_reason(reason):
                    yield self.finding(stack, (), f"CDK acknowledgement of {METADATA_KEY}::{rule_id} on {scope} "
                                       f"{_reason_problem(reason)}; it is ignored here (CDK itself still honours it "
                                       "at synth)")


def _problem(entry: dict) -> str:
    """What exactly is wrong: no rule id, no reason, a reason that is not text, or one too short."""
    reason = entry.get("reason")
    if not entry.get("id"):
        return "names no rule (no id)" + ("" if valid_reason(entry) else " and " + _reason_problem(reason))
    return _reason_problem(reason)


def _reason_problem(reason) -> str:
    if reason is None or (isinstance(reason, str) and not reason.strip()):
        return "has no reason"
    if not isinstance(reason, str):
        return "has a reason that is not text"
    return f"has a reason too short to judge ({len(reason.strip())} characters, at least {MIN_REASON} needed)"
