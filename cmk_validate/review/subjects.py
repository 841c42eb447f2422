"""What the review looks at in one assembly, read once through the validator's template model.

The review must not re-implement template reading: buckets, endpoints and bucket policies come
from `cmk_validate.architecture.Facts` (the same classification the rules use, so a data bucket
cannot escape the review by dropping its encryption), values from `cmk_validate.context.Context`.
Everything here is plain data, so the matrix and the outputs never touch templates.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from cmk_validate.architecture import HSM_KEY_TYPE, KEY_STORE_TYPE, as_list, named_exceptions, requires_sse_c
from cmk_validate.context import Context
from cmk_validate.model import Assembly
from cmk_validate.policy import Statement, parse_policy
from cmk_validate.policy.statements import Effect

KMS_KEY_TYPES = ("AWS::KMS::Key", HSM_KEY_TYPE)
ACCOUNT_IN_IAM_ARN = re.compile(r"arn:aws:iam::(\d{12}):")
REGION_IN_TEXT = re.compile(r"(?:arn:aws:[a-z0-9-]+:|com\.amazonaws\.|\b[a-z0-9-]+\.)([a-z]{2}(?:-gov)?-[a-z]+-\d)[:.]")


@dataclass
class Bucket:
    name: str
    arn: str
    stack: str
    logical_id: str
    policy: list[Statement]
    default_algorithm: str | None
    default_key: str | None           # KMS key ARN (token) of default encryption
    blocked_encryption: list[str]     # BucketEncryption BlockedEncryptionTypes, e.g. ["SSE-C"]
    restrict_public: bool             # Block Public Access: RestrictPublicBuckets
    sse_c_required: bool = False      # the policy requires SSE-C on every upload (sse-c mode)

    @property
    def label(self) -> str:
        return f"bucket {self.name}"


@dataclass
class Key:
    arn: str
    stack: str
    logical_id: str
    kind: str                 # "HSM-backed" (custom key store) or "KMS"
    policy: list[Statement]
    alias: str = ""
    description: str = ""
    services: list[str] = field(default_factory=list)   # service principals that legitimately use it

    @property
    def label(self) -> str:
        return f"key {self.alias or self.stack + '/' + self.logical_id}"


@dataclass
class Endpoint:
    token: str
    stack: str
    logical_id: str
    policy: list[Statement] | None    # None: no PolicyDocument, i.e. AWS's full-access default
    route_tables: list[str]

    @property
    def label(self) -> str:
        return f"gateway endpoint {self.stack}/{self.logical_id}"


@dataclass
class Role:
    """A role the assembly defines, with the identity policies the assembly attaches to it."""

    arn: str
    stack: str
    logical_id: str
    policy: list[Statement]


@dataclass
class Topology:
    """What the diagram draws."""

    vpc_cidr: str = ""
    subnets: list[dict] = field(default_factory=list)       # {id, az, cidr, route_table}
    hsms: list[dict] = field(default_factory=list)          # {az, logical_id}
    hsm_type: str = ""
    cluster: str = ""
    client_hosts: list[dict] = field(default_factory=list)  # {az, logical_id, instance_type}
    interface_endpoints: list[dict] = field(default_factory=list)  # {service, subnets}
    key_store: str = ""
    trails: list[dict] = field(default_factory=list)        # {logical_id, bucket, data_buckets}
    # Application VPCs peered with the HSM VPC: {peering, vpc, cidr, subnets: [cidr], endpoint: label or None,
    # unserved_tables: [route table tokens of its subnets its endpoint misses], clients: [group labels]}
    peered_vpcs: list[dict] = field(default_factory=list)
    warehouses: list[dict] = field(default_factory=list)    # Redshift clusters: {logical_id, node_type, nodes,
    #                                                         private, vpc_routing, encrypted}


@dataclass
class Inventory:
    account: str
    region: str
    buckets: list[Bucket]
    keys: list[Key]
    endpoints: list[Endpoint]
    roles: list[Role]
    break_glass: list[str]
    topology: Topology
    source: str = ""
    services: list[str] = field(default_factory=list)   # AWS services that act in this assembly (trail, log delivery)
    unresolved: list[str] = field(default_factory=list) # policy statements only deploy time knows
    # Accounts the policies name literally, when the assembly does not say its own (a lone template
    # written with AWS::AccountId): any of them may turn out to be the deploying account.
    named_accounts: tuple[str, ...] = ()

    @property
    def account_known(self) -> bool:
        return "{{" not in self.account

    def subject_of(self, cell) -> "Bucket | Key | Endpoint | None":
        """The bucket, key or endpoint of this inventory that a cell is about: the cell's own, or, for a
        cell of another version of the assembly (a change review), the one with the same label."""
        items = {"s3": self.buckets, "kms": self.keys, "endpoint": self.endpoints}[cell.kind]
        if any(item is cell.target for item in items):
            return cell.target
        return next((item for item in items if item.label == cell.subject), None)

    def key_by_arn(self, arn: str | None) -> Key | None:
        return next((key for key in self.keys if arn and key.arn == arn), None)

    def gateway_endpoint(self, token: str | None) -> Endpoint | None:
        """The S3 gateway endpoint with this id token (a peered application VPC's), else the first one;
        None when the assembly has none."""
        return next((e for e in self.endpoints if e.token == token), self.endpoints[0] if self.endpoints else None)

    def bucket_using(self, key: Key) -> Bucket | None:
        return next((bucket for bucket in self.buckets if bucket.default_key == key.arn), None)

    @property
    def kms_interface_endpoint(self) -> str | None:
        found = next((e for e in self.topology.interface_endpoints if e["service"].endswith(".kms")), None)
        return found["token"] if found else None


def inventory(assembly: Assembly, source: str = "") -> Inventory:
    """Everything the review needs from one assembly (one scenario: conditions as the template says)."""
    ctx = Context(assembly)
    facts = ctx.facts
    account, region, named_accounts = _account_and_region(assembly, ctx)
    keys = _keys(ctx)
    buckets = [_bucket(ctx, facts, stack, lid, name) for stack, lid, name in facts.data_buckets]
    endpoints = [Endpoint(token, stack.name, lid,
                          parse_policy(props["PolicyDocument"]) if "PolicyDocument" in props else None,
                          [t for t in as_list(props.get("RouteTableIds")) if isinstance(t, str)])
                 for stack, lid, token, props in facts.gateway_endpoints]
    trails = _trails(ctx)
    for key in keys:
        key.services = _services_named(key.policy)
        if any(trail["kms_key"] == key.arn for trail in trails) and "cloudtrail.amazonaws.com" not in key.services:
            key.services.append("cloudtrail.amazonaws.com")
    return Inventory(account=account, region=region, buckets=buckets, keys=keys, endpoints=endpoints,
                     roles=_roles(ctx), break_glass=break_glass_principals(buckets),
                     topology=_topology(ctx, facts, trails), source=source,
                     services=_services_present(ctx, trails), named_accounts=named_accounts,
                     unresolved=_unresolved(buckets, keys, endpoints) + [
                         f"bucket policy {lid} of stack {stack.name} names a bucket the review cannot resolve; "
                         "it is left out" for stack, lid, *_ in facts.unresolved_bucket_policies] + [
                         f"stack {stack.name}, {'/'.join(map(str, path))}: not reviewed: {reason}"
                         for stack in assembly.stacks for path, reason in stack.unchecked])


def _services_present(ctx: Context, trails: list[dict]) -> list[str]:
    """Services that write on this account's behalf: CloudTrail, S3 server access log delivery, VPC flow logs to S3."""
    found = ["cloudtrail.amazonaws.com"] if trails else []
    if any(isinstance(ctx.props(stack, lid).get("LoggingConfiguration"), dict)
           for stack, lid, _ in ctx.resources("AWS::S3::Bucket")):
        found.append("logging.s3.amazonaws.com")
    if any(ctx.props(stack, lid).get("LogDestinationType") == "s3" for stack, lid, _ in ctx.resources("AWS::EC2::FlowLog")):
        found.append("delivery.logs.amazonaws.com")
    return found


def _unresolved(buckets: list[Bucket], keys: list[Key], endpoints: list[Endpoint]) -> list[str]:
    notes = []
    for label, policy in ([(b.label + " policy", b.policy) for b in buckets] + [(k.label + " policy", k.policy) for k in keys]
                          + [(e.label + " policy", e.policy or []) for e in endpoints]):
        for statement in policy:
            if statement.unresolved:
                notes.append(f"{label}, {statement.label}: only known at deploy time ({statement.unresolved}); "
                             "evaluated with that part matching nothing")
    return notes


def break_glass_principals(buckets: list[Bucket]) -> list[str]:
    """The principals the data buckets' Deny statements except by name: the configured break-glass ones."""
    return list(dict.fromkeys(arn for bucket in buckets for arn in named_exceptions(bucket.policy)))


def _account_and_region(assembly: Assembly, ctx: Context) -> tuple[str, str, tuple[str, ...]]:
    """The stacks' environment; for a lone template, the account its IAM ARNs name most often. Third: the
    accounts those ARNs name, when the account stays unknown (the template says AWS::AccountId)."""
    account = next((s.account for s in assembly.stacks if s.account), None)
    region = next((s.region for s in assembly.stacks if s.region), None)
    named: tuple[str, ...] = ()
    if account is None or region is None:
        text = "".join(repr(ctx.resolve(stack, stack.resources)) for stack in assembly.stacks)
        # A template that says AWS::AccountId (AWS::Region) means "the deploying account": keep the token so
        # that its conditions compare equal; otherwise take the account (region) its ARNs name most often.
        if account is None:
            counts = Counter(ACCOUNT_IN_IAM_ARN.findall(text))
            account = counts.most_common(1)[0][0] if counts and "{{AWS::AccountId}}" not in text else "{{AWS::AccountId}}"
            named = tuple(sorted(counts)) if "{{" in account else ()
        if region is None:
            counts = Counter(REGION_IN_TEXT.findall(text))
            region = counts.most_common(1)[0][0] if counts and "{{AWS::Region}}" not in text else "{{AWS::Region}}"
    return account, region, named


def _bucket(ctx: Context, facts, stack, lid: str, name: str) -> Bucket:
    props = ctx.props(stack, lid)
    statements = [s for entry in facts.policy_of(name) for s in entry[2]]
    encryption = props.get("BucketEncryption")
    rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, dict) else None
    rule = next((r for r in as_list(rules) if isinstance(r, dict)), {})
    default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule.get("ServerSideEncryptionByDefault"), dict) else {}
    blocked = rule.get("BlockedEncryptionTypes")
    blocked_types = [str(t) for t in as_list(blocked.get("EncryptionType"))] if isinstance(blocked, dict) else []
    access_block = props.get("PublicAccessBlockConfiguration")
    restrict = isinstance(access_block, dict) and access_block.get("RestrictPublicBuckets") in (True, "true")
    key = default.get("KMSMasterKeyID")
    algorithm = default.get("SSEAlgorithm")
    bucket = Bucket(name=name, arn=f"arn:aws:s3:::{name}", stack=stack.name, logical_id=lid, policy=statements,
                    default_algorithm=algorithm if isinstance(algorithm, str) else None,
                    default_key=key if isinstance(key, str) else None,
                    blocked_encryption=blocked_types, restrict_public=restrict)
    bucket.sse_c_required = requires_sse_c(statements, bucket.arn + "/*")
    return bucket


