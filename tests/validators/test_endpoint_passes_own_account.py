"""policy.prover.passes_from_outside: an endpoint policy passes the data buckets' requests of this account's
principals only. A caller's account is aws:PrincipalAccount (IAM User Guide, "AWS global condition context
keys": https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalaccount);
an anonymous caller has none."""

from __future__ import annotations

from cmk_validate.policy import parse_policy
from cmk_validate.policy.prover import passes_from_outside

ACCOUNT = "111122223333"
BUCKET = "arn:aws:s3:::customer-keys-data-{{AWS::AccountId}}-{{AWS::Region}}"
RESOURCES = [BUCKET, BUCKET + "/*"]


def proof(*statements, account=ACCOUNT):
    return passes_from_outside(parse_policy({"Statement": list(statements)}), account, RESOURCES)


def allow(condition=None, resource=None, action="s3:GetObject"):
    statement = {"Effect": "Allow", "Principal": "*", "Action": action, "Resource": resource or RESOURCES}
    return {**statement, "Condition": condition} if condition else statement


def test_pinned_to_the_account_passes_no_one_else():
    assert proof(allow({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}})).proven


def test_an_open_allow_passes_another_account_with_a_readable_example():
    found = proof(allow())
    assert not found.proven and found.counterexample["principal"] == "arn:aws:iam::999999999999:role/Outsider"


def test_the_solver_finds_an_account_the_typical_outsider_does_not_stand_for():
    """Only one foreign account is excluded: every other one still passes; the typical requests miss it."""
    found = proof(allow({"StringNotEquals": {"aws:PrincipalAccount": "999999999999"}}))
    assert not found.proven and not found.undecided
    assert found.counterexample["aws:principalaccount"] not in (ACCOUNT, "999999999999")


def test_a_deny_of_other_accounts_closes_an_open_allow():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}}
    assert proof(allow(), deny).proven


def test_a_wildcard_within_a_segment_matches_a_deploy_time_account():
    """The bucket name holds {{AWS::AccountId}}: a Resource wildcard inside the name's segment still matches."""
    found = proof(allow(resource="arn:aws:s3:::customer-*/*", action="s3:PutObject"), account="{{AWS::AccountId}}")
    assert not found.proven and found.counterexample["resource"].startswith(BUCKET + "/")


def test_a_bucket_owner_pin_alone_does_not_keep_other_accounts_out():
    """aws:ResourceAccount names whose bucket it is, not who asks."""
    found = proof(allow({"StringEquals": {"aws:ResourceAccount": ACCOUNT}}, resource="*"))
    assert not found.proven
