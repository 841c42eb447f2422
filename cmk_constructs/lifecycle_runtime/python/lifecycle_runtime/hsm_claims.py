"""Which HSM a CloudFormation resource owns, recorded as a tag on the cluster.

An HSM id alone is not a stable identity: when an HSM fails, CloudHSM replaces it
with a new HSM id on the same ENI. So each resource owns a *claim*: a cluster tag
`lifecycle:hsm/<ordinal>/<az>` whose value is "<hsm-id> <eni-id>" (or "pending"
between asking for an HSM and learning its id). A retried create finds its claim
and creates nothing twice; a replaced HSM is found by its ENI, and an HSM a crashed
create made before recording its id, by AZ among the unclaimed ones. That last match
is unambiguous because the stack never creates two HSMs of one AZ at once
(hsm_fleet/infrastructure.py chains same-AZ HSM resources).
"""

from __future__ import annotations

from typing import Any

from lifecycle_runtime import events, time_budget
from lifecycle_runtime.aws_clients import client, create_once
from lifecycle_runtime.clusters import describe_cluster
from lifecycle_runtime.errors import LifecycleError
from lifecycle_runtime.structured_log import log

CLAIM_PREFIX = "lifecycle:hsm/"
PENDING = "pending"
GONE_STATES = ("DELETE_IN_PROGRESS", "DELETED")
# The states of an activated cluster (DescribeClusters' State values) in which CloudHSM adds HSMs: it
# is UPDATE_IN_PROGRESS while any HSM is being added or removed, so HSMs created side by side (the
# fleet) each find it so, and DEGRADED while a failed HSM awaits its replacement.
ACTIVATED_STATES = ("ACTIVE", "UPDATE_IN_PROGRESS", "DEGRADED")
# Cluster states that pass on their own: an HSM to be created waits for them to end instead of
# failing the resource (MODIFY_IN_PROGRESS: the cluster is migrating to another HSM type, in
# limited-write mode).
BUSY_STATES = ("MODIFY_IN_PROGRESS",)


def claim_key(ordinal: int | str, zone: str) -> str:
    return f"{CLAIM_PREFIX}{ordinal}/{zone}"


def claims(cluster_id: str) -> dict[str, str]:
    """Every HSM claim on the cluster: tag key -> value, from every page (ListTags "might contain only a
    subset of all the tags", CloudHSM API Reference)."""
    pages = client("cloudhsmv2").get_paginator("list_tags").paginate(ResourceId=cluster_id)
    return {tag["Key"]: tag["Value"] for page in pages for tag in page.get("TagList", [])
            if tag["Key"].startswith(CLAIM_PREFIX)}


def record_claim(cluster_id: str, key: str, value: str) -> None:
    client("cloudhsmv2").tag_resource(ResourceId=cluster_id, TagList=[{"Key": key, "Value": value}])


def release_claim(cluster_id: str, key: str) -> None:
    client("cloudhsmv2").untag_resource(ResourceId=cluster_id, TagKeyList=[key])


def claimed_ids(value: str | None) -> tuple[str | None, str | None]:
    """(hsm id, eni id) of a claim value; (None, None) for no or pending claims."""
    if not value or value == PENDING:
        return None, None
    hsm_id, _, eni_id = value.partition(" ")
    return hsm_id, eni_id or None


def claim_value(hsm: dict) -> str:
    return f"{hsm['HsmId']} {hsm.get('EniId', '')}".strip()


def owned_hsm(cluster: dict, value: str | None) -> dict | None:
    """The HSM a claim value points to: same id, or (after replacement) same ENI."""
    hsm_id, eni_id = claimed_ids(value)
    hsms = cluster.get("Hsms", [])
    by_id = [hsm for hsm in hsms if hsm_id and hsm["HsmId"] == hsm_id]
    by_eni = [hsm for hsm in hsms if eni_id and hsm.get("EniId") == eni_id and hsm["State"] not in GONE_STATES]
    return (by_id or by_eni or [None])[0]


def unclaimed_hsm_in(cluster: dict, zone: str, all_claims: dict[str, str]) -> dict | None:
    """An HSM in `zone` no claim points to: the one a crashed create made before tagging it."""
    owned = {claimed_ids(value)[0] for value in all_claims.values()} | {claimed_ids(value)[1] for value in all_claims.values()}
    for hsm in cluster.get("Hsms", []):
        if hsm["AvailabilityZone"] == zone and hsm["State"] not in GONE_STATES \
                and hsm["HsmId"] not in owned and hsm.get("EniId") not in owned:
            return hsm
    return None


def validate_zone(cluster: dict, zone: str) -> None:
    zones = sorted(cluster.get("SubnetMapping", {}))
    if zone not in zones:
        raise LifecycleError(f"AZ {zone} has no subnet in cluster {cluster['ClusterId']} (its AZs: {', '.join(zones)}); fix the HSM placement")


