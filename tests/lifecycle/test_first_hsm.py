"""Custom::CloudHsmFirstHsm against the model: one HSM, its CSR, idempotent retries, errors, budget."""

from __future__ import annotations

import pytest
from cryptography import x509
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal import durations
from rehearsal.faults import FAULTS
from rehearsal.services import cloudhsm as cloudhsm_model
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run_now
from tests.support.world import ACCOUNT, REGION, ZONES


def _hsms(world):
    return world.cluster()["Hsms"]


def test_create_makes_one_active_hsm_in_the_first_zone_and_returns_the_csr(world):
    world.deploy_first_hsm()
    attributes = world.first_hsm.attributes
    [hsm] = _hsms(world)
    assert hsm["State"] == "ACTIVE" and hsm["AvailabilityZone"] == ZONES[0]
    assert attributes["HsmId"] == hsm["HsmId"] and attributes["EniId"] == hsm["EniId"] and attributes["EniIp"] == hsm["EniIp"]
    assert attributes["AvailabilityZone"] == ZONES[0]
    csr = x509.load_pem_x509_csr(attributes["ClusterCsr"].encode())
    assert csr.is_signature_valid and world.cluster_id in csr.subject.rfc4514_string()
    claims = [tag for tag in world.cloudhsm.list_tags(ResourceId=world.cluster_id)["TagList"]
              if tag["Key"].startswith("lifecycle:hsm/")]
    assert claims == [{"Key": f"lifecycle:hsm/0/{ZONES[0]}", "Value": f"{hsm['HsmId']} {hsm['EniId']}"}]


def test_a_retried_create_makes_nothing_twice(world):
    world.deploy_first_hsm()
    # CloudFormation/the framework retries the same request: on_event and is_complete run again.
    run_now(world.first_hsm, "Create")
    assert len(_hsms(world)) == 1
    assert sum(1 for call in FAULTS.calls if call[2] == "CreateHsm") == 1


def test_retry_after_a_crash_between_create_and_claim_adopts_the_hsm(world):
    resource = world.first_hsm_resource()
    # The claim update after CreateHsm fails (the pending claim went through): on_event dies after creating the HSM.
    FAULTS.fail("cloudhsmv2", "TagResource", "CloudHsmInternalFailureException", "internal", after=1)
    with pytest.raises(ResourceFailed):
        run_now(resource, "Create")
    assert len(_hsms(world)) == 1
    response = run_now(resource, "Create")
    assert len(_hsms(world)) == 1 and response["Data"]["HsmId"] == _hsms(world)[0]["HsmId"]


def test_throttling_is_retried_with_backoff(world, retry_sleeps):
    FAULTS.throttle("cloudhsmv2", "CreateHsm", times=2)
    FAULTS.throttle("cloudhsmv2", "DescribeClusters", times=3)
    world.deploy_first_hsm()
    assert len(_hsms(world)) == 1 and len(retry_sleeps) == 5


def test_a_zone_without_a_cluster_subnet_fails_with_one_line(world):
    resource = world.first_hsm_resource()
    resource.properties["AvailabilityZone"] = "eu-west-1z"
    with pytest.raises(ResourceFailed, match=r"AZ eu-west-1z has no subnet in cluster .* fix the HSM placement") as failure:
        run_now(resource, "Create")
    assert "\n" not in str(failure.value) and not _hsms(world)


def test_an_unknown_cluster_fails_with_one_line(world):
    resource = world.first_hsm_resource()
    resource.properties["ClusterId"] = "cluster-doesnotexist"
    with pytest.raises(ResourceFailed, match="cluster cluster-doesnotexist not found") as failure:
        run_now(resource, "Create")
    assert "\n" not in str(failure.value)


def test_aws_error_codes_become_one_line_reasons(world):
    FAULTS.fail("cloudhsmv2", "CreateHsm", "CloudHsmServiceException", "Insufficient capacity in eu-west-1a", times=1)
    with pytest.raises(ResourceFailed) as failure:
        world.deploy_first_hsm()
    assert str(failure.value).startswith("first HSM Create: CloudHsmServiceException: Insufficient capacity")
    assert "quota of HSMs per cluster, or no capacity" in str(failure.value)


def test_a_replaced_hsm_is_followed_by_eni_and_its_new_csr_returned(world):
    world.deploy_first_hsm()
    old = world.first_hsm.attributes
    backend = cloudhsmv2_backends[ACCOUNT][REGION]
    new_id = cloudhsm_model.replace_failed_hsm(backend, world.cluster_id, old["HsmId"])
    response = run_now(world.first_hsm, "Update", old_properties=world.first_hsm.properties)
    assert response["Data"]["HsmId"] == new_id and response["Data"]["EniId"] == old["EniId"]
    assert response["Data"]["ClusterCsr"] != old["ClusterCsr"]  # a new HSM key pair, a new CSR


def test_time_budget_exhaustion_says_what_it_waited_for(world, monkeypatch):
    monkeypatch.setattr(durations, "HSM_CREATE", 3 * 3600)
    with pytest.raises(ResourceFailed, match=r"gave up after \d+ min waiting for HSM hsm-\w+ to become ACTIVE"):
        world.deploy_first_hsm()


def test_delete_removes_the_hsm_its_eni_and_the_claim(world):
    world.deploy_first_hsm()
    eni = world.first_hsm.attributes["EniId"]
    run_now(world.first_hsm, "Delete")
    assert _hsms(world) == []
    assert not [tag for tag in world.cloudhsm.list_tags(ResourceId=world.cluster_id)["TagList"]
                if tag["Key"].startswith("lifecycle:hsm/")]
    assert not world.ec2.describe_network_interfaces(Filters=[{"Name": "network-interface-id", "Values": [eni]}])["NetworkInterfaces"]
    run_now(world.first_hsm, "Delete")  # a repeated delete is a no-op


def test_update_without_changes_creates_nothing(world):
    world.deploy_first_hsm()
    response = run_now(world.first_hsm, "Update", old_properties=world.first_hsm.properties)
    assert response["PhysicalResourceId"] == world.first_hsm.physical_id and len(_hsms(world)) == 1


def test_a_move_to_another_zone_while_the_cluster_is_busy_waits_for_it(world):
    """An update that moves the first HSM to another AZ creates the new one; while the (activated)
    cluster is MODIFY_IN_PROGRESS, a state that passes on its own, it waits instead of failing."""
    from rehearsal.clock import CLOCK

    deployed(world, "activation")
    cluster = cloudhsmv2_backends[ACCOUNT][REGION].clusters[world.cluster_id]
    cluster.state = "MODIFY_IN_PROGRESS"
    CLOCK.schedule(10 * 60, "the cluster's update ends", lambda: setattr(cluster, "state", "ACTIVE"))
    old = dict(world.first_hsm.properties)
    world.first_hsm.properties["AvailabilityZone"] = ZONES[1]
    response = run_now(world.first_hsm, "Update", old_properties=old)
    assert response["Data"]["AvailabilityZone"] == ZONES[1]
    assert [hsm["State"] for hsm in _hsms(world) if hsm["AvailabilityZone"] == ZONES[1]] == ["ACTIVE"]
