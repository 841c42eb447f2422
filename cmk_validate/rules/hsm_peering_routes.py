"""CKE119: routes over a peering with the HSM VPC join only the HSM subnets and the peered application
subnets, and the HSM subnets route nowhere else (internet and NAT routes are CKE106's).

A peering connection carries what the route tables send to it and is not transitive (Amazon VPC Peering
Guide, "Update your route tables for a VPC peering connection" and "VPC peering limitations"). A route
from an application VPC to the whole HSM VPC reaches its interface endpoints and every future subnet;
a route from the HSM subnets to a range wider than the peered subnets, or to a transit gateway, a VPN
gateway, an instance or an interface, is a way out of the isolated subnets.
"""

from __future__ import annotations

import ipaddress

from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

# Route targets other than a peering; GatewayId is an internet gateway (CKE106) or a virtual private
# gateway (here), NatGatewayId is CKE106's.
OTHER_TARGETS = {"TransitGatewayId": "transit gateway", "NetworkInterfaceId": "network interface",
                 "InstanceId": "instance", "CarrierGatewayId": "carrier gateway", "LocalGatewayId": "local gateway",
                 "VpcEndpointId": "Gateway Load Balancer endpoint", "CoreNetworkArn": "Cloud WAN core network"}
# Amazon VPC User Guide, "VPC CIDR blocks": a VPC's IPv4 block is /16 to /28, so a wider destination
# cannot be one peered VPC's subnets.
WIDEST_VPC_PREFIX = 16


def _networks(ranges: list[str]) -> list[ipaddress.IPv4Network] | None:
    """The IPv4 networks of `ranges`, or None when one is not an IPv4 CIDR (only deploy time knows it)."""
    try:
        return list(ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in ranges))
    except (ValueError, TypeError):
        return None


def _covered(destination: ipaddress.IPv4Network, networks: list[ipaddress.IPv4Network]) -> bool:
    return any(destination.subnet_of(network) for network in networks)


class HsmPeeringRoutes(Rule):
    id = "CKE119"
    title = "Peering routes join only the HSM subnets and the peered application subnets"
    rationale = ("Application VPCs reach the HSMs over VPC peering. Routes from an application VPC may name "
                 "only the HSM subnets' ranges, routes from the HSM subnets only the peered application "
                 "subnets', and the HSM subnets route to nothing else (no transit gateway, VPN gateway, "
                 "instance or interface): anything wider opens the isolated subnets to more than the HSM "
                 "clients.")
    fix = ("Give each AWS::EC2::Route over the peering connection a DestinationCidrBlock inside the HSM subnets' "
           "CIDRs (application side) or inside the peered VPC's subnets' CIDRs (HSM side); remove other routes "
           "from the HSM subnets' route tables.")
    source_url = "https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-routing.html"
    tags = ("network", "cloudhsm", "peering")

    def check(self, ctx):
        facts = ctx.facts
        if not facts.clusters:
            return
        for stack, lid, _ in ctx.resources("AWS::EC2::Route"):
            props = ctx.props(stack, lid)
            path = ("Resources", lid, "Properties")
            table = props.get("RouteTableId")
            peering = props.get("VpcPeeringConnectionId")
            if isinstance(table, Unresolved) or isinstance(peering, Unresolved):
                reason = (table if isinstance(table, Unresolved) else peering).reason
                yield self.cannot_prove(stack, path, reason)
                continue
            hsm_side = table in facts.hsm_route_tables or facts.vpc_of_route_table.get(table) in facts.cluster_vpcs
            if peering is None:
                if table in facts.hsm_route_tables:
                    subnet = facts.hsm_route_tables[table]
                    origin = ctx.origin(subnet)
                    yield from self._other_target(stack, path, lid, props, origin[1] if origin else subnet)
                continue
            connection = facts.peering_connections.get(peering)
            if connection is None:
                if hsm_side:
                    yield self.finding(stack, path + ("VpcPeeringConnectionId",), f"route {lid} sends HSM VPC "
                                       f"traffic to peering connection {peering!r}, which this assembly does not define")
                continue
            peer = facts.peer_of_cluster_vpc(connection.props)
            if peer is None:
                continue  # a peering that does not touch the HSM VPC
            yield from self._destination(stack, path, lid, props, peer, hsm_side, facts)

    def _other_target(self, stack, path, lid, props, subnet):
        for prop, label in OTHER_TARGETS.items():
            if props.get(prop) is not None:
                yield self.finding(stack, path + (prop,), f"route {lid} sends traffic of HSM subnet {subnet} to a "
                                   f"{label}; the HSM subnets route only to peered application subnets")
        gateway = props.get("GatewayId")
        if isinstance(gateway, str) and gateway.startswith("vgw-"):
            yield self.finding(stack, path + ("GatewayId",), f"route {lid} sends traffic of HSM subnet {subnet} to "
                               "a virtual private gateway; the HSM subnets route only to peered application subnets")
        elif gateway is not None and not isinstance(gateway, str):
            yield self.cannot_prove(stack, path + ("GatewayId",), f"route {lid}'s gateway is decided at deploy time")

    def _destination(self, stack, path, lid, props, peer, hsm_side, facts):
        for prop in ("DestinationIpv6CidrBlock", "DestinationPrefixListId"):
            if props.get(prop) is not None:
                yield self.finding(stack, path + (prop,), f"route {lid} over the HSM peering names {prop}; only "
                                   "IPv4 subnet ranges can be checked against the peered subnets")
        value = props.get("DestinationCidrBlock")
        if value is None:
            return
        if isinstance(value, Unresolved):
            yield self.cannot_prove(stack, path + ("DestinationCidrBlock",), value.reason)
            return
        try:
            destination = ipaddress.IPv4Network(value)
        except (ValueError, TypeError):
            yield self.cannot_prove(stack, path + ("DestinationCidrBlock",), f"{value!r} is not an IPv4 CIDR")
            return
        where = path + ("DestinationCidrBlock",)
        hsm_networks = _networks(facts.hsm_subnet_cidrs)
        application = facts.subnet_cidrs_of_vpc(peer)
        application_networks = _networks(application)
        if hsm_networks is None or application_networks is None:
            yield self.cannot_prove(stack, where, "a subnet's CidrBlock on one side of the peering is not a literal "
                                    "IPv4 CIDR")
            return
        if not hsm_side:
            if not _covered(destination, hsm_networks):
                yield self.finding(stack, where, f"route {lid} sends {value} over the HSM peering; application VPCs "
                                   f"may route only the HSM subnets ({', '.join(facts.hsm_subnet_cidrs)})")
            return
        if application:
            if not _covered(destination, application_networks):
                yield self.finding(stack, where, f"route {lid} sends HSM VPC traffic for {value} over the peering; "
                                   f"the peered VPC's subnets are {', '.join(application)}")
        elif destination.prefixlen < WIDEST_VPC_PREFIX:
            # The peer VPC is not in the assembly (an existing VPC given by id): its range is unknown here,
            # but no VPC is wider than /16.
            yield self.finding(stack, where, f"route {lid} sends HSM VPC traffic for {value} over the peering; "
                               f"no VPC is wider than /{WIDEST_VPC_PREFIX}, so this is transit to more than the "
                               "peered application subnets")
        elif any(destination.overlaps(network) for network in hsm_networks):
            yield self.finding(stack, where, f"route {lid} sends HSM subnet addresses {value} over the peering")
