"""Custom::KmsCustomKeyStore: a KMS custom key store on the cluster, CONNECTED before it is done.

Create (or adopt, on a retry: the store name is unique) with the trust anchor from
SSM and kmsuser's password from Secrets Manager, then connect and poll until
CONNECTED (20-30 minutes is normal). FAILED is reported with its ConnectionErrorCode
and the fix. Update renames the store in place (KMS accepts a new name while the store
is CONNECTED); another password secret disconnects, applies it and reconnects.

KMS rotates kmsuser's password each time it connects a store, to a value only KMS
knows (KMS Developer Guide, "Connecting and disconnecting an AWS CloudHSM key
store"), so the secret is stale after the first connection. Before connecting a new
store, or one given another secret, the handler therefore has the client host set
kmsuser's password to the secret's value (as the cluster admin, with the
KmsUserPasswordDocument), tells KMS that password, and connects: the fix the KMS
guide gives for INVALID_CREDENTIALS, done before it can happen.
Delete refuses while KMS keys remain in the store (deleting the store would orphan
their material in the cluster), else disconnects and deletes.
"""

from __future__ import annotations

from lifecycle_runtime import events, host_commands, store_keys, time_budget
from lifecycle_runtime.aws_clients import client, create_once
from lifecycle_runtime.clusters import describe_cluster
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log

# ConnectionErrorCode -> the fix (AWS KMS Developer Guide, "Troubleshooting a custom key store").
CONNECTION_FIXES = {
    "INSUFFICIENT_CLOUDHSM_HSMS": "the cluster has no ACTIVE HSM; add HSMs (hsmCount >= 2, in different AZs) and redeploy",
    "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET": "a cluster subnet has no free IP address; free addresses or enlarge the subnets",
    "INVALID_CREDENTIALS": "kmsuser's password in the cluster is not the one KMS was given; with the store disconnected, run the KmsUserPasswordDocument on the client host (cloudhsm-cli user change-password to the KmsUserPassword secret), then aws kms update-custom-key-store --key-store-password with that secret and redeploy",
    "USER_LOGGED_IN": "kmsuser is logged in from a client; log it out (cloudhsm-cli logout) and redeploy",
    "USER_LOCKED_OUT": "kmsuser is locked out; an admin must reset its password with cloudhsm-cli user change-password",
    "USER_NOT_FOUND": "the cluster has no crypto user kmsuser; rerun the activation (Custom::CloudHsmClusterActivation)",
    "NETWORK_ERRORS": "KMS cannot reach the HSMs; check the cluster security group allows 2223-2225 and the subnets' network ACLs",
    "CLUSTER_NOT_FOUND": "the cluster no longer exists",
    "SUBNET_NOT_FOUND": "a cluster subnet was deleted; restore it or recreate the cluster",
    "INTERNAL_ERROR": "KMS internal error; disconnect and redeploy",
}


def _store_by_name(name: str) -> dict | None:
    try:
        stores = client("kms").describe_custom_key_stores(CustomKeyStoreName=name)["CustomKeyStores"]
    except client("kms").exceptions.CustomKeyStoreNotFoundException:
        return None
    return stores[0] if stores else None


def _store(store_id: str) -> dict | None:
    try:
        return client("kms").describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]
    except client("kms").exceptions.CustomKeyStoreNotFoundException:
        return None


def _password(props: dict) -> str:
    return client("secretsmanager").get_secret_value(SecretId=events.required(props, "KmsUserPasswordSecretArn"))["SecretString"]


def _trust_anchor(props: dict) -> str:
    return client("ssm").get_parameter(Name=events.required(props, "TrustAnchorParameterName"))["Parameter"]["Value"]


def _connect(store_id: str) -> None:
    client("kms").connect_custom_key_store(CustomKeyStoreId=store_id)
    log("connect_requested", custom_key_store_id=store_id)


