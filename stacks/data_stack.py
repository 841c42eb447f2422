"""Data stack: the data bucket, locked to the gateway endpoint and the data key."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cmk_constructs.locked_bucket.infrastructure import LockedDataBucket
from stacks.config import AppConfig


class DataStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        key: kms.IKey,
        key_arn: str,
        endpoint_ids: Sequence[str],
        access_log_bucket_name: str,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # Imported by name: the audit stack's bucket policy already admits S3 log delivery,
        # and importing keeps this stack from editing (and depending back on) the audit stack.
        access_logs = s3.Bucket.from_bucket_name(self, "AccessLogs", access_log_bucket_name)
        self.data = LockedDataBucket(
            self, "DataBucket",
            bucket_name=config.bucket_name("data"),
            key=key,
            key_arn=key_arn,
            encryption_mode=config.bucket_encryption,
            endpoint_ids=endpoint_ids,
            break_glass_principals=config.break_glass_principals,
            access_log_bucket=access_logs,
        )
        CfnOutput(self, "DataBucketName", value=self.data.bucket.bucket_name)
