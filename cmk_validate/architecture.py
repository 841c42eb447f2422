"""Facts about this architecture that several rules share, computed once per scenario.

- data buckets: every bucket that is not a log sink (server access logs, CloudTrail, flow logs);
  classifying by what a bucket *is used for* means a mutation cannot make a data bucket
  escape the data-bucket rules by dropping its encryption or its policy.
- HSM subnets: the cluster's SubnetIds; client subnets: subnets of instances, Lambda functions
  and Auto Scaling groups in the same VPCs.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, NamedTuple

from cmk_validate.model.resolver import Unresolved
from cmk_validate.policy import parse_policy
from cmk_validate.policy.statements import Effect

CLUSTER_TYPE = "AWS::CloudHSM::Cluster"
HSM_TYPES = ("Custom::CloudHsmFirstHsm", "Custom::CloudHsmHsm")
KEY_STORE_TYPE = "Custom::KmsCustomKeyStore"
HSM_KEY_TYPE = "Custom::HsmBackedKmsKey"

# S3 upload headers, as condition keys; a request carries SSE-C or SSE-KMS headers, never both.
SSE_HEADER = "s3:x-amz-server-side-encryption"
KMS_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
SSE_C_HEADER = "s3:x-amz-server-side-encryption-customer-algorithm"
EXCLUSIVE_UPLOAD_HEADERS = [(KMS_KEY_HEADER, SSE_C_HEADER), (SSE_HEADER, SSE_C_HEADER)]


class Resource(NamedTuple):
    """A resource the facts found, with its properties resolved for the scenario."""
    stack: Any
    logical_id: str
    props: dict


class NamedBucket(NamedTuple):
    stack: Any
    logical_id: str
    name: str            # the bucket name token (Ref)


class BucketPolicy(NamedTuple):
    stack: Any
    logical_id: str
    statements: list     # parsed (policy.Statement)
    document: Any        # as resolved


class GatewayEndpoint(NamedTuple):
    stack: Any
    logical_id: str
    token: str           # the endpoint id token (Ref)
    props: dict


class SubnetUse(NamedTuple):
    """A subnet a resource names: `subnet` is its id token (or Unresolved); `where` is the index in the
    cluster's SubnetIds, or the template path under the resource that names it."""
    subnet: Any
    stack: Any
    logical_id: str
    where: Any


def requires_sse_c(statements, objects_arn: str) -> bool:
    """sse-c mode: the policy denies every upload to `objects_arn` that lacks the SSE-C header (proved)."""
    from cmk_validate.policy.prover import Scope, deny_covers

    return bool(statements) and deny_covers(statements, Scope(
        ["s3:PutObject"], [objects_arn], absent=[SSE_C_HEADER], exclusive=EXCLUSIVE_UPLOAD_HEADERS)).proven


