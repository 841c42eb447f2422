"""What a deployment leaves in the account: what the offline account holds, by kind, less what it held
before (the CDK bootstrap, the platform team's staged prerequisites) and what the rehearsal itself
made (its data-path workload role).

Read through the services' own list calls, as an operator would look, so that a resource that no
stack owns any more (retained, or made by a service on the deployment's behalf, such as CloudHSM's
security group or audit log group) is found whoever made it. What EC2 and KMS keep for themselves
(AWS managed keys, AWS's public parameters, a terminated instance's primary network interface, deleted endpoints) is not a
leftover.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator

from rehearsal.data_path import WORKLOAD_ROLE


@dataclass(frozen=True)
class Leftover:
    kind: str
    identifier: str
    detail: str = field(default="", compare=False)


def _clusters(cloud) -> Iterator[Leftover]:
    for page in cloud.client("cloudhsmv2").get_paginator("describe_clusters").paginate():
        for cluster in page["Clusters"]:
            if cluster["State"] != "DELETED":
                yield Leftover("CloudHSM cluster", cluster["ClusterId"],
                               f"{cluster['State']}, {len(cluster.get('Hsms', []))} HSM(s)")


def _key_stores(cloud) -> Iterator[Leftover]:
    for store in cloud.client("kms").describe_custom_key_stores()["CustomKeyStores"]:
        yield Leftover("KMS custom key store", store["CustomKeyStoreId"], store["ConnectionState"])


def _keys(cloud) -> Iterator[Leftover]:
    kms = cloud.client("kms")
    aws_managed = {alias.get("TargetKeyId") for page in kms.get_paginator("list_aliases").paginate()
                   for alias in page["Aliases"] if alias["AliasName"].startswith("alias/aws/")}
    for page in kms.get_paginator("list_keys").paginate():
        for key in page["Keys"]:
            metadata = kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata.get("KeyManager") != "AWS" and key["KeyId"] not in aws_managed:
                yield Leftover("KMS key", key["KeyId"], f"{metadata['KeyState']}: {metadata.get('Description', '')}")


def _buckets(cloud) -> Iterator[Leftover]:
    for bucket in cloud.client("s3").list_buckets()["Buckets"]:
        yield Leftover("S3 bucket", bucket["Name"])


def _secrets(cloud) -> Iterator[Leftover]:
    for page in cloud.client("secretsmanager").get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            yield Leftover("Secrets Manager secret", secret["Name"])


def _log_groups(cloud) -> Iterator[Leftover]:
    for page in cloud.client("logs").get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            yield Leftover("CloudWatch Logs log group", group["logGroupName"])


def _vpcs(cloud) -> Iterator[Leftover]:
    for vpc in cloud.client("ec2").describe_vpcs()["Vpcs"]:
        if not vpc.get("IsDefault"):
            yield Leftover("VPC", vpc["VpcId"], vpc.get("CidrBlock", ""))


def _security_groups(cloud) -> Iterator[Leftover]:
    for group in cloud.client("ec2").describe_security_groups()["SecurityGroups"]:
        if group["GroupName"] != "default":
            yield Leftover("security group", group["GroupId"], group["GroupName"])


def _subnets(cloud) -> Iterator[Leftover]:
    for subnet in cloud.client("ec2").describe_subnets()["Subnets"]:
        if not subnet.get("DefaultForAz"):
            yield Leftover("subnet", subnet["SubnetId"], subnet.get("AvailabilityZone", ""))


def _network_interfaces(cloud) -> Iterator[Leftover]:
    ec2 = cloud.client("ec2")
    terminated = {instance["InstanceId"] for reservation in ec2.describe_instances()["Reservations"]
                  for instance in reservation["Instances"] if instance["State"]["Name"] == "terminated"}
    for interface in ec2.describe_network_interfaces()["NetworkInterfaces"]:
        if (interface.get("Attachment") or {}).get("InstanceId") not in terminated:
            yield Leftover("network interface", interface["NetworkInterfaceId"], interface.get("Description", ""))


def _instances(cloud) -> Iterator[Leftover]:
    for reservation in cloud.client("ec2").describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            if instance["State"]["Name"] != "terminated":
                yield Leftover("EC2 instance", instance["InstanceId"], instance["State"]["Name"])


def _endpoints(cloud) -> Iterator[Leftover]:
    for endpoint in cloud.client("ec2").describe_vpc_endpoints()["VpcEndpoints"]:
        if endpoint["State"].lower() != "deleted":
            yield Leftover("VPC endpoint", endpoint["VpcEndpointId"], endpoint.get("ServiceName", ""))


def _roles(cloud) -> Iterator[Leftover]:
    for page in cloud.client("iam").get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"] != WORKLOAD_ROLE:
                yield Leftover("IAM role", role["RoleName"], role.get("Path", ""))


def _parameters(cloud) -> Iterator[Leftover]:
    for page in cloud.client("ssm").get_paginator("describe_parameters").paginate():
        for parameter in page["Parameters"]:
            if not parameter["Name"].startswith("/aws/"):  # AWS's public parameters
                yield Leftover("SSM parameter", parameter["Name"])


def _functions(cloud) -> Iterator[Leftover]:
    for page in cloud.client("lambda").get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            yield Leftover("Lambda function", function["FunctionName"])


KINDS: tuple[Callable, ...] = (_clusters, _key_stores, _keys, _buckets, _secrets, _log_groups, _vpcs,
                               _security_groups, _subnets, _network_interfaces, _instances, _endpoints, _roles,
                               _parameters, _functions)


def take(cloud) -> set[Leftover]:
    """Everything the account holds now, of the kinds above."""
    return {leftover for kind in KINDS for leftover in kind(cloud)}


def since(cloud, baseline: set[Leftover]) -> list[Leftover]:
    """What the account holds now that it did not hold at `baseline`, sorted by kind."""
    return sorted(take(cloud) - baseline, key=lambda leftover: (leftover.kind, leftover.identifier))
