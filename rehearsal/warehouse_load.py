"""After each deploy and update: every Redshift cluster can load from and unload to its data bucket.

A COPY from S3 is, to S3 and KMS, a GetObject (and KMS Decrypt through S3) made with the cluster's
IAM role; an UNLOAD is a PutObject. With enhanced VPC routing the requests leave from the cluster's
subnets, so they reach S3 through the gateway endpoint; without it they leave through Redshift's own
network, outside the VPC (Redshift Cluster Management Guide, "Enhanced VPC routing in Amazon
Redshift": https://docs.aws.amazon.com/redshift/latest/mgmt/enhanced-vpc-routing.html). Each request
is authorised as S3 does it (rehearsal/authorization: identity, bucket and endpoint policies, the key
policy), so a missing endpoint, a bucket policy that does not admit the endpoint, a role without the
prefix or a key policy without use through S3 fails the rehearsal here.

The probe stages a file under the prefix the cluster's role may read (as the data path's workload
role, through the endpoint), COPYs it, UNLOADs a result next to it, and removes both.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmk_validate.policy import Principal, Request, evaluate
from rehearsal import caller, data_path
from rehearsal.authorization import identity_policies
from rehearsal.network import subnets_through

STAGED = "rehearsal-copy-probe.csv"
UNLOADED = "rehearsal-unload-probe/0000_part_00"
STAGED_BODY = b"id,value\n1,loaded by the deploy rehearsal through the S3 gateway endpoint\n"


@dataclass(frozen=True)
class Warehouse:
    identifier: str
    role_arn: str
    subnet: str | None        # where its COPY/UNLOAD requests leave from; None: outside the VPC
    bucket: data_path.LockedBucket
    prefix: str


def probe(cloud) -> list[str]:
    """Probe every cluster; the lines for the timeline, or DataPathFailed."""
    redshift = cloud.client("redshift")
    clusters = redshift.describe_clusters()["Clusters"]
    if not clusters:
        return []
    buckets = data_path.locked_buckets(cloud)
    return [_probe(cloud, _warehouse(cloud, cluster, buckets)) for cluster in clusters]


def _warehouse(cloud, cluster: dict, buckets: list[data_path.LockedBucket]) -> Warehouse:
    identifier = cluster["ClusterIdentifier"]
    roles = [role["IamRoleArn"] for role in cluster.get("IamRoles") or []]
    if not roles:
        raise data_path.DataPathFailed(f"Redshift cluster {identifier} has no IAM role: COPY and UNLOAD cannot "
                                       "reach S3")
    group = cloud.client("redshift").describe_cluster_subnet_groups(
        ClusterSubnetGroupName=cluster["ClusterSubnetGroupName"])["ClusterSubnetGroups"][0]
    subnet = group["Subnets"][0]["SubnetIdentifier"] if cluster.get("EnhancedVpcRouting") else None
    for role in roles:
        for bucket in buckets:
            prefix = _readable_prefix(cloud, role, bucket.name)
            if prefix is not None:
                return Warehouse(identifier, role, subnet, bucket, prefix)
    raise data_path.DataPathFailed(f"Redshift cluster {identifier}: no role of it ({', '.join(roles)}) may read "
                                   "objects of a data bucket locked to a gateway endpoint")


def _readable_prefix(cloud, role_arn: str, bucket: str) -> str | None:
    """The key prefix of `bucket` the role's identity policies name for s3:GetObject (`<bucket>/<prefix>*`)."""
    policies = identity_policies(role_arn, cloud.account)
    principal = Principal.aws(role_arn)
    for statement in (s for policy in policies for s in policy):
        for resource in statement.resources or []:
            if not (isinstance(resource, str) and resource.startswith(f"arn:aws:s3:::{bucket}/")
                    and resource.endswith("*")):
                continue
            prefix = resource[len(f"arn:aws:s3:::{bucket}/"):-1]
            probe = Request("s3:GetObject", f"arn:aws:s3:::{bucket}/{prefix}{STAGED}", principal, {})
            if "*" not in prefix and evaluate(probe, policies).allowed:
                return prefix
    return None


def _probe(cloud, warehouse: Warehouse) -> str:
    bucket, s3 = warehouse.bucket, cloud.client("s3")
    staged, unloaded = warehouse.prefix + STAGED, warehouse.prefix + UNLOADED
    staging_role = data_path.workload_role(cloud, bucket)
    staging_subnet = _subnet_through(cloud, bucket)
    with caller.acting_as(staging_role, "warehouse-probe-staging", staging_subnet):
        s3.put_object(Bucket=bucket.name, Key=staged, Body=STAGED_BODY)
    where = _route_of(cloud, bucket, warehouse.subnet)
    try:
        with caller.acting_as(warehouse.role_arn, f"redshift-{warehouse.identifier}", warehouse.subnet):
            try:
                body = s3.get_object(Bucket=bucket.name, Key=staged)["Body"].read()
            except Exception as error:
                raise data_path.DataPathFailed(f"Redshift cluster {warehouse.identifier}: COPY from "
                                               f"s3://{bucket.name}/{staged} {where} failed: {error}") from None
            try:
                s3.put_object(Bucket=bucket.name, Key=unloaded, Body=body)
            except Exception as error:
                raise data_path.DataPathFailed(f"Redshift cluster {warehouse.identifier}: UNLOAD to "
                                               f"s3://{bucket.name}/{unloaded} {where} failed: {error}") from None
    finally:
        with caller.acting_as(staging_role, "warehouse-probe-staging", staging_subnet):
            for key in (staged, unloaded):
                s3.delete_object(Bucket=bucket.name, Key=key)
    if body != STAGED_BODY:
        raise data_path.DataPathFailed(f"Redshift cluster {warehouse.identifier}: COPY read other bytes than staged")
    return (f"warehouse: Redshift cluster {warehouse.identifier} (role {warehouse.role_arn.rsplit('/', 1)[-1]}) "
            f"loaded s3://{bucket.name}/{staged} and unloaded next to it {where}")


def _subnet_through(cloud, bucket: data_path.LockedBucket) -> str:
    """A subnet whose S3 route is one of the endpoints the bucket's lock names, to stage from."""
    for endpoint in bucket.endpoints:
        subnets = subnets_through(cloud.account, cloud.region, endpoint)
        if subnets:
            return subnets[0]
    raise data_path.DataPathFailed(f"{bucket.name}: no subnet routes S3 through {', '.join(bucket.endpoints)}")


def _route_of(cloud, bucket: data_path.LockedBucket, subnet: str | None) -> str:
    """Where the warehouse's requests leave from, said as the timeline and failures say it."""
    if subnet is None:
        return "from outside the VPC (enhanced VPC routing is off)"
    for endpoint in bucket.endpoints:
        if subnet in subnets_through(cloud.account, cloud.region, endpoint):
            return f"from {subnet} through {endpoint}"
    return f"from {subnet}, which no gateway endpoint of the bucket's lock serves"
