"""`review --base` on mutations of the app's synthesised reference assembly: every change that widens
access to the bucket, the key or the endpoint is flagged with a witness request, including a change
that only adds a value to a list; narrowing, reordering statements and renaming Sids are not.
The cells are proved over all values, so the same cells report the same total alone and in change mode."""

from __future__ import annotations

import json
import shutil

import pytest

from cmk_validate.review import matrix as m
from cmk_validate.review.report import review_change, review_path

OTHER_VPCE = "vpce-0123456789abcdef0"
NEW_ACCOUNT = "777788889999"


def _statements(template: dict, resource_type: str | None, document: str, name_part: str = "") -> list:
    resource = next(r for lid, r in template["Resources"].items()
                    if (resource_type is None or r["Type"] == resource_type) and name_part in lid
                    and document in r.get("Properties", {}))
    return resource["Properties"][document]["Statement"]


def _bucket_policy(templates):
    return _statements(templates["CustomerKeys-Data"], "AWS::S3::BucketPolicy", "PolicyDocument")


def _endpoint_policy(templates):
    return _statements(templates["CustomerKeys-Network"], "AWS::EC2::VPCEndpoint", "PolicyDocument")


def _data_key_policy(templates):
    return _statements(templates["CustomerKeys-Keys"], None, "KeyPolicy", "DataKey")   # the HSM-backed key's type


def _sid(statements: list, sid: str) -> dict:
    return next(s for s in statements if s.get("Sid") == sid)


def second_endpoint_id(templates):
    condition = _sid(_bucket_policy(templates), "DenyRequestsOutsideGatewayEndpoint")["Condition"]["StringNotEquals"]
    endpoints = condition["aws:sourceVpce"]
    condition["aws:sourceVpce"] = [*(endpoints if isinstance(endpoints, list) else [endpoints]), OTHER_VPCE]


def extra_account_in_principal_list(templates):
    _sid(_data_key_policy(templates), "KeyAdministration")["Principal"]["AWS"].append(f"arn:aws:iam::{NEW_ACCOUNT}:root")


def extra_action_on_the_endpoint(templates):
    _sid(_endpoint_policy(templates), "DataBucketsFromThisAccount")["Action"].append("s3:PutBucketPolicy")


def extra_account_on_the_endpoint(templates):
    condition = _sid(_endpoint_policy(templates), "DataBucketsFromThisAccount")["Condition"]["StringEquals"]
    condition["aws:PrincipalAccount"] = [condition["aws:PrincipalAccount"], NEW_ACCOUNT]


def wildcard_break_glass_exception(templates):
    condition = _sid(_bucket_policy(templates), "DenyRequestsOutsideGatewayEndpoint")["Condition"]["ArnNotLike"]
    condition["aws:PrincipalArn"].append("arn:aws:iam::111122223333:role/Ops*")


def narrowing(templates):
    actions = _sid(_endpoint_policy(templates), "DataBucketsFromThisAccount")["Action"]
    actions.remove("s3:DeleteObject")


def reordering(templates):
    _bucket_policy(templates).reverse()
    _data_key_policy(templates).reverse()


def renaming_sids(templates):
    for statement in _bucket_policy(templates) + _endpoint_policy(templates) + _data_key_policy(templates):
        statement["Sid"] = "Renamed" + statement.get("Sid", "")


def _mutated(source, target, mutate):
    shutil.copytree(source, target)
    templates = {path.name.removesuffix(".template.json"): json.loads(path.read_text())
                 for path in target.glob("*.template.json")}
    mutate(templates)
    for name, template in templates.items():
        (target / f"{name}.template.json").write_text(json.dumps(template))
    return target


# mutation -> (subject prefix, who prefix, what, where) of one cell it must open
WIDENING = {
    second_endpoint_id: ("bucket ", "role of this account", m.READ, m.OTHER_ENDPOINT),
    extra_account_in_principal_list: ("key alias/customer-keys/data", "principal of another account", m.PUT_KEY_POLICY, m.INTERNET),
    extra_action_on_the_endpoint: ("bucket ", "role of this account", m.PUT_POLICY, m.THIS_ENDPOINT),
    extra_account_on_the_endpoint: ("gateway endpoint ", "principal of another account", m.READ, None),
    wildcard_break_glass_exception: ("bucket ", "role of this account", m.READ, m.INTERNET),
}


@pytest.mark.parametrize("mutate", list(WIDENING), ids=lambda f: f.__name__)
def test_widening_is_flagged_with_a_witness(app_assemblies, tmp_path, mutate):
    base = app_assemblies["reference"]
    changed = _mutated(base, tmp_path / "changed", mutate)
    review = review_change(str(base), str(changed))
    assert review.diff.opens_access
    subject, who, what, where = WIDENING[mutate]
    flips = [f for f in review.diff.opened if f.subject.startswith(subject) and f.who.startswith(who)
             and f.what.startswith(what) and (where is None or f.where == where)]
    assert flips, [(f.subject, f.who, f.where, f.what) for f in review.diff.opened][:10]
    witness = flips[0].witness
    assert witness and witness["principal"] and flips[0].after.startswith("allow")
    if mutate is second_endpoint_id:
        assert witness["context"]["aws:sourcevpce"] == OTHER_VPCE
    if mutate in (extra_account_in_principal_list, extra_account_on_the_endpoint):
        assert NEW_ACCOUNT in witness["principal"] or witness["context"].get("aws:principalaccount") == NEW_ACCOUNT
    if mutate is wildcard_break_glass_exception:
        assert witness["principal"].startswith("arn:aws:iam::111122223333:role/Ops")
    assert len(review.results) == len(review_path(str(changed)).results)   # same cells alone and as a change


@pytest.mark.parametrize("mutate", [narrowing, reordering, renaming_sids], ids=lambda f: f.__name__)
def test_non_widening_changes_open_nothing(app_assemblies, tmp_path, mutate):
    base = app_assemblies["reference"]
    review = review_change(str(base), str(_mutated(base, tmp_path / "changed", mutate)))
    assert review.diff.opened == [], [(f.subject, f.who, f.where, f.what, f.witness) for f in review.diff.opened][:5]
    if mutate is narrowing:
        assert any(f.what == m.DELETE for f in review.diff.closed)
