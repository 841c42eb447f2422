"""Custom::CloudHsmFirstHsm: the one HSM an uninitialised cluster may have, and its CSR.

Properties: ClusterId, AvailabilityZone.
Attributes: HsmId, AvailabilityZone, EniId, EniIp, ClusterCsr (PEM).
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.lifecycle_provider import LifecycleProvider, ProviderContract

RUNTIME = Path(__file__).with_name("runtime")
# The Provider's timing (lifecycle_provider.ProviderContract): the template and the handler's budget.
CONTRACT = ProviderContract(total_timeout=Duration.minutes(45), query_interval=Duration.seconds(30))


def hsm_statements(cluster_arn: str) -> list[iam.PolicyStatement]:
    """What creating and deleting an HSM in a cluster takes (CloudHSM calls EC2 as the caller)."""
    return [
        # The handler's own calls on the cluster: HSMs, and the ownership claims it tags the cluster with.
        iam.PolicyStatement(actions=["cloudhsm:CreateHsm", "cloudhsm:DeleteHsm", "cloudhsm:TagResource",
                                     "cloudhsm:UntagResource", "cloudhsm:ListTags"], resources=[cluster_arn]),
        # DescribeClusters has no resource-level permissions.
        iam.PolicyStatement(actions=["cloudhsm:DescribeClusters"], resources=["*"]),
        # Not called by the handler: CloudHSM authorises CreateHsm and DeleteHsm against these EC2
        # actions of the caller too (Service Authorization Reference, list_cloudhsm, "API operations
        # defined by AWS CloudHSM"); they take no resource scoping there.
        iam.PolicyStatement(actions=list(HSM_DEPENDENT_EC2_ACTIONS), resources=["*"]),
    ]


# CreateHsm's dependent actions (DeleteHsm's, ec2:DeleteNetworkInterface, is among them).
HSM_DEPENDENT_EC2_ACTIONS = (
    "ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress", "ec2:CreateNetworkInterface",
    "ec2:CreateSecurityGroup", "ec2:DeleteNetworkInterface", "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:RevokeSecurityGroupEgress",
)


class FirstHsm(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_id: str,
        cluster_arn: str,
        availability_zone: str,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=hsm_statements(cluster_arn),
            log_key=log_key,
            log_retention_days=log_retention_days,
            contract=CONTRACT,
        )
        self.resource = CustomResource(
            self, "Resource",
            service_token=provider.service_token,
            resource_type="Custom::CloudHsmFirstHsm",
            properties={"ClusterId": cluster_id, "AvailabilityZone": availability_zone},
        )
        self.hsm_id = self.resource.get_att_string("HsmId")
        self.eni_ip = self.resource.get_att_string("EniIp")
        self.csr = self.resource.get_att_string("ClusterCsr")
