"""What the app keeps when a stack is deleted or a resource replaced: what holds keys, data or evidence.

CloudFormation's `RetainExceptOnCreate` (CDK: RETAIN_ON_UPDATE_OR_DELETE) keeps such a resource on
stack deletion and replacement, but deletes it when the operation that created it rolls back: a
failed first deploy then leaves no cluster (4 per region by default), named bucket (which would make
the next deploy fail with "already exists"), secret or key behind. The deploy rehearsal shows both.
"""

from aws_cdk import RemovalPolicy

KEEP = RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE
