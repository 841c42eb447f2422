"""Every log group of the app: KMS-encrypted, with the configured retention.

Audit evidence (flow logs, the trail) is retained when a stack is deleted; the handlers'
operational logs go with their stack. The CloudHSM audit log group is CloudHSM's own, adopted
with the same key and retention by cmk_constructs.cluster_audit_log.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from cmk_constructs.retention import KEEP
from stacks.config import LOG_RETENTION_DAYS

# CDK lists the legal CloudWatch periods in the same order as CloudWatch does, INFINITE last.
_BY_DAYS = dict(zip(LOG_RETENTION_DAYS, [member for member in logs.RetentionDays if member.name != "INFINITE"]))


def retention(days: int) -> logs.RetentionDays:
    """The validated `logRetentionDays` setting as CDK's RetentionDays."""
    return _BY_DAYS[days]


def audit_log_group(scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int) -> logs.LogGroup:
    return logs.LogGroup(scope, construct_id, retention=retention(retention_days),
                         encryption_key=key, removal_policy=KEEP)


def operational_log_group(scope: Construct, construct_id: str, *, key: kms.IKey, retention_days: int) -> logs.LogGroup:
    return logs.LogGroup(scope, construct_id, retention=retention(retention_days),
                         encryption_key=key, removal_policy=RemovalPolicy.DESTROY)
