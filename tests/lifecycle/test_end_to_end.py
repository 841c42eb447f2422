"""All six lifecycle resources of the synthesised app, in the stacks' order: deploy, scale 2 -> 3 -> 2, destroy.

One deployment per module (it is the expensive part); the tests read its recorded outcome in order.
"""

from __future__ import annotations

import contextlib
import io

import pytest
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.services.cloudhsm import model_of
from tests.support.call_scan import calls_of
from tests.support.world import ACCOUNT, REGION, Deployment, offline_aws


@pytest.fixture(scope="module")
def journey():
    """Deploy from nothing, observe, scale up and down, destroy; record what each phase saw."""
    seen: dict = {}
    logs = io.StringIO()
    with offline_aws(), contextlib.redirect_stdout(logs):
        world = Deployment(hsm_count=2)
        world.deploy()
        cluster = world.cluster()
        seen["deployed"] = {
            "cluster_state": cluster["State"],
            "zones": sorted(hsm["AvailabilityZone"] for hsm in cluster["Hsms"] if hsm["State"] == "ACTIVE"),
            "store": world.kms.describe_custom_key_stores()["CustomKeyStores"][0],
            "key": world.kms.describe_key(KeyId="alias/customer-keys/data")["KeyMetadata"],
            "bucket_encryption": world.s3.get_bucket_encryption(Bucket=world.bucket)["ServerSideEncryptionConfiguration"],
            "round_trip": world.kms.decrypt(CiphertextBlob=world.kms.encrypt(
                KeyId=world.data_key.attributes["KeyArn"], Plaintext=b"customer data")["CiphertextBlob"])["Plaintext"],
            "trust_anchor_parameter": world.ssm.get_parameter(Name=world.trust_anchor_parameter)["Parameter"]["Value"],
            "trust_anchor": world.initialisation.attributes["TrustAnchorPem"],
        }
        deployed_at = CLOCK.now()
        world.scale(3)
        seen["scaled_up"] = sorted(h["AvailabilityZone"] for h in world.cluster()["Hsms"] if h["State"] == "ACTIVE")
        seen["scale_up_seconds"] = CLOCK.now() - deployed_at
        world.scale(2)
        seen["scaled_down"] = sorted(h["AvailabilityZone"] for h in world.cluster()["Hsms"])
        cluster_id = world.cluster_id
        handles = {"first_hsm": world.first_hsm, "cluster_initialisation": world.initialisation,
                   "cluster_activation": world.activation, "hsm_fleet": world.fleet[0],
                   "custom_key_store": world.key_store, "hsm_backed_key": world.data_key,
                   "cluster_audit_log": world.handle("Custom::CloudHsmClusterAuditLog")}
        functions = {name: {function.name for function in handle.functions()} for name, handle in handles.items()}
        secrets = (world.admin_secret, world.kmsuser_secret)
        world.destroy()
        cluster = world.cloudhsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]
        seen["destroyed"] = {
            "hsms": cluster["Hsms"],
            "claims": [tag for tag in world.cloudhsm.list_tags(ResourceId=cluster_id)["TagList"]
                       if tag["Key"].startswith("lifecycle:hsm/")],
            "stores": world.kms.describe_custom_key_stores()["CustomKeyStores"],
            "store_refusal": getattr(world, "store_refusal", ""),
            "key_material": set(model_of(cloudhsmv2_backends[ACCOUNT][REGION].clusters[cluster_id]).key_material),
            "enis": [eni for eni in world.ec2.describe_network_interfaces()["NetworkInterfaces"]
                     if eni.get("Description", "").startswith("CloudHSM ENI")],
            "aliases": [a["AliasName"] for a in world.kms.list_aliases()["Aliases"] if "customer-keys" in a["AliasName"]],
        }
        # The stack retains the cluster; with no HSMs left it can be deleted by hand.
        world.cloudhsm.delete_cluster(ClusterId=cluster_id)
        seen["hsm_creations"] = [event.seconds for phase in world.cloud.timeline.phases for event in phase.events
                                 if event.resource_type == "Custom::CloudHsmHsm" and event.status == "CREATE_COMPLETE"]
        seen["calls"] = {name: {(service, action) for who, service, action in FAULTS.calls if who in names}
                         for name, names in functions.items()}
        seen["passwords"] = [world.secrets.get_secret_value(SecretId=arn)["SecretString"] for arn in secrets]
    seen["logs"] = logs.getvalue()
    return seen


def test_deploy_reaches_an_active_cluster_a_connected_store_and_a_usable_key(journey):
    deployed = journey["deployed"]
    assert deployed["cluster_state"] == "ACTIVE"
    assert deployed["zones"] == ["eu-west-1a", "eu-west-1b"]
    assert deployed["store"]["ConnectionState"] == "CONNECTED"
    key = deployed["key"]
    assert key["Origin"] == "AWS_CLOUDHSM" and key["KeyState"] == "Enabled"
    assert key["CustomKeyStoreId"] == deployed["store"]["CustomKeyStoreId"]
    rule = deployed["bucket_encryption"]["Rules"][0]["ApplyServerSideEncryptionByDefault"]
    assert rule == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}
    assert deployed["round_trip"] == b"customer data"
    assert deployed["trust_anchor_parameter"] == deployed["trust_anchor"]


def test_scaling_adds_and_removes_one_hsm(journey):
    assert journey["scaled_up"] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert journey["scaled_down"] == ["eu-west-1a", "eu-west-1b"]


def test_destroy_leaves_nothing_orphaned(journey):
    destroyed = journey["destroyed"]
    assert destroyed["hsms"] == [] and destroyed["claims"] == [] and destroyed["stores"] == []
    assert destroyed["key_material"] == set() and destroyed["enis"] == [] and destroyed["aliases"] == []
    assert "still holds KMS keys" in destroyed["store_refusal"]


def test_hsms_after_activation_take_one_creation_each(journey):
    assert journey["hsm_creations"] and all(seconds < 15 * 60 for seconds in journey["hsm_creations"])
    assert journey["scale_up_seconds"] < 15 * 60


@pytest.mark.parametrize("resource", ["first_hsm", "cluster_initialisation", "cluster_activation", "hsm_fleet",
                                      "custom_key_store", "hsm_backed_key", "cluster_audit_log"])
def test_every_call_made_is_one_the_static_scan_finds(journey, resource):
    """The IAM test compares the static scan with the roles; this proves the scan misses no call made."""
    made = journey["calls"][resource]
    assert made, f"{resource} made no calls"
    assert made <= calls_of(resource), made - calls_of(resource)


def test_handler_logs_are_structured_and_hold_no_password(journey):
    lines = journey["logs"].splitlines()
    assert lines and all(line.startswith('{"') for line in lines)
    for password in journey["passwords"]:
        assert password not in journey["logs"]
