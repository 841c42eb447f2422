"""Key policy of the data key (HSM-backed or, in kms mode, a plain KMS key): admins apart from users.

Administrators manage the key but cannot use it; nobody uses it directly: the
account's principals may use it only through S3, for the data bucket, so a role
needs both an IAM grant and a request that S3 makes for that bucket.
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_iam as iam

# No kms:Create*: it includes kms:CreateGrant, with which an administrator could grant itself Decrypt.
ADMIN_ACTIONS = (
    "kms:CreateAlias", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
    "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
)
USE_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey")


def data_key_policy(
    *,
    account: str,
    region: str,
    bucket_name: str,
    administrators: Sequence[str],
    store_keepers: Sequence[str] = (),
) -> iam.PolicyDocument:
    """`store_keepers` may only describe the key: the custom key store's handler must see that a key
    is still in its store (pending deletion included) before it disconnects the store."""
    bucket_arn = f"arn:aws:s3:::{bucket_name}"
    keepers = [iam.PolicyStatement(
        sid="KeyStoreHandlerSeesTheKey",
        principals=[iam.ArnPrincipal(arn) for arn in store_keepers],
        actions=["kms:DescribeKey"],
        resources=["*"],
    )] if store_keepers else []
    return iam.PolicyDocument(statements=[
        *keepers,
        iam.PolicyStatement(
            sid="KeyAdministration",
            principals=[iam.ArnPrincipal(arn) for arn in administrators],
            actions=list(ADMIN_ACTIONS),
            resources=["*"],
        ),
        iam.PolicyStatement(
            sid="UseOnlyThroughS3ForTheDataBucket",
            principals=[iam.AccountPrincipal(account)],
            actions=list(USE_ACTIONS),
            resources=["*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com", "kms:CallerAccount": account},
                # With S3 Bucket Keys the context is the bucket ARN, without them the object ARN.
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        ),
    ])
