"""The data bucket: reachable only through the S3 gateway endpoint, with TLS, with the data key."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cmk_constructs.nag import acknowledge
from cmk_constructs.retention import KEEP, keep_bucket_policy

SSE_C = "sse-c"


def endpoint_only_statements(
    bucket_arn: str, endpoint_ids: Sequence[str], break_glass_principals: Sequence[str]
) -> list[iam.PolicyStatement]:
    """Deny every S3 action, on the bucket and its objects, to every principal not using one of the
    endpoints (the HSM VPC's and each peered application VPC's: a gateway endpoint serves only its own
    VPC). StringNotEquals with a list is true when the key matches none of the values (IAM User Guide,
    "Multiple values in a condition key"), so a request through any other endpoint is denied.

    The break-glass principals are the only exception: without one, nobody but the
    account root user (DeleteBucketPolicy) could ever change this policy again.
    """
    if not endpoint_ids:
        raise ValueError("the data bucket needs at least one gateway endpoint to be reachable")
    endpoints = endpoint_ids[0] if len(endpoint_ids) == 1 else list(endpoint_ids)
    conditions: dict = {"StringNotEquals": {"aws:sourceVpce": endpoints}}
    if break_glass_principals:
        conditions["ArnNotLike"] = {"aws:PrincipalArn": list(break_glass_principals)}
    return [iam.PolicyStatement(
        sid="DenyRequestsOutsideGatewayEndpoint",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["s3:*"],
        resources=[bucket_arn, f"{bucket_arn}/*"],
        conditions=conditions,
    )]


def tls_only_statement(bucket_arn: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="DenyInsecureTransport",
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["s3:*"],
        resources=[bucket_arn, f"{bucket_arn}/*"],
        conditions={"Bool": {"aws:SecureTransport": "false"}},
    )


def upload_encryption_statements(bucket_arn: str, encryption_mode: str, key_arn: str) -> list[iam.PolicyStatement]:
    """sse-kms: uploads may name no key (the default applies) or the data key, nothing else.
    sse-c: every upload must carry SSE-C headers."""
    objects = f"{bucket_arn}/*"
    if encryption_mode == SSE_C:
        return [iam.PolicyStatement(
            sid="DenyUploadsWithoutSseC",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=["s3:PutObject"],
            resources=[objects],
            conditions={"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}},
        )]
    return [
        _deny_upload_header_other_than("DenyUploadsWithOtherKmsKey", objects,
                                       "s3:x-amz-server-side-encryption-aws-kms-key-id", key_arn),
        _deny_upload_header_other_than("DenyUploadsWithOtherEncryption", objects,
                                       "s3:x-amz-server-side-encryption", "aws:kms"),
    ]


def _deny_upload_header_other_than(sid: str, objects: str, header_key: str, allowed: str) -> iam.PolicyStatement:
    """Deny uploads that send `header_key` with another value; uploads without it get the default.

    Not `StringNotEqualsIfExists`: IfExists is true when the key is absent, so it would
    also deny every upload that relies on the bucket's default encryption.
    """
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.DENY,
        principals=[iam.AnyPrincipal()],
        actions=["s3:PutObject"],
        resources=[objects],
        conditions={"Null": {header_key: "false"}, "StringNotEquals": {header_key: allowed}},
    )


class LockedDataBucket(Construct):
    """SSE-KMS with the data key and Bucket Keys (custom key stores have low request quotas),
    SSE-C blocked unless the sse-c mode is chosen, all public access blocked, versioned,
    access-logged, retained."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key: kms.IKey,
        key_arn: str,
        encryption_mode: str,
        endpoint_ids: Sequence[str],
        break_glass_principals: Sequence[str],
        access_log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            blocked_encryption_types=[s3.BlockedEncryptionType.NONE if encryption_mode == SSE_C else s3.BlockedEncryptionType.SSE_C],
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_log_bucket,
            server_access_logs_prefix=f"{bucket_name}/",
            removal_policy=KEEP,
        )
        acknowledge(self.bucket, "Annotation::@aws-cdk/aws-s3:accessLogsPolicyNotAdded",
                    "The access-log bucket is imported; its own policy (audit stack) already admits logging.s3.amazonaws.com for this account.")
        statements = [
            *endpoint_only_statements(self.bucket.bucket_arn, endpoint_ids, break_glass_principals),
            tls_only_statement(self.bucket.bucket_arn),
            *upload_encryption_statements(self.bucket.bucket_arn, encryption_mode, key_arn),
        ]
        for statement in statements:
            self.bucket.add_to_resource_policy(statement)
        keep_bucket_policy(self.bucket)
