"""A VPC with isolated subnets only: no internet gateway, no NAT, AWS APIs through endpoints.

Keys and data never need the internet, so nothing here can route to it; the
client host and the handlers reach AWS through interface endpoints, S3 through
the gateway endpoint (see s3_gateway_endpoint).
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.log_groups import audit_log_group
from cmk_constructs.retention import KEEP

# What the SSM-managed client host and cloudhsm-cli need, and nothing more:
# SSM + SSM messages + EC2 messages for Session Manager and Run Command,
# KMS and Secrets Manager for the passwords it reads during activation,
# CloudWatch Logs for Run Command output.
INTERFACE_ENDPOINT_SERVICES = {
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
    "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
}


class IsolatedNetwork(Construct):
    """VPC with one isolated /24 subnet per configured AZ, flow logs and interface endpoints."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        flow_log_key: kms.IKey,
        log_retention_days: int,
        with_interface_endpoints: bool = True,
        keep_vpc: bool = False,
        subnet_name: str = "Isolated",
    ) -> None:
        """`with_interface_endpoints`: the CloudHSM client host needs them; kms mode has no host and
        saves their hourly cost (S3 itself calls KMS for SSE-KMS, not the workload).

        `keep_vpc`: the VPC outlives the stack, for a kept CloudHSM cluster: CloudHSM's own security
        group for the cluster lives in the VPC as long as the cluster, and EC2 refuses to delete a VPC
        that still has a security group (its subnets, endpoints and route tables are deleted).

        `subnet_name`: the subnet group's name (in the subnets' logical ids and Name tags)."""
        super().__init__(scope, construct_id)
        if len(availability_zones) < 2:
            raise ValueError("IsolatedNetwork needs at least 2 availability zones")
        self.vpc = ec2.Vpc(
            self, "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            availability_zones=list(availability_zones),
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name=subnet_name, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
            ],
            restrict_default_security_group=True,
        )
        if keep_vpc:
            self.vpc.apply_removal_policy(KEEP)
        self.subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

        self.flow_log_group = audit_log_group(self, "FlowLogs", key=flow_log_key, retention_days=log_retention_days)
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.flow_log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if with_interface_endpoints:
            self._add_interface_endpoints(cidr)

    def _add_interface_endpoints(self, cidr: str) -> None:
        self.endpoint_security_group = ec2.SecurityGroup(
            self, "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from inside the VPC only",
            allow_all_outbound=False,
        )
        self.endpoint_security_group.add_ingress_rule(
            ec2.Peer.ipv4(cidr), ec2.Port.tcp(443), "HTTPS to AWS APIs from the VPC")
        self.interface_endpoints = {
            name: self.vpc.add_interface_endpoint(
                f"{name}Endpoint",
                service=service,
                subnets=self.subnets,
                private_dns_enabled=True,
                security_groups=[self.endpoint_security_group],
                open=False,
            )
            for name, service in INTERFACE_ENDPOINT_SERVICES.items()
        }
