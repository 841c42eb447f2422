"""Network stack: isolated VPC, interface endpoints and the S3 gateway endpoint."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.cluster_placement_guard.infrastructure import ClusterPlacementGuard
from cmk_constructs.isolated_network.infrastructure import IsolatedNetwork
from cmk_constructs.s3_gateway_endpoint.infrastructure import S3GatewayEndpoint
from stacks.config import AppConfig


class NetworkStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, log_key: kms.IKey, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.network = IsolatedNetwork(
            self, "Network",
            cidr=config.vpc_cidr,
            availability_zones=config.availability_zones,
            flow_log_key=log_key,
            log_retention_days=config.log_retention_days,
            with_interface_endpoints=config.uses_cloudhsm,
            keep_vpc=config.uses_cloudhsm,
        )
        self.gateway = S3GatewayEndpoint(
            self, "S3Gateway",
            vpc=self.network.vpc,
            subnets=self.network.subnets,
            account=config.account,
            region=config.region,
            data_bucket_names=[config.bucket_name("data")],
            read_only_object_arns=[config.client_package.object_arn],
        )
        if config.uses_cloudhsm:
            # Before anything else here: a change that would replace the cluster is refused first.
            guard = ClusterPlacementGuard(
                self, "ClusterPlacementGuard",
                availability_zones=config.availability_zones,
                vpc_cidr=config.vpc_cidr,
                hsm_type=config.hsm_type,
                log_key=log_key,
                log_retention_days=config.log_retention_days,
            )
            guard.comes_before(self.network, self.gateway)
        CfnOutput(self, "VpcId", value=self.network.vpc.vpc_id)
        CfnOutput(self, "S3GatewayEndpointId", value=self.gateway.endpoint_id)
