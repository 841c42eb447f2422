"""Custom::ClusterPlacementGuard: refuse an update that would replace the CloudHSM cluster.

A cluster's subnets and HSM type cannot change (`AWS::CloudHSM::Cluster` SubnetIds and HsmType are
create-only), so changing `availabilityZones`, `vpcCidr` or `hsmType` makes CloudFormation build a
new, empty cluster beside the retained one: every key in the old cluster is out of reach of the
new key store, and the old HSMs keep billing. Synthesis cannot see what is deployed (it is offline),
so the refusal is the first step of the deployment instead: every other resource of the Network
stack depends on this one, and its handler fails the update before anything else changes.

Properties: AvailabilityZones, VpcCidr, HsmType (the cdk.json settings that place the cluster).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from aws_cdk import CustomResource
from aws_cdk import aws_kms as kms
from constructs import Construct

from cmk_constructs.lifecycle_provider import LifecycleProvider

RUNTIME = Path(__file__).with_name("runtime")


class ClusterPlacementGuard(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        availability_zones: Sequence[str],
        vpc_cidr: str,
        hsm_type: str,
        log_key: kms.IKey,
        log_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id)
        # No AWS call to make: the decision reads only the request (see the handler).
        provider = LifecycleProvider(
            self, "Lifecycle",
            runtime_dir=RUNTIME,
            statements=[],
            log_key=log_key,
            log_retention_days=log_retention_days,
        )
        self.resource = CustomResource(
            self, "Resource",
            service_token=provider.service_token,
            resource_type="Custom::ClusterPlacementGuard",
            properties={"AvailabilityZones": list(availability_zones), "VpcCidr": vpc_cidr, "HsmType": hsm_type},
        )

    def comes_before(self, *constructs: Construct) -> None:
        """Make every resource under `constructs` wait for the guard, so a refusal comes first."""
        for construct in constructs:
            construct.node.add_dependency(self.resource)