def _create(event) -> dict:
    props = events.properties(event)
    name = events.required(props, "CustomKeyStoreName")
    store = _store_by_name(name)
    if store is not None:
        if store["CloudHsmClusterId"] != props["ClusterId"]:
            raise LifecycleError(f"a custom key store named {name} already exists on cluster {store['CloudHsmClusterId']}; choose another name")
        store_id = store["CustomKeyStoreId"]
        log("store_adopted", custom_key_store_id=store_id, state=store["ConnectionState"])
    else:
        store_id = create_once(
            "kms", "create_custom_key_store",
            CustomKeyStoreName=name, CloudHsmClusterId=events.required(props, "ClusterId"),
            TrustAnchorCertificate=_trust_anchor(props), KeyStorePassword=_password(props),
            CustomKeyStoreType="AWS_CLOUDHSM")["CustomKeyStoreId"]
        log("store_created", custom_key_store_id=store_id)
    return time_budget.started({"PhysicalResourceId": store_id})  # is_complete sets the password, then connects


def _needs_reconfiguration(event) -> bool:
    props, old = events.properties(event), events.old_properties(event)
    return any(props.get(name) != old.get(name) for name in ("CustomKeyStoreName", "KmsUserPasswordSecretArn"))


def _needs_password(event) -> bool:
    """A new store, or one given another password secret, is connected only after kmsuser's password
    in the cluster is the secret's again (KMS rotated it at the last connection)."""
    if event["RequestType"] == "Create":
        return True
    props, old = events.properties(event), events.old_properties(event)
    return any(props.get(name) != old.get(name) for name in ("ClusterId", "KmsUserPasswordSecretArn"))


def _kmsuser_password_set(event, props: dict, store_id: str) -> bool:
    """True once the host has set kmsuser's password to the secret's value for this request."""
    instance_id = events.required(props, "InstanceId")
    cluster = describe_cluster(events.required(props, "ClusterId"))
    active = [hsm for hsm in cluster.get("Hsms", []) if hsm.get("State") == "ACTIVE"]
    if not active:
        raise LifecycleError(f"cluster {cluster['ClusterId']} has no ACTIVE HSM to set kmsuser's password on")
    parameters = {"Region": client("ssm").meta.region_name, "ClusterId": cluster["ClusterId"],
                  "HsmIp": active[0]["EniIp"],
                  **{name: events.required(props, name) for name in (
                      "TrustAnchorParameterName", "AdminPasswordSecretArn", "KmsUserPasswordSecretArn")}}
    command_id = host_commands.ensure_sent(events.required(props, "KmsUserPasswordDocumentName"), instance_id,
                                           parameters, f"request {event['RequestId']}: kmsuser password for {store_id}")
    if command_id is None:
        return False
    state, invocation = host_commands.status(command_id, instance_id)
    host_commands.raise_if_failed("kmsuser password", command_id, instance_id, state, invocation)
    return state == "Success"


def _rename(props: dict, store: dict) -> None:
    """A new name needs no disconnection: "the custom key store can be connected or disconnected" (KMS API
    Reference, UpdateCustomKeyStore, NewCustomKeyStoreName), so a rename keeps the keys usable."""
    if store["CustomKeyStoreName"] != props["CustomKeyStoreName"]:
        client("kms").update_custom_key_store(CustomKeyStoreId=store["CustomKeyStoreId"],
                                              NewCustomKeyStoreName=props["CustomKeyStoreName"])
        log("store_renamed", custom_key_store_id=store["CustomKeyStoreId"], name=props["CustomKeyStoreName"])


def _reconfigure_and_connect(event, props: dict, store: dict) -> bool:
    """Connect a DISCONNECTED store, applying the password (after the host set it) and the new name
    first; False while the password is still being set."""
    store_id = store["CustomKeyStoreId"]
    changes = {}
    if _needs_password(event):
        if not _kmsuser_password_set(event, props, store_id):
            return False
        changes["KeyStorePassword"] = _password(props)
    if store["CustomKeyStoreName"] != props["CustomKeyStoreName"]:
        changes["NewCustomKeyStoreName"] = props["CustomKeyStoreName"]
    if changes:
        client("kms").update_custom_key_store(CustomKeyStoreId=store_id, **changes)
        log("store_updated", custom_key_store_id=store_id, changed=sorted(changes))
    _connect(store_id)
    return True


