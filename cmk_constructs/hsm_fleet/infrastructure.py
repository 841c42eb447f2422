"""Custom::CloudHsmHsm: the HSMs after the first, one resource each, created in parallel.

One Provider serves every HSM resource; CloudFormation creates them concurrently
once the cluster is activated, so the deployment waits for one HSM creation, not N
(with more HSMs than AZs, one wave per HSM an AZ holds: same-AZ creations are serial).
Scaling is a change of `hsmCount`: CloudFormation adds or removes resources.

Properties: ClusterId, AvailabilityZone, Ordinal (the HSM's position in the
configured placement; the handler records which HSM it owns in a cluster tag, so
a retried create makes nothing twice and a replaced HSM is found by AZ/ENI).
Attributes: HsmId, AvailabilityZone, EniIp.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from aws_cdk import CustomResource, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.first_hsm.infrastructure import hsm_statements
from cmk_constructs.lifecycle_provider import LifecycleProvider, ProviderContract

RUNTIME = Path(__file__).with_name("runtime")
# The Provider's timing (lifecycle_provider.ProviderContract): the template and the handler's budget.
CONTRACT = ProviderContract(total_timeout=Duration.minutes(45), query_interval=Duration.seconds(30))


class HsmFleet(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        cluster_id: str,
        cluster_arn: str,
        placement: Sequence[str],
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        """`placement`: the AZ of every HSM after the first, in order."""
        super().__init__(scope, construct_id)
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=[
                *hsm_statements(cluster_arn),
                # Delete refuses to leave a key store's cluster with fewer than 2 HSMs (no resource-level permissions).
                iam.PolicyStatement(actions=["kms:DescribeCustomKeyStores"], resources=["*"]),
            ],
            log_key=log_key,
            log_retention_days=log_retention_days,
            contract=CONTRACT,
        )
        self.hsms: list[CustomResource] = []
        last_in_zone: dict[str, CustomResource] = {}
        for ordinal, zone in enumerate(placement, start=1):
            hsm = CustomResource(
                self, f"Hsm{ordinal}",
                service_token=provider.service_token,
                resource_type="Custom::CloudHsmHsm",
                properties={"ClusterId": cluster_id, "AvailabilityZone": zone, "Ordinal": str(ordinal)},
            )
            # One creation per AZ at a time: after a crash a handler adopts the unclaimed HSM of its
            # AZ, which is unambiguous only while no other resource is creating one there.
            if zone in last_in_zone:
                hsm.node.add_dependency(last_in_zone[zone])
            last_in_zone[zone] = hsm
            self.hsms.append(hsm)
