"""Audit: the audit KMS key, the access-log bucket, and a validated, encrypted CloudTrail trail."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cmk_constructs.log_groups import audit_log_group
from cmk_constructs.nag import acknowledge
from cmk_constructs.retention import KEEP, keep_bucket_policy


def audit_key(scope: Construct, construct_id: str, *, pending_window_days: int) -> kms.Key:
    """The key of every log in the app: CloudTrail, CloudWatch Logs, the alarm topic."""
    stack = Stack.of(scope)
    key = kms.Key(
        scope, construct_id,
        description="Encrypts the audit trail, log groups and alarm notifications",
        enable_key_rotation=True,
        pending_window=Duration.days(pending_window_days),
        removal_policy=KEEP,
    )
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchLogsOfThisAccount",
        principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
        actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        resources=["*"],
        conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{stack.region}:{stack.account}:log-group:*"}},
    ))
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudWatchAlarmsPublishToEncryptedTopic",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
    ))
    key.add_to_resource_policy(iam.PolicyStatement(
        sid="CloudTrailEncryptsThisAccountsTrails",
        principals=[iam.ServicePrincipal("cloudtrail.amazonaws.com")],
        actions=["kms:GenerateDataKey*", "kms:DescribeKey"],
        resources=["*"],
        conditions={"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{stack.account}:trail/*"},
                    "StringEquals": {"aws:SourceAccount": stack.account}},
    ))
    return key


def access_log_bucket(scope: Construct, construct_id: str, *, bucket_name: str, retention_days: int) -> s3.Bucket:
    """Target of S3 server access logs; SSE-S3 because log delivery cannot use SSE-KMS keys."""
    stack = Stack.of(scope)
    bucket = s3.Bucket(
        scope, construct_id,
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        versioned=True,
        removal_policy=KEEP,
        lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(retention_days), noncurrent_version_expiration=Duration.days(30))],
    )
    bucket.add_to_resource_policy(iam.PolicyStatement(
        sid="S3ServerAccessLogDelivery",
        principals=[iam.ServicePrincipal("logging.s3.amazonaws.com")],
        actions=["s3:PutObject"],
        resources=[bucket.arn_for_objects("*")],
        conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
    ))
    acknowledge(bucket, "AwsSolutions-S1", "This is the server-access-log target; logging it into itself would loop, and CloudTrail records its API calls.")
    keep_bucket_policy(bucket)
    return bucket


class AuditTrail(Construct):
    """Multi-region trail with log file validation, KMS-encrypted, plus S3 data events for `data_bucket_arns`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        trail_bucket_name: str,
        access_logs: s3.IBucket,
        data_bucket_names: Sequence[str],
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self, "TrailBucket",
            bucket_name=trail_bucket_name,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix=f"{trail_bucket_name}/",
            removal_policy=KEEP,
        )
        self.log_group = audit_log_group(self, "TrailLogs", key=key, retention_days=log_retention_days)
        self.trail = cloudtrail.Trail(
            self, "Trail",
            bucket=self.bucket,
            encryption_key=key,
            enable_file_validation=True,
            include_global_service_events=True,
            is_multi_region_trail=True,
            send_to_cloud_watch_logs=True,
            cloud_watch_log_group=self.log_group,
            management_events=cloudtrail.ReadWriteType.ALL,
        )
        keep_bucket_policy(self.bucket)  # with the statements the trail added
        data_buckets = [s3.Bucket.from_bucket_name(self, f"DataBucket{index}", name) for index, name in enumerate(data_bucket_names)]
        self.trail.add_s3_event_selector(
            [cloudtrail.S3EventSelector(bucket=bucket) for bucket in data_buckets],
            include_management_events=True,
            read_write_type=cloudtrail.ReadWriteType.ALL,
        )
