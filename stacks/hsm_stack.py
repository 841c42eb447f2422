"""HSM stack: the CloudHSM cluster, its client host, the lifecycle up to every HSM ACTIVE, and the
KMS custom key store on the cluster, with its health alarms.

Order (each step a resource that depends on the previous one): cluster -> first HSM
-> initialisation (CSR signed, trust anchor published) -> activation on the client
host (admin password, kmsuser) -> the remaining HSMs, created in parallel -> the key store.
Beside it, after the first HSM: the cluster's audit log group, which CloudHSM makes and the
stack adopts (cmk_constructs.cluster_audit_log).

The key store lives here, not with the data key: KMS deletes a store only once no key is left in
it, pending deletion included, so a store must outlive its keys. With the data key in the same
stack, a failure after the key's creation rolled the stack back into a store KMS would not delete,
and the next deploy failed too (the rehearsal's fail-each-step scenario).
"""

from __future__ import annotations

from typing import Sequence

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.client_host.infrastructure import HsmClientHost
from cmk_constructs.cluster_activation.infrastructure import ClusterActivation
from cmk_constructs.cluster_audit_log.infrastructure import ClusterAuditLog
from cmk_constructs.cluster_initialisation.infrastructure import ClusterInitialisation
from cmk_constructs.custom_key_store.infrastructure import CustomKeyStore
from cmk_constructs.first_hsm.infrastructure import FirstHsm
from cmk_constructs.hsm_cluster.infrastructure import HsmCluster
from cmk_constructs.hsm_fleet.infrastructure import HsmFleet
from cmk_constructs.hsm_peering.infrastructure import PeeredApplication
from cmk_constructs.key_health_check.infrastructure import KeyStoreHealthAlarms
from stacks.config import AppConfig


class HsmStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: AppConfig,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        log_key: kms.IKey,
        peered_applications: Sequence[PeeredApplication] = (),
        **kwargs,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        logging = dict(log_key=log_key, log_retention_days=config.log_retention_days)
        self.cluster = HsmCluster(
            self, "CloudHsm",
            vpc=vpc,
            subnets=subnets,
            hsm_type=config.hsm_type,
            backup_retention_days=config.backup_retention_days,
        )
        self.client_host = HsmClientHost(
            self, "ClientHost",
            vpc=vpc,
            subnets=subnets,
            instance_type=config.client_instance_type,
            client_package=config.client_package,
        )
        self.cluster.allow_client(self.client_host.security_group)
        for application in peered_applications:
            self.cluster.allow_peered_client(application.name.capitalize(), application.client_security_group_id,
                                             add_egress=application.manages_client_egress)

        cluster_id, cluster_arn = self.cluster.cluster_id, self.cluster.cluster_arn
        first_zone, *other_zones = config.hsm_placement
        self.first_hsm = FirstHsm(
            self, "FirstHsm", cluster_id=cluster_id, cluster_arn=cluster_arn, availability_zone=first_zone, **logging)
        # CloudHSM makes the audit log group, at a moment it does not document; once an HSM exists it
        # has something to log, and the group is adopted whether CloudHSM made it yet or not.
        self.audit_log = ClusterAuditLog(self, "ClusterAuditLog", cluster_id=cluster_id, **logging)
        self.audit_log.resource.node.add_dependency(self.first_hsm.resource)

        parameter_prefix = f"/{config.name}/cloudhsm"
        self.initialisation = ClusterInitialisation(
            self, "Initialisation",
            cluster_id=cluster_id,
            cluster_arn=cluster_arn,
            first_hsm_id=self.first_hsm.hsm_id,
            ca_mode=config.ca_mode,
            parameter_prefix=parameter_prefix,
            key_deletion_window_days=config.key_deletion_window_days,
            **logging,
        )
        self.activation = ClusterActivation(
            self, "Activation",
            cluster_id=cluster_id,
            instance_id=self.client_host.instance_id,
            host_role=self.client_host.role,
            hsm_ip=self.first_hsm.eni_ip,
            trust_anchor_parameter=self.initialisation.trust_anchor_parameter,
            **logging,
        )
        # The host must reach the HSM and have its permissions before the command runs.
        self.activation.resource.node.add_dependency(self.cluster, self.client_host)
        self.fleet = HsmFleet(
            self, "HsmFleet", cluster_id=cluster_id, cluster_arn=cluster_arn, placement=other_zones, **logging)
        for hsm in self.fleet.hsms:
            hsm.node.add_dependency(self.activation.resource)

        self.trust_anchor_parameter = self.initialisation.trust_anchor_parameter
        self.kmsuser_password = self.activation.kmsuser_password
        self.key_store = CustomKeyStore(
            self, "KeyStore",
            store_name=config.store_name,
            cluster_id=cluster_id,
            trust_anchor_parameter=self.trust_anchor_parameter,
            kmsuser_password=self.kmsuser_password,
            admin_password=self.activation.admin_password,
            host_instance_id=self.activation.instance_id,
            kmsuser_password_document=self.activation.kmsuser_password_document,
            **logging,
        )
        self.key_store.node.add_dependency(self.fleet)  # KMS needs two ACTIVE HSMs in different AZs
        self.health = KeyStoreHealthAlarms(
            self, "KeyStoreHealth",
            cluster_id=cluster_id,
            custom_key_store_id=self.key_store.custom_key_store_id,
            key=log_key,
            log_retention_days=config.log_retention_days,
            alarm_email=config.alarm_email,
            alarm_name_prefix=f"{config.name}-{config.environment}",
        )
        CfnOutput(self, "ClusterId", value=cluster_id)
        CfnOutput(self, "TrustAnchorParameterName", value=self.trust_anchor_parameter.parameter_name)
        CfnOutput(self, "ClientHostInstanceId", value=self.client_host.instance_id)
        CfnOutput(self, "CustomKeyStoreId", value=self.key_store.custom_key_store_id)
