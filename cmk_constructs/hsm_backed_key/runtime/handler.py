"""Custom::HsmBackedKmsKey: a symmetric KMS key whose material is generated in the CloudHSM cluster.

CreateKey(Origin=AWS_CLOUDHSM) in the custom key store with the stack's key policy,
tagged with the CloudFormation request id so a retried create finds the key it made.
CreateKey is on_event's last call: the key's id is the physical id from then on, and the
alias is set by is_complete once the key is Enabled, so any later failure reaches Delete
with the key's id (the Provider framework answers FAILED with it) and no key is left that
no stack owns. Updates change description, policy and alias in place; another store is
another key. Delete removes the alias and schedules deletion with the configured pending
window, never immediately.
"""

from __future__ import annotations

import json
import os

from lifecycle_runtime import events, store_keys, time_budget
from lifecycle_runtime.aws_clients import client, create_once
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log


def _request_tag() -> str:
    """The tag key the construct allows this role to set (its environment variable REQUEST_TAG_KEY)."""
    tag = os.environ.get("REQUEST_TAG_KEY")
    if not tag:
        raise LifecycleError("environment variable REQUEST_TAG_KEY is not set; the construct sets it")
    return tag


def _policy(props: dict) -> str:
    policy = events.required(props, "KeyPolicy")
    return policy if isinstance(policy, str) else json.dumps(policy)


def _alias_target(alias_name: str) -> str | None:
    for page in client("kms").get_paginator("list_aliases").paginate():
        for alias in page["Aliases"]:
            if alias["AliasName"] == alias_name:
                return alias.get("TargetKeyId")
    return None


def _key_made_by(request_id: str, store_id: str) -> str | None:
    """A key a previous attempt of this request created (found by its request tag) in the store."""
    for metadata in store_keys.keys_in_store(store_id):
        if metadata["KeyState"] == "PendingDeletion":
            continue
        tags = client("kms").list_resource_tags(KeyId=metadata["KeyId"]).get("Tags", [])
        if any(tag["TagKey"] == _request_tag() and tag["TagValue"] == request_id for tag in tags):
            return metadata["KeyId"]
    return None


def _point_alias(alias_name: str, key_id: str) -> None:
    target = _alias_target(alias_name)
    if target == key_id:
        return
    if target is None:
        client("kms").create_alias(AliasName=alias_name, TargetKeyId=key_id)
    else:
        client("kms").update_alias(AliasName=alias_name, TargetKeyId=key_id)
    log("alias_set", alias=alias_name, key_id=key_id)


def _create(event) -> dict:
    props = events.properties(event)
    store_id = events.required(props, "CustomKeyStoreId")
    events.required(props, "AliasName")
    key_id = _key_made_by(event["RequestId"], store_id)
    if key_id is None:
        key_id = create_once(
            "kms", "create_key",
            Policy=_policy(props), Description=props.get("Description", ""), KeyUsage="ENCRYPT_DECRYPT",
            KeySpec="SYMMETRIC_DEFAULT", Origin="AWS_CLOUDHSM", CustomKeyStoreId=store_id,
            Tags=[{"TagKey": _request_tag(), "TagValue": event["RequestId"]}])["KeyMetadata"]["KeyId"]
        log("key_created", key_id=key_id, custom_key_store_id=store_id)
    else:
        log("key_adopted", key_id=key_id)
    return time_budget.started({"PhysicalResourceId": key_id})


def _update(event) -> dict:
    props, old = events.properties(event), events.old_properties(event)
    if props.get("CustomKeyStoreId") != old.get("CustomKeyStoreId"):
        return _create(event)  # material cannot move between stores: a new key; CloudFormation deletes the old one
    key_id = event["PhysicalResourceId"]
    if props.get("Description") != old.get("Description"):
        client("kms").update_key_description(KeyId=key_id, Description=props.get("Description", ""))
    if _policy(props) != _policy(old):
        client("kms").put_key_policy(KeyId=key_id, PolicyName="default", Policy=_policy(props))
    _point_alias(events.required(props, "AliasName"), key_id)
    if old.get("AliasName") and old["AliasName"] != props["AliasName"] and _alias_target(old["AliasName"]) == key_id:
        client("kms").delete_alias(AliasName=old["AliasName"])
    return time_budget.started({"PhysicalResourceId": key_id})


def _delete(event) -> dict:
    key_id = event["PhysicalResourceId"]
    props = events.properties(event)
    try:
        metadata = client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    except (client("kms").exceptions.NotFoundException, client("kms").exceptions.InvalidArnException):
        return {"PhysicalResourceId": key_id}
    alias_name = props.get("AliasName")
    if alias_name and _alias_target(alias_name) == metadata["KeyId"]:
        client("kms").delete_alias(AliasName=alias_name)
    if metadata["KeyState"] != "PendingDeletion":
        window = int(props.get("PendingWindowInDays", 30))
        client("kms").schedule_key_deletion(KeyId=key_id, PendingWindowInDays=window)
        log("key_deletion_scheduled", key_id=key_id, pending_window_days=window)
    return {"PhysicalResourceId": key_id}


@reported("HSM-backed key")
def on_event(event, context):
    return events.dispatch(event, create=_create, update=_update, delete=_delete, log_properties=False)


@reported("HSM-backed key")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return events.finished()
    key_id = event["PhysicalResourceId"]
    metadata = client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
    log("key_poll", key_id=key_id, state=metadata["KeyState"])
    if metadata["KeyState"] == "Enabled":
        _point_alias(events.required(events.properties(event), "AliasName"), key_id)
        return events.finished({"KeyId": metadata["KeyId"], "KeyArn": metadata["Arn"]})
    if metadata["KeyState"] != "Creating":
        raise LifecycleError(f"key {key_id} is {metadata['KeyState']}, expected Enabled")
    time_budget.ensure_within(event, f"key {key_id} to be Enabled",
                              "check the custom key store is CONNECTED, then redeploy")
    return events.still_waiting()
