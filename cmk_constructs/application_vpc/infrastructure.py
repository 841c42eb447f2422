"""A demo application VPC that uses the HSMs over VPC peering (the `reference` environment's example).

It stands for a team's own VPC: isolated subnets (no internet gateway, no NAT), flow logs, and the
security group its HSM clients run in. It holds no compute: the pattern is what is shown, and the
rehearsal evaluates a client in its subnets with that group. cmk_constructs.hsm_peering peers it
with the HSM VPC and gives it its own S3 gateway endpoint.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.log_groups import audit_log_group


class DemoApplicationVpc(Construct):
    """VPC of `cidr` split into one isolated subnet per AZ, and the HSM client security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        flow_log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            subnet_configuration=[ec2.SubnetConfiguration(name="Application", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
            restrict_default_security_group=True,
        )
        self.flow_log_group = audit_log_group(self, "FlowLogs", key=flow_log_key, retention_days=log_retention_days)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        # No outbound rule of its own: the HSM stack adds the one to the HSMs' group (2223-2225).
        self.client_security_group = ec2.SecurityGroup(
            self, "HsmClients",
            vpc=self.vpc,
            description="Application hosts that use the HSMs over VPC peering",
            allow_all_outbound=False,
        )
        self.subnets = self.vpc.isolated_subnets
