"""Audit stack: the audit key, the access-log bucket and the CloudTrail trail; deployed first."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from cmk_constructs.audit_trail.infrastructure import AuditTrail, access_log_bucket, audit_key
from stacks.config import AppConfig


class AuditStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: AppConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.key = audit_key(self, "AuditKey", pending_window_days=config.key_deletion_window_days)
        self.access_logs = access_log_bucket(
            self, "AccessLogs", bucket_name=config.bucket_name("accesslogs"), retention_days=config.log_retention_days)
        self.trail = AuditTrail(
            self, "Trail",
            key=self.key,
            trail_bucket_name=config.bucket_name("trail"),
            access_logs=self.access_logs,
            data_bucket_names=[config.bucket_name("data")],
            log_retention_days=config.log_retention_days,
        )
        CfnOutput(self, "TrailArn", value=self.trail.trail.trail_arn)
