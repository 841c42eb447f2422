"""Whether one network interface reaches another on a TCP port, read from the deployed EC2 state.

What EC2 decides for a packet between two interfaces in this account and Region:
- routing: the source subnet's route table (its explicit association, else the VPC's main table)
  sends the destination by its longest matching route; in the same VPC that is the `local` route, to
  another VPC it must be an active VPC peering connection joining the two VPCs, and the destination
  subnet's table must send the reply back over the same connection (Amazon VPC Peering Guide, "Update
  your route tables for a VPC peering connection": "traffic ... in both directions");
- security groups: an egress rule of the source's groups and an ingress rule of the destination's
  groups must allow the protocol and port, by CIDR or by naming a group of the other side (security
  groups are stateful, so the reply needs no rule; across a same-Region peering a rule may name the
  peer VPC's group: "Update your security groups to reference peer security groups").
Network ACLs are not evaluated: the app creates none, and a VPC's default ACL allows all traffic
(Amazon VPC User Guide, "Default network ACL").

Everything is read through the EC2 API (DescribeRouteTables, DescribeSecurityGroups,
DescribeNetworkInterfaces, DescribeVpcPeeringConnections) on the model the rehearsal deployed, not
from the templates or the configuration.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    reachable: bool
    reason: str


@dataclass(frozen=True)
class Interface:
    id: str
    vpc: str
    subnet: str
    address: str
    groups: tuple[str, ...]


def interface(ec2, interface_id: str) -> Interface:
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[interface_id])["NetworkInterfaces"][0]
    return Interface(eni["NetworkInterfaceId"], eni["VpcId"], eni["SubnetId"], eni["PrivateIpAddress"],
                     tuple(group["GroupId"] for group in eni.get("Groups") or []))


def reaches(ec2, source: Interface, destination: Interface, port: int, protocol: str = "tcp") -> Verdict:
    """Can `source` open a `protocol` connection to `destination` on `port`?"""
    route = _path(ec2, source, destination)
    if not route.reachable:
        return route
    if not _allowed(ec2, source.groups, "IpPermissionsEgress", destination, protocol, port):
        return Verdict(False, f"no egress rule of {', '.join(source.groups) or 'no group'} allows {protocol}/{port} "
                              f"to {destination.address}")
    if not _allowed(ec2, destination.groups, "IpPermissions", source, protocol, port):
        return Verdict(False, f"no ingress rule of {', '.join(destination.groups) or 'no group'} allows "
                              f"{protocol}/{port} from {source.address}")
    return Verdict(True, route.reason)


def _path(ec2, source: Interface, destination: Interface) -> Verdict:
    if source.vpc == destination.vpc:
        return Verdict(True, "local route")
    there = _target(ec2, source, destination.address)
    back = _target(ec2, destination, source.address)
    for direction, (table, target) in (("to", there), ("back from", back)):
        if target is None:
            return Verdict(False, f"route table {table} has no route {direction} {destination.address if direction == 'to' else source.address}")
        if not target.get("VpcPeeringConnectionId"):
            return Verdict(False, f"route table {table} sends {direction} the other VPC through "
                                  f"{_describe_target(target)}, not a peering connection")
    if there[1]["VpcPeeringConnectionId"] != back[1]["VpcPeeringConnectionId"]:
        return Verdict(False, "the routes there and back use different peering connections")
    connection_id = there[1]["VpcPeeringConnectionId"]
    found = ec2.describe_vpc_peering_connections(VpcPeeringConnectionIds=[connection_id])["VpcPeeringConnections"]
    if not found:
        return Verdict(False, f"peering connection {connection_id} does not exist")
    connection = found[0]
    ends = {connection["RequesterVpcInfo"]["VpcId"], connection["AccepterVpcInfo"]["VpcId"]}
    if ends != {source.vpc, destination.vpc}:
        return Verdict(False, f"peering connection {connection_id} does not join {source.vpc} and {destination.vpc}")
    if connection["Status"]["Code"] != "active":
        return Verdict(False, f"peering connection {connection_id} is {connection['Status']['Code']}")
    return Verdict(True, f"over {connection_id}")


def _route_table(ec2, subnet: str, vpc: str) -> dict | None:
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    for table in tables:
        if any(association.get("SubnetId") == subnet for association in table.get("Associations") or []):
            return table
    return next((table for table in tables if any(association.get("Main") for association in
                                                    table.get("Associations") or [])), None)


def _target(ec2, interface: Interface, address: str) -> tuple[str | None, dict | None]:
    """(route table id, the longest route matching `address`) for traffic leaving `interface`."""
    table = _route_table(ec2, interface.subnet, interface.vpc)
    if table is None:
        return None, None
    ip = ipaddress.ip_address(address)
    matching = [route for route in table.get("Routes") or [] if route.get("DestinationCidrBlock")
                and route.get("State", "active") == "active"
                and ip in ipaddress.ip_network(route["DestinationCidrBlock"])]
    best = max(matching, key=lambda route: ipaddress.ip_network(route["DestinationCidrBlock"]).prefixlen, default=None)
    return table["RouteTableId"], best


def _describe_target(route: dict) -> str:
    return next((f"{key} {value}" for key, value in route.items() if key.endswith("Id") and key != "RouteTableId"
                 and value), "no target")


def _allowed(ec2, groups: tuple[str, ...], direction: str, other: Interface, protocol: str, port: int) -> bool:
    if not groups:
        return False
    for group in ec2.describe_security_groups(GroupIds=list(groups))["SecurityGroups"]:
        for permission in group.get(direction) or []:
            if _matches(permission, other, protocol, port):
                return True
    return False


def _matches(permission: dict, other: Interface, protocol: str, port: int) -> bool:
    rule_protocol = str(permission.get("IpProtocol"))
    if rule_protocol != "-1":
        if rule_protocol.lower() not in (protocol, {"tcp": "6", "udp": "17"}.get(protocol)):
            return False
        if not permission.get("FromPort", 0) <= port <= permission.get("ToPort", 65535):
            return False
    address = ipaddress.ip_address(other.address)
    if any(address in ipaddress.ip_network(item["CidrIp"]) for item in permission.get("IpRanges") or []):
        return True
    return any(pair.get("GroupId") in other.groups for pair in permission.get("UserIdGroupPairs") or [])
