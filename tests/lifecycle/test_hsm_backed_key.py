"""Custom::HsmBackedKmsKey: a key in the store with alias and policy; deletion is always scheduled."""

from __future__ import annotations

import json

import pytest

from rehearsal.faults import FAULTS
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run_now
from tests.support.provider import event as request


def test_create_makes_an_enabled_key_in_the_store_with_alias_and_policy(world):
    deployed(world, "data_key")
    key = world.kms.describe_key(KeyId="alias/customer-keys/data")["KeyMetadata"]
    assert key["Origin"] == "AWS_CLOUDHSM" and key["KeyState"] == "Enabled"
    assert key["CustomKeyStoreId"] == world.key_store.attributes["CustomKeyStoreId"]
    assert world.data_key.attributes == {"KeyId": key["KeyId"], "KeyArn": key["Arn"]}
    assert json.loads(world.kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]) == world.key_policy()


def test_a_retried_create_makes_one_key(world):
    deployed(world, "key_store")
    resource = world.data_key_resource()
    event = request(resource, "Create")
    first = run_now(resource, "Create", event=event)
    second = run_now(resource, "Create", event=event)
    assert first["PhysicalResourceId"] == second["PhysicalResourceId"]
    assert len([k for k in world.kms.list_keys()["Keys"]
                if world.kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"].get("CustomKeyStoreId")]) == 1


def test_a_disconnected_store_fails_with_one_line(world):
    deployed(world, "key_store")
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=world.key_store.attributes["CustomKeyStoreId"])
    with pytest.raises(ResourceFailed, match=r"^HSM-backed key Create: CustomKeyStoreInvalidStateException: .* -> the custom key store is in the wrong connection state"):
        run_now(world.data_key_resource(), "Create")


def test_throttled_create_key_is_retried(world, retry_sleeps):
    deployed(world, "key_store")
    FAULTS.throttle("kms", "CreateKey", times=2)
    world.deploy_data_key()
    assert len(retry_sleeps) == 2


def test_update_changes_description_and_policy_in_place(world):
    deployed(world, "data_key")
    old = dict(world.data_key.properties)
    world.data_key.properties.update(Description="renamed", KeyPolicy={**world.key_policy(), "Id": "v2"})
    response = run_now(world.data_key, "Update", old_properties=old)
    key_id = world.data_key.physical_id
    assert response["PhysicalResourceId"] == key_id
    assert world.kms.describe_key(KeyId=key_id)["KeyMetadata"]["Description"] == "renamed"
    assert json.loads(world.kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])["Id"] == "v2"


def test_the_role_may_point_no_alias_but_its_own(world):
    """The handler role names the stack's alias only: another alias is refused, as AWS would."""
    deployed(world, "data_key")
    old = dict(world.data_key.properties)
    world.data_key.properties.update(AliasName="alias/customer-keys/data-v2")
    with pytest.raises(ResourceFailed, match=r"not authorized to perform: kms:CreateAlias on resource: "
                                             r"arn:aws:kms:\S+:alias/customer-keys/data-v2"):
        run_now(world.data_key, "Update", old_properties=old)
    aliases = {a["AliasName"]: a.get("TargetKeyId") for a in world.kms.list_aliases()["Aliases"]}
    assert aliases.get("alias/customer-keys/data") == world.data_key.physical_id


def test_delete_schedules_deletion_with_the_pending_window(world):
    deployed(world, "data_key")
    key_id = world.data_key.physical_id
    run_now(world.data_key, "Delete")
    key = world.kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert key["KeyState"] == "PendingDeletion"
    assert ("kms", "ScheduleKeyDeletion") in world.calls_by(world.data_key)
    assert "alias/customer-keys/data" not in {a["AliasName"] for a in world.kms.list_aliases()["Aliases"]}
    run_now(world.data_key, "Delete")  # repeated delete: still pending, nothing else


def test_a_retry_after_a_crash_before_the_alias_adopts_the_key(world):
    deployed(world, "key_store")
    resource = world.data_key_resource()
    event = request(resource, "Create")
    FAULTS.fail("kms", "CreateAlias", "KMSInternalException", "internal")
    with pytest.raises(ResourceFailed, match="KMSInternalException"):
        run_now(resource, "Create", event=event)
    response = run_now(resource, "Create", event=event)
    store_keys = [k for k in world.kms.list_keys()["Keys"]
                  if world.kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"].get("CustomKeyStoreId")]
    assert [k["KeyId"] for k in store_keys] == [response["PhysicalResourceId"]]


def test_a_key_stuck_creating_exhausts_the_budget(world, monkeypatch):
    deployed(world, "key_store")
    from moto.kms.models import Key
    original = Key.to_dict

    def creating(self):
        result = original(self)
        result["KeyMetadata"]["KeyState"] = "Creating"
        return result
    monkeypatch.setattr(Key, "to_dict", creating)
    with pytest.raises(ResourceFailed, match=r"gave up after \d+ min waiting for key \S+ to be Enabled"):
        run_now(world.data_key_resource(), "Create")
