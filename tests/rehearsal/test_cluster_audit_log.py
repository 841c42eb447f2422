"""CloudHSM makes its cluster's audit log group, /aws/cloudhsm/<cluster id>, itself, and the CloudHSM User
Guide does not say when. A first deploy must succeed whenever it does, and leave the group encrypted with
the audit key and kept for the configured retention."""

from __future__ import annotations

import contextlib
import io

import pytest

from rehearsal.faults import FAULTS
from rehearsal.session import account_and_region, offline_account
from tests.rehearsal.conftest import loaded


def _deployed(cloud, stack_suffix: str, resource_type: str):
    (found,) = [resource for name, state in cloud.stacks.items() if name.endswith(f"-{stack_suffix}")
                for resource in state.resources.values() if resource.resource_type == resource_type]
    return found


@pytest.mark.parametrize("cloudhsm_makes_it", ["with the cluster", "when the first HSM is ACTIVE"])
def test_a_first_deploy_adopts_the_group_whenever_cloudhsm_makes_it(assembly_dir, config, cloudhsm_makes_it):
    assembly = loaded(assembly_dir())
    with offline_account(*account_and_region([assembly])) as cloud, contextlib.redirect_stdout(io.StringIO()):
        if cloudhsm_makes_it == "with the cluster":
            FAULTS.audit_log_group_with_cluster()   # the model's default is the other moment
        cloud.deploy(assembly)
        cluster_id = _deployed(cloud, "Hsm", "AWS::CloudHSM::Cluster").physical_id
        audit_key_arn = _deployed(cloud, "Audit", "AWS::KMS::Key").attributes["Arn"]
        groups = cloud.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/cloudhsm/{cluster_id}")["logGroups"]
    assert [group["logGroupName"] for group in groups] == [f"/aws/cloudhsm/{cluster_id}"]
    assert groups[0].get("kmsKeyId") == audit_key_arn
    assert groups[0].get("retentionInDays") == config.log_retention_days
