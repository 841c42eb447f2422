"""Acknowledge cdk-nag findings with the reason a reviewer reads in the validation report."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

NAG_PACK = "AwsSolutions"
MINIMUM_REASON_LENGTH = 20


def acknowledge(construct: IConstruct, rule: str, reason: str, *, findings: Sequence[str] = ()) -> None:
    """Acknowledge `rule` on `construct` and its children: a cdk-nag rule ("AwsSolutions-IAM5")
    or any plugin's fully qualified id ("CloudFormation-Validate::W3010").

    `findings` narrows it to granular findings such as "Resource::*"; an
    acknowledgement applies only to what it names, so a new wildcard still fails synth.
    """
    if len(reason) < MINIMUM_REASON_LENGTH:
        raise ValueError(f"acknowledgement of {rule} needs a real reason, got {reason!r}")
    qualified = rule if "::" in rule else f"{NAG_PACK}::{rule}"
    ids = [f"{qualified}[{finding}]" for finding in findings] or [qualified]
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in ids))
