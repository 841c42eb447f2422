"""Custom::CloudHsmClusterAuditLog: the cluster's audit log group, adopted rather than declared.

CloudHSM creates /aws/cloudhsm/<cluster id> itself (CloudHSM User Guide, "Viewing HSM audit logs in
CloudWatch Logs") and the guide does not say when: an AWS::Logs::LogGroup of that name fails with
"already exists" whenever CloudHSM made it first. This resource creates the group if it is not there
yet, or adopts CloudHSM's, and gives it the audit key and the configured retention either way.

Properties: LogGroupName, KmsKeyId (ARN), RetentionInDays. Physical id: the group's name.
Delete leaves the group: it is audit evidence, kept for its retention like the app's other audit logs.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import ArnFormat, CustomResource, Fn, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.lifecycle_provider import LifecycleProvider

RUNTIME = Path(__file__).with_name("runtime")


def log_group_name(cluster_id: str) -> str:
    """The name CloudHSM gives a cluster's audit log group."""
    return Fn.join("", ["/aws/cloudhsm/", cluster_id])


def log_group_statements(scope: Construct, name: str) -> list[iam.PolicyStatement]:
    """The calls the handler makes, on this one group only. The log-group ARN is written with and without
    the ':*' suffix CloudWatch Logs itself reports for a group (DescribeLogGroups' arn), so the grant holds
    whichever form IAM is asked about, and names no other group."""
    stack = Stack.of(scope)
    arn = stack.format_arn(service="logs", resource="log-group", resource_name=name,
                           arn_format=ArnFormat.COLON_RESOURCE_NAME)
    return [iam.PolicyStatement(actions=["logs:CreateLogGroup", "logs:AssociateKmsKey", "logs:PutRetentionPolicy"],
                                resources=[arn, f"{arn}:*"])]


class ClusterAuditLog(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_id: str,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        """`log_key` and `log_retention_days` are the app's for every log: the audit group's and the handler's."""
        super().__init__(scope, construct_id)
        self.log_group_name = log_group_name(cluster_id)
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=log_group_statements(self, self.log_group_name),
            log_key=log_key,
            log_retention_days=log_retention_days,
        )
        self.resource = CustomResource(
            self, "Resource",
            service_token=provider.service_token,
            resource_type="Custom::CloudHsmClusterAuditLog",
            properties={"LogGroupName": self.log_group_name, "KmsKeyId": log_key.key_arn,
                        "RetentionInDays": log_retention_days},
        )
