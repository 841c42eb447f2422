"""Each lifecycle handler's role in the synthesised templates allows every API call its code makes,
scoped to resources where the service allows it, and grants no wildcard action."""

from __future__ import annotations

import pytest

from cmk_constructs.hsm_backed_key.infrastructure import REQUEST_TAG
from tests.support.call_scan import calls_of

IAM_PREFIX = {"cloudhsmv2": "cloudhsm", "kms": "kms", "ssm": "ssm", "secretsmanager": "secretsmanager", "logs": "logs"}
# resource -> (stack suffix, construct id the LifecycleProvider sits under)
ROLES = {
    "first_hsm": ("Hsm", "FirstHsm"),
    "cluster_audit_log": ("Hsm", "ClusterAuditLog"),
    "cluster_initialisation": ("Hsm", "Initialisation"),
    "cluster_activation": ("Hsm", "Activation"),
    "hsm_fleet": ("Hsm", "HsmFleet"),
    "custom_key_store": ("Hsm", "KeyStore"),
    "hsm_backed_key": ("Keys", "DataKey"),
}
# Actions whose service supports resource-level permissions: never granted on "*".
SCOPED = {"cloudhsm:CreateHsm", "cloudhsm:DeleteHsm", "cloudhsm:TagResource", "cloudhsm:UntagResource",
          "cloudhsm:ListTags", "cloudhsm:InitializeCluster", "kms:Sign", "kms:GetPublicKey", "ssm:SendCommand",
          "ssm:GetParameter", "secretsmanager:GetSecretValue", "kms:DescribeKey", "kms:ScheduleKeyDeletion",
          "kms:PutKeyPolicy", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias", "kms:ListResourceTags",
          "kms:UpdateKeyDescription", "kms:TagResource", "logs:CreateLogGroup", "logs:AssociateKmsKey",
          "logs:PutRetentionPolicy"}
# Granted on "*" all the same, because the service leaves no other way, and only with these conditions:
# CreateKey's Tags need kms:TagResource in an IAM policy not restricted to particular keys (KMS
# Developer Guide, "Controlling access to tags"), so the role may set the request-id tag and no other.
ON_ANY_RESOURCE_ONLY_IF = {"kms:TagResource": {"ForAllValues:StringEquals": {"aws:TagKeys": [REQUEST_TAG]}}}


# Calls only one CA mode makes (cluster_initialisation): the role of the other mode must not allow them.
CA_MODE_ONLY = {"managed": {("kms", "Sign"), ("kms", "GetPublicKey")}, "external": {("ssm", "GetParameter")}}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _handler_statements(template: dict, construct_id: str) -> list[dict]:
    resources = template["Resources"]
    roles = [logical_id for logical_id, resource in resources.items()
             if resource["Type"] == "AWS::IAM::Role" and logical_id.startswith(f"{construct_id}LifecycleHandlerRole")]
    assert len(roles) == 1, f"{construct_id}: handler roles {roles}"
    statements = []
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": roles[0]} in resource["Properties"]["Roles"]:
            statements += resource["Properties"]["PolicyDocument"]["Statement"]
    return statements


def _granted(statements: list[dict], resource: str) -> dict[str, list]:
    """action -> resources granted without a condition (conditional '*' grants checked here)."""
    granted: dict[str, list] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _as_list(statement["Action"]):
            assert "*" not in action, f"{resource}: wildcard action {action}"
            resources = _as_list(statement["Resource"])
            if action in ON_ANY_RESOURCE_ONLY_IF and "*" in resources:
                assert statement.get("Condition") == ON_ANY_RESOURCE_ONLY_IF[action], \
                    f"{resource}: {action} on '*' without its narrowing condition"
                granted.setdefault(action, []).append("(any key, narrowed by condition)")
                continue
            granted.setdefault(action, []).extend(resources)
    return granted


def _check(app, resource: str, calls: set[tuple[str, str]]) -> dict[str, list]:
    stack, construct_id = ROLES[resource]
    granted = _granted(_handler_statements(app.raw(stack), construct_id), resource)
    for service, operation in sorted(calls):
        action = f"{IAM_PREFIX[service]}:{operation}"
        assert action in granted, f"{resource} calls {action}, its role does not allow it"
        if action in SCOPED:
            assert "*" not in granted[action], f"{resource}: {action} is granted on '*'"
    return granted


@pytest.mark.parametrize("resource", sorted(set(ROLES) - {"cluster_initialisation"}))
def test_role_allows_every_call_and_no_wildcard_action(reference, resource):
    _check(reference, resource, calls_of(resource))


@pytest.mark.parametrize("ca_mode", ["managed", "external"])
def test_initialisation_role_matches_its_ca_mode(synth, reference, ca_mode):
    app = reference if ca_mode == "managed" else synth(caMode="external")
    other = "external" if ca_mode == "managed" else "managed"
    granted = _check(app, "cluster_initialisation", calls_of("cluster_initialisation") - CA_MODE_ONLY[other])
    assert not {f"{IAM_PREFIX[s]}:{o}" for s, o in CA_MODE_ONLY[other]} & set(granted)