def _update(event) -> dict:
    props, old = events.properties(event), events.old_properties(event)
    if props.get("ClusterId") != old.get("ClusterId"):
        return _create(event)  # a store on another cluster is another store; CloudFormation deletes the old one
    store_id = event["PhysicalResourceId"]
    store = _store(store_id)
    if store is None:
        raise LifecycleError(f"custom key store {store_id} no longer exists; remove it from the stack and redeploy to recreate it")
    if not _needs_password(event) and store["ConnectionState"] in ("CONNECTED", "DISCONNECTED"):
        _rename(props, store)
    elif _needs_reconfiguration(event) and store["ConnectionState"] not in ("DISCONNECTED", "DISCONNECTING"):
        client("kms").disconnect_custom_key_store(CustomKeyStoreId=store_id)
        log("disconnect_for_update", custom_key_store_id=store_id)
    return time_budget.started({"PhysicalResourceId": store_id})


def _keys_in(store_id: str) -> list[str]:
    """Ids of KMS keys (any state, pending deletion included) whose material is in the store."""
    return [f"{metadata['KeyId']} ({metadata['KeyState']})" for metadata in store_keys.keys_in_store(store_id)]


def _delete(event) -> dict:
    store_id = event["PhysicalResourceId"]
    store = _store(store_id) if store_id.startswith("cks-") else None
    if store is None:
        return {"PhysicalResourceId": store_id}
    keys = _keys_in(store_id)
    if keys:
        raise LifecycleError(f"custom key store {store_id} still holds KMS keys {', '.join(keys[:5])}: deleting it would orphan their "
                             "material in the cluster. Keys pending deletion go at the end of their waiting period; retry the "
                             "stack deletion after that (the store stays connected so KMS can remove their material)")
    if store["ConnectionState"] not in ("DISCONNECTED", "DISCONNECTING"):
        client("kms").disconnect_custom_key_store(CustomKeyStoreId=store_id)
        log("disconnect_requested", custom_key_store_id=store_id)
    return time_budget.started({"PhysicalResourceId": store_id})


@reported("custom key store")
def on_event(event, context):
    return events.dispatch(event, create=_create, update=_update, delete=_delete)


def _delete_complete(event) -> dict:
    store_id = event["PhysicalResourceId"]
    store = _store(store_id) if store_id.startswith("cks-") else None
    if store is None:
        return events.finished()
    if store["ConnectionState"] == "DISCONNECTED":
        try:
            client("kms").delete_custom_key_store(CustomKeyStoreId=store_id)
        except client("kms").exceptions.CustomKeyStoreHasCMKsException:
            raise LifecycleError(f"custom key store {store_id} still holds KMS keys whose key policies do not let this "
                                 "role see them; an administrator must schedule their deletion (aws kms list-keys, "
                                 "describe-key), then retry the stack deletion") from None
        log("store_deleted", custom_key_store_id=store_id)
        return events.finished()
    if store["ConnectionState"] != "DISCONNECTING":
        client("kms").disconnect_custom_key_store(CustomKeyStoreId=store_id)
    time_budget.ensure_within(event, f"custom key store {store_id} to disconnect",
                              "disconnect it in the KMS console, then retry the stack deletion")
    return events.still_waiting()


@reported("custom key store")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return _delete_complete(event)
    props = events.properties(event)
    store_id = event["PhysicalResourceId"]
    store = _store(store_id)
    if store is None:
        raise LifecycleError(f"custom key store {store_id} disappeared while connecting")
    state = store["ConnectionState"]
    log("store_poll", custom_key_store_id=store_id, state=state, waited_s=round(time_budget.elapsed(event)))
    if state == "CONNECTED":
        _rename(props, store)
        return events.finished({"CustomKeyStoreId": store_id, "ConnectionState": state})
    if state == "FAILED":
        code = store.get("ConnectionErrorCode", "UNKNOWN")
        raise LifecycleError(f"custom key store {store_id} failed to connect: {code}: {CONNECTION_FIXES.get(code, 'see the KMS troubleshooting guide')}")
    if state == "DISCONNECTED":
        _reconfigure_and_connect(event, props, store)
    time_budget.ensure_within(event, f"custom key store {store_id} to connect (it is {state})",
                              "CloudFormation rolls back; check the cluster has 2 ACTIVE HSMs and kmsuser is not logged in, then redeploy")
    return events.still_waiting()
