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

from cmk_constructs.isolated_network.infrastructure import IsolatedNetwork


class DemoApplicationVpc(IsolatedNetwork):
    """The isolated network (one /24 subnet per AZ, flow logs; no interface endpoints: nothing in it calls
    AWS APIs), plus the HSM client security group."""

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
        super().__init__(scope, construct_id, cidr=cidr, availability_zones=availability_zones,
                         flow_log_key=flow_log_key, log_retention_days=log_retention_days,
                         with_interface_endpoints=False, subnet_name="Application")
        # No outbound rule of its own: the HSM stack adds the one to the HSMs' group (2223-2225).
        self.client_security_group = ec2.SecurityGroup(
            self, "HsmClients",
            vpc=self.vpc,
            description="Application hosts that use the HSMs over VPC peering",
            allow_all_outbound=False,
        )
