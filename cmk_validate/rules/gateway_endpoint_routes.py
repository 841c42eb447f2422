"""CKE105: the S3 gateway endpoint serves every route table of the HSM and client subnets, and of the
subnets of each peered application VPC that has its own gateway endpoint (its policy is CKE115's).

A gateway endpoint serves only the route tables it is associated with, and never across a peering
(Amazon VPC User Guide, "Gateway endpoints"): a subnet of an application VPC whose table it misses
reaches S3 without aws:sourceVpce, or not at all."""

from __future__ import annotations

from cmk_validate.architecture import as_list
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule


class GatewayEndpointRoutes(Rule):
    id = "CKE105"
    title = "S3 gateway endpoint on every route table of HSM and client subnets"
    rationale = ("Without the endpoint's route, S3 traffic from the isolated subnets has no path (or a path "
                 "that does not carry aws:sourceVpce), so the data bucket is unreachable or the pinning is "
                 "moot.")
    fix = "List every route table of the HSM and client subnets in the endpoint's RouteTableIds."
    source_url = "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-s3.html"
    tags = ("network", "s3")

    def check(self, ctx):
        facts = ctx.facts
        if not facts.gateway_endpoints:
            if facts.clusters or facts.data_buckets:
                stack = ctx.stacks[0]
                yield self.finding(stack, ("Resources",), "the assembly has no S3 gateway endpoint")
            return
        served: set[str] = set()
        for stack, lid, _, props in facts.gateway_endpoints:
            tables = props.get("RouteTableIds")
            for table in as_list(tables):
                if isinstance(table, str):
                    served.add(table)
        subnets = [(s, st, lid, ("Properties", "SubnetIds", i)) for s, st, lid, i in facts.hsm_subnets]
        subnets += facts.client_subnets + facts.kms_mode_subnets + self._peered_application_subnets(facts)
        seen = set()
        for subnet, stack, lid, path in subnets:
            full_path = ("Resources", lid) + tuple(path)
            if isinstance(subnet, Unresolved):
                yield self.cannot_prove(stack, full_path, subnet.reason)
                continue
            if not isinstance(subnet, str) or subnet in seen:
                continue
            seen.add(subnet)
            tables = facts.route_tables_of_subnet.get(subnet)
            if not tables:
                if subnet in facts.subnets:
                    yield self.cannot_prove(stack, full_path, f"subnet {subnet} has no route table association "
                                            "in the assembly (it uses the VPC's main route table)")
                else:
                    yield self.cannot_prove(stack, full_path, f"subnet {subnet} is not defined in this assembly")
                continue
            for table in tables:
                if table not in served:
                    yield self.finding(stack, full_path, f"route table {table} of subnet {subnet} (used by "
                                       f"{lid}) is not served by the S3 gateway endpoint")

    @staticmethod
    def _peered_application_subnets(facts) -> list[tuple]:
        """Subnets of VPCs peered with the HSM VPC that hold an S3 gateway endpoint of their own."""
        peers = {facts.peer_of_cluster_vpc(props) for _, _, props in facts.peering_connections.values()}
        with_endpoint = {props.get("VpcId") for _, _, _, props in facts.gateway_endpoints} & peers
        return [(token, stack, lid, ()) for token, (stack, lid, props) in facts.subnets.items()
                if props.get("VpcId") in with_endpoint]
