"""After each deploy and update: the data bucket works through the gateway endpoint, and only there.

This is what a platform team tries first on a real deployment, run on the deployed model. A
workload role with the grant the README documents for workloads (s3:PutObject, s3:GetObject and
s3:DeleteObject on the bucket's objects; kms:GenerateDataKey and kms:Decrypt on the bucket's key)
writes, reads back and deletes an object:
- from a subnet whose S3 route is the bucket's gateway endpoint: every request must succeed, and
  the object must be encrypted with the bucket's default key (the HSM-backed key; SSE-C where the
  bucket's policy asks for it);
- from outside the VPC: the write must be refused with AccessDenied.
Each request is authorised as S3 does it (identity, bucket and endpoint policies; KMS's key policy
and the custom key store's connection for the key), so a deployment whose endpoint policy, key
policy or key store would break the data path fails here, before anyone pays for HSM-hours.

The buckets probed are the deployment's data buckets: those its stacks created that a gateway
endpoint's policy admits, or whose policy names a gateway endpoint in `aws:SourceVpce`, the lock
this architecture puts on its data.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterator

from rehearsal import caller
from rehearsal.network import subnets_through

WORKLOAD_ROLE = "rehearsal-workload"
PROBE_KEY = "rehearsal/data-path-probe.txt"
PROBE_BODY = b"written by the deploy rehearsal through the S3 gateway endpoint"


class DataPathFailed(Exception):
    """The deployed data path does not work as the architecture promises."""


@dataclass(frozen=True)
class LockedBucket:
    name: str
    endpoints: tuple[str, ...]   # each gateway endpoint the bucket's lock names (one per VPC that reads it)
    kms_key: str | None          # the default encryption's KMS key, None for other default encryption
    bucket_key: bool
    sse_c: bool                  # the bucket's policy refuses uploads without SSE-C headers


def probe(cloud) -> list[str]:
    """Probe every locked bucket; the lines for the timeline, or DataPathFailed."""
    buckets = locked_buckets(cloud)
    if not buckets:
        return ["data path: no bucket of the account is locked to a gateway endpoint (aws:SourceVpce); not probed"]
    return [line for bucket in buckets for line in _probe(cloud, bucket)]


def locked_buckets(cloud) -> list[LockedBucket]:
    """The deployment's data buckets: the buckets its stacks created that a gateway endpoint's policy
    admits or whose own policy names a gateway endpoint in `aws:SourceVpce`. A bucket whose lock was
    removed stays a data bucket (the endpoint still admits it), so the probe shows the lock missing."""
    s3, ec2 = cloud.client("s3"), cloud.client("ec2")
    gateways = {endpoint["VpcEndpointId"]: json.loads(endpoint.get("PolicyDocument") or "{}")
                for endpoint in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                if endpoint.get("VpcEndpointType") == "Gateway"}
    created = sorted(resource.physical_id for state in cloud.stacks.values() for resource in state.resources.values()
                     if resource.resource_type == "AWS::S3::Bucket" and resource.physical_id)
    found = []
    for name in created:
        try:
            policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        except s3.exceptions.ClientError:
            policy = {}
        named = sorted(set(_source_vpces(policy)) & set(gateways))
        admitting = sorted(endpoint for endpoint, document in gateways.items() if _admits_bucket(document, name))
        if not named and not admitting:
            continue
        kms_key, bucket_key = _default_kms_key(s3, name)
        found.append(LockedBucket(name, tuple(named or admitting[:1]), kms_key, bucket_key, _requires_sse_c(policy)))
    return found


def _requires_sse_c(policy: dict) -> bool:
    """A Deny of s3:PutObject when the SSE-C algorithm header is absent (Null = true)."""
    for statement in _statements(policy):
        actions = statement.get("Action") or []
        if statement.get("Effect") != "Deny" or not {"s3:PutObject", "s3:*"} & set(
                actions if isinstance(actions, list) else [actions]):
            continue
        null = (statement.get("Condition") or {}).get("Null") or {}
        if str(null.get("s3:x-amz-server-side-encryption-customer-algorithm", "")).lower() == "true":
            return True
    return False


def _admits_bucket(document: dict, bucket: str) -> bool:
    """The endpoint policy names the bucket's objects in an Allow (an object pattern of this bucket)."""
    for statement in _statements(document):
        resources = statement.get("Resource") or []
        for resource in resources if isinstance(resources, list) else [resources]:
            if statement.get("Effect") == "Allow" and resource == f"arn:aws:s3:::{bucket}/*":
                return True
    return False


def _statements(policy: dict) -> list[dict]:
    statements = policy.get("Statement") or []
    return statements if isinstance(statements, list) else [statements]


