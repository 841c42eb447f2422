"""Change review: cells turned from denied to allowed and back, with the statements responsible."""

from __future__ import annotations

import json

from cmk_validate.review.cost import load_prices
from cmk_validate.review.markdown import render
from cmk_validate.review.report import review_change, review_path
from tests.review.conftest import base_template, write_assembly


def _change(tmp_path, before: dict, after: dict):
    return review_change(str(write_assembly(tmp_path / "before", before)),
                         str(write_assembly(tmp_path / "after", after)), load_prices())


def test_identical_assemblies_change_nothing(tmp_path):
    review = _change(tmp_path, base_template(), base_template())
    assert review.diff.opened == [] and review.diff.closed == [] and not review.diff.opens_access


def test_dropping_the_endpoint_lock_opens_access_with_the_statements(tmp_path):
    after = base_template()
    policy = after["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if s["Sid"] != "DenyRequestsOutsideGatewayEndpoint"]
    review = _change(tmp_path, base_template(), after)
    assert review.diff.opens_access
    flip = next(f for f in review.diff.opened if f.what == "list" and f.where == "from the internet"
                and f.who.startswith("role of this account") and f.tls)
    assert flip.before == 'deny: bucket policy "DenyRequestsOutsideGatewayEndpoint"'
    assert flip.after == 'allow: identity policy "AnyActionAnyResource"'
    assert not any(f.who.startswith(("principal of another account", "anonymous")) for f in review.diff.opened)


def test_a_new_break_glass_exception_is_reviewed_in_both_versions(tmp_path):
    after = base_template()
    condition = after["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]
    condition["ArnNotLike"]["aws:PrincipalArn"].append("arn:aws:iam::111122223333:role/Contractor")
    review = _change(tmp_path, base_template(), after)
    opened = {(f.who, f.where) for f in review.diff.opened}
    assert ("break-glass role/Contractor", "from the internet") in opened
    assert all(f.who == "break-glass role/Contractor" for f in review.diff.opened)


def test_a_new_bucket_is_new_access(tmp_path):
    after = base_template()
    bucket = json.loads(json.dumps(after["Resources"]["DataBucket"]))
    bucket["Properties"]["BucketName"] = "fixture-second-bucket"
    after["Resources"]["SecondBucket"] = bucket
    review = _change(tmp_path, base_template(), after)
    assert review.diff.subjects_added == ["bucket fixture-second-bucket"]
    assert review.diff.opened and all(f.before == "absent" for f in review.diff.opened)
    markdown = render(review)
    assert "Added: `bucket fixture-second-bucket`" in markdown


def test_markdown_order_summary_contradictions_change_matrix(tmp_path):
    after = base_template()
    policy = after["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if s["Sid"] != "DenyInsecureTransport"]
    markdown = render(_change(tmp_path, base_template(), after))
    positions = [markdown.index(marker) for marker in
                 ("**CONTRADICTED:", "### Contradictions: ", "### Change against", "### Cost estimate", "<details>")]
    assert positions == sorted(positions)
    assert "a second approver is needed" in markdown


def test_nothing_to_review(tmp_path):
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    review = review_path(str(write_assembly(tmp_path / "empty", template)))
    assert review.results == [] and review.summary().startswith("Nothing to review")


def test_deploy_time_statements_are_noted(tmp_path):
    template = base_template()
    template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "FromParameter", "Effect": "Allow", "Principal": {"AWS": {"Ref": "Missing"}},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::fixture-data-bucket/*"})
    review = review_path(str(write_assembly(tmp_path / "unresolved", template)))
    assert any("FromParameter" in note and "deploy time" in note for note in review.inventory.unresolved)
    assert "Note: bucket fixture-data-bucket policy, FromParameter" in render(review)


def test_the_markdown_fits_a_pull_request_comment_however_many_break_glass_roles(tmp_path):
    """GitHub refuses a comment body over 65,536 characters: with 36 break-glass roles added, this
    fixture's change review was 74,763 (the app's, with 24, 67,742). What does not fit is the folded matrix, table by table, with a note pointing to the
    formats that hold everything; the summary and the new access always stay."""
    from cmk_validate.review.markdown import COMMENT_LIMIT

    after = base_template()
    condition = after["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]
    condition["ArnNotLike"]["aws:PrincipalArn"] += [f"arn:aws:iam::111122223333:role/Operator{n:02d}" for n in range(36)]
    review = _change(tmp_path, base_template(), after)
    markdown = render(review)
    assert len(markdown) <= COMMENT_LIMIT, len(markdown)
    assert review.summary() in markdown and "This change opens" in markdown
    assert "break-glass role/Operator00" in markdown  # the new access is listed
    assert "left out to fit" in markdown and "--format html" in markdown
    assert render(_change(tmp_path / "small", base_template(), base_template())).count("left out to fit") == 0
