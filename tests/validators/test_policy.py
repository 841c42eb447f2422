"""IAM semantics of the evaluator and the prover, case by case."""

from __future__ import annotations

import pytest

from cmk_validate.policy import Principal, Request, evaluate, parse_policy
from cmk_validate.policy.prover import Scope, deny_covers

BUCKET = "arn:aws:s3:::data"
ENDPOINT = "vpce-0123456789abcdef0"
ROLE = "arn:aws:iam::111122223333:role/App"


def policy(*statements):
    return parse_policy({"Statement": list(statements)})


def request(action="s3:GetObject", resource=BUCKET + "/k", principal=ROLE, **context):
    who = Principal.aws(principal) if principal else Principal.anonymous()
    return Request(action, resource, who, context)


def test_explicit_deny_beats_allow_and_names_the_statement():
    statements = policy({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"},
                        {"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "s3:Get*", "Resource": "*"})
    decision = evaluate(request(), [statements])
    assert (decision.effect, decision.statement.sid) == ("Deny", "D")
    assert evaluate(request(action="s3:PutObject"), [statements]).effect == "Allow"
    assert evaluate(request(action="ec2:RunInstances"), [statements]).effect == "ImplicitDeny"


def test_actions_match_case_insensitively_resources_do_not():
    statements = policy({"Effect": "Allow", "Principal": "*", "Action": "S3:getobject", "Resource": BUCKET + "/K"})
    assert evaluate(request(resource=BUCKET + "/K"), [statements]).allowed
    assert not evaluate(request(resource=BUCKET + "/k"), [statements]).allowed


ROLE_CHAIN = ["111122223333", ROLE, "arn:aws:sts::111122223333:assumed-role/App/operator"]  # see below


def test_not_action_not_resource_not_principal():
    statements = policy({"Effect": "Deny", "NotPrincipal": {"AWS": ROLE_CHAIN}, "NotAction": "s3:GetObject",
                         "NotResource": BUCKET + "/public/*"})
    assert evaluate(request(action="s3:PutObject", principal="arn:aws:iam::1:role/X"), [statements]).effect == "Deny"
    assert evaluate(request(action="s3:PutObject"), [statements]).effect == "ImplicitDeny"
    assert evaluate(request(action="s3:GetObject", principal="arn:aws:iam::1:role/X"), [statements]).effect == "ImplicitDeny"
    assert evaluate(request(action="s3:PutObject", resource=BUCKET + "/public/a", principal="arn:aws:iam::1:role/X"),
                    [statements]).effect == "ImplicitDeny"


@pytest.mark.parametrize("principal_element", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_star_principal_forms_are_equivalent(principal_element):
    statements = policy({"Effect": "Deny", "Principal": principal_element, "Action": "s3:*", "Resource": "*"})
    assert evaluate(request(principal=None), [statements]).effect == "Deny"


def test_account_principal_matches_principals_of_that_account():
    statements = policy({"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"})
    assert evaluate(request(), [statements]).allowed
    assert not evaluate(request(principal="arn:aws:iam::999999999999:role/App"), [statements]).allowed


@pytest.mark.parametrize("operator,context,holds", [
    ("StringNotEquals", {}, True),                            # negated operator, key absent: true
    ("StringNotEquals", {"aws:SourceVpce": ENDPOINT}, False),
    ("StringNotEquals", {"AWS:SOURCEVPCE": "vpce-other"}, True),  # key names are case-insensitive
    ("StringEquals", {}, False),                              # positive operator, key absent: false
    ("StringEqualsIfExists", {}, True),                       # IfExists, key absent: true
    ("StringNotLike", {"aws:sourcevpce": "vpce-0123456789abcdef0"}, False),
    ("ForAnyValue:StringEquals", {}, False),
    ("ForAllValues:StringEquals", {}, True),
    ("ForAllValues:StringEquals", {"aws:sourcevpce": [ENDPOINT, "vpce-x"]}, False),
    ("ForAnyValue:StringEquals", {"aws:sourcevpce": [ENDPOINT, "vpce-x"]}, True),
])
def test_condition_operators(operator, context, holds):
    statements = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                         "Condition": {operator: {"aws:sourceVpce": ENDPOINT}}})
    assert evaluate(Request("s3:GetObject", BUCKET, Principal.aws(ROLE), context), [statements]).effect == \
        ("Deny" if holds else "ImplicitDeny")


def test_other_operators():
    def holds(operator, key, value, actual):
        statements = policy({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*",
                             "Condition": {operator: {key: value}}})
        return evaluate(Request("s3:GetObject", BUCKET, Principal.aws(ROLE), {key: actual}), [statements]).effect == "Deny"

    assert holds("Bool", "aws:SecureTransport", "false", "false")
    assert holds("Bool", "aws:SecureTransport", False, "false")
    assert not holds("Bool", "aws:SecureTransport", "false", "true")
    assert holds("NumericLessThan", "s3:TlsVersion", "1.2", "1.1")
    assert holds("IpAddress", "aws:SourceIp", "10.0.0.0/8", "10.1.2.3")
    assert holds("NotIpAddress", "aws:SourceIp", "10.0.0.0/8", "192.168.0.1")
    assert holds("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/App", ROLE)
    assert not holds("ArnLike", "aws:PrincipalArn", "arn:aws:s3:*:*:*", ROLE)  # each ARN part on its own
    assert holds("StringEqualsIgnoreCase", "s3:prefix", "Home", "HOME")
    assert holds("Null", "aws:SourceVpce", "false", ENDPOINT)


ENDPOINT_DENY = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [BUCKET, BUCKET + "/*"],
                 "Condition": {"StringNotEquals": {"aws:sourceVpce": ENDPOINT},
                               "ArnNotLike": {"aws:PrincipalArn": ROLE}}}
SCOPE = Scope(["s3:"], [BUCKET, BUCKET + "/*"], [ROLE], {"aws:sourcevpce": [ENDPOINT]})


def test_prover_proves_the_endpoint_deny_for_every_request():
    assert deny_covers(policy(ENDPOINT_DENY), SCOPE).proven


def test_prover_finds_a_gap_sampling_would_miss():
    """A deny on every action except one odd name: no typical request exposes it, z3 does."""
    gap = dict(ENDPOINT_DENY, Action=None, NotAction="s3:PutBucketOwnershipControlsX")
    del gap["Action"]
    proof = deny_covers(policy(gap), SCOPE)
    assert not proof.proven
    assert proof.counterexample["action"] == "s3:putbucketownershipcontrolsx"


def test_prover_handles_split_statements_and_if_exists():
    bucket_only = dict(ENDPOINT_DENY, Resource=BUCKET)
    objects_only = dict(ENDPOINT_DENY, Resource=BUCKET + "/*",
                        Condition={"StringNotEqualsIfExists": {"aws:SourceVpce": [ENDPOINT]},
                                   "ArnNotEquals": {"aws:principalarn": ROLE}})
    assert deny_covers(policy(bucket_only, objects_only), SCOPE).proven
    assert not deny_covers(policy(bucket_only), SCOPE).proven


def test_unexpressible_condition_never_proves():
    odd = dict(ENDPOINT_DENY, Condition={"DateGreaterThan": {"aws:CurrentTime": "2000-01-01T00:00:00Z"}})
    assert not deny_covers(policy(odd), SCOPE).proven


# IAM User Guide, "AWS JSON policy elements: NotPrincipal" (key points): "you must also specify the account
# ARN of the not-denied principal. Otherwise, the policy might deny access to the entire account"; AWS
# checks the account, then the role, then the assumed-role session, named by its session ARN.
@pytest.mark.parametrize("listed, left_out", [
    (["arn:aws:iam::111122223333:root"], False),                    # the account alone leaves out no one in it
    ([ROLE], False),                                               # the role without its account
    (["111122223333", ROLE], False),                               # the role without its session
    (ROLE_CHAIN, True),                                            # account, role and session
    (["arn:aws:iam::111122223333:root", "arn:aws:iam::111122223333:user/ops"], False),  # another principal
])
def test_not_principal_with_deny_leaves_out_only_fully_named_principals(listed, left_out):
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:*", "Resource": "*"}
    decision = evaluate(request(action="s3:PutObject"), [policy(deny)])
    assert (decision.effect == "ImplicitDeny") is left_out
    # The prover reads NotPrincipal alike: the Deny covers the role's requests unless it is left out.
    scope = Scope(["s3:"], [BUCKET, BUCKET + "/*"], [], equals={"aws:principalarn": ROLE})
    assert deny_covers(policy(deny), scope).proven is not left_out


def test_not_principal_leaves_out_an_iam_user_named_with_its_account():
    deny = {"Effect": "Deny", "NotPrincipal": {"AWS": ["111122223333", "arn:aws:iam::111122223333:user/ops"]},
            "Action": "s3:*", "Resource": "*"}
    assert evaluate(request(principal="arn:aws:iam::111122223333:user/ops"), [policy(deny)]).effect == "ImplicitDeny"
    assert evaluate(request(principal="arn:aws:iam::111122223333:user/other"), [policy(deny)]).effect == "Deny"


def test_a_null_condition_is_malformed_not_absent():
    """IAM refuses "Condition": null (the element must be an object); read as absent, a Deny would
    apply to every request and prove the endpoint lock on a policy AWS would not accept."""
    (statement,) = policy({"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": None})
    assert statement.unresolved.endswith("statement 0: Condition is null, not an object")
    assert not deny_covers([statement], SCOPE).proven