def ensure_hsm(cluster_id: str, ordinal: int | str, zone: str) -> dict:
    """The HSM this claim owns, creating it only if no HSM is found for the claim."""
    cluster = describe_cluster(cluster_id)
    validate_zone(cluster, zone)
    key = claim_key(ordinal, zone)
    all_claims = claims(cluster_id)
    hsm = owned_hsm(cluster, all_claims.get(key))
    if hsm is None and all_claims.get(key) == PENDING:
        hsm = unclaimed_hsm_in(cluster, zone, all_claims)
    if hsm is not None:
        if all_claims.get(key) != claim_value(hsm):
            record_claim(cluster_id, key, claim_value(hsm))
        log("hsm_adopted", cluster_id=cluster_id, claim=key, hsm_id=hsm["HsmId"], state=hsm["State"])
        return hsm
    record_claim(cluster_id, key, PENDING)
    hsm = create_once("cloudhsmv2", "create_hsm", ClusterId=cluster_id, AvailabilityZone=zone)["Hsm"]
    record_claim(cluster_id, key, claim_value(hsm))
    log("hsm_create_requested", cluster_id=cluster_id, claim=key, hsm_id=hsm["HsmId"], zone=zone)
    return hsm


def is_claimed(cluster_id: str, ordinal: int | str, zone: str) -> bool:
    """Whether this HSM was ever requested (its claim tag exists, pending or naming an HSM)."""
    return claim_key(ordinal, zone) in claims(cluster_id)


def create_when_ready(cluster: dict, ordinal: int | str, zone: str, ready_states: tuple[str, ...], what: str) -> bool:
    """Create (or adopt) the HSM if the cluster is in one of `ready_states`; False, to wait, while the
    cluster is in a BUSY_STATE; LifecycleError in any other state."""
    state = cluster["State"]
    if state in BUSY_STATES:
        log("cluster_busy", cluster_id=cluster["ClusterId"], state=state, claim=claim_key(ordinal, zone))
        return False
    if state not in ready_states:
        raise LifecycleError(f"cluster {cluster['ClusterId']} is {state}: {what}")
    ensure_hsm(cluster["ClusterId"], ordinal, zone)
    return True


def deferred_create(event, cluster: dict, ordinal: int | str, zone: str, ready_states: tuple[str, ...],
                    what: str) -> dict | None:
    """is_complete's step for an HSM whose creation on_event deferred while the cluster was busy: None
    once the HSM was requested (the caller follows it), else the response that waits."""
    if is_claimed(cluster["ClusterId"], ordinal, zone):
        return None
    if not create_when_ready(cluster, ordinal, zone, ready_states, what):
        time_budget.ensure_within(event, f"cluster {cluster['ClusterId']} to leave {cluster['State']} before adding an HSM",
                                  "check the cluster in the CloudHSM console, then retry the deployment")
    return events.still_waiting()


def find_claimed(cluster_id: str, ordinal: int | str, zone: str) -> tuple[dict, dict | None]:
    """(cluster, the claimed HSM or None), following a replacement by ENI and recording it."""
    cluster = describe_cluster(cluster_id)
    key = claim_key(ordinal, zone)
    value = claims(cluster_id).get(key)
    hsm = owned_hsm(cluster, value)
    if hsm is not None and value != claim_value(hsm):
        log("hsm_replaced", cluster_id=cluster_id, claim=key, old=value, new_hsm_id=hsm["HsmId"])
        record_claim(cluster_id, key, claim_value(hsm))
    return cluster, hsm


def hsm_attributes(hsm: dict) -> dict[str, Any]:
    return {"HsmId": hsm["HsmId"], "AvailabilityZone": hsm["AvailabilityZone"],
            "EniId": hsm.get("EniId", ""), "EniIp": hsm.get("EniIp", "")}


def start_delete(cluster_id: str, ordinal: int | str, zone: str) -> str | None:
    """Ask CloudHSM to delete the claimed HSM; the HSM id, or None if it is already gone."""
    _, hsm = find_claimed(cluster_id, ordinal, zone)
    if hsm is None:
        return None
    if hsm["State"] not in GONE_STATES:
        client("cloudhsmv2").delete_hsm(ClusterId=cluster_id, HsmId=hsm["HsmId"])
        log("hsm_delete_requested", cluster_id=cluster_id, hsm_id=hsm["HsmId"])
    return hsm["HsmId"]


def delete_finished(cluster_id: str, ordinal: int | str, zone: str) -> bool:
    """True once the claimed HSM is gone; the claim is released then."""
    try:
        _, hsm = find_claimed(cluster_id, ordinal, zone)
    except LifecycleError:
        return True  # the cluster itself is gone, and its HSMs with it
    if hsm is not None:
        if hsm["State"] not in GONE_STATES:
            # Replaced while we waited (AWS or a retried create): delete the newcomer too.
            client("cloudhsmv2").delete_hsm(ClusterId=cluster_id, HsmId=hsm["HsmId"])
        return False
    release_claim(cluster_id, claim_key(ordinal, zone))
    return True


def physical_id(cluster_id: str, ordinal: int | str, zone: str) -> str:
    """Stable across AWS replacing the HSM; changes (so CloudFormation replaces) with cluster, ordinal or AZ."""
    return f"{cluster_id}/hsm/{ordinal}/{zone}"


def parse_physical_id(value: str) -> tuple[str, str, str] | None:
    """(cluster id, ordinal, zone) of a physical id made by physical_id, else None."""
    parts = value.split("/")
    if len(parts) == 4 and parts[1] == "hsm":
        return parts[0], parts[2], parts[3]
    return None


def delete_progress(event, what: str, advice: str) -> dict:
    """is_complete of a Delete: done when the owned HSM is gone, failing once the budget is spent."""
    parsed = parse_physical_id(event["PhysicalResourceId"])
    if parsed is None or delete_finished(*parsed):
        return events.finished()
    time_budget.ensure_within(event, what, advice)
    return events.still_waiting()
