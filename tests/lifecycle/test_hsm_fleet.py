"""Custom::CloudHsmHsm: parallel creation after activation, claims, replacement, scale-down guard."""

from __future__ import annotations

import pytest
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal import durations
from rehearsal.faults import FAULTS
from rehearsal.services import cloudhsm as cloudhsm_model
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run_now
from tests.support.world import ACCOUNT, REGION, ZONES


def _backend():
    return cloudhsmv2_backends[ACCOUNT][REGION]


def _live(world):
    return [hsm for hsm in world.cluster()["Hsms"] if hsm["State"] != "DELETE_IN_PROGRESS"]


def test_hsms_are_created_in_parallel_in_their_zones(world):
    world.hsm_count = 3
    deployed(world, "activation")
    world.deploy_fleet()
    hsms = _live(world)
    assert len(hsms) == 3 and {hsm["State"] for hsm in hsms} == {"ACTIVE"}
    assert {hsm["AvailabilityZone"] for hsm in hsms} == set(ZONES)
    assert [r.attributes["AvailabilityZone"] for r in world.fleet] == [ZONES[1], ZONES[2]]
    # CloudFormation creates the two at once: each takes one HSM creation (plus a poll), together as long,
    # though the first CreateHsm makes the cluster UPDATE_IN_PROGRESS (CloudHSM API Reference, Cluster:
    # State) before the second is asked for: CloudHSM adds HSMs in that state too.
    done = [event for phase in world.cloud.timeline.phases for event in phase.events
            if event.resource_type == "Custom::CloudHsmHsm" and event.status == "CREATE_COMPLETE"]
    assert len(done) == 2 and all(durations.HSM_CREATE <= event.seconds < durations.HSM_CREATE + 120 for event in done)
    assert abs(done[0].time - done[1].time) < 60


def test_fleet_hsms_wait_for_activation(world):
    """CloudFormation orders the fleet after activation; the handler refuses clearly if it runs earlier."""
    deployed(world, "initialisation")
    with pytest.raises(ResourceFailed, match="is INITIALIZED: HSMs after the first can be added only once it is activated"):
        run_now(world.fleet_resource(1, deploy_dependencies=False), "Create")


def test_a_retry_after_a_crash_adopts_the_pending_claims_hsm(world):
    deployed(world, "activation")
    resource = world.fleet_resource(1)
    FAULTS.fail("cloudhsmv2", "TagResource", "CloudHsmInternalFailureException", "internal", after=1)
    with pytest.raises(ResourceFailed):
        run_now(resource, "Create")
    assert len(_live(world)) == 2
    response = run_now(resource, "Create")
    assert len(_live(world)) == 2
    assert response["Data"]["HsmId"] in {hsm["HsmId"] for hsm in _live(world)}


def test_an_hsm_aws_replaced_is_found_by_its_eni_and_deleted(world):
    deployed(world, "fleet")
    resource = world.fleet[0]
    old_id = resource.attributes["HsmId"]
    new_id = cloudhsm_model.replace_failed_hsm(_backend(), world.cluster_id, old_id)
    response = run_now(resource, "Update", old_properties=resource.properties)
    assert response["Data"]["HsmId"] == new_id and response["PhysicalResourceId"] == resource.physical_id
    run_now(resource, "Delete")
    assert new_id not in {hsm["HsmId"] for hsm in world.cluster()["Hsms"]}
    assert len(world.cluster()["Hsms"]) == 1


def test_scale_down_refuses_to_leave_a_key_store_with_one_hsm(world):
    deployed(world, "key_store")
    with pytest.raises(ResourceFailed, match=r"refusing to delete HSM .*custom key store cks-\w+ uses cluster .* only 1 ACTIVE HSM"):
        run_now(world.fleet[0], "Delete")
    assert len(_live(world)) == 2


def test_throttled_describe_is_retried(world, retry_sleeps):
    deployed(world, "activation")
    FAULTS.throttle("cloudhsmv2", "DescribeClusters", times=2)
    FAULTS.throttle("cloudhsmv2", "CreateHsm", times=1)
    world.deploy_fleet()
    assert len(_live(world)) == 2 and len(retry_sleeps) == 3


def test_no_capacity_error_is_one_line(world):
    deployed(world, "activation")
    FAULTS.fail("cloudhsmv2", "CreateHsm", "CloudHsmServiceException", "No capacity in eu-west-1b")
    with pytest.raises(ResourceFailed, match=r"^HSM Create: CloudHsmServiceException: No capacity in eu-west-1b -> "):
        world.deploy_fleet()


def test_time_budget_exhaustion_fails_the_resource(world, monkeypatch):
    deployed(world, "activation")
    monkeypatch.setattr(durations, "HSM_CREATE", 3 * 3600)
    with pytest.raises(ResourceFailed, match=r"gave up after \d+ min waiting for HSM hsm-\w+ to become ACTIVE"):
        run_now(world.fleet_resource(1), "Create")


def test_delete_removes_only_the_hsm_it_owns(world):
    world.hsm_count = 3
    deployed(world, "fleet")
    kept = {world.first_hsm.attributes["HsmId"], world.fleet[0].attributes["HsmId"]}
    run_now(world.fleet[1], "Delete")
    assert {hsm["HsmId"] for hsm in world.cluster()["Hsms"]} == kept
    assert f"lifecycle:hsm/2/{ZONES[2]}" not in {t["Key"] for t in world.cloudhsm.list_tags(ResourceId=world.cluster_id)["TagList"]}


def test_a_lost_create_response_is_not_retried_blindly(world):
    """CreateHsm has no idempotency token: a 500 may hide a created HSM, so the handler does not
    repeat the call; the retried resource adopts the HSM through its pending claim."""
    deployed(world, "activation")
    resource = world.fleet_resource(1)
    FAULTS.lose_response("cloudhsmv2", "CreateHsm")
    with pytest.raises(ResourceFailed, match="InternalFailure"):
        run_now(resource, "Create")
    assert len(_live(world)) == 2  # the first HSM and exactly one more
    response = run_now(resource, "Create")
    assert len(_live(world)) == 2 and response["Data"]["HsmId"] in {hsm["HsmId"] for hsm in _live(world)}


def test_an_hsm_requested_while_the_cluster_is_busy_is_created_when_it_is_ready(world):
    """MODIFY_IN_PROGRESS (a migration to another HSM type, in limited-write mode) is a cluster state of
    DescribeClusters that passes on its own: the HSM is created once the cluster is ACTIVE again,
    instead of failing the resource."""
    from rehearsal.clock import CLOCK
    from tests.support.provider import run

    deployed(world, "activation")
    cluster = _backend().clusters[world.cluster_id]
    cluster.state = "MODIFY_IN_PROGRESS"
    CLOCK.schedule(10 * 60, "the cluster's update ends", lambda: setattr(cluster, "state", "ACTIVE"))
    resource = world.fleet_resource(1, deploy_dependencies=False)
    steps = run(resource, "Create")
    CLOCK.advance_to(next(steps))
    assert _live(world) == [hsm for hsm in world.cluster()["Hsms"] if hsm["AvailabilityZone"] == ZONES[0]], \
        "nothing is created while the cluster is busy"
    for when in steps:
        CLOCK.advance_to(when)
    hsms = _live(world)
    assert len(hsms) == 2 and {hsm["State"] for hsm in hsms} == {"ACTIVE"}
