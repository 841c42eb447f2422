"""The lifecycle tests' deployment: the synthesised app, deployed by the rehearsal a resource at a time.

Nothing is wired here. The stacks are the app synthesised with the test's settings (hsmCount,
caMode, keyDeletionWindowDays: `cdk synth -c key=value`); the rehearsal's engine deploys their
native resources; each custom resource is the template's, its properties resolved against what is
deployed, run from its asset through the Provider framework's contract. A test pauses before the
resource it is about (`deploy_first_hsm`, ... or `deployed(world, step)`), then drives it.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from cmk_validate.model import Assembly, load
from rehearsal.cloudformation.engine import Cloud, DeployFailed
from rehearsal.faults import FAULTS
from rehearsal.session import offline_account
from stacks.config import load_config
from tests.support import synth_cache
from tests.support.provider import FAILED_PREFIX, CustomResource, ResourceFailed, run_now

REPO = Path(__file__).resolve().parents[2]
_CONFIG = load_config(json.loads((REPO / "cdk.json").read_text())["context"])
ACCOUNT, REGION, ZONES = _CONFIG.account, _CONFIG.region, tuple(_CONFIG.availability_zones)
DEPLOY_ORDER = ("first_hsm", "initialisation", "activation", "fleet", "key_store", "data_key")
_clouds: list[Cloud] = []


@lru_cache(maxsize=None)
def assembly(hsm_count: int, ca_mode: str, key_deletion_window_days: int) -> Assembly:
    """The reference environment synthesised with these settings, once per test run (loaded once per process)."""
    settings = {"environment": _CONFIG.environment, "hsmCount": hsm_count, "caMode": ca_mode,
                "keyDeletionWindowDays": key_deletion_window_days}
    return load(str(synth_cache.assembly(settings, nag=False)))


@contextmanager
def offline_aws() -> Iterator[Cloud]:
    """A fresh offline account (moto and the model), bootstrapped, on a reset simulated clock."""
    with offline_account(ACCOUNT, REGION) as cloud:
        _clouds.append(cloud)
        try:
            yield cloud
        finally:
            _clouds.pop()


def _logical_id(assembly_: Assembly, resource_type: str, **properties: str) -> str:
    for stack in assembly_.stacks:
        for logical_id, resource in stack.resources.items():
            if resource.get("Type") == resource_type and all(
                    (resource.get("Properties") or {}).get(key) == value for key, value in properties.items()):
                return logical_id
    raise LookupError(f"no {resource_type} {properties or ''} in the assembly")


class Deployment:
    """The app in the current offline account; settings may change until the first resource is deployed."""

    def __init__(self, hsm_count: int = 2, ca_mode: str = "managed", key_deletion_window_days: int = 7) -> None:
        self.hsm_count, self.ca_mode, self.key_deletion_window_days = hsm_count, ca_mode, key_deletion_window_days
        self.cloud = _clouds[-1]
        self.fleet: list[CustomResource] = []
        self.store_refusal = ""
        for service in ("ec2", "cloudhsmv2", "kms", "ssm", "secretsmanager", "s3"):
            setattr(self, {"cloudhsmv2": "cloudhsm", "secretsmanager": "secrets"}.get(service, service),
                    self.cloud.client(service))

    # --- the app, as synthesised for these settings ------------------------------------------------

    @property
    def assembly(self) -> Assembly:
        """The app for the current settings (a test may change them between steps, as a redeploy would)."""
        return assembly(self.hsm_count, self.ca_mode, self.key_deletion_window_days)

    def _id(self, resource_type: str, **properties: str) -> str:
        return _logical_id(self.assembly, resource_type, **properties)

    def handle(self, resource_type: str, assembly_: Assembly | None = None, deploy_dependencies: bool = True,
               **properties: str) -> CustomResource:
        """The template's custom resource of `resource_type`, resolved against what is deployed now
        (after deploying what it depends on, unless a test wants to run it out of order)."""
        assembly_ = assembly_ or self.assembly
        logical_id = _logical_id(assembly_, resource_type, **properties)
        if deploy_dependencies and not any(logical_id in state.resources for state in self.cloud.stacks.values()):
            self.cloud.deploy(assembly_, until=logical_id)   # what CloudFormation deploys before it
        ctx = self.cloud.resource_context(assembly_, logical_id)
        return CustomResource(self.cloud, assembly_, logical_id, resource_type, ctx.properties)

    def _deployed(self, resource_type: str) -> dict:
        """Physical id and attributes of a deployed native resource of `resource_type` (the first)."""
        self._natives()
        for state in self.cloud.stacks.values():
            for resource in state.resources.values():
                if resource.resource_type == resource_type and resource.physical_id:
                    return {"Ref": resource.physical_id, **resource.attributes}
        raise LookupError(f"no {resource_type} is deployed yet")

    def _natives(self) -> None:
        if not self.cloud.stacks:  # everything the first HSM needs, and nothing that depends on it
            self.cloud.deploy(self.assembly, until=self._id("Custom::CloudHsmFirstHsm"))

    def create_native_resources(self) -> None:
        """The native resources the first HSM needs: network, cluster (UNINITIALIZED), keys, secrets, host."""
        self._natives()

    @property
    def cluster_id(self) -> str:
        return self._deployed("AWS::CloudHSM::Cluster")["Ref"]

    @property
    def instance_id(self) -> str:
        return self._deployed("AWS::EC2::Instance")["Ref"]

    @property
    def document(self) -> str:
        return self._deployed("AWS::SSM::Document")["Ref"]

    def _secret(self, description_start: str) -> str:
        self._natives()
        for state in self.cloud.stacks.values():
            for resource in state.resources.values():
                if resource.resource_type == "AWS::SecretsManager::Secret" and \
                        str(resource.properties.get("Description", "")).startswith(description_start):
                    return resource.physical_id
        raise LookupError(f"no secret '{description_start}...' is deployed")

    @property
    def admin_secret(self) -> str:
        return self._secret("CloudHSM cluster admin password")

    @property
    def kmsuser_secret(self) -> str:
        return self._secret("Password of the CloudHSM crypto user kmsuser")

    @property
    def ca_key_arn(self) -> str:
        return self.initialisation_resource().properties["CaSigningKeyArn"]

    @property
    def trust_anchor_parameter(self) -> str:
        return self.activation_resource().properties["TrustAnchorParameterName"]

    def cluster(self) -> dict:
        return self.cloudhsm.describe_clusters(Filters={"clusterIds": [self.cluster_id]})["Clusters"][0]

    def cluster_state(self) -> str:
        return self.cluster()["State"]

    # --- the custom resources, in the stacks' order ------------------------------------------------

    def first_hsm_resource(self) -> CustomResource:
        self._natives()
        return self.handle("Custom::CloudHsmFirstHsm")

    def initialisation_resource(self) -> CustomResource:
        return self.handle("Custom::CloudHsmClusterInitialisation")

    def activation_resource(self) -> CustomResource:
        return self.handle("Custom::CloudHsmClusterActivation")

    def fleet_resource(self, ordinal: int, deploy_dependencies: bool = True) -> CustomResource:
        """The HSM resource of that ordinal, from the app synthesised with enough HSMs for it."""
        larger = assembly(max(self.hsm_count, ordinal + 1), self.ca_mode, self.key_deletion_window_days)
        return self.handle("Custom::CloudHsmHsm", larger, deploy_dependencies, Ordinal=str(ordinal))

    def key_store_resource(self) -> CustomResource:
        return self.handle("Custom::KmsCustomKeyStore")

    def data_key_resource(self) -> CustomResource:
        return self.handle("Custom::HsmBackedKmsKey")

    def key_policy(self) -> dict:
        return self.data_key_resource().properties["KeyPolicy"]

    def _create(self, resource_type: str) -> CustomResource:
        """Deploy what the resource depends on, then create it (a failure raises ResourceFailed)."""
        self._natives()
        resource = self.handle(resource_type)
        run_now(resource, "Create")
        return resource

    def deploy_first_hsm(self) -> None:
        self.first_hsm = self._create("Custom::CloudHsmFirstHsm")

    def deploy_initialisation(self) -> None:
        self.initialisation = self._create("Custom::CloudHsmClusterInitialisation")

    def deploy_activation(self) -> None:
        self.activation = self._create("Custom::CloudHsmClusterActivation")

    def deploy_fleet(self) -> None:
        self.scale(self.hsm_count)

    def scale(self, count: int) -> None:
        """`cdk deploy -c hsmCount=COUNT`: the fleet resources are created or deleted by the stack update."""
        self.hsm_count = count
        self._deploy_to("Custom::KmsCustomKeyStore")
        self.fleet = self._fleet_handles()

    def _fleet_handles(self) -> list[CustomResource]:
        found = []
        for state in self.cloud.stacks.values():
            for resource in state.resources.values():
                if resource.resource_type == "Custom::CloudHsmHsm":
                    found.append(CustomResource(self.cloud, self.assembly, resource.logical_id, resource.resource_type,
                                                resource.properties, resource.physical_id, dict(resource.attributes)))
        return sorted(found, key=lambda handle: int(handle.properties["Ordinal"]))

    def _deploy_to(self, resource_type: str) -> None:
        """Deploy up to `resource_type`, or everything when that resource is deployed already."""
        logical_id = self._id(resource_type)
        deployed = any(logical_id in state.resources for state in self.cloud.stacks.values())
        try:
            self.cloud.deploy(self.assembly, until=None if deployed else logical_id)
        except DeployFailed as failure:
            raise ResourceFailed(failure.reason.removeprefix(FAILED_PREFIX)) from None

    def deploy_key_store(self) -> None:
        self.key_store = self._create("Custom::KmsCustomKeyStore")

    def deploy_data_key(self) -> None:
        self.data_key = self._create("Custom::HsmBackedKmsKey")
        self.cloud.deploy(self.assembly)   # the rest of the Keys stack, and the Data stack
        (data,) = [state for name, state in self.cloud.stacks.items() if name.endswith("-Data")]
        self.bucket = next(resource.physical_id for resource in data.resources.values()
                           if resource.resource_type == "AWS::S3::Bucket")

    def deploy(self, until: str = "data_key") -> None:
        """Create everything in the stacks' order, stopping after step `until`."""
        for step in DEPLOY_ORDER:
            getattr(self, f"deploy_{step}")()
            if step == until:
                return

    def destroy(self) -> None:
        """`cdk destroy --all`, in the rounds the README documents (the store waits for its key)."""
        from rehearsal.session import _wait_for_pending_key_deletions

        try:
            self.cloud.destroy(self.assembly)
        except DeployFailed as refusal:
            self.store_refusal = refusal.reason
            _wait_for_pending_key_deletions(self.cloud)
            self.cloud.destroy(self.assembly)

    def calls_by(self, resource: CustomResource) -> set[tuple[str, str]]:
        """(service, operation) of the calls the resource's handler functions made."""
        names = {function.name for function in resource.functions()}
        return {(service, action) for who, service, action in FAULTS.calls if who in names}
