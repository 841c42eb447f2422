"""Custom::CloudHsmClusterAuditLog against the model: the group ends encrypted with the audit key and with
the template's retention whether CloudHSM made it first or not, and outlives the resource."""

from __future__ import annotations

import pytest

from tests.support.provider import ResourceFailed, run_now

AUDIT_LOG = "Custom::CloudHsmClusterAuditLog"


def _group(world, name: str) -> dict | None:
    groups = world.cloud.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((group for group in groups if group["logGroupName"] == name), None)


def _expect_configured(world, resource) -> None:
    group = _group(world, resource.properties["LogGroupName"])
    assert group is not None
    assert group.get("kmsKeyId") == resource.properties["KmsKeyId"]
    assert group.get("retentionInDays") == int(resource.properties["RetentionInDays"])


def test_create_adopts_the_group_cloudhsm_made(world):
    resource = world.handle(AUDIT_LOG)   # after the first HSM: the model's CloudHSM has made the group
    name = resource.properties["LogGroupName"]
    assert name == f"/aws/cloudhsm/{world.cluster_id}"
    made_by_cloudhsm = _group(world, name)
    assert made_by_cloudhsm is not None and "kmsKeyId" not in made_by_cloudhsm
    assert run_now(resource, "Create")["PhysicalResourceId"] == name
    _expect_configured(world, resource)


def test_create_makes_the_group_cloudhsm_has_not_made_yet(world):
    resource = world.handle(AUDIT_LOG)
    world.cloud.client("logs").delete_log_group(logGroupName=resource.properties["LogGroupName"])
    run_now(resource, "Create")
    _expect_configured(world, resource)


def test_a_retried_create_changes_nothing(world):
    resource = world.handle(AUDIT_LOG)
    run_now(resource, "Create")
    run_now(resource, "Create")
    _expect_configured(world, resource)


def test_delete_keeps_the_group_as_audit_evidence(world):
    resource = world.handle(AUDIT_LOG)
    run_now(resource, "Create")
    run_now(resource, "Delete")
    _expect_configured(world, resource)


def test_a_key_that_does_not_exist_fails_with_the_reason(world):
    resource = world.handle(AUDIT_LOG)
    resource.properties["KmsKeyId"] = resource.properties["KmsKeyId"].rsplit("/", 1)[0] + "/0000-not-a-key"
    with pytest.raises(ResourceFailed, match="InvalidParameterException"):
        run_now(resource, "Create")
