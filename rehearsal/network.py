"""How a caller's request reaches S3: through a gateway endpoint, over the internet, or not at all.

A request from a subnet follows the subnet's route table (its explicit association, else the
VPC's main table). A gateway endpoint for S3 adds the S3 prefix list to the tables it is
associated with, and that route is more specific than any default route, so S3 traffic from such a
subnet goes through the endpoint: S3 then sees `aws:SourceVpce` and `aws:SourceVpc`, and the
endpoint's policy is evaluated too (VPC User Guide, "Gateway endpoints for Amazon S3"; IAM User
Guide, "AWS global condition context keys"). Without that route, a default route to an internet
or NAT gateway reaches S3's public endpoint; an isolated subnet without either cannot reach S3 and
the SDK times out connecting. A caller outside any VPC (a Lambda function without VpcConfig)
reaches the public endpoint.

Read from moto's EC2 backend: the model evaluates the request while moto is serving it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Path:
    """`endpoint` is the gateway endpoint id when the request goes through one; `reachable` is False
    when the subnet has no route to S3 at all."""
    reachable: bool
    endpoint: str | None = None
    vpc: str | None = None
    endpoint_policy: str | None = None


PUBLIC = S3Path(reachable=True)


def s3_path(account: str, region: str, subnet_id: str | None) -> S3Path:
    if subnet_id is None:
        return PUBLIC
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    subnet = backend.get_subnet(subnet_id)
    table = _route_table_of(backend, subnet_id, subnet.vpc_id)
    if table is None:
        return S3Path(reachable=False, vpc=subnet.vpc_id)
    service = f"com.amazonaws.{region}.s3"
    for endpoint in backend.vpc_end_points.values():
        if (endpoint.service_name == service and (endpoint.vpc_endpoint_type or "Gateway") == "Gateway"
                and table.id in (endpoint.route_table_ids or [])):
            return S3Path(True, endpoint.id, subnet.vpc_id, endpoint.policy_document)
    if _routes_out(table):
        return S3Path(True, None, subnet.vpc_id)
    return S3Path(reachable=False, vpc=subnet.vpc_id)


def reaches_service(account: str, region: str, subnet_id: str, service: str) -> bool:
    """Whether an instance in the subnet reaches `service`'s regional endpoint by name: an interface
    endpoint for it in the VPC with private DNS (the name resolves to the endpoint; VPC User Guide,
    "Access an AWS service using an interface VPC endpoint"), or a default route out. Security
    groups are not evaluated."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    subnet = backend.get_subnet(subnet_id)
    name = f"com.amazonaws.{region}.{service}"
    if any(endpoint.vpc_id == subnet.vpc_id and endpoint.service_name == name
           and (endpoint.vpc_endpoint_type or "") == "Interface" and endpoint.private_dns_enabled
           for endpoint in backend.vpc_end_points.values()):
        return True
    table = _route_table_of(backend, subnet_id, subnet.vpc_id)
    return table is not None and _routes_out(table)


def _routes_out(table) -> bool:
    """A default route to an internet or NAT gateway: the subnet reaches public endpoints."""
    return any(route.destination_cidr_block == "0.0.0.0/0" and (route.gateway is not None or route.nat_gateway is not None)
               for route in table.routes)


def _route_table_of(backend, subnet_id: str, vpc_id: str):
    main = None
    for table in backend.route_tables.values():
        if table.vpc_id != vpc_id:
            continue
        if subnet_id in table._associations.values():  # moto keeps association id -> subnet id
            return table
        if table.main_association_id is not None:
            main = table
    return main


def subnets_through(account: str, region: str, endpoint_id: str) -> list[str]:
    """The subnets whose S3 traffic goes through `endpoint_id` (explicitly associated), sorted."""
    from moto.ec2.models import ec2_backends

    backend = ec2_backends[account][region]
    tables = set(backend.vpc_end_points[endpoint_id].route_table_ids or [])
    return sorted(target for table in backend.route_tables.values() if table.id in tables
                  for target in table._associations.values() if str(target).startswith("subnet-"))
