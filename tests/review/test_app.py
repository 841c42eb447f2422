"""The review on the app's own synthesised assemblies (reference, dev-kms, sse-c), alone and as a change."""

from __future__ import annotations

import json

import pytest

from cmk_validate.review import matrix as m
from cmk_validate.review.cli import main
from cmk_validate.review.cost import load_prices
from cmk_validate.review.report import review_path
from tests.review.conftest import find

BUCKET = "bucket customer-keys-data-111122223333-eu-west-1"
GITHUB_COMMENT_LIMIT = 65536


@pytest.mark.parametrize("mode", ["reference", "dev-kms", "sse-c"])
def test_every_mode_meets_the_expected_outcome(app_assemblies, mode):
    review = review_path(str(app_assemblies[mode]), prices=load_prices())
    assert review.contradictions == [], [(r.cell.key, r.outcome) for r in review.contradictions[:5]]
    subjects = review.subjects()
    assert BUCKET in subjects and "key alias/customer-keys/data" in subjects
    assert any(s.startswith("gateway endpoint CustomerKeys-Network/") for s in subjects)


def test_reference_cells_and_statements(app_assemblies):
    review = review_path(str(app_assemblies["reference"]))
    assert find(review, BUCKET, "role of this account", m.READ).outcome.allowed
    assert find(review, BUCKET, "role of this account", m.READ, m.INTERNET).outcome.by == \
        'bucket policy "DenyRequestsOutsideGatewayEndpoint"'
    glass = find(review, BUCKET, "break-glass role/BreakGlassDataAdmin", m.PUT_POLICY, m.INTERNET)
    assert glass.outcome.allowed
    assert find(review, BUCKET, "principal of another account", m.READ, m.INTERNET).outcome.effect == "Deny"
    via_s3 = find(review, "key alias/customer-keys/data", "role of this account", m.GENERATE + m.VIA_S3)
    assert 'key policy "UseOnlyThroughS3ForTheDataBucket"' in via_s3.outcome.by
    assert "HSM-backed key" in review.summary()


def test_markdown_fits_a_pull_request_comment(app_assemblies, capsys):
    assert main([str(app_assemblies["reference"])]) == 0
    out = capsys.readouterr().out
    assert len(out) < GITHUB_COMMENT_LIMIT
    assert out.index("**OK:") < out.index("### Contradictions") < out.index("### Cost estimate") < out.index("<details>")


def test_no_change_opens_nothing(app_assemblies, capsys):
    path = str(app_assemblies["reference"])
    assert main(["--base", path, path]) == 0
    assert "This change opens no new access." in capsys.readouterr().out


def test_switching_to_sse_c_opens_sse_c_uploads(app_assemblies, capsys):
    code = main(["--base", str(app_assemblies["reference"]), str(app_assemblies["sse-c"]), "-f", "json"])
    change = json.loads(capsys.readouterr().out)["change"]
    assert code == 1
    assert {flip["what"] for flip in change["opened"]} == {m.UPLOAD_SSE_C}
    assert all(flip["before"].startswith("deny: ") for flip in change["opened"])   # SSE-C was refused explicitly
    assert any(flip["what"] == m.UPLOAD_DATA_KEY and "DenyUploadsWithoutSseC" in flip["after"] for flip in change["closed"])


def test_dev_kms_to_reference_swaps_the_key(app_assemblies, capsys):
    main(["--base", str(app_assemblies["dev-kms"]), str(app_assemblies["reference"]), "-f", "json"])
    data = json.loads(capsys.readouterr().out)
    assert data["cost"]["monthly"] > 3000          # HSMs appear
    assert any("CloudHSM" in line["item"] for line in data["cost"]["lines"])
