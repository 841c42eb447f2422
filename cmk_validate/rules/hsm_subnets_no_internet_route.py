"""CKE106: the HSM and client subnets have no route to an internet or NAT gateway."""

from __future__ import annotations

from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

EGRESS_TARGETS = {"GatewayId": "internet gateway", "NatGatewayId": "NAT gateway",
                  "EgressOnlyInternetGatewayId": "egress-only internet gateway"}


class HsmSubnetsNoInternetRoute(Rule):
    id = "CKE106"
    title = "HSM and client subnets have no route to the internet"
    rationale = ("The subnets holding the HSM ENIs and their clients are isolated by design: a route to an "
                 "internet or NAT gateway opens a path for exfiltration and for requests that bypass the S3 "
                 "gateway endpoint pinning.")
    fix = "Remove the AWS::EC2::Route (GatewayId igw-/NatGatewayId) from the route tables of these subnets."
    source_url = "https://docs.aws.amazon.com/cloudhsm/latest/userguide/cluster-network.html"
    tags = ("network", "cloudhsm")

    def check(self, ctx):
        facts = ctx.facts
        tables: dict[str, str] = {}
        for subnet, *_ in list(facts.hsm_subnets) + list(facts.client_subnets) + list(facts.kms_mode_subnets):
            if isinstance(subnet, str):
                for table in facts.route_tables_of_subnet.get(subnet, []):
                    tables[table] = subnet
        if not tables:
            return
        for stack, lid, _ in ctx.resources("AWS::EC2::Route"):
            props = ctx.props(stack, lid)
            table = props.get("RouteTableId")
            if isinstance(table, Unresolved):
                yield self.cannot_prove(stack, ("Resources", lid, "Properties", "RouteTableId"), table.reason)
                continue
            if table not in tables:
                continue
            for prop, label in EGRESS_TARGETS.items():
                target = props.get(prop)
                if target is None:
                    continue
                if prop == "GatewayId" and isinstance(target, Unresolved):
                    # A GatewayId is an internet or a virtual private gateway: a deploy-time value may be either.
                    yield self.cannot_prove(stack, ("Resources", lid, "Properties", prop),
                                            f"route {lid} of subnet {tables[table]} goes to a gateway known only at "
                                            f"deploy time ({target.reason}), which may be an internet gateway")
                    continue
                if prop == "GatewayId" and isinstance(target, str):
                    origin = ctx.origin(target)
                    is_igw = (origin and origin[2].get("Type") == "AWS::EC2::InternetGateway") or \
                        target.startswith("igw-")
                    if not is_igw and not target.startswith("{{"):
                        continue  # e.g. a virtual private gateway (vgw-)
                    if not is_igw:
                        continue
                yield self.finding(stack, ("Resources", lid, "Properties", prop),
                                   f"route {lid} sends traffic of subnet {tables[table]} to a {label}")
