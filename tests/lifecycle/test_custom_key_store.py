"""Custom::KmsCustomKeyStore: create + connect, connection errors with fixes, update, guarded delete."""

from __future__ import annotations

import pytest
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.services import cloudhsm as cloudhsm_model
from rehearsal.services.cloudhsm import model_of
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run, run_now
from tests.support.world import ACCOUNT, REGION


def _cluster_model(world):
    return model_of(cloudhsmv2_backends[ACCOUNT][REGION].clusters[world.cluster_id])


def _stores(world):
    return world.kms.describe_custom_key_stores()["CustomKeyStores"]


def test_create_connects_the_store(world):
    deployed(world, "key_store")
    [store] = _stores(world)
    assert store["ConnectionState"] == "CONNECTED" and store["CloudHsmClusterId"] == world.cluster_id
    assert world.key_store.attributes == {"CustomKeyStoreId": store["CustomKeyStoreId"], "ConnectionState": "CONNECTED"}


def test_a_retry_adopts_the_store_by_name(world):
    deployed(world, "key_store")
    response = run_now(world.key_store, "Create")
    assert len(_stores(world)) == 1 and response["PhysicalResourceId"] == world.key_store.physical_id


def test_a_failed_connection_reports_the_error_code_and_fix(world):
    deployed(world, "fleet")
    _cluster_model(world).network_broken = True
    with pytest.raises(ResourceFailed) as failure:
        world.deploy_key_store()
    assert "failed to connect: NETWORK_ERRORS: " in str(failure.value)
    assert "security group allows 2223-2225" in str(failure.value)


def test_kmsuser_logged_in_elsewhere_stops_the_password_reset_with_the_hosts_error(world):
    """CloudHSM refuses to change the password of a user who is logged in (CloudHSM User Guide, "Change
    HSM user passwords using CloudHSM CLI"): the store is not connected with a password it cannot set."""
    deployed(world, "fleet")
    _cluster_model(world).logged_in.add("kmsuser")
    with pytest.raises(ResourceFailed, match=r"kmsuser password command \S+ on i-\w+ Failed: user change-password "
                                             r"kmsuser failed: .*user kmsuser is logged in"):
        world.deploy_key_store()
    assert _stores(world)[0]["ConnectionState"] == "DISCONNECTED"


def test_a_store_whose_password_kms_cannot_use_reports_invalid_credentials_and_the_fix(world):
    """The secret went stale behind KMS's back (here: told to KMS after KMS rotated it): the next
    connection fails with INVALID_CREDENTIALS, which the handler reports with its fix."""
    deployed(world, "key_store")
    store_id = world.key_store.physical_id
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_DISCONNECT + 1)
    secret = world.secrets.get_secret_value(SecretId=world.kmsuser_secret)["SecretString"]
    world.kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=secret)
    with pytest.raises(ResourceFailed) as failure:
        run_now(world.key_store, "Update", old_properties=dict(world.key_store.properties))
    assert "failed to connect: INVALID_CREDENTIALS: " in str(failure.value)
    assert "user change-password" in str(failure.value)


def test_insufficient_hsms_when_they_fail_during_connection(world):
    deployed(world, "fleet")
    resource = world.key_store_resource()
    steps = run(resource, "Create")
    while not [store for store in _stores(world) if store["ConnectionState"] == "CONNECTING"]:
        CLOCK.advance_to(next(steps))  # kmsuser's password is set on the host first, then the store connects
    CLOCK.advance(15 * 60)  # late in the connection, so the replacements are not ACTIVE when it settles
    for hsm in list(_cluster_model(world).hsms):  # both HSMs fail; replacements take longer than the connection
        cloudhsm_model.replace_failed_hsm(cloudhsmv2_backends[ACCOUNT][REGION], world.cluster_id, hsm.hsm_id)
    with pytest.raises(ResourceFailed, match="INSUFFICIENT_CLOUDHSM_HSMS: the cluster has no ACTIVE HSM"):
        while True:
            CLOCK.advance_to(next(steps))


