"""Custom::CloudHsmClusterInitialisation: sign the cluster CSR and call InitializeCluster.

CA modes:
- managed: the CA's private key is a KMS asymmetric key (RSA_3072, SIGN_VERIFY). It
  never leaves KMS's HSMs, so it exists in plaintext nowhere, not even in the
  handler's memory; the handler builds the self-signed CA certificate and the HSM
  certificate with `cryptography` and has KMS sign them (kms:Sign).
- external: an operator signs the CSR (attribute ClusterCsr of the first HSM) with
  their own CA and writes the signed certificate and the trust anchor into two SSM
  parameters; the resource waits for them within its time budget.

Properties: ClusterId, FirstHsmId, CaMode, CaSigningKeyArn (managed),
ExternalCertificateParameterName and ExternalTrustAnchorParameterName (external),
CaCommonName.
Attributes: TrustAnchorPem, ClusterState.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from cmk_constructs.lifecycle_provider import (
    BYTECODE,
    HANDLER_ARCHITECTURE,
    HANDLER_RUNTIME,
    LifecycleProvider,
    ProviderContract,
)
from cmk_constructs.nag import acknowledge
from cmk_constructs.retention import KEEP

RUNTIME = Path(__file__).with_name("runtime")
# The Provider's timing (lifecycle_provider.ProviderContract): the template and the handler's budget.
CONTRACT = ProviderContract(total_timeout=Duration.minutes(50), query_interval=Duration.seconds(30))
# Built by `make layers` from requirements-layer.txt (cryptography for arm64/python3.12).
X509_LAYER_DIR = Path(__file__).resolve().parents[2] / "build" / "layers" / "x509"


class MissingLayerError(RuntimeError):
    """The x509 layer was not built; str() is the one line to show."""


class ClusterInitialisation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_id: str,
        cluster_arn: str,
        first_hsm_id: str,
        ca_mode: str,
        parameter_prefix: str,
        key_deletion_window_days: int,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        properties = {"ClusterId": cluster_id, "FirstHsmId": first_hsm_id, "CaMode": ca_mode,
                      "CaCommonName": f"{parameter_prefix.strip('/')} CloudHSM cluster CA"}
        statements = [
            iam.PolicyStatement(actions=["cloudhsm:InitializeCluster"], resources=[cluster_arn]),
            iam.PolicyStatement(actions=["cloudhsm:DescribeClusters"], resources=["*"]),
        ]
        if ca_mode == "managed":
            self.ca_signing_key = kms.Key(
                self, "CaSigningKey",
                description="Private key of the CloudHSM cluster's issuing CA; never leaves KMS",
                key_spec=kms.KeySpec.RSA_3072,
                key_usage=kms.KeyUsage.SIGN_VERIFY,
                pending_window=Duration.days(key_deletion_window_days),
                removal_policy=KEEP,
            )
            acknowledge(self.ca_signing_key, "AwsSolutions-KMS5", "Asymmetric signing keys cannot have automatic rotation; the CA key only signs the cluster certificate once.")
            properties["CaSigningKeyArn"] = self.ca_signing_key.key_arn
            statements.append(iam.PolicyStatement(actions=["kms:Sign", "kms:GetPublicKey"], resources=[self.ca_signing_key.key_arn]))
        else:
            certificate = f"{parameter_prefix}/external-ca/signed-certificate"
            trust_anchor = f"{parameter_prefix}/external-ca/trust-anchor"
            properties["ExternalCertificateParameterName"] = certificate
            properties["ExternalTrustAnchorParameterName"] = trust_anchor
            statements.append(iam.PolicyStatement(
                actions=["ssm:GetParameter"],
                resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))
                           for name in (certificate, trust_anchor)]))

        if not (X509_LAYER_DIR / "python").is_dir():
            raise MissingLayerError(f"{X509_LAYER_DIR} is missing: run 'make layers' (builds the cryptography layer for the initialisation handler)")
        x509_layer = lambda_.LayerVersion(
            self, "X509Layer",
            code=lambda_.Code.from_asset(str(X509_LAYER_DIR), exclude=BYTECODE),
            compatible_runtimes=[HANDLER_RUNTIME],
            compatible_architectures=[HANDLER_ARCHITECTURE],
            description="cryptography, for building and checking X.509 certificates",
        )
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=statements,
            extra_layers=[x509_layer],
            log_key=log_key,
            log_retention_days=log_retention_days,
            contract=CONTRACT,
        )
        self.resource = CustomResource(
            self, "Resource",
            service_token=provider.service_token,
            resource_type="Custom::CloudHsmClusterInitialisation",
            properties=properties,
        )
        self.trust_anchor_parameter = ssm.StringParameter(
            self, "TrustAnchor",
            parameter_name=f"{parameter_prefix}/trust-anchor",
            string_value=self.resource.get_att_string("TrustAnchorPem"),
            description="PEM of the CA that issued the CloudHSM cluster certificate (customerCA.crt)",
        )
