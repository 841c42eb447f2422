"""Custom::KmsCustomKeyStore: a KMS custom key store on the cluster, connected before it returns.

CreateCustomKeyStore takes the trust anchor and kmsuser's password (read by the
handler from Secrets Manager, never passed through CloudFormation), then
ConnectCustomKeyStore is polled until CONNECTED (20-30 minutes is normal); on
FAILED the ConnectionErrorCode is reported with its fix. Delete disconnects, then
deletes, and refuses while KMS keys remain in the store.

Before it connects a new store (or one given another password secret), the handler sets kmsuser's
password back to the secret's value by running a document on the client host: KMS rotates that
password on every connection, so the secret is stale after the first one.

Properties: CustomKeyStoreName, ClusterId, TrustAnchorParameterName, KmsUserPasswordSecretArn,
AdminPasswordSecretArn, InstanceId, KmsUserPasswordDocumentName.
Attributes: CustomKeyStoreId, ConnectionState.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cmk_constructs.lifecycle_provider import LifecycleProvider, ProviderContract, keep_replaced_keys

RUNTIME = Path(__file__).with_name("runtime")
# The Provider's timing (lifecycle_provider.ProviderContract): the template and the handler's budget.
CONTRACT = ProviderContract(total_timeout=Duration.hours(1), query_interval=Duration.minutes(1))


class CustomKeyStore(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        store_name: str,
        cluster_id: str,
        trust_anchor_parameter: ssm.IStringParameter,
        kmsuser_password: secretsmanager.ISecret,
        admin_password: secretsmanager.ISecret,
        host_instance_id: str,
        kmsuser_password_document: ssm.CfnDocument,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=[
                # Custom key store actions and ListKeys have no resource-level permissions in KMS;
                # CreateCustomKeyStore also needs cloudhsm:DescribeClusters (KMS checks the cluster as the caller).
                iam.PolicyStatement(
                    actions=["kms:CreateCustomKeyStore", "kms:ConnectCustomKeyStore", "kms:DisconnectCustomKeyStore",
                             "kms:DeleteCustomKeyStore", "kms:DescribeCustomKeyStores", "kms:UpdateCustomKeyStore",
                             "kms:ListKeys", "cloudhsm:DescribeClusters"],
                    resources=["*"]),
                # The kmsuser password reset on the client host (Run Command).
                iam.PolicyStatement(
                    actions=["ssm:SendCommand"],
                    resources=[Stack.of(self).format_arn(service="ssm", resource="document",
                                                         resource_name=kmsuser_password_document.ref),
                               Stack.of(self).format_arn(service="ec2", resource="instance",
                                                         resource_name=host_instance_id)]),
                # ListCommands and GetCommandInvocation have no resource-level permissions.
                iam.PolicyStatement(actions=["ssm:ListCommands", "ssm:GetCommandInvocation"], resources=["*"]),
                # Delete looks for keys still in the store before deleting it.
                iam.PolicyStatement(
                    actions=["kms:DescribeKey"],
                    resources=[Stack.of(self).format_arn(service="kms", resource="key", resource_name="*")]),
                # KMS creates its service-linked role for CloudHSM key stores on first use.
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=["arn:aws:iam::*:role/aws-service-role/cks.kms.amazonaws.com/AWSServiceRoleForKeyManagementServiceCustomKeyStores"],
                    conditions={"StringEquals": {"iam:AWSServiceName": "cks.kms.amazonaws.com"}}),
            ],
            log_key=log_key,
            log_retention_days=log_retention_days,
            contract=CONTRACT,
        )
        trust_anchor_parameter.grant_read(provider.handler_role)
        kmsuser_password.grant_read(provider.handler_role)
        # Keys in the store must admit this role for DescribeKey in their key policies (data_key_policy).
        self.handler_role = provider.handler_role
        self.resource = CustomResource(
            self, "Resource",
            service_token=provider.service_token,
            resource_type="Custom::KmsCustomKeyStore",
            properties={
                "CustomKeyStoreName": store_name,
                "ClusterId": cluster_id,
                "TrustAnchorParameterName": trust_anchor_parameter.parameter_name,
                "KmsUserPasswordSecretArn": kmsuser_password.secret_arn,
                "AdminPasswordSecretArn": admin_password.secret_arn,
                "InstanceId": host_instance_id,
                "KmsUserPasswordDocumentName": kmsuser_password_document.ref,
            },
        )
        keep_replaced_keys(self.resource)
        self.custom_key_store_id = self.resource.get_att_string("CustomKeyStoreId")
