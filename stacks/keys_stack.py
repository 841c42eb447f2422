"""Keys stack: the data key. cloudhsm mode: custom key store + HSM-backed key + health alarms;
kms mode: a rotating customer-managed KMS key, no CloudHSM at all."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration, Stack
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.custom_key_store.infrastructure import CustomKeyStore
from cmk_constructs.data_key_policy import data_key_policy
from cmk_constructs.hsm_backed_key.infrastructure import HsmBackedKey
from cmk_constructs.key_health_check.infrastructure import KeyStoreHealthAlarms
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
        policy_args = dict(account=config.account, region=config.region, bucket_name=config.bucket_name("data"))
        if config.uses_cloudhsm:
            assert hsm is not None, "cloudhsm mode needs the HSM stack"
            logging = dict(log_key=log_key, log_retention_days=config.log_retention_days)
            self.key_store = CustomKeyStore(
                self, "KeyStore",
                store_name=config.store_name,
                cluster_id=hsm.cluster.cluster_id,
                trust_anchor_parameter=hsm.trust_anchor_parameter,
                kmsuser_password=hsm.kmsuser_password,
                admin_password=hsm.activation.admin_password,
                host_instance_id=hsm.activation.instance_id,
                kmsuser_password_document=hsm.activation.kmsuser_password_document,
                **logging,
            )
            hsm_key = HsmBackedKey(
                self, "DataKey",
                custom_key_store_id=self.key_store.custom_key_store_id,
                alias_name=alias,
                description=f"{config.name}: data bucket key, material in CloudHSM cluster",
                pending_window_days=config.key_deletion_window_days,
                **logging,
            )
            administrators = [*config.key_administrators, hsm_key.handler_role.role_arn]
            self.key = hsm_key.create(data_key_policy(
                administrators=administrators, store_keepers=[self.key_store.handler_role.role_arn], **policy_args))
            self.key_arn = hsm_key.key_arn
            self.health = KeyStoreHealthAlarms(
                self, "KeyStoreHealth",
                cluster_id=hsm.cluster.cluster_id,
                custom_key_store_id=self.key_store.custom_key_store_id,
                key=log_key,
                log_retention_days=config.log_retention_days,
                alarm_email=config.alarm_email,
                alarm_name_prefix=f"{config.name}-{config.environment}",
            )
            CfnOutput(self, "CustomKeyStoreId", value=self.key_store.custom_key_store_id)
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
