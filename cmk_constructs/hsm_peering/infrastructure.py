"""Application VPCs use the HSMs over VPC peering: one peering connection per application VPC, routes
that reach only the HSM subnets from the application subnets and only the application subnets from
the HSM subnets, and an S3 gateway endpoint in each application VPC that reads the data bucket.

- Routes: a peering connection carries only what the route tables send to it, and it is not
  transitive (Amazon VPC Peering Guide, "Update your route tables for a VPC peering connection",
  https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-routing.html, and "VPC peering
  limitations": no transit through a peered VPC to a gateway, an endpoint or another peering). So the
  routes name the HSM subnets' CIDRs and the application subnets' CIDRs, never a wider range.
- Who may reach the HSMs is decided by security groups: the cluster's group admits the application
  VPC's client group by reference, which EC2 allows across a peering connection in the same Region
  ("Update your security groups to reference peer security groups",
  https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html); the HSM stack adds
  that rule (cmk_constructs.hsm_cluster.HsmCluster.allow_peered_client).
- S3: "Endpoint connections cannot be extended out of a VPC. Resources on the other side of a VPC
  peering connection ... cannot use the endpoint" (Amazon VPC User Guide, "Gateway endpoints",
  https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html), so each application VPC
  that reads the data bucket gets its own gateway endpoint, which the bucket policy lists.

Same account and Region only: CloudFormation accepts such a peering itself. Another account needs
PeerOwnerId and PeerRoleArn (a role in the accepter account; see the README).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from cmk_constructs.s3_gateway_endpoint.infrastructure import data_buckets_statement


@dataclass(frozen=True)
class ApplicationVpc:
    """An application VPC as the peering needs it: ids and ranges, no lookups."""
    name: str
    vpc_id: str
    subnet_cidrs: tuple[str, ...]
    route_table_ids: tuple[str, ...]
    client_security_group_id: str
    reads_data_bucket: bool
    # Only for a VPC this app creates: its hosts' egress to the HSMs is this app's to declare.
    manages_client_egress: bool = False


@dataclass(frozen=True)
class PeeredApplication:
    """What the other stacks need of one peered application VPC."""
    name: str
    peering_connection: ec2.CfnVPCPeeringConnection
    client_security_group_id: str
    manages_client_egress: bool
    endpoint_id: str | None


class HsmPeering(Construct):
    """Peers each application VPC with the HSM VPC, routes both ways, and its S3 gateway endpoint."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        hsm_vpc: ec2.IVpc,
        hsm_subnets: Sequence[ec2.ISubnet],
        applications: Sequence[ApplicationVpc],
        account: str,
        data_bucket_names: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.applications: list[PeeredApplication] = []
        for application in applications:
            self.applications.append(self._peer(hsm_vpc, hsm_subnets, application, account, data_bucket_names))

    def _peer(self, hsm_vpc: ec2.IVpc, hsm_subnets: Sequence[ec2.ISubnet], application: ApplicationVpc,
              account: str, data_bucket_names: Sequence[str]) -> PeeredApplication:
        scope = Construct(self, application.name)
        peering = ec2.CfnVPCPeeringConnection(scope, "Peering", vpc_id=hsm_vpc.vpc_id, peer_vpc_id=application.vpc_id)
        for index, subnet in enumerate(hsm_subnets):
            for number, cidr in enumerate(application.subnet_cidrs):
                ec2.CfnRoute(scope, f"FromHsmSubnet{index}ToApplication{number}",
                             route_table_id=subnet.route_table.route_table_id,
                             destination_cidr_block=cidr, vpc_peering_connection_id=peering.ref)
        for index, table in enumerate(application.route_table_ids):
            for number, subnet in enumerate(hsm_subnets):
                ec2.CfnRoute(scope, f"FromApplication{index}ToHsmSubnet{number}",
                             route_table_id=table, destination_cidr_block=subnet.ipv4_cidr_block,
                             vpc_peering_connection_id=peering.ref)
        endpoint_id = None
        if application.reads_data_bucket:
            endpoint = ec2.CfnVPCEndpoint(
                scope, "S3Gateway",
                vpc_id=application.vpc_id,
                service_name=f"com.amazonaws.{hsm_vpc.stack.region}.s3",
                vpc_endpoint_type="Gateway",
                route_table_ids=list(application.route_table_ids),
                policy_document=iam.PolicyDocument(
                    statements=[data_buckets_statement(account, data_bucket_names)]).to_json(),
            )
            endpoint_id = endpoint.ref
        return PeeredApplication(application.name, peering, application.client_security_group_id,
                                 application.manages_client_egress, endpoint_id)
