"""Keys stack: the data key. cloudhsm mode: the HSM-backed key in the Hsm stack's custom key store;
kms mode: a rotating customer-managed KMS key, no CloudHSM at all."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.data_key_policy import data_key_policy
from cmk_constructs.hsm_backed_key.infrastructure import HsmBackedKey
from cmk_constructs.retention import KEEP
from stacks.config import AppConfig
from stacks.hsm_stack import HsmStack


class KeysStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        log_key: kms.IKey,
        hsm: HsmStack | None,
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        alias = f"alias/{config.name}/data"
        policy_args = dict(account=config.account, region=config.region, bucket_name=config.bucket_name("data"),
                           warehouse=config.analytics is not None)
        if config.uses_cloudhsm:
            assert hsm is not None, "cloudhsm mode needs the HSM stack"
            logging = dict(log_key=log_key, log_retention_days=config.log_retention_days)
            key_store = hsm.key_store
            hsm_key = HsmBackedKey(
                self, "DataKey",
                custom_key_store_id=key_store.custom_key_store_id,
                alias_name=alias,
                description=f"{config.name}: data bucket key, material in CloudHSM cluster",
                pending_window_days=config.key_deletion_window_days,
                **logging,
            )
            administrators = [*config.key_administrators, hsm_key.handler_role.role_arn]
            self.key = hsm_key.create(data_key_policy(
                administrators=administrators, store_keepers=[key_store.handler_role.role_arn], **policy_args))
            self.key_arn = hsm_key.key_arn
        else:
            key = kms.Key(
                self, "DataKey",
                description=f"{config.name}: data bucket key (kms mode, no CloudHSM)",
                alias=alias,
                enable_key_rotation=True,
                pending_window=Duration.days(config.key_deletion_window_days),
                removal_policy=KEEP,
                policy=data_key_policy(administrators=list(config.key_administrators), **policy_args),
            )
            self.key = key
            self.key_arn = key.key_arn
        CfnOutput(self, "DataKeyArn", value=self.key_arn)