def test_create_needs_two_hsms_in_two_zones(world):
    resource = world.key_store_resource()   # the fleet is deployed before it; take it away again
    for hsm in world.fleet or world._fleet_handles():
        world.cloudhsm.delete_hsm(ClusterId=world.cluster_id, HsmId=hsm.attributes["HsmId"])
    CLOCK.run_until_idle()
    assert len(world.cluster()["Hsms"]) == 1
    with pytest.raises(ResourceFailed, match="CloudHsmClusterInvalidConfigurationException"):
        run_now(resource, "Create")


def test_throttled_connect_is_retried(world, retry_sleeps):
    deployed(world, "fleet")
    FAULTS.throttle("kms", "ConnectCustomKeyStore", times=2)
    world.deploy_key_store()
    assert _stores(world)[0]["ConnectionState"] == "CONNECTED" and len(retry_sleeps) == 2


def test_a_connection_slower_than_the_budget_fails_clearly(world, monkeypatch):
    deployed(world, "fleet")
    monkeypatch.setattr(durations, "KEY_STORE_CONNECT", 2 * 3600)
    with pytest.raises(ResourceFailed, match=r"gave up after 5\d min waiting for custom key store cks-\w+ to connect"):
        world.deploy_key_store()


def test_a_rename_keeps_the_store_connected(world):
    """KMS API Reference, UpdateCustomKeyStore: NewCustomKeyStoreName "can be connected or disconnected",
    so a rename is made in place: the keys stay usable, no 20-minute reconnection."""
    deployed(world, "key_store")
    old = dict(world.key_store.properties)
    world.key_store.properties["CustomKeyStoreName"] = "customer-keys-renamed"
    response = run_now(world.key_store, "Update", old_properties=old)
    [store] = _stores(world)
    assert store["CustomKeyStoreName"] == "customer-keys-renamed" and store["ConnectionState"] == "CONNECTED"
    assert response["PhysicalResourceId"] == store["CustomKeyStoreId"]
    assert ("kms", "DisconnectCustomKeyStore") not in world.calls_by(world.key_store)


def test_delete_refuses_while_keys_remain_then_deletes_when_empty(world):
    deployed(world, "data_key")
    with pytest.raises(ResourceFailed, match=r"still holds KMS keys .*\(Enabled\): deleting it would orphan their material"):
        run_now(world.key_store, "Delete")
    assert _stores(world)[0]["ConnectionState"] == "CONNECTED"  # refused before disconnecting
    run_now(world.data_key, "Delete")
    CLOCK.advance(7 * 86400 + 60)
    run_now(world.key_store, "Delete")
    assert _stores(world) == [] and _cluster_model(world).key_material == set()


def test_connecting_rotates_the_kmsuser_password_so_the_secret_is_stale(world):
    """KMS Developer Guide, "Connecting and disconnecting an AWS CloudHSM key store": KMS changes the
    kmsuser password each time it connects. KMS itself reconnects; a copy of the old password does not."""
    deployed(world, "key_store")
    store_id = world.key_store.physical_id
    secret = world.secrets.get_secret_value(SecretId=world.kmsuser_secret)["SecretString"]
    assert _cluster_model(world).users["kmsuser"]["password_digest"] != cloudhsm_model.password_digest(secret)
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_DISCONNECT + 1)
    world.kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_CONNECT + 1)
    assert _stores(world)[0]["ConnectionState"] == "CONNECTED"
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_DISCONNECT + 1)
    world.kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=secret)
    world.kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_CONNECT + 1)
    [store] = _stores(world)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == ("FAILED", "INVALID_CREDENTIALS")


def test_a_key_hidden_from_the_handler_still_stops_the_delete_with_a_clear_line(world):
    """A key in the store whose policy does not admit the handler is skipped by its scan; KMS's own
    refusal (CustomKeyStoreHasCMKsException) then stops the delete, reported with what to do."""
    import json

    deployed(world, "key_store")
    store_id = world.key_store.physical_id
    world.kms.create_key(CustomKeyStoreId=store_id, Origin="AWS_CLOUDHSM", Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*",
                                                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/SomeoneElse"}}]}))
    with pytest.raises(ResourceFailed, match=r"still holds KMS keys whose key policies do not let this role see them"):
        run_now(world.key_store, "Delete")
