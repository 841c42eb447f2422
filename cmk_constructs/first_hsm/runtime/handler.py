"""Custom::CloudHsmFirstHsm: the one HSM an uninitialised cluster may have, and the CSR it issues.

Create asks for one HSM in the first AZ (or adopts the one a retried or earlier
attempt made: the cluster allows only one before activation) and is complete when
it is ACTIVE and the cluster has published its CSR. Ownership is a claim tag on the
cluster (lifecycle_runtime.hsm_claims), so AWS replacing a failed HSM is followed by
ENI. Delete removes the HSM and waits until it is gone.
"""

from __future__ import annotations

from lifecycle_runtime import events, hsm_claims, time_budget
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log

ORDINAL = 0


# UNINITIALIZED for a new cluster; an activated one when an update moves the first HSM to another AZ.
READY_STATES = ("UNINITIALIZED", *hsm_claims.ACTIVATED_STATES)
NOT_READY = "the first HSM needs an UNINITIALIZED cluster"


def _target(event) -> tuple[str, str]:
    props = events.properties(event)
    return events.required(props, "ClusterId"), events.required(props, "AvailabilityZone")


def _create(event) -> dict:
    cluster_id, zone = _target(event)
    cluster = hsm_claims.describe_cluster(cluster_id)
    if cluster["State"] in hsm_claims.BUSY_STATES:  # is_complete creates it once the cluster is ready
        log("cluster_busy", cluster_id=cluster_id, state=cluster["State"])
        return time_budget.started({"PhysicalResourceId": hsm_claims.physical_id(cluster_id, ORDINAL, zone)})
    if cluster["State"] not in READY_STATES:
        raise LifecycleError(f"cluster {cluster_id} is {cluster['State']}: {NOT_READY}")
    key = hsm_claims.claim_key(ORDINAL, zone)
    live = [hsm for hsm in cluster.get("Hsms", []) if hsm["State"] not in hsm_claims.GONE_STATES]
    if cluster["State"] == "UNINITIALIZED" and live:
        # Only one HSM is allowed before activation: it is ours (a retry or an earlier attempt made it).
        hsm = live[0]
        if hsm["AvailabilityZone"] != zone:
            raise LifecycleError(f"cluster {cluster_id} already has HSM {hsm['HsmId']} in {hsm['AvailabilityZone']}, not {zone}; "
                                 "an uninitialised cluster allows one HSM: delete it or place the first HSM there")
        hsm_claims.record_claim(cluster_id, key, hsm_claims.claim_value(hsm))
        log("first_hsm_adopted", cluster_id=cluster_id, hsm_id=hsm["HsmId"])
    else:
        hsm_claims.ensure_hsm(cluster_id, ORDINAL, zone)
    return time_budget.started({"PhysicalResourceId": hsm_claims.physical_id(cluster_id, ORDINAL, zone)})


def _update(event) -> dict:
    cluster_id, zone = _target(event)
    if hsm_claims.physical_id(cluster_id, ORDINAL, zone) == event["PhysicalResourceId"]:
        return time_budget.started({"PhysicalResourceId": event["PhysicalResourceId"]})
    # A new cluster or AZ is a new HSM; CloudFormation then deletes the old one.
    return _create(event)


def _delete(event) -> dict:
    parsed = hsm_claims.parse_physical_id(event["PhysicalResourceId"])
    if parsed is None:
        log("nothing_to_delete", physical_id=event["PhysicalResourceId"])
        return {"PhysicalResourceId": event["PhysicalResourceId"]}
    cluster_id, ordinal, zone = parsed
    try:
        hsm_claims.start_delete(cluster_id, ordinal, zone)
    except LifecycleError:
        log("cluster_gone", cluster_id=cluster_id)
    return time_budget.started({"PhysicalResourceId": event["PhysicalResourceId"]})


@reported("first HSM")
def on_event(event, context):
    return events.dispatch(event, create=_create, update=_update, delete=_delete)


@reported("first HSM")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return hsm_claims.delete_progress(event, "the first HSM to be deleted",
                                          "check the HSM in the CloudHSM console, then retry the stack deletion")
    cluster_id, zone = _target(event)
    cluster, hsm = hsm_claims.find_claimed(cluster_id, ORDINAL, zone)
    waiting = hsm_claims.deferred_create(event, cluster, ORDINAL, zone, READY_STATES, NOT_READY) if hsm is None else None
    if waiting is not None:
        return waiting
    if hsm is None or hsm["State"] in hsm_claims.GONE_STATES:
        raise LifecycleError(f"the first HSM of cluster {cluster_id} in {zone} disappeared while being created; retry the deployment")
    csr = cluster.get("Certificates", {}).get("ClusterCsr", "")
    ready = hsm["State"] == "ACTIVE" and (csr or cluster["State"] != "UNINITIALIZED")
    log("first_hsm_poll", cluster_id=cluster_id, hsm_id=hsm["HsmId"], hsm_state=hsm["State"],
        cluster_state=cluster["State"], csr_ready=bool(csr), waited_s=round(time_budget.elapsed(event)))
    if ready:
        return events.finished({**hsm_claims.hsm_attributes(hsm), "ClusterCsr": csr})
    time_budget.ensure_within(event, f"HSM {hsm['HsmId']} to become ACTIVE (it is {hsm['State']})",
                              "CloudFormation rolls back and deletes it; retry the deployment, or pick another AZ if CloudHSM lacks capacity there")
    return events.still_waiting()
