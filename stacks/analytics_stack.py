"""Analytics stack (only where `analytics` is set): the Redshift warehouse over the data bucket.

Its own stack so that environments without a warehouse synthesise exactly the stacks they had."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.analytics_warehouse.infrastructure import AnalyticsWarehouse
from stacks.config import AppConfig


class AnalyticsStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        key_arn: str,
        app_key: kms.IKey,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        analytics = config.analytics
        assert analytics is not None, "the analytics stack needs the 'analytics' setting"
        self.warehouse = AnalyticsWarehouse(
            self, "Warehouse",
            cluster_identifier=f"{config.name}-warehouse",
            vpc=vpc,
            vpc_cidr=config.vpc_cidr,
            subnets=subnets,
            key_arn=key_arn,
            secret_key=app_key,
            log_key=app_key,
            log_retention_days=config.log_retention_days,
            bucket_name=config.bucket_name("data"),
            data_prefix=analytics.data_prefix,
            region=config.region,
            node_type=analytics.node_type,
            number_of_nodes=analytics.number_of_nodes,
            database_name=analytics.database_name,
        )
        CfnOutput(self, "WarehouseClusterId", value=self.warehouse.cluster.ref)
        CfnOutput(self, "WarehouseLoadingRoleArn", value=self.warehouse.role.role_arn)
