"""CloudHSM makes its cluster's audit log group, /aws/cloudhsm/<cluster id>, itself, and the CloudHSM User
Guide does not say when. A first deploy must succeed whenever it does, and leave the group encrypted with
the audit key and kept for the configured retention."""

from __future__ import annotations

import contextlib
import io

from rehearsal.faults import FAULTS
from rehearsal.session import account_and_region, offline_account
from tests.rehearsal.conftest import loaded


def _deployed(cloud, stack_suffix: str, resource_type: str):
    (found,) = [resource for name, state in cloud.stacks.items() if name.endswith(f"-{stack_suffix}")
                for resource in state.resources.values() if resource.resource_type == resource_type]
    return found


def test_a_first_deploy_adopts_the_group_cloudhsm_made_with_the_cluster(assembly_dir, config):
    assembly = loaded(assembly_dir())
    with offline_account(*account_and_region([assembly])) as cloud, contextlib.redirect_stdout(io.StringIO()):
        FAULTS.audit_log_group_with_cluster()
        cloud.deploy(assembly)
        cluster_id = _deployed(cloud, "Hsm", "AWS::CloudHSM::Cluster").physical_id
        audit_key_arn = _deployed(cloud, "Audit", "AWS::KMS::Key").attributes["Arn"]
        groups = cloud.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/cloudhsm/{cluster_id}")["logGroups"]
    assert [group["logGroupName"] for group in groups] == [f"/aws/cloudhsm/{cluster_id}"]
    assert groups[0].get("kmsKeyId") == audit_key_arn
    assert groups[0].get("retentionInDays") == config.log_retention_days
