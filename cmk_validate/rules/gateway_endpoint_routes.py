"""CKE105: the S3 gateway endpoint serves every route table of the HSM and client subnets (its policy is CKE115's)."""

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
        subnets += facts.client_subnets + facts.kms_mode_subnets
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