def _keys(ctx: Context) -> list[Key]:
    aliases: dict[str, str] = {}
    for stack, lid, _ in ctx.resources("AWS::KMS::Alias"):
        props = ctx.props(stack, lid)
        target, name = props.get("TargetKeyId"), props.get("AliasName")
        origin = ctx.origin(target)
        if origin and isinstance(name, str):
            aliases[f"{origin[0].name}/{origin[1]}"] = name
    keys = []
    for stack, lid, resource in ctx.resources(*KMS_KEY_TYPES):
        props = ctx.props(stack, lid)
        alias = props.get("AliasName") if isinstance(props.get("AliasName"), str) else aliases.get(f"{stack.name}/{lid}", "")
        description = props.get("Description") if isinstance(props.get("Description"), str) else ""
        keys.append(Key(arn=ctx.ref(stack, lid, "Arn"), stack=stack.name, logical_id=lid,
                        kind="HSM-backed" if resource.get("Type") == HSM_KEY_TYPE else "KMS",
                        policy=parse_policy(props.get("KeyPolicy")), alias=alias or "", description=description))
    return keys


def _services_named(statements: list[Statement]) -> list[str]:
    found: list[str] = []
    for statement in statements:
        if statement.effect == Effect.ALLOW:
            found += [s for s in (statement.principals or {}).get("Service", []) if isinstance(s, str)]
    return list(dict.fromkeys(found))


