"""The deployment, offline: the stacks' native resources in moto, their custom resources
driven through the Provider emulator in the stacks' dependency order.

Shared by the end-to-end test and the simulator (`python -m tests.support.simulate`).
Properties are wired as the stacks wire them (stacks/hsm_stack.py, stacks/keys_stack.py):
FirstHsm.EniIp -> activation HsmIp, Initialisation.TrustAnchorPem -> SSM parameter ->
activation and key store, KeyStore.CustomKeyStoreId -> data key.
"""

from __future__ import annotations

import importlib
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import boto3
from moto import mock_aws

from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from tests.support.handlers import load_handler
from rehearsal.services import install
from tests.support.handlers import REPO
from tests.support.provider import CustomResource, ResourceFailed, run_in_parallel, run_now

REGION = "eu-west-1"
# An AMI id moto accepts (its catalogue of real AMIs is not loaded: MOTO_EC2_LOAD_DEFAULT_AMIS).
EXAMPLE_AMI = "ami-12c6146b"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
PREFIX = "/customer-keys/cloudhsm"
ACTIVATION_SCRIPT = REPO / "cmk_constructs" / "cluster_activation" / "activate_cluster.sh"
# As cmk_constructs/cluster_activation/infrastructure.py declares the document.
DOCUMENT_PARAMETERS = ("Region", "ClusterId", "HsmIp", "TrustAnchorParameterName",
                       "AdminPasswordSecretArn", "KmsUserPasswordSecretArn")


def _timing(resource: str) -> dict:
    """Query interval, total timeout and handler budget, from the construct's ProviderContract."""
    contract = importlib.import_module(f"cmk_constructs.{resource}.infrastructure").CONTRACT
    return dict(query_interval=contract.query_interval.to_seconds(), total_timeout=contract.total_timeout.to_seconds(),
                budget_seconds=contract.budget_seconds)


FIRST_HSM = _timing("first_hsm")
INITIALISATION = _timing("cluster_initialisation")
ACTIVATION = _timing("cluster_activation")
FLEET = _timing("hsm_fleet")
KEY_STORE = _timing("custom_key_store")
DATA_KEY = _timing("hsm_backed_key")
DEPLOY_ORDER = ("first_hsm", "initialisation", "activation", "fleet", "key_store", "data_key")


