"""IAM semantics the evaluator and the prover encode, each case with the IAM User Guide page it comes from.
Every case runs through the concrete evaluator and, where the claim is a Deny's coverage, the z3 prover."""

from __future__ import annotations

import pytest

from cmk_validate.policy import Principal, Request, evaluate, parse_policy
from cmk_validate.policy.prover import Scope, deny_covers

VARIABLES_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html"
RESOURCE_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html"
OPERATORS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
MULTIVALUED_PAGE = ("https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                    "reference_policies_condition-single-vs-multi-valued-context-keys.html")
GLOBAL_KEYS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html"
PRINCIPAL_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html"
KMS_KEYS_PAGE = "https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html"

ACCOUNT = "111122223333"
USER = f"arn:aws:iam::{ACCOUNT}:user/engineering/alice"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/App"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/App/operator"
OTHER_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/App/batch"
BUCKET = "arn:aws:s3:::data"


def policy(*statements, version="2012-10-17"):
    document = {"Statement": list(statements)}
    if version:
        document["Version"] = version
    return parse_policy(document)


def allowed(statements, resource=BUCKET + "/k", principal=ROLE, action="s3:GetObject", **context) -> bool:
    who = Principal.aws(principal) if principal else Principal.anonymous()
    return evaluate(Request(action, resource, who, context), [statements]).allowed


def allow(resource="*", condition=None, principal="*"):
    statement = {"Effect": "Allow", "Principal": principal, "Action": "s3:GetObject", "Resource": resource}
    if condition is not None:
        statement["Condition"] = condition
    return statement


# Policy variables (VARIABLES_PAGE)

def test_a_variable_in_resource_takes_the_request_value():
    """"When the policy is evaluated, the policy variables are replaced with values that come from the
    conditional context keys passed in the request" (VARIABLES_PAGE, "Using variables in policies")."""
    statements = policy(allow(BUCKET + "/home/${aws:username}/*"))
    assert allowed(statements, BUCKET + "/home/alice/notes", principal=USER)
    assert not allowed(statements, BUCKET + "/home/bob/notes", principal=USER)


def test_a_variable_with_no_value_matches_nothing():
    """A role session has no aws:username: "the value is effectively null. There is no equal or like value"
    (VARIABLES_PAGE, "Policy variables with no value")."""
    statements = policy(allow(BUCKET + "/home/${aws:username}/*"))
    assert not allowed(statements, BUCKET + "/home//notes", principal=ROLE)
    assert not allowed(statements, BUCKET + "/home/${aws:username}/notes", principal=ROLE)
    equals = policy(allow(condition={"StringEquals": {"s3:prefix": "${aws:username}"}}))
    assert not allowed(equals, principal=ROLE, **{"s3:prefix": ""})
    differs = policy(allow(condition={"StringNotEquals": {"s3:prefix": "${aws:username}"}}))
    assert allowed(differs, principal=ROLE, **{"s3:prefix": "anything"})


def test_a_default_value_fills_a_variable_with_no_value():
    """`${aws:username, 'shared'}` (VARIABLES_PAGE, "Specifying default values")."""
    statements = policy(allow(BUCKET + "/home/${aws:username, 'shared'}/*"))
    assert allowed(statements, BUCKET + "/home/shared/notes", principal=ROLE)
    assert allowed(statements, BUCKET + "/home/alice/notes", principal=USER)
    assert not allowed(statements, BUCKET + "/home/shared/notes", principal=USER)


def test_escaped_special_characters_are_literal():
    """`${*}`, `${?}` and `${$}` stand for the characters themselves (VARIABLES_PAGE, "Special characters")."""
    statements = policy(allow(BUCKET + "/${*}"))
    assert allowed(statements, BUCKET + "/*")
    assert not allowed(statements, BUCKET + "/anything")
    dollar = policy(allow(BUCKET + "/price-${$}"))
    assert allowed(dollar, BUCKET + "/price-$")


def test_a_value_from_the_request_is_literal_text_not_a_wildcard():
    statements = policy(allow(condition={"StringLike": {"s3:prefix": "${aws:PrincipalTag/team}/*"}}))
    assert allowed(statements, **{"s3:prefix": "a*/report", "aws:PrincipalTag/team": "a*"})
    assert not allowed(statements, **{"s3:prefix": "abc/report", "aws:PrincipalTag/team": "a*"})


def test_a_multivalued_key_cannot_fill_a_variable():
    """"a multivalued condition key ... fails to be replaced" (VARIABLES_PAGE, "Policy variables with no value")."""
    statements = policy(allow(BUCKET + "/${aws:CalledVia}/*"))
    assert not allowed(statements, BUCKET + "/s3.amazonaws.com/k",
                       **{"aws:CalledVia": ["s3.amazonaws.com", "kms.amazonaws.com"]})


def test_before_version_2012_10_17_a_variable_is_literal_text():
    """"If you don't include a Version element set to 2012-10-17, variables such as ${aws:username} won't be
    recognized as variables and will instead be treated as literal strings" (IAM User Guide, "IAM JSON policy
    elements: Version")."""
    statements = policy(allow(BUCKET + "/home/${aws:username}/*"), version=None)
    assert allowed(statements, BUCKET + "/home/${aws:username}/x", principal=USER)
    assert not allowed(statements, BUCKET + "/home/alice/x", principal=USER)


def test_the_prover_fills_variables_where_they_are_exact():
    """A Deny on every object outside the caller's own folder, proved for every request in the scope."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "NotResource": [BUCKET, BUCKET + "/${aws:PrincipalTag/folder}"]}
    scope = Scope(["s3:getobject"], [BUCKET + "/secret"], equals={"aws:principaltag/folder": "public"})
    assert deny_covers(policy(deny), scope).proven
    leaky = Scope(["s3:getobject"], [BUCKET + "/secret"], equals={"aws:principaltag/folder": "secret"})
    proof = deny_covers(policy(deny), leaky)
    assert not proof.proven and proof.counterexample is not None


# Values IAM reads as strings (OPERATORS_PAGE)

@pytest.mark.parametrize("written, sent", [(True, "true"), (False, "false"), (10, "10")])
def test_unquoted_booleans_and_numbers_compare_as_their_text(written, sent):
    """JSON `true` or `10` in a string operator is compared as the text "true" or "10" (OPERATORS_PAGE,
    "String condition operators"; IAM reads every condition value as a string)."""
    statements = policy(allow(condition={"StringEquals": {"s3:x-amz-acl": written}}))
    assert allowed(statements, **{"s3:x-amz-acl": sent})
    assert not allowed(statements, **{"s3:x-amz-acl": sent.upper() + "x"})


def test_the_prover_reads_an_unquoted_boolean_as_the_evaluator_does():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:securetransport": False}}}
    scope = Scope(["s3:"], [BUCKET + "/*"], equals={"aws:securetransport": "false"})
    assert deny_covers(policy(deny), scope).proven


# Set operators with IfExists and empty multi-valued keys (MULTIVALUED_PAGE, OPERATORS_PAGE "...IfExists")

TAGS = "aws:TagKeys"


@pytest.mark.parametrize("operator, absent, empty, inside, outside", [
    ("ForAnyValue:StringEquals", False, False, True, False),
    ("ForAnyValue:StringEqualsIfExists", True, False, True, False),
    ("ForAllValues:StringEquals", True, True, True, False),
    ("ForAllValues:StringEqualsIfExists", True, True, True, False),
])
def test_set_operators_with_and_without_if_exists(operator, absent, empty, inside, outside):
    """ForAllValues is true when the key is absent or empty; ForAnyValue is false then, unless IfExists
    makes an absent key pass (MULTIVALUED_PAGE; OPERATORS_PAGE, "...IfExists condition operators")."""
    statements = policy(allow(condition={operator: {TAGS: ["team", "cost"]}}))
    assert allowed(statements) is absent
    assert allowed(statements, **{TAGS: []}) is empty
    assert allowed(statements, **{TAGS: ["team"]}) is inside
    assert allowed(statements, **{TAGS: ["team", "secret"]}) is (operator.startswith("ForAnyValue") or outside)


def test_the_prover_lets_an_absent_key_pass_for_any_value_if_exists():
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"ForAnyValue:StringNotEqualsIfExists": {"aws:tagkeys": ["team"]}}}
    scope = Scope(["s3:"], [BUCKET + "/*"], absent=["aws:tagkeys"])
    assert deny_covers(policy(deny), scope).proven
    plain = dict(deny, Condition={"ForAnyValue:StringNotEquals": {"aws:tagkeys": ["team"]}})
    assert not deny_covers(policy(plain), scope).proven


# Wildcards in Resource, by ARN segment (RESOURCE_PAGE, "Using wildcards in resource ARNs")

@pytest.mark.parametrize("pattern, arn, matches", [
    ("arn:aws:s3:::a*b", "arn:aws:s3:::a-middle-b", True),
    ("arn:aws:s3:::a*b", "arn:aws:s3:::a:x:b", False),          # a * inside a segment stops at a colon
    ("arn:aws:logs:eu-west-1:111122223333:log-group:app*",
     "arn:aws:logs:eu-west-1:111122223333:log-group:app:log-stream:s", True),   # a * ending a segment does not
    ("arn:aws:iam::*:role/App", f"arn:aws:iam::{ACCOUNT}:role/App", True),
    ("arn:aws:s3:::dat?", "arn:aws:s3:::data", True),
    ("arn:aws:s3:::dat?x", "arn:aws:s3:::dat:x", False),         # ? is one character within the segment
    ("*", "arn:aws:s3:::a:b", True),
])
def test_resource_wildcards_work_within_arn_segments(pattern, arn, matches):
    statements = policy(allow(pattern))
    assert allowed(statements, arn) is matches
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": pattern}
    assert deny_covers(policy(deny), Scope(["s3:getobject"], [arn])).proven is matches


# The request: who asks (GLOBAL_KEYS_PAGE, PRINCIPAL_PAGE, KMS_KEYS_PAGE)

def test_a_role_session_is_known_by_its_role_and_its_session():
    """aws:PrincipalArn of a role session is the role's ARN (GLOBAL_KEYS_PAGE, aws:PrincipalArn); a Principal
    element naming the role covers its sessions, one naming a session only that session (PRINCIPAL_PAGE,
    "Role session principals")."""
    by_role = policy(allow(principal={"AWS": ROLE}))
    by_session = policy(allow(principal={"AWS": SESSION}))
    by_principal_arn = policy(allow(condition={"ArnEquals": {"aws:PrincipalArn": ROLE}}))
    assert allowed(by_role, principal=SESSION) and allowed(by_role, principal=OTHER_SESSION)
    assert allowed(by_session, principal=SESSION) and not allowed(by_session, principal=OTHER_SESSION)
    assert allowed(by_principal_arn, principal=SESSION)
    assert Principal.aws(SESSION).type == "AssumedRole" and Principal.aws(USER).type == "User"


def test_not_principal_leaves_out_only_the_listed_session():
    deny_others = {"Effect": "Deny", "NotPrincipal": {"AWS": [ACCOUNT, ROLE, SESSION]}, "Action": "s3:*",
                   "Resource": "*"}
    statements = policy(allow(), deny_others)
    assert allowed(statements, principal=SESSION)
    assert not allowed(statements, principal=OTHER_SESSION)


def test_keys_that_describe_the_caller_come_with_every_request():
    """aws:PrincipalAccount, aws:PrincipalOrgID, aws:PrincipalIsAWSService (GLOBAL_KEYS_PAGE) and
    kms:CallerAccount (KMS_KEYS_PAGE) are in the request context because of who asks."""
    request = Request("kms:Decrypt", "*", Principal.aws(SESSION, org_id="o-abc123"))
    assert request.value("aws:PrincipalAccount") == request.value("kms:CallerAccount") == ACCOUNT
    assert request.value("aws:PrincipalOrgID") == "o-abc123"
    assert request.value("aws:PrincipalIsAWSService") == "false"
    assert request.value("aws:username") is None
    assert Request("s3:GetObject", "*", Principal("Service", "s3.amazonaws.com")).value(
        "aws:PrincipalIsAWSService") == "true"
    assert Request("s3:GetObject", "*", Principal.aws(USER)).value("aws:username") == "alice"
    same_org = policy(allow(condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}))
    assert allowed(same_org, principal=SESSION) is False   # Principal.aws(SESSION) here has no organization
    assert evaluate(Request("s3:GetObject", BUCKET + "/k", Principal.aws(SESSION, org_id="o-abc123")),
                    [same_org]).allowed


# Operators the prover now encodes exactly (OPERATORS_PAGE)

def test_the_prover_decides_case_insensitive_operators_for_every_spelling():
    """StringEqualsIgnoreCase and Bool ignore case (OPERATORS_PAGE, "String condition operators",
    "Boolean condition operators"): a Deny on any spelling of the value covers every spelling."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"StringEqualsIgnoreCase": {"s3:x-amz-acl": "Public-Read"}}}
    for sent in ("public-read", "PUBLIC-READ", "Public-Read"):
        assert deny_covers(policy(deny), Scope(["s3:"], [BUCKET + "/*"], equals={"s3:x-amz-acl": sent})).proven
    proof = deny_covers(policy(deny), Scope(["s3:"], [BUCKET + "/*"], present_and_not_in={"s3:x-amz-acl": []}))
    assert not proof.proven and proof.counterexample is not None
    refused = policy(allow(), deny)
    assert not allowed(refused, **{"s3:x-amz-acl": "PUBLIC-read"})


def test_the_prover_decides_whole_number_comparisons():
    """NumericGreaterThan compares numbers, not text: "500" > "100" and "99" is not (OPERATORS_PAGE,
    "Numeric condition operators")."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"NumericGreaterThan": {"s3:max-keys": "100"}}}
    assert deny_covers(policy(deny), Scope(["s3:"], [BUCKET], equals={"s3:max-keys": "500"})).proven
    assert not deny_covers(policy(deny), Scope(["s3:"], [BUCKET], equals={"s3:max-keys": "99"})).proven
    assert allowed(policy(allow(), deny), **{"s3:max-keys": "99"})
    assert not allowed(policy(allow(), deny), **{"s3:max-keys": "500"})


def test_a_numeric_deny_never_counts_for_values_it_does_not_encode():
    """A value such as "100.5" is a number to IAM; the prover leaves such values out of the Deny (the claim
    then fails rather than passing on a guess)."""
    deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
            "Condition": {"NumericNotEquals": {"s3:max-keys": "100"}}}
    assert not deny_covers(policy(deny), Scope(["s3:"], [BUCKET], equals={"s3:max-keys": "100.5"})).proven
    assert not allowed(policy(allow(), deny), **{"s3:max-keys": "100.5"})
