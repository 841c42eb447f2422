"""Properties of the change review: adding a Deny statement never opens access, removing one never closes it."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmk_validate.review.report import review_change
from tests.review.conftest import base_template, write_assembly

COUNTER = itertools.count()
ACTIONS = ["s3:*", "s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:PutBucketPolicy", "s3:Delete*"]
CONDITIONS = [
    {},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}},
    {"StringEquals": {"aws:sourceVpce": "vpce-0a1b2c3d4e5f60718"}},
    {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/Break*"}},
    {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
]
deny_statements = st.builds(
    lambda actions, condition, objects: {"Sid": "Extra", "Effect": "Deny", "Principal": "*", "Action": actions,
                                         "Resource": "arn:aws:s3:::fixture-data-bucket" + ("/*" if objects else ""),
                                         "Condition": condition},
    st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3, unique=True), st.sampled_from(CONDITIONS), st.booleans())


def _with(statement: dict) -> dict:
    template = base_template()
    template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(statement)
    return template


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statement=deny_statements)
def test_a_deny_only_closes(tmp_path, statement):
    run = tmp_path / str(next(COUNTER))
    base = str(write_assembly(run / "base", base_template()))
    denied = str(write_assembly(run / "denied", _with(statement)))
    adding = review_change(base, denied)
    assert adding.diff.opened == []
    removing = review_change(denied, base)
    assert removing.diff.closed == []
    assert {f.key for f in adding.diff.closed} == {f.key for f in removing.diff.opened}
