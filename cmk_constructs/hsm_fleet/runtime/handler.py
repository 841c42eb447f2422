"""Custom::CloudHsmHsm: one HSM after the first, in its configured AZ, after activation.

CloudFormation creates every Custom::CloudHsmHsm in parallel, so the deployment waits
for one HSM creation however many there are; scaling adds or removes resources.
Each resource owns a claim tag on the cluster (lifecycle_runtime.hsm_claims): a
retried create adopts what it already made, and an HSM AWS replaced after a failure
is found by its ENI. Delete refuses to leave a cluster that backs a KMS custom key
store with fewer than two HSMs.
"""

from __future__ import annotations

from lifecycle_runtime import events, hsm_claims, time_budget
from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log

MINIMUM_HSMS_FOR_KEY_STORE = 2


READY_STATES = hsm_claims.ACTIVATED_STATES
NOT_READY = "HSMs after the first can be added only once it is activated"


def _target(event) -> tuple[str, str, str]:
    props = events.properties(event)
    return (events.required(props, "ClusterId"), str(events.required(props, "Ordinal")),
            events.required(props, "AvailabilityZone"))


def _create(event) -> dict:
    cluster_id, ordinal, zone = _target(event)
    if ordinal == "0":
        raise LifecycleError("Ordinal 0 is the first HSM's (Custom::CloudHsmFirstHsm); fleet HSMs start at 1")
    hsm_claims.create_when_ready(hsm_claims.describe_cluster(cluster_id), ordinal, zone, READY_STATES, NOT_READY)
    return time_budget.started({"PhysicalResourceId": hsm_claims.physical_id(cluster_id, ordinal, zone)})


def _update(event) -> dict:
    cluster_id, ordinal, zone = _target(event)
    if hsm_claims.physical_id(cluster_id, ordinal, zone) == event["PhysicalResourceId"]:
        return time_budget.started({"PhysicalResourceId": event["PhysicalResourceId"]})
    return _create(event)  # another AZ or cluster is another HSM; CloudFormation deletes the old one


def _key_store_on(cluster_id: str) -> str | None:
    """A store (not DISCONNECTED) on the cluster, from every page of DescribeCustomKeyStores (KMS "might
    return fewer" stores than asked, KMS API Reference)."""
    for page in client("kms").get_paginator("describe_custom_key_stores").paginate():
        for store in page.get("CustomKeyStores", []):
            if store.get("CloudHsmClusterId") == cluster_id and store.get("ConnectionState") != "DISCONNECTED":
                return store["CustomKeyStoreId"]
    return None


def _delete(event) -> dict:
    parsed = hsm_claims.parse_physical_id(event["PhysicalResourceId"])
    if parsed is None:
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    cluster_id, ordinal, zone = parsed
    try:
        cluster, hsm = hsm_claims.find_claimed(cluster_id, ordinal, zone)
    except LifecycleError:
        return {"PhysicalResourceId": event["PhysicalResourceId"]}  # the cluster is gone, and its HSMs with it
    if hsm is not None and hsm["State"] not in hsm_claims.GONE_STATES:
        remaining = [other for other in cluster.get("Hsms", []) if other["HsmId"] != hsm["HsmId"] and other["State"] == "ACTIVE"]
        store_id = _key_store_on(cluster_id) if len(remaining) < MINIMUM_HSMS_FOR_KEY_STORE else None
        if store_id:
            raise LifecycleError(f"refusing to delete HSM {hsm['HsmId']}: custom key store {store_id} uses cluster {cluster_id} "
                                 f"and only {len(remaining)} ACTIVE HSM(s) would remain; keep hsmCount >= 2 or delete the key store first")
    hsm_claims.start_delete(cluster_id, ordinal, zone)
    return time_budget.started({"PhysicalResourceId": event["PhysicalResourceId"]})


@reported("HSM")
def on_event(event, context):
    return events.dispatch(event, create=_create, update=_update, delete=_delete)


@reported("HSM")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return hsm_claims.delete_progress(event, "the HSM to be deleted",
                                          "check the HSM in the CloudHSM console, then retry the stack update or deletion")
    cluster_id, ordinal, zone = _target(event)
    cluster, hsm = hsm_claims.find_claimed(cluster_id, ordinal, zone)
    waiting = hsm_claims.deferred_create(event, cluster, ordinal, zone, READY_STATES, NOT_READY) if hsm is None else None
    if waiting is not None:
        return waiting
    if hsm is None or hsm["State"] in hsm_claims.GONE_STATES:
        raise LifecycleError(f"HSM {ordinal} of cluster {cluster_id} in {zone} disappeared while being created; retry the deployment")
    log("hsm_poll", cluster_id=cluster_id, ordinal=ordinal, hsm_id=hsm["HsmId"], hsm_state=hsm["State"],
        waited_s=round(time_budget.elapsed(event)))
    if hsm["State"] == "ACTIVE":
        return events.finished({key: value for key, value in hsm_claims.hsm_attributes(hsm).items() if key != "EniId"})
    time_budget.ensure_within(event, f"HSM {hsm['HsmId']} to become ACTIVE (it is {hsm['State']})",
                              "CloudFormation rolls back and deletes it; retry, or pick another AZ if CloudHSM lacks capacity there")
    return events.still_waiting()
