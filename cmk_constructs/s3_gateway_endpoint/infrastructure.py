"""The S3 gateway endpoint that the data bucket's policy pins requests to (aws:sourceVpce)."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

# Actions a workload in the VPC needs on the data bucket; no bucket-configuration
# actions, so nobody can rewrite the bucket policy through the endpoint.
DATA_PLANE_ACTIONS = (
    "s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectAttributes", "s3:GetObjectTagging",
    "s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObject", "s3:DeleteObjectVersion",
    "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts",
    "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:GetBucketLocation",
)


def aws_owned_buckets_for_client_host(region: str) -> list[str]:
    """AWS-owned buckets an Amazon Linux 2023 host managed by SSM reads, as object ARNs.

    - al2023-repos-<region>-de612dc2: the AL2023 package repositories, for dnf to
      install cloudhsm-cli's dependencies (the host has no internet).
    - amazon-ssm-<region>, aws-ssm-<region>: SSM Agent updates and SSM plugin files.
    - amazon-ssm-packages-<region>, <region>-birdwatcher-prod: Distributor packages
      (AWS-ConfigureAWSPackage), used to install the CloudWatch agent if wanted.
    - aws-ssm-document-attachments-<region>: attachments of AWS-owned SSM documents.
    - patch-baseline-snapshot-<region>: Patch Manager baselines (AWS-RunPatchBaseline).
    Source: SSM User Guide, "SSM Agent communications with AWS managed S3 buckets";
    AL2023 User Guide, "Using Amazon Linux 2023 repositories without internet".
    """
    names = [
        f"al2023-repos-{region}-de612dc2",
        f"amazon-ssm-{region}",
        f"aws-ssm-{region}",
        f"amazon-ssm-packages-{region}",
        f"{region}-birdwatcher-prod",
        f"aws-ssm-document-attachments-{region}",
        f"patch-baseline-snapshot-{region}",
    ]
    return [f"arn:aws:s3:::{name}/*" for name in names]


def data_buckets_statement(account: str, data_bucket_names: Sequence[str]) -> iam.PolicyStatement:
    """The endpoint policy's grant for the data buckets: data-plane actions, this account's principals."""
    return iam.PolicyStatement(
        sid="DataBucketsFromThisAccount",
        principals=[iam.AnyPrincipal()],
        actions=list(DATA_PLANE_ACTIONS),
        resources=[arn for name in data_bucket_names for arn in (f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*")],
        conditions={"StringEquals": {"aws:PrincipalAccount": account}},
    )


class S3GatewayEndpoint(Construct):
    """Gateway endpoint on every route table of `subnets`, with a policy naming what may pass."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        account: str,
        region: str,
        data_bucket_names: Sequence[str],
        read_only_object_arns: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.endpoint = vpc.add_gateway_endpoint(
            "Endpoint", service=ec2.GatewayVpcEndpointAwsService.S3, subnets=[subnets])
        own_account = {"StringEquals": {"aws:PrincipalAccount": account}}
        self.endpoint.add_to_policy(data_buckets_statement(account, data_bucket_names))
        self.endpoint.add_to_policy(iam.PolicyStatement(
            sid="ClientPackageFromThisAccount",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=list(read_only_object_arns),
            conditions=own_account,
        ))
        # dnf reads the AL2023 repositories unsigned, so no principal condition can apply here;
        # the statement is read-only and names each AWS-owned bucket.
        self.endpoint.add_to_policy(iam.PolicyStatement(
            sid="AwsOwnedBucketsForClientHost",
            principals=[iam.AnyPrincipal()],
            actions=["s3:GetObject"],
            resources=aws_owned_buckets_for_client_host(region),
        ))
        self.endpoint_id = self.endpoint.vpc_endpoint_id
