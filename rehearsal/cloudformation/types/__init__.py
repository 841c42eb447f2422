"""CloudFormation resource types the rehearsal can deploy, one module per service; each registers itself."""

from rehearsal.cloudformation.types import (  # noqa: F401  (registration on import)
    cloudhsm,
    ec2,
    iam,
    kms,
    lambda_,
    logs,
    monitoring,
    redshift,
    s3,
    secretsmanager,
    services,
    ssm,
)
from rehearsal.cloudformation.types.base import REGISTRY, ResourceType

__all__ = ["REGISTRY", "ResourceType"]