def _source_vpces(policy: dict) -> Iterator[str]:
    for statement in _statements(policy):
        for operator in (statement.get("Condition") or {}).values():
            for key, values in (operator or {}).items():
                if key.lower() == "aws:sourcevpce":
                    yield from (values if isinstance(values, list) else [values])


def _default_kms_key(s3, bucket: str) -> tuple[str | None, bool]:
    try:
        rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    except s3.exceptions.ClientError:
        return None, False
    default = rules[0].get("ApplyServerSideEncryptionByDefault") or {}
    if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
        return default.get("KMSMasterKeyID"), bool(rules[0].get("BucketKeyEnabled"))
    return None, False


def workload_role(cloud, bucket: LockedBucket) -> str:
    """The workload role, granted what the README tells workloads to grant, for this bucket."""
    iam = cloud.client("iam")
    try:
        arn = iam.get_role(RoleName=WORKLOAD_ROLE)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                         "Principal": {"Service": "ec2.amazonaws.com"}}]}
        arn = iam.create_role(RoleName=WORKLOAD_ROLE, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    statements = [{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"],
                   "Resource": f"arn:aws:s3:::{bucket.name}/*"}]
    if bucket.kms_key:
        statements.append({"Effect": "Allow", "Action": ["kms:GenerateDataKey", "kms:Decrypt"], "Resource": bucket.kms_key})
    iam.put_role_policy(RoleName=WORKLOAD_ROLE, PolicyName=f"data-{bucket.name}"[:128],
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    return arn


def _probe(cloud, bucket: LockedBucket) -> list[str]:
    """Write, read and delete through each endpoint the lock names (a gateway endpoint serves only its own
    VPC, so each VPC that reads the bucket has one), then a write from outside any VPC."""
    role = workload_role(cloud, bucket)
    lines = [_probe_through(cloud, bucket, role, endpoint) for endpoint in bucket.endpoints]
    s3 = cloud.client("s3")
    encryption = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)} if bucket.sse_c else {}
    with caller.acting_as(role, "data-path-probe"):
        try:
            s3.put_object(Bucket=bucket.name, Key=PROBE_KEY, Body=PROBE_BODY, **encryption)
        except s3.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "AccessDenied":
                raise DataPathFailed(f"{bucket.name}: a write from outside the VPC failed, but not with "
                                     f"AccessDenied: {error}") from None
        else:
            raise DataPathFailed(f"{bucket.name}: a write from outside the VPC was accepted; the bucket is not "
                                 f"locked to {', '.join(bucket.endpoints)}")
    lines[-1] += "; a write from outside the VPC was refused (AccessDenied)"
    return lines


def _probe_through(cloud, bucket: LockedBucket, role: str, endpoint: str) -> str:
    subnets = subnets_through(cloud.account, cloud.region, endpoint)
    if not subnets:
        raise DataPathFailed(f"{bucket.name}: no subnet routes S3 through {endpoint}; nothing in the VPC "
                             "can reach the bucket")
    s3 = cloud.client("s3")
    encryption = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)} if bucket.sse_c else {}
    with caller.acting_as(role, "data-path-probe", subnets[0]):
        try:
            s3.put_object(Bucket=bucket.name, Key=PROBE_KEY, Body=PROBE_BODY, **encryption)
            read = s3.get_object(Bucket=bucket.name, Key=PROBE_KEY, **encryption)
            body = read["Body"].read()
            s3.delete_object(Bucket=bucket.name, Key=PROBE_KEY)
        except Exception as error:
            raise DataPathFailed(f"{bucket.name}: a workload in {subnets[0]} (through {endpoint}) "
                                 f"could not write, read and delete an object: {error}") from None
    if body != PROBE_BODY:
        raise DataPathFailed(f"{bucket.name}: the object read back differs from the object written")
    if bucket.sse_c and read.get("SSECustomerAlgorithm") != "AES256":
        raise DataPathFailed(f"{bucket.name}: the object is not encrypted with the workload's SSE-C key")
    if not bucket.sse_c and bucket.kms_key and read.get("SSEKMSKeyId") != bucket.kms_key:
        raise DataPathFailed(f"{bucket.name}: the object is encrypted with {read.get('SSEKMSKeyId')}, "
                             f"not the bucket's key {bucket.kms_key}")
    protection = "with SSE-C" if bucket.sse_c else f"encrypted with {bucket.kms_key}" if bucket.kms_key else \
        "with the bucket's default encryption"
    return (f"data path: {bucket.name}: write, read, delete from {subnets[0]} through {endpoint} "
            f"succeeded ({protection})")
