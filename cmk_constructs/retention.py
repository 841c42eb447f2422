"""What the app keeps when a stack is deleted or a resource replaced: what holds keys, data or evidence.

CloudFormation's `RetainExceptOnCreate` (CDK: RETAIN_ON_UPDATE_OR_DELETE) keeps such a resource on
stack deletion and replacement, but deletes it when the operation that created it rolls back: a
failed first deploy then leaves no cluster (4 per region by default), named bucket (which would make
the next deploy fail with "already exists"), secret or key behind. The deploy rehearsal shows both.
"""

from aws_cdk import RemovalPolicy
from aws_cdk import aws_s3 as s3

KEEP = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE


def keep_bucket_policy(bucket: s3.Bucket) -> None:
    """A kept bucket keeps its policy (TLS only, the endpoint lock): without it, the bucket a stack
    deletion leaves behind would answer to whatever IAM allows. Call once the bucket's statements are in."""
    if bucket.policy is None:
        raise ValueError(f"{bucket.node.path} has no bucket policy to keep")
    bucket.policy.apply_removal_policy(KEEP)