def named_exceptions(statements) -> list[str]:
    """Principals a Deny lets through by name: ARNs without wildcards in a negated aws:PrincipalArn
    condition (ArnNotLike, ArnNotEquals, StringNotEquals...) or in NotPrincipal. Wildcard exceptions
    are never counted as named, so a proof that relies on them fails."""
    def named(values) -> list[str]:
        return [v for v in values if isinstance(v, str) and "*" not in v and "?" not in v]

    found: list[str] = []
    for statement in statements:
        if statement.effect != Effect.DENY:
            continue
        for condition in statement.conditions:
            if condition.key == "aws:principalarn" and "Not" in condition.base:
                found += named(condition.values)
        for ids in (statement.not_principals or {}).values():
            found += named(ids)
    return list(dict.fromkeys(found))


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class Facts:
    def __init__(self, ctx) -> None:
        self.ctx = ctx

    # -- S3 ---------------------------------------------------------------------------
    @cached_property
    def buckets(self) -> list[NamedBucket]:
        """Every bucket, with its name token."""
        return [NamedBucket(stack, lid, self.ctx.ref(stack, lid)) for stack, lid, _ in
                self.ctx.resources("AWS::S3::Bucket")]

    @cached_property
    def log_bucket_names(self) -> set[str]:
        ctx, names = self.ctx, set()
        for stack, lid, _ in ctx.resources("AWS::S3::Bucket"):
            target = (ctx.props(stack, lid).get("LoggingConfiguration") or {})
            if isinstance(target, dict) and isinstance(target.get("DestinationBucketName"), str):
                names.add(target["DestinationBucketName"])
        for stack, lid, _ in ctx.resources("AWS::CloudTrail::Trail"):
            name = ctx.props(stack, lid).get("S3BucketName")
            if isinstance(name, str):
                names.add(name)
        for stack, lid, _ in ctx.resources("AWS::EC2::FlowLog"):
            destination = ctx.props(stack, lid).get("LogDestination")
            if isinstance(destination, str) and destination.startswith("arn:aws:s3:::"):
                names.add(destination[len("arn:aws:s3:::"):].split("/", 1)[0])
        return names

    @cached_property
    def data_buckets(self) -> list[NamedBucket]:
        return [b for b in self.buckets if b[2] not in self.log_bucket_names]

    @cached_property
    def bucket_policies(self) -> dict[str, list[BucketPolicy]]:
        """Bucket name token -> the policies naming that bucket."""
        out: dict[str, list[BucketPolicy]] = {}
        for stack, lid, _ in self.ctx.resources("AWS::S3::BucketPolicy"):
            props = self.ctx.props(stack, lid)
            bucket = props.get("Bucket")
            document = props.get("PolicyDocument")
            key = bucket if isinstance(bucket, str) else f"Unresolved: {bucket!r}"  # a number, a list...
            out.setdefault(key, []).append(BucketPolicy(stack, lid, parse_policy(document), document))
        return out

    def policy_of(self, bucket_name: str) -> list[BucketPolicy]:
        return self.bucket_policies.get(bucket_name, [])

    @cached_property
    def unresolved_bucket_policies(self) -> list[BucketPolicy]:
        return [entry for key, entries in self.bucket_policies.items() if key.startswith("Unresolved")
                for entry in entries]

    # -- network ----------------------------------------------------------------------
    @cached_property
    def gateway_endpoints(self) -> list[GatewayEndpoint]:
        """The S3 gateway endpoints."""
        found = []
        for stack, lid, _ in self.ctx.resources("AWS::EC2::VPCEndpoint"):
            props = self.ctx.props(stack, lid)
            service = props.get("ServiceName")
            kind = props.get("VpcEndpointType", "Gateway")
            if kind == "Gateway" and isinstance(service, str) and service.endswith(".s3"):
                found.append(GatewayEndpoint(stack, lid, self.ctx.ref(stack, lid), props))
        return found

    @cached_property
    def endpoint_ids(self) -> list[str]:
        return [endpoint.token for endpoint in self.gateway_endpoints]

    @cached_property
    def subnets(self) -> dict[str, Resource]:
        """Subnet id token -> the subnet."""
        return {self.ctx.ref(stack, lid): Resource(stack, lid, self.ctx.props(stack, lid))
                for stack, lid, _ in self.ctx.resources("AWS::EC2::Subnet")}

    @cached_property
    def route_tables_of_subnet(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for stack, lid, _ in self.ctx.resources("AWS::EC2::SubnetRouteTableAssociation"):
            props = self.ctx.props(stack, lid)
            subnet, table = props.get("SubnetId"), props.get("RouteTableId")
            if isinstance(subnet, str) and isinstance(table, str):
                out.setdefault(subnet, []).append(table)
        return out

    @cached_property
    def clusters(self) -> list[Resource]:
        return [Resource(stack, lid, self.ctx.props(stack, lid)) for stack, lid, _ in self.ctx.resources(CLUSTER_TYPE)]

    @cached_property
    def hsm_subnets(self) -> list[SubnetUse]:
        """The clusters' subnets (`where`: the index in SubnetIds)."""
        out = []
        for stack, lid, props in self.clusters:
            subnet_ids = props.get("SubnetIds")
            if isinstance(subnet_ids, Unresolved):
                out.append(SubnetUse(subnet_ids, stack, lid, 0))
                continue
            for index, subnet in enumerate(as_list(subnet_ids)):
                out.append(SubnetUse(subnet, stack, lid, index))
        return out

    @cached_property
    def kms_mode_subnets(self) -> list[SubnetUse]:
        """Without CloudHSM (keyBackend kms) there are no HSM subnets to single out: every subnet of the VPCs
        that hold the S3 gateway endpoints must keep the network invariants."""
        if self.uses_cloudhsm:
            return []
        vpcs = {props.get("VpcId") for _, _, _, props in self.gateway_endpoints}
        return [SubnetUse(token, stack, lid, ()) for token, (stack, lid, props) in self.subnets.items()
                if isinstance(props.get("VpcId"), str) and props.get("VpcId") in vpcs]

    @cached_property
    def client_subnets(self) -> list[SubnetUse]:
        """Subnets of compute that talks to the HSMs (`where`: the path that names the subnet)."""
        out = []
        ctx = self.ctx
        for stack, lid, _ in ctx.resources("AWS::EC2::Instance"):
            props = ctx.props(stack, lid)
            if "SubnetId" in props:
                out.append(SubnetUse(props["SubnetId"], stack, lid, ("Properties", "SubnetId")))
            for index, interface in enumerate(as_list(props.get("NetworkInterfaces"))):
                if isinstance(interface, dict) and "SubnetId" in interface:
                    out.append(SubnetUse(interface["SubnetId"], stack, lid,
                                         ("Properties", "NetworkInterfaces", index, "SubnetId")))
        for stack, lid, _ in ctx.resources("AWS::Lambda::Function"):
            vpc_config = ctx.props(stack, lid).get("VpcConfig")
            if isinstance(vpc_config, dict):
                for index, subnet in enumerate(as_list(vpc_config.get("SubnetIds"))):
                    out.append(SubnetUse(subnet, stack, lid, ("Properties", "VpcConfig", "SubnetIds", index)))
        for stack, lid, _ in ctx.resources("AWS::AutoScaling::AutoScalingGroup"):
            for index, subnet in enumerate(as_list(ctx.props(stack, lid).get("VPCZoneIdentifier"))):
                out.append(SubnetUse(subnet, stack, lid, ("Properties", "VPCZoneIdentifier", index)))
        return out

    @cached_property
    def hsms(self) -> list[Resource]:
        """Every HSM resource."""
        return [Resource(stack, lid, self.ctx.props(stack, lid)) for stack, lid, _ in self.ctx.resources(*HSM_TYPES)]

    def cluster_of(self, value: Any) -> tuple | None:
        """The cluster resource a ClusterId value points at."""
        origin = self.ctx.origin(value)
        if origin and origin[2].get("Type") == CLUSTER_TYPE:
            return origin
        return None

    @cached_property
    def uses_cloudhsm(self) -> bool:
        return bool(self.clusters) or any(True for _ in self.ctx.resources(HSM_KEY_TYPE, KEY_STORE_TYPE))

    # -- VPC peering ----------------------------------------------------------------------
    @cached_property
    def peering_connections(self) -> dict[str, Resource]:
        """Peering connection id token -> the connection."""
        return {self.ctx.ref(stack, lid): Resource(stack, lid, self.ctx.props(stack, lid))
                for stack, lid, _ in self.ctx.resources("AWS::EC2::VPCPeeringConnection")}

    @cached_property
    def cluster_vpcs(self) -> set[str]:
        """The VPCs of the HSM subnets (by the subnets the assembly defines)."""
        return {self.subnets[use.subnet].props.get("VpcId") for use in self.hsm_subnets
                if isinstance(use.subnet, str) and use.subnet in self.subnets
                and isinstance(self.subnets[use.subnet].props.get("VpcId"), str)}

    @cached_property
    def hsm_route_tables(self) -> dict[str, str]:
        """Route table token -> the HSM subnet it serves."""
        return {table: subnet for subnet, *_ in self.hsm_subnets if isinstance(subnet, str)
                for table in self.route_tables_of_subnet.get(subnet, [])}

    def peer_of_cluster_vpc(self, connection: dict) -> str | None:
        """The other side of a peering connection that has a cluster VPC on one side, else None."""
        ends = (connection.get("VpcId"), connection.get("PeerVpcId"))
        if ends[0] in self.cluster_vpcs:
            return ends[1]
        if ends[1] in self.cluster_vpcs:
            return ends[0]
        return None

    def subnet_cidrs_of_vpc(self, vpc: Any) -> list[str]:
        return [props["CidrBlock"] for _, _, props in self.subnets.values()
                if props.get("VpcId") == vpc and isinstance(props.get("CidrBlock"), str)]

    @cached_property
    def hsm_subnet_cidrs(self) -> list[str]:
        return [self.subnets[use.subnet].props["CidrBlock"] for use in self.hsm_subnets
                if isinstance(use.subnet, str) and use.subnet in self.subnets
                and isinstance(self.subnets[use.subnet].props.get("CidrBlock"), str)]

    @cached_property
    def vpc_of_route_table(self) -> dict[str, Any]:
        return {self.ctx.ref(stack, lid): self.ctx.props(stack, lid).get("VpcId")
                for stack, lid, _ in self.ctx.resources("AWS::EC2::RouteTable")}
