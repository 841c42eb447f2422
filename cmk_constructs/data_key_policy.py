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
    warehouse: bool = False,
) -> iam.PolicyDocument:
    """`store_keepers` may only describe the key: the custom key store's handler must see that a key
    is still in its store (pending deletion included) before it disconnects the store.
    `warehouse`: the Redshift warehouse encrypts with the key too, so the account's principals may
    also use it through Redshift (redshift_statements)."""
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
        *(redshift_statements(account=account, region=region) if warehouse else []),
    ])


def redshift_statements(*, account: str, region: str) -> list[iam.PolicyStatement]:
    """Redshift uses the key with the credentials of whoever creates the cluster (CloudFormation's
    role): it describes the key, makes the cluster's data keys and creates a grant for Redshift's
    own later use (KMS Developer Guide, "How Amazon Redshift uses AWS KMS":
    https://docs.aws.amazon.com/kms/latest/developerguide/services-redshift.html). Only through
    Redshift, from this account; the grant only for an AWS resource."""
    through_redshift = {"kms:ViaService": f"redshift.{region}.amazonaws.com", "kms:CallerAccount": account}
    return [
        iam.PolicyStatement(
            sid="UseOnlyThroughRedshiftForTheWarehouse",
            principals=[iam.AccountPrincipal(account)],
            actions=list(USE_ACTIONS),
            resources=["*"],
            conditions={"StringEquals": through_redshift},
        ),
        iam.PolicyStatement(
            sid="RedshiftGrantOnlyForTheWarehouse",
            principals=[iam.AccountPrincipal(account)],
            actions=["kms:CreateGrant"],
            resources=["*"],
            conditions={"StringEquals": through_redshift, "Bool": {"kms:GrantIsForAWSResource": "true"}},
        ),
    ]
