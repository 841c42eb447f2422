"""Where moto's S3 is stricter than S3: enabling server access logging to a target bucket with
Object Ownership `BucketOwnerEnforced`.

moto refuses PutBucketLogging unless the target's bucket policy (or ACL) already grants the
logging service. S3 grants log delivery to such a target only through its bucket policy
(S3 User Guide, "Permissions for log delivery"), and CDK's own output depends on S3 not checking
that policy when logging is enabled: the target's policy names the source bucket's ARN in
`aws:SourceArn`, so CloudFormation creates the source bucket, with logging on, before that policy
exists. A policy that does not admit the logging service loses logs later; it is the validator's
concern (CKE104), not a deploy failure. New buckets default to BucketOwnerEnforced (since April
2023), so a target without OwnershipControls is treated the same way.

One module, not moto's three: one backend method changes, its errors are moto's own, and the wire
format is moto's.
"""

from __future__ import annotations

from typing import Any

from moto.s3 import models as s3_models
from moto.s3.exceptions import CrossLocationLoggingProhibited, InvalidTargetBucketForLogging

_original_set_logging = s3_models.FakeBucket.set_logging


def _owner_enforced(bucket) -> bool:
    """moto keeps the ObjectOwnership setting as its text; None when the bucket never set it."""
    return bucket.ownership_rule in (None, "BucketOwnerEnforced")


def set_logging(self, logging_config: dict[str, Any] | None, bucket_backend) -> None:
    if logging_config:
        target = bucket_backend.buckets.get(logging_config["TargetBucket"])
        if target is None:
            raise InvalidTargetBucketForLogging("The target bucket for logging does not exist.")
        if _owner_enforced(target):
            if target.region_name != self.region_name:
                raise CrossLocationLoggingProhibited()
            self.logging = logging_config
            return
    _original_set_logging(self, logging_config, bucket_backend)


def install() -> None:
    s3_models.FakeBucket.set_logging = set_logging
