"""Custom::HsmBackedKmsKey: a symmetric KMS key whose material lives in the CloudHSM cluster.

CreateKey(Origin=AWS_CLOUDHSM, CustomKeyStoreId=...) with the stack's key policy,
plus an alias. Delete schedules deletion with the configured pending window,
never immediately.

Properties: CustomKeyStoreId, Description, KeyPolicy (policy document object),
AliasName, PendingWindowInDays.
Attributes: KeyId, KeyArn.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.lifecycle_provider import LifecycleProvider, ProviderContract, keep_replaced_keys

RUNTIME = Path(__file__).with_name("runtime")
# The Provider's timing (lifecycle_provider.ProviderContract): the template and the handler's budget.
CONTRACT = ProviderContract(total_timeout=Duration.minutes(15), query_interval=Duration.seconds(15), handler_margin=Duration.minutes(3))
# The tag the handler puts on the keys it creates, so a retried create finds its key; the handler
# reads it from this environment variable, and the role may set no other tag.
REQUEST_TAG = "cloudformation:lifecycle-request-id"
REQUEST_TAG_VARIABLE = "REQUEST_TAG_KEY"


class HsmBackedKey(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        custom_key_store_id: str,
        alias_name: str,
        description: str,
        pending_window_days: int,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        alias_arn = stack.format_arn(service="kms", resource="alias", resource_name=alias_name.removeprefix("alias/"))
        keys_arn = stack.format_arn(service="kms", resource="key", resource_name="*")
        hsm_keys_only = {"StringEquals": {"kms:KeyOrigin": "AWS_CLOUDHSM"}}
        self.provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=[
                # Only keys whose material is in a CloudHSM key store: the role can neither create
                # nor administer the account's other keys (the audit key, the CA signing key).
                iam.PolicyStatement(actions=["kms:CreateKey"], resources=["*"], conditions=hsm_keys_only),
                # CreateKey's Tags need kms:TagResource in an IAM policy not restricted to particular keys
                # (KMS Developer Guide, "Controlling access to tags"); only the request-id tag may be set.
                iam.PolicyStatement(actions=["kms:TagResource"], resources=["*"], conditions={
                    "ForAllValues:StringEquals": {"aws:TagKeys": [REQUEST_TAG]}}),
                iam.PolicyStatement(
                    actions=["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription",
                             "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
                    resources=[keys_arn], conditions=hsm_keys_only),
                # Read-only calls, and ListKeys/ListAliases, which have no resource to scope to.
                iam.PolicyStatement(actions=["kms:DescribeKey", "kms:ListResourceTags"], resources=[keys_arn]),
                iam.PolicyStatement(actions=["kms:ListKeys", "kms:ListAliases"], resources=["*"]),
                # The alias side of Create/Update/DeleteAlias: only this stack's alias.
                iam.PolicyStatement(actions=["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"], resources=[alias_arn]),
            ],
            log_key=log_key,
            log_retention_days=log_retention_days,
            contract=CONTRACT,
            environment={REQUEST_TAG_VARIABLE: REQUEST_TAG},
        )
        self.handler_role = self.provider.handler_role
        self._properties = {
            "CustomKeyStoreId": custom_key_store_id,
            "Description": description,
            "AliasName": alias_name,
            "PendingWindowInDays": str(pending_window_days),
        }
        self.resource: CustomResource | None = None

    def create(self, key_policy: iam.PolicyDocument) -> kms.IKey:
        """Create the key with `key_policy` (built after the handler role exists, so it can name it)."""
        self.resource = CustomResource(
            self, "Resource",
            service_token=self.provider.service_token,
            resource_type="Custom::HsmBackedKmsKey",
            properties={**self._properties, "KeyPolicy": key_policy.to_json()},
        )
        keep_replaced_keys(self.resource)
        self.key_arn = self.resource.get_att_string("KeyArn")
        self.key_id = self.resource.get_att_string("KeyId")
        return kms.Key.from_key_arn(self, "Key", self.key_arn)
