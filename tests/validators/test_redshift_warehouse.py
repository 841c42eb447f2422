"""The analytics assembly's warehouse passes; each of its protections broken in the real synthesised
templates is caught by CKE118 alone, and use of the data key through Redshift is admitted only where
the assembly has a Redshift cluster (CKE117)."""

from __future__ import annotations

import pytest

from cmk_validate.engine import run
from cmk_validate.findings import Severity
from cmk_validate.model import load
from tests.validators.assemblies import copied


@pytest.fixture(scope="session")
def analytics(synthesised):
    return load(str(synthesised["analytics"]))


def _one(assembly, kind):
    found = [resource for _, _, resource in assembly.iter_resources(kind)]
    assert len(found) == 1, kind
    return found[0]


def _cluster(a):
    return _one(a, "AWS::Redshift::Cluster")["Properties"]


def _parameters(a):
    return _one(a, "AWS::Redshift::ClusterParameterGroup")["Properties"]["Parameters"]


def _set_parameter(a, name, value):
    next(p for p in _parameters(a) if p["ParameterName"] == name)["ParameterValue"] = value


def _drop(a, kinds):
    for stack in a.stacks:
        for lid in [lid for lid, r in stack.resources.items() if r.get("Type") in kinds]:
            del stack.template["Resources"][lid]


MUTATIONS = {
    "publicly accessible": ("CKE118", lambda a: _cluster(a).update(PubliclyAccessible=True)),
    "public by omission": ("CKE118", lambda a: _cluster(a).pop("PubliclyAccessible")),
    "enhanced VPC routing off": ("CKE118", lambda a: _cluster(a).update(EnhancedVpcRouting=False)),
    "not encrypted": ("CKE118", lambda a: _cluster(a).update(Encrypted=False)),
    "AWS-owned key": ("CKE118", lambda a: _cluster(a).pop("KmsKeyId")),
    "the app's log key instead of the HSM-backed key": ("CKE118", lambda a: _cluster(a).update(
        KmsKeyId=_cluster(a)["MasterPasswordSecretKmsKeyId"])),
    "default parameter group": ("CKE118", lambda a: _cluster(a).update(ClusterParameterGroupName="default.redshift-1.0")),
    "TLS not required": ("CKE118", lambda a: _set_parameter(a, "require_ssl", "false")),
    "user activity not logged": ("CKE118", lambda a: _set_parameter(a, "enable_user_activity_logging", "false")),
    "no audit logging": ("CKE118", lambda a: _cluster(a).pop("LoggingProperties")),
    "user activity log not exported": ("CKE118", lambda a: _cluster(a)["LoggingProperties"]["LogExports"].remove(
        "useractivitylog")),
    # Without a warehouse, the data key's Redshift statements are use outside S3.
    "data key usable through Redshift with no warehouse": ("CKE117", lambda a: _drop(a, {"AWS::Redshift::Cluster"})),
}


def test_analytics_assembly_has_one_protected_warehouse(analytics):
    report = run(analytics, with_lines=False)
    assert report.active(Severity.WARNING) == []
    assert _cluster(analytics)["NodeType"].startswith("ra3.")


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_is_caught_by_exactly_its_rule(analytics, name):
    expected, mutate = MUTATIONS[name]
    assembly = copied(analytics)
    mutate(assembly)
    report = run(assembly, with_lines=False)
    raised = {f.rule_id for f in report.findings if f.severity >= Severity.WARNING}
    assert raised == {expected}, [f"{f.rule_id}: {f.message}" for f in report.findings]
