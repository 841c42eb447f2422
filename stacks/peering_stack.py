"""Peering stack (only with `hsmPeering`): application VPCs that use the HSMs over VPC peering, and the
demo application VPC the `reference` environment builds to show the pattern end to end.

A stack of its own, after the Network stack: its routes go into the HSM VPC's route tables, and the
Hsm stack (the cluster's ingress from each application's client group) and the Data stack (each
application VPC's gateway endpoint in the bucket policy) read what it makes.
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.application_vpc.infrastructure import DemoApplicationVpc
from cmk_constructs.hsm_peering.infrastructure import ApplicationVpc, HsmPeering
from stacks.config import AppConfig


class PeeringStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, hsm_vpc: ec2.IVpc,
                 log_key: kms.IKey, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        settings = config.hsm_peering
        if settings is None:
            raise ValueError("PeeringStack needs the hsmPeering setting")
        applications = [ApplicationVpc(name=vpc.name, vpc_id=vpc.vpc_id, subnet_cidrs=(vpc.cidr,),
                                       route_table_ids=vpc.route_table_ids,
                                       client_security_group_id=vpc.client_security_group_id,
                                       reads_data_bucket=vpc.reads_data_bucket) for vpc in settings.vpcs]
        self.demo_application = None
        if settings.demo_vpc_cidr:
            self.demo_application = DemoApplicationVpc(
                self, "DemoApplication",
                cidr=settings.demo_vpc_cidr,
                availability_zones=config.availability_zones,
                flow_log_key=log_key,
                log_retention_days=config.log_retention_days,
            )
            subnets = self.demo_application.vpc.isolated_subnets
            applications.insert(0, ApplicationVpc(
                name="demo", vpc_id=self.demo_application.vpc.vpc_id,
                subnet_cidrs=tuple(subnet.ipv4_cidr_block for subnet in subnets),
                route_table_ids=tuple(subnet.route_table.route_table_id for subnet in subnets),
                client_security_group_id=self.demo_application.client_security_group.security_group_id,
                reads_data_bucket=True, manages_client_egress=True))
            CfnOutput(self, "DemoApplicationVpcId", value=self.demo_application.vpc.vpc_id)
            CfnOutput(self, "DemoApplicationClientSecurityGroupId",
                      value=self.demo_application.client_security_group.security_group_id)
        self.peering = HsmPeering(
            self, "HsmPeering",
            hsm_vpc=hsm_vpc,
            hsm_subnets=hsm_vpc.isolated_subnets,
            applications=applications,
            account=config.account,
            data_bucket_names=[config.bucket_name("data")],
        )
        self.applications = self.peering.applications
        self.endpoint_ids = [app.endpoint_id for app in self.applications if app.endpoint_id]