def _roles(ctx: Context) -> list[Role]:
    """Roles of the assembly with their inline, attached (AWS::IAM::Policy) and managed policies."""
    statements: dict[tuple[str, str], list[Statement]] = {}
    for stack, lid, _ in ctx.resources("AWS::IAM::Role"):
        inline = ctx.props(stack, lid).get("Policies")
        statements[(stack.name, lid)] = [s for p in as_list(inline) if isinstance(p, dict)
                                         for s in parse_policy(p.get("PolicyDocument"))]
    for stack, lid, _ in ctx.resources("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        props = ctx.props(stack, lid)
        document = parse_policy(props.get("PolicyDocument"))
        for role in as_list(props.get("Roles")):
            origin = ctx.origin(role)
            if origin and (origin[0].name, origin[1]) in statements:
                statements[(origin[0].name, origin[1])] += document
    roles = []
    for (stack_name, lid), policy in statements.items():
        stack = ctx.assembly.stack(stack_name)
        roles.append(Role(arn=ctx.ref(stack, lid, "Arn"), stack=stack_name, logical_id=lid, policy=policy))
    return roles


def _trails(ctx: Context) -> list[dict]:
    trails = []
    for stack, lid, _ in ctx.resources("AWS::CloudTrail::Trail"):
        props = ctx.props(stack, lid)
        data = []
        for selector in as_list(props.get("EventSelectors")):
            for resource in as_list(selector.get("DataResources") if isinstance(selector, dict) else None):
                if isinstance(resource, dict):
                    data += [v for v in as_list(resource.get("Values")) if isinstance(v, str)]
        trails.append({"logical_id": lid, "stack": stack.name, "bucket": props.get("S3BucketName"),
                       "kms_key": props.get("KMSKeyId"), "data_resources": data,
                       "multi_region": props.get("IsMultiRegionTrail") in (True, "true")})
    return trails


def _topology(ctx: Context, facts, trails: list[dict]) -> Topology:
    topology = Topology(trails=trails)
    hsm_vpcs = facts.cluster_vpcs
    for stack, lid, _ in ctx.resources("AWS::EC2::VPC"):
        if hsm_vpcs and ctx.ref(stack, lid) not in hsm_vpcs:
            continue  # a peered application VPC: drawn beside, not as the HSM VPC
        cidr = ctx.props(stack, lid).get("CidrBlock")
        topology.vpc_cidr = cidr if isinstance(cidr, str) else ""
        break
    topology.peered_vpcs = _peered_vpcs(ctx, facts)
    peered_ids = {vpc["vpc"] for vpc in topology.peered_vpcs}
    for token, (stack, lid, props) in facts.subnets.items():
        if props.get("VpcId") in peered_ids:
            continue
        tables = facts.route_tables_of_subnet.get(token, [])
        az = props.get("AvailabilityZone")
        topology.subnets.append({"id": token, "logical_id": lid, "az": az if isinstance(az, str) else "?",
                                 "cidr": props.get("CidrBlock") if isinstance(props.get("CidrBlock"), str) else "",
                                 "route_tables": tables})
    for stack, lid, props in facts.hsms:
        az = props.get("AvailabilityZone")
        topology.hsms.append({"logical_id": lid, "az": az if isinstance(az, str) else "?"})
    for stack, lid, props in facts.clusters:
        topology.cluster = lid
        topology.hsm_type = props.get("HsmType") if isinstance(props.get("HsmType"), str) else ""
    subnet_az = {s["id"]: s["az"] for s in topology.subnets}
    for subnet, stack, lid, _path in facts.client_subnets:
        resource = stack.resources.get(lid) or {}
        if resource.get("Type") != "AWS::EC2::Instance":
            continue
        props = ctx.props(stack, lid)
        az = props.get("AvailabilityZone") if isinstance(props.get("AvailabilityZone"), str) else \
            subnet_az.get(subnet if isinstance(subnet, str) else "", "?")
        topology.client_hosts.append({"logical_id": lid, "az": az,
                                      "instance_type": str(props.get("InstanceType", ""))})
    for stack, lid, _ in ctx.resources("AWS::EC2::VPCEndpoint"):
        props = ctx.props(stack, lid)
        if props.get("VpcEndpointType") == "Interface":
            service = props.get("ServiceName")
            topology.interface_endpoints.append({
                "token": ctx.ref(stack, lid), "logical_id": lid,
                "service": service if isinstance(service, str) else "?",
                "subnets": [s for s in as_list(props.get("SubnetIds")) if isinstance(s, str)]})
    for stack, lid, _ in ctx.resources(KEY_STORE_TYPE):
        topology.key_store = lid
    for stack, lid, _ in ctx.resources("AWS::Redshift::Cluster"):
        props = ctx.props(stack, lid)
        nodes = props.get("NumberOfNodes", 1)  # CreateCluster: single-node clusters give no NumberOfNodes
        topology.warehouses.append({"logical_id": lid, "node_type": str(props.get("NodeType", "?")),
                                    "nodes": int(nodes) if str(nodes).isdigit() else 0,
                                    "private": props.get("PubliclyAccessible") in (False, "false"),
                                    "vpc_routing": props.get("EnhancedVpcRouting") in (True, "true"),
                                    "encrypted": props.get("Encrypted") in (True, "true")})
    return topology


def _peered_vpcs(ctx: Context, facts) -> list[dict]:
    """Each VPC peered with the HSM VPC: its range and subnets when the assembly defines it, its own S3
    gateway endpoint, and the groups the cluster's group admits from it."""
    out = []
    for stack, lid, props in facts.peering_connections.values():
        vpc = facts.peer_of_cluster_vpc(props)
        if vpc is None:
            continue
        origin = ctx.origin(vpc)
        cidr = ctx.props(origin[0], origin[1]).get("CidrBlock") if origin else None
        subnets = [(token, sprops) for token, (_, _, sprops) in facts.subnets.items() if sprops.get("VpcId") == vpc]
        endpoint = next((e for e in facts.gateway_endpoints if e.props.get("VpcId") == vpc), None)
        served = set(as_list(endpoint.props.get("RouteTableIds"))) if endpoint else set()
        tables = [table for token, _ in subnets for table in facts.route_tables_of_subnet.get(token, [])]
        out.append({"peering": lid, "vpc": vpc,
                    "name": origin[1] if origin else vpc if isinstance(vpc, str) else "?",
                    "cidr": cidr if isinstance(cidr, str) else "",
                    "subnets": [sprops.get("CidrBlock") for _, sprops in subnets if isinstance(sprops.get("CidrBlock"), str)],
                    "endpoint": f"gateway endpoint {endpoint.stack.name}/{endpoint.logical_id}" if endpoint else None,
                    "unserved_tables": [t for t in tables if t not in served] if endpoint else []})
    return out