def use_fake_credentials() -> None:
    """Offline only: moto accepts anything, and nothing may reach real AWS."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_SECURITY_TOKEN": "testing", "AWS_SESSION_TOKEN": "testing",
                        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                        # moto's catalogue of public AMIs costs ~0.2 s per EC2 backend; none is needed.
                        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false"}.items():
        os.environ[name] = value


_session: list[boto3.session.Session] = []


def _shared_session() -> boto3.session.Session:
    if not _session:
        _session.append(boto3.session.Session(region_name=REGION))
    return _session[0]


@lru_cache(maxsize=None)
def test_client(service: str):
    """The test's own view of AWS (not the handlers' clients), one per service per process."""
    return _shared_session().client(service, region_name=REGION)


@contextmanager
def offline_aws() -> Iterator[None]:
    """A fresh mocked AWS with the model installed, on a reset simulated clock."""
    use_fake_credentials()
    install()
    CLOCK.reset()
    FAULTS.reset()
    with mock_aws():
        # moto drops the default session; keeping one keeps its loaded service models. Clients
        # (the handlers' cached ones too) outlive a mock: moto intercepts whichever mock is active.
        boto3.DEFAULT_SESSION = _shared_session()
        yield


@dataclass
class Step:
    name: str
    started: float
    finished: float
    detail: str = ""

    @property
    def seconds(self) -> float:
        return self.finished - self.started


def default_key_deletion_window_days() -> int:
    """cdk.json's default `keyDeletionWindowDays` (the reference environment's key pending window)."""
    context = json.loads((REPO / "cdk.json").read_text())["context"]
    return int((context.get("defaults") or {}).get("keyDeletionWindowDays", 30))


@dataclass
class Deployment:
    """Everything the four stacks create, and what the custom resources returned."""
    hsm_count: int = 2
    ca_mode: str = "managed"
    # 7 (KMS's minimum) keeps the lifecycle tests' clock short; the simulation command passes
    # cdk.json's default keyDeletionWindowDays (default_key_deletion_window_days) and prints it.
    key_deletion_window_days: int = 7
    steps: list[Step] = field(default_factory=list)
    fleet: list[CustomResource] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ec2 = test_client("ec2")
        self.cloudhsm = test_client("cloudhsmv2")
        self.kms = test_client("kms")
        self.ssm = test_client("ssm")
        self.secrets = test_client("secretsmanager")
        self.s3 = test_client("s3")

    # --- native resources (CloudFormation creates these itself) ---------------------

    def create_native_resources(self) -> None:
        vpc = self.ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
        self.subnets = {zone: self.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{index}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
                        for index, zone in enumerate(ZONES)}
        self.instance_id = self.ec2.run_instances(ImageId=EXAMPLE_AMI, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                                                  SubnetId=self.subnets[ZONES[0]])["Instances"][0]["InstanceId"]
        script = ACTIVATION_SCRIPT.read_text().splitlines()
        self.document = self.ssm.create_document(
            Name="ActivationDocument", DocumentType="Command", DocumentFormat="JSON",
            Content=json.dumps({"schemaVersion": "2.2", "description": "Activate the CloudHSM cluster",
                                "parameters": {name: {"type": "String"} for name in DOCUMENT_PARAMETERS},
                                "mainSteps": [{"action": "aws:runShellScript", "name": "ActivateCluster",
                                               "inputs": {"runCommand": script, "timeoutSeconds": "900"}}]}),
        )["DocumentDescription"]["Name"]
        # Secrets Manager generates both passwords (generate_secret_string in the construct).
        self.admin_secret, self.kmsuser_secret = (
            self.secrets.create_secret(Name=name, SecretString=self.secrets.get_random_password(
                PasswordLength=32, ExcludePunctuation=True, IncludeSpace=False)["RandomPassword"])["ARN"]
            for name in ("AdminPassword", "KmsUserPassword"))
        self.ca_key_arn = self.kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY",
                                              Description="CloudHSM cluster CA")["KeyMetadata"]["Arn"]
        started = CLOCK.now()
        self.cluster_id = self.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=list(self.subnets.values()),
                                                       Mode="FIPS")["Cluster"]["ClusterId"]
        while self.cluster_state() != "UNINITIALIZED":  # the AWS::CloudHSM::Cluster handler waits for this
            CLOCK.advance(30)
        self.steps.append(Step("AWS::CloudHSM::Cluster (native)", started, CLOCK.now(), "CREATE_IN_PROGRESS -> UNINITIALIZED"))

    def cluster(self) -> dict:
        return self.cloudhsm.describe_clusters(Filters={"clusterIds": [self.cluster_id]})["Clusters"][0]

    def cluster_state(self) -> str:
        return self.cluster()["State"]

    # --- custom resources, in the stacks' order ---------------------------------------

    def _timed(self, name: str, resource: CustomResource, request_type: str = "Create", old: dict | None = None) -> dict:
        started = CLOCK.now()
        response = run_now(resource, request_type, old)
        resource.physical_id = response["PhysicalResourceId"]
        resource.attributes = response["Data"]
        self.steps.append(Step(name, started, CLOCK.now()))
        return response

    def fleet_resource(self, ordinal: int) -> CustomResource:
        zone = ZONES[ordinal % len(ZONES)]  # AppConfig.hsm_placement: round-robin, first HSM in the first AZ
        return CustomResource(f"HsmFleetHsm{ordinal}", "Custom::CloudHsmHsm", load_handler("hsm_fleet"),
                              {"ClusterId": self.cluster_id, "AvailabilityZone": zone, "Ordinal": str(ordinal)}, **FLEET)

    def deploy(self, until: str = "data_key") -> None:
        """Create everything in the stacks' order, stopping after step `until`."""
        self.create_native_resources()
        for step in DEPLOY_ORDER:
            getattr(self, f"deploy_{step}")()
            if step == until:
                return

    def deploy_first_hsm(self) -> None:
        self.first_hsm = CustomResource("FirstHsm", "Custom::CloudHsmFirstHsm", load_handler("first_hsm"),
                                        {"ClusterId": self.cluster_id, "AvailabilityZone": ZONES[0]}, **FIRST_HSM)
        self._timed("Custom::CloudHsmFirstHsm", self.first_hsm)

    def initialisation_resource(self) -> CustomResource:
        props = {"ClusterId": self.cluster_id, "FirstHsmId": self.first_hsm.attributes.get("HsmId", ""), "CaMode": self.ca_mode,
                 "CaCommonName": "customer-keys/cloudhsm CloudHSM cluster CA"}
        if self.ca_mode == "managed":
            props["CaSigningKeyArn"] = self.ca_key_arn
        else:
            props["ExternalCertificateParameterName"] = f"{PREFIX}/external-ca/signed-certificate"
            props["ExternalTrustAnchorParameterName"] = f"{PREFIX}/external-ca/trust-anchor"
        return CustomResource("Initialisation", "Custom::CloudHsmClusterInitialisation",
                              load_handler("cluster_initialisation"), props, **INITIALISATION)

    def deploy_initialisation(self) -> None:
        self.initialisation = self.initialisation_resource()
        self._timed("Custom::CloudHsmClusterInitialisation", self.initialisation)
        self.publish_trust_anchor(self.initialisation.attributes["TrustAnchorPem"])

    def publish_trust_anchor(self, pem: str) -> None:
        """What the stack does with TrustAnchorPem: an SSM parameter (and a stack output)."""
        self.trust_anchor_parameter = f"{PREFIX}/trust-anchor"
        self.ssm.put_parameter(Name=self.trust_anchor_parameter, Type="String", Value=pem, Overwrite=True)

    def activation_resource(self) -> CustomResource:
        return CustomResource("Activation", "Custom::CloudHsmClusterActivation", load_handler("cluster_activation"), {
            "ClusterId": self.cluster_id, "InstanceId": self.instance_id, "HsmIp": self.first_hsm.attributes["EniIp"],
            "DocumentName": self.document, "TrustAnchorParameterName": self.trust_anchor_parameter,
            "AdminPasswordSecretArn": self.admin_secret, "KmsUserPasswordSecretArn": self.kmsuser_secret}, **ACTIVATION)

    def deploy_activation(self) -> None:
        self.activation = self.activation_resource()
        self._timed("Custom::CloudHsmClusterActivation", self.activation)

    def deploy_fleet(self) -> None:
        self.scale(self.hsm_count)

    def key_store_resource(self) -> CustomResource:
        return CustomResource("KeyStore", "Custom::KmsCustomKeyStore", load_handler("custom_key_store"), {
            "CustomKeyStoreName": "customer-keys-reference", "ClusterId": self.cluster_id,
            "TrustAnchorParameterName": self.trust_anchor_parameter, "KmsUserPasswordSecretArn": self.kmsuser_secret}, **KEY_STORE)

    def deploy_key_store(self) -> None:
        self.key_store = self.key_store_resource()
        self._timed("Custom::KmsCustomKeyStore", self.key_store)

    def data_key_resource(self) -> CustomResource:
        return CustomResource("DataKey", "Custom::HsmBackedKmsKey", load_handler("hsm_backed_key"), {
            "CustomKeyStoreId": self.key_store.attributes["CustomKeyStoreId"], "Description": "customer-keys: data bucket key",
            "AliasName": "alias/customer-keys/data", "PendingWindowInDays": str(self.key_deletion_window_days), "KeyPolicy": self.key_policy()}, **DATA_KEY)

    def deploy_data_key(self) -> None:
        self.data_key = self.data_key_resource()
        self._timed("Custom::HsmBackedKmsKey", self.data_key)
        self.create_data_bucket()

    def key_policy(self) -> dict:
        return {"Version": "2012-10-17", "Statement": [{"Sid": "Administrators", "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"}]}

    def create_data_bucket(self) -> None:
        self.bucket = "customer-keys-data-123456789012-eu-west-1"
        self.s3.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        self.s3.put_bucket_encryption(Bucket=self.bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.data_key.attributes["KeyArn"]},
            "BucketKeyEnabled": True}]})

    def scale(self, count: int) -> None:
        """Make the fleet `count - 1` resources (CloudFormation: add new ones in parallel, then delete removed ones)."""
        wanted = count - 1
        added = [self.fleet_resource(ordinal) for ordinal in range(len(self.fleet) + 1, wanted + 1)]
        removed = self.fleet[wanted:]
        for wave in _waves_one_per_zone(added):
            started = CLOCK.now()
            outcomes = run_in_parallel([(resource, "Create", None) for resource in wave])
            for resource, outcome in zip(wave, outcomes):
                if isinstance(outcome, ResourceFailed):
                    raise outcome
                resource.physical_id, resource.attributes = outcome["PhysicalResourceId"], outcome["Data"]
            self.fleet.extend(wave)
            self.steps.append(Step(f"Custom::CloudHsmHsm x{len(wave)} (parallel)", started, CLOCK.now(),
                                   ", ".join(r.attributes["AvailabilityZone"] for r in wave)))
        if removed:
            self.delete_in_parallel(f"Custom::CloudHsmHsm x{len(removed)} delete (parallel)", removed)
            self.fleet = self.fleet[:wanted]

    def delete_in_parallel(self, name: str, resources: list[CustomResource]) -> None:
        started = CLOCK.now()
        for outcome in run_in_parallel([(resource, "Delete", None) for resource in resources]):
            if isinstance(outcome, ResourceFailed):
                raise outcome
        self.steps.append(Step(name, started, CLOCK.now()))

    def destroy(self) -> None:
        """Delete in reverse dependency order, as CloudFormation deletes the stacks."""
        self.s3.delete_bucket(Bucket=self.bucket)
        self._timed("Custom::HsmBackedKmsKey delete (schedules deletion)", self.data_key, "Delete")
        attempt = CLOCK.now()
        try:
            self._timed("Custom::KmsCustomKeyStore delete", self.key_store, "Delete")
        except ResourceFailed as refusal:
            # The store refuses while the key waits out its pending window (its material is still in
            # the cluster); the operator retries the stack deletion after the window.
            self.store_refusal = str(refusal)
            self.steps.append(Step("Custom::KmsCustomKeyStore delete (refused: key pending deletion)", attempt, CLOCK.now()))
            waiting = CLOCK.now()
            CLOCK.advance(int(self.data_key.properties["PendingWindowInDays"]) * 86400 + 60)
            self.steps.append(Step("(KMS deletes the key at the end of its pending window)", waiting, CLOCK.now()))
            self._timed("Custom::KmsCustomKeyStore delete (retried)", self.key_store, "Delete")
        self.delete_in_parallel(f"Custom::CloudHsmHsm x{len(self.fleet)} delete (parallel)", self.fleet)
        self.fleet = []
        self._timed("Custom::CloudHsmClusterActivation delete (no-op)", self.activation, "Delete")
        self._timed("Custom::CloudHsmClusterInitialisation delete (no-op)", self.initialisation, "Delete")
        self._timed("Custom::CloudHsmFirstHsm delete", self.first_hsm, "Delete")


def _waves_one_per_zone(resources: list[CustomResource]) -> list[list[CustomResource]]:
    """CloudFormation's order for the fleet (hsm_fleet/infrastructure.py): HSMs of one AZ one after
    another, different AZs at once; the k-th new HSM of an AZ goes in wave k."""
    waves: list[list[CustomResource]] = []
    per_zone: dict[str, int] = {}
    for resource in resources:
        zone = resource.properties["AvailabilityZone"]
        wave = per_zone.get(zone, 0)
        per_zone[zone] = wave + 1
        if wave == len(waves):
            waves.append([])
        waves[wave].append(resource)
    return waves
