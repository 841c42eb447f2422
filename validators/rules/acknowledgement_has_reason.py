"""CKE100: every acknowledgement in template metadata names a rule and gives a reason."""

from __future__ import annotations

from validators.rules import Rule
from validators.suppressions import METADATA_KEY, acknowledgements, valid_reason


class AcknowledgementHasReason(Rule):
    id = "CKE100"
    title = "Acknowledgement without a reason"
    rationale = ("A waived invariant must say why, so the next reviewer can judge whether the reason still "
                 "holds; a waiver without one is ignored and reported as an error.")
    fix = (f"Give each entry of Metadata/{METADATA_KEY}/acknowledge an id and a reason of at least 10 characters "
           "(CDK: validators.acknowledge(construct, rule_id, reason)).")
    source_url = "https://github.com/cdklabs/cdk-nag#suppressing-a-rule"
    tags = ("meta",)

    def check(self, ctx):
        for stack in ctx.stacks:
            for lid, resource in stack.resources.items():
                for index, entry in enumerate(acknowledgements(resource)):
                    if not entry.get("id") or not valid_reason(entry):
                        yield self.finding(stack, ("Resources", lid, "Metadata", METADATA_KEY, "acknowledge", index),
                                           f"acknowledgement of {entry.get('id') or '(no rule id)'} on {lid} has no "
                                           "reason; it is ignored")
