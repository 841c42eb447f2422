"""The analytics warehouse in the rehearsal: deployed with the deploying role's use of the data key
authorised, then a COPY (GetObject with the cluster's role) and an UNLOAD (PutObject) through the gateway
endpoint after each deploy; each broken link fails the rehearsal with AWS's refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rehearsal.cli import main


def _edit(directory: Path, stack_suffix: str, edit) -> None:
    path = next(directory.glob(f"*-{stack_suffix}.template.json"))
    template = json.loads(path.read_text())
    edit(template["Resources"])
    path.write_text(json.dumps(template))


def _cluster(resources: dict) -> dict:
    (cluster,) = [r for r in resources.values() if r["Type"] == "AWS::Redshift::Cluster"]
    return cluster["Properties"]


def _drop_sids(resources: dict, resource_type: str, policy_property: str, sids: set[str]) -> None:
    dropped = 0
    for resource in resources.values():
        if resource["Type"] == resource_type:
            statements = resource["Properties"][policy_property]["Statement"]
            kept = [s for s in statements if s.get("Sid") not in sids]
            dropped += len(statements) - len(kept)
            resource["Properties"][policy_property]["Statement"] = kept
    assert dropped == len(sids), sids


def test_the_analytics_deploy_loads_and_unloads_through_the_endpoint(assembly_dir, capsys):
    assert main([str(assembly_dir("analytics")), "--no-destroy"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "warehouse: Redshift cluster " in line)
    assert "loaded s3://customer-keys-dwh-data-" in line and "/warehouse/" in line
    assert "from subnet-" in line and "through vpce-" in line
    assert "AWS::Redshift::Cluster" in out and "CREATE_COMPLETE" in out


@pytest.mark.parametrize("stack, edit, expected", [
    # Without enhanced VPC routing COPY leaves outside the VPC: the bucket's endpoint lock refuses it.
    ("Analytics", lambda r: _cluster(r).update(EnhancedVpcRouting=False),
     "COPY from s3://customer-keys-dwh-data-111122223333-eu-west-1/warehouse/rehearsal-copy-probe.csv from outside "
     "the VPC (enhanced VPC routing is off) failed"),
    # The loading role may no longer decrypt through S3: the COPY cannot read the encrypted object.
    ("Analytics", lambda r: _drop_sids(r, "AWS::IAM::Policy", "PolicyDocument", {"DataKeyOnlyThroughS3"}),
     "because no identity-based policy allows the kms:Decrypt action"),
    # The loading role may no longer write its prefix: UNLOAD is refused.
    ("Analytics", lambda r: next(s for res in r.values() if res["Type"] == "AWS::IAM::Policy"
                                 for s in res["Properties"]["PolicyDocument"]["Statement"]
                                 if s.get("Sid") == "ReadAndWriteThePrefix")["Action"].remove("s3:PutObject"),
     "UNLOAD to s3://customer-keys-dwh-data-111122223333-eu-west-1/warehouse/"),
])
def test_a_broken_load_path_fails_the_rehearsal(copied_assembly, capsys, stack, edit, expected):
    directory = copied_assembly("analytics")
    _edit(directory, stack, edit)
    assert main([str(directory), "--no-destroy"]) == 1
    captured = capsys.readouterr()
    assert "rehearsal: FAILED: data path: Redshift cluster customer-keys-dwh-warehouse" in captured.err
    assert expected in captured.err


def test_a_data_key_policy_without_redshift_use_fails_the_cluster(copied_assembly, capsys):
    directory = copied_assembly("analytics")
    _edit(directory, "Keys", lambda r: _drop_sids(r, "Custom::HsmBackedKmsKey", "KeyPolicy", {
        "UseOnlyThroughRedshiftForTheWarehouse", "RedshiftGrantOnlyForTheWarehouse"}))
    assert main([str(directory), "--no-destroy"]) == 1
    err = capsys.readouterr().err
    assert "AWS::Redshift::Cluster" in err and "CustomerKeysDwh-Analytics" in err
    assert "cfn-exec-role-111122223333-eu-west-1/AWSCloudFormation is not authorized to perform: kms:CreateGrant" in err
    assert "because no resource-based policy allows the kms:CreateGrant action" in err
