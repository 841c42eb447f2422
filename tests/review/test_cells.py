"""Each cell type on hand-made fixtures: who x where x how x what, and the statement that decided it."""

from __future__ import annotations

from cmk_validate.review import expectations as ex
from cmk_validate.review import matrix as m
from tests.review.conftest import find, review_of, statement

BUCKET, KEY, AUDIT = "bucket fixture-data-bucket", "key alias/fixture/data", "key Fixture/AuditKey"
BROAD, GLASS, OTHER, ANON = "role of this account", "break-glass", "principal of another account", "anonymous"


def test_reference_fixture_holds_everywhere(template, tmp_path):
    review = review_of(template, tmp_path)
    assert review.contradictions == []
    assert review.summary().startswith("OK:")
    assert "only with the HSM-backed key" in review.summary()


# -- who / where / TLS on the bucket ---------------------------------------------------------
def test_broad_role_reads_through_the_endpoint_with_tls(template, tmp_path):
    result = find(review_of(template, tmp_path), BUCKET, BROAD, m.READ)
    assert result.outcome.allowed
    assert 'endpoint policy "DataBucketFromThisAccount"' in result.outcome.by
    assert 'key policy "UseOnlyThroughS3ForTheDataBucket"' in result.outcome.by   # the KMS leg as the caller


def test_without_tls_the_transport_deny_decides(template, tmp_path):
    result = find(review_of(template, tmp_path), BUCKET, BROAD, m.READ, tls=False)
    assert (result.outcome.effect, result.outcome.by) == ("Deny", 'bucket policy "DenyInsecureTransport"')
    assert result.expectation == ex.Expectation(ex.DENY, ex.TLS_ONLY)


def test_other_endpoint_and_internet_are_denied_by_the_endpoint_lock(template, tmp_path):
    review = review_of(template, tmp_path)
    for where in (m.OTHER_ENDPOINT, m.INTERNET):
        result = find(review, BUCKET, BROAD, m.LIST, where)
        assert result.outcome.by == 'bucket policy "DenyRequestsOutsideGatewayEndpoint"'


def test_break_glass_can_fix_the_bucket_policy_from_outside(template, tmp_path):
    review = review_of(template, tmp_path)
    for what in m.POLICY_CHANGES:
        result = find(review, BUCKET, GLASS, what, m.INTERNET)
        assert result.outcome.allowed and result.expectation.clause == ex.BREAK_GLASS_FIX


def test_break_glass_locked_out_is_a_contradiction(template, tmp_path):
    template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "NobodyChangesThePolicy", "Effect": "Deny", "Principal": {"AWS": "*"},
         "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"], "Resource": "arn:aws:s3:::fixture-data-bucket"})
    review = review_of(template, tmp_path)
    result = find(review, BUCKET, GLASS, m.DELETE_POLICY, m.INTERNET)
    assert result.outcome.by == 'bucket policy "NobodyChangesThePolicy"' and result.contradiction
    assert review.broken_clauses() == [ex.BREAK_GLASS_FIX]


def test_missing_tls_deny_is_flagged(template, tmp_path):
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if s["Sid"] != "DenyInsecureTransport"]
    review = review_of(template, tmp_path)
    result = find(review, BUCKET, BROAD, m.READ, tls=False)
    assert result.outcome.allowed and result.contradiction
    assert ex.TLS_ONLY in review.broken_clauses()
    assert review.summary().startswith("CONTRADICTED:")


# -- other account and anonymous ----------------------------------------------------------
def test_other_account_needs_identity_and_bucket_policy(template, tmp_path):
    review = review_of(template, tmp_path)
    assert find(review, BUCKET, OTHER, m.READ).outcome.effect == "ImplicitDeny"
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy.append({"Sid": "ShareWithPartner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                   "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::fixture-data-bucket"})
    template["Resources"]["GatewayEndpoint"]["Properties"].pop("PolicyDocument")
    shared = review_of(template, tmp_path, "shared")
    result = find(shared, BUCKET, OTHER, m.LIST)
    assert result.outcome.allowed and 'bucket policy "ShareWithPartner"' in result.outcome.by
    assert result.contradiction and result.expectation.clause == ex.NOBODY_OUTSIDE


def test_anonymous_public_read_is_stopped_by_block_public_access(template, tmp_path):
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[0]["Condition"]["StringNotEquals"]["aws:sourceVpce"] = ["vpce-0a1b2c3d4e5f60718", {"Ref": "GatewayEndpoint"}]
    policy.append({"Sid": "PublicList", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                   "Resource": "arn:aws:s3:::fixture-data-bucket"})
    blocked = find(review_of(template, tmp_path, "blocked"), BUCKET, ANON, m.LIST, m.OTHER_ENDPOINT)
    assert (blocked.outcome.effect, blocked.outcome.by) == ("Deny", "Block Public Access: RestrictPublicBuckets")
    template["Resources"]["DataBucket"]["Properties"].pop("PublicAccessBlockConfiguration")
    public = find(review_of(template, tmp_path, "public"), BUCKET, ANON, m.LIST, m.OTHER_ENDPOINT)
    assert public.outcome.allowed and public.outcome.by == 'bucket policy "PublicList"' and public.contradiction


# -- how: uploads ---------------------------------------------------------------------------
def test_uploads_by_encryption(template, tmp_path):
    review = review_of(template, tmp_path)
    assert find(review, BUCKET, BROAD, m.UPLOAD_DATA_KEY).outcome.allowed
    other = find(review, BUCKET, BROAD, m.UPLOAD_OTHER_KEY)
    assert other.outcome.by == 'bucket policy "DenyUploadsWithOtherKmsKey"'
    # IfExists: an absent header makes the StringNotEquals condition true, so the deny applies
    assert find(review, BUCKET, BROAD, m.UPLOAD_NO_HEADER).outcome.effect == "Deny"
    assert find(review, BUCKET, BROAD, m.UPLOAD_SSE_C).outcome.effect == "Deny"


def test_sse_c_blocked_by_the_bucket_setting_alone(template, tmp_path):
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if not s["Sid"].startswith("DenyUploads")]
    review = review_of(template, tmp_path)
    result = find(review, BUCKET, BROAD, m.UPLOAD_SSE_C)
    assert (result.outcome.effect, result.outcome.by) == ("Deny", "bucket setting BlockedEncryptionTypes: SSE-C")
    other_key = find(review, BUCKET, BROAD, m.UPLOAD_OTHER_KEY)
    assert other_key.outcome.allowed and other_key.contradiction


def test_sse_c_mode_expects_sse_c_uploads(template, tmp_path):
    resources = template["Resources"]
    policy = resources["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy[:] = [s for s in policy if not s["Sid"].startswith("DenyUploads")]
    policy.append({"Sid": "DenyUploadsWithoutSseC", "Effect": "Deny", "Principal": {"AWS": "*"},
                   "Action": "s3:PutObject", "Resource": "arn:aws:s3:::fixture-data-bucket/*",
                   "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}}})
    resources["DataBucket"]["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0].pop("BlockedEncryptionTypes")
    review = review_of(template, tmp_path)
    assert review.contradictions == [] and "SSE-C" in review.summary()
    assert find(review, BUCKET, BROAD, m.UPLOAD_SSE_C).outcome.allowed
    assert find(review, BUCKET, BROAD, m.UPLOAD_DATA_KEY).outcome.by == 'bucket policy "DenyUploadsWithoutSseC"'


# -- endpoint -------------------------------------------------------------------------------
def test_endpoint_policy_must_allow_too(template, tmp_path):
    review = review_of(template, tmp_path)
    result = find(review, BUCKET, BROAD, m.PUT_POLICY)
    assert (result.outcome.effect, result.outcome.by) == ("ImplicitDeny", "endpoint policy: no statement allows it")


def test_endpoint_cells_catch_uploads_to_foreign_buckets(template, tmp_path):
    review = review_of(template, tmp_path)
    subject = "gateway endpoint Fixture/GatewayEndpoint"
    foreign = find(review, subject, BROAD, "upload", m.FOREIGN_TARGET)
    assert not foreign.outcome.allowed
    template["Resources"]["GatewayEndpoint"]["Properties"].pop("PolicyDocument")
    opened = find(review_of(template, tmp_path, "open"), subject, BROAD, "upload", m.FOREIGN_TARGET)
    assert opened.outcome.by == "endpoint has no policy (AWS default: full access)"
    assert opened.contradiction and opened.expectation.clause == ex.ENDPOINT_SCOPE


# -- keys -----------------------------------------------------------------------------------
def test_data_key_only_through_s3(template, tmp_path):
    review = review_of(template, tmp_path)
    direct = find(review, KEY, BROAD, m.DECRYPT)
    assert direct.outcome.effect == "ImplicitDeny" and direct.expectation.clause == ex.S3_ONLY
    via_s3 = find(review, KEY, BROAD, m.DECRYPT + m.VIA_S3)
    assert via_s3.outcome.allowed and "(to the account)" in via_s3.outcome.by
    outside = find(review, KEY, BROAD, m.GENERATE + m.VIA_S3, m.INTERNET)
    assert outside.outcome.by.startswith("S3 request: ") and not outside.outcome.allowed


def test_root_kms_star_on_the_data_key_is_flagged(template, tmp_path):
    template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"].append(
        {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
         "Action": "kms:*", "Resource": "*"})
    review = review_of(template, tmp_path)
    result = find(review, KEY, BROAD, m.DECRYPT, m.INTERNET)
    assert result.outcome.allowed and result.contradiction
    assert result.outcome.by == 'key policy "EnableIamPolicies" (to the account) + identity policy "AnyActionAnyResource"'


def test_key_administration_by_named_principal_only(template, tmp_path):
    """The role row stands for every role of the account: the one the key policy names administers the key
    (the witness), and once it is gone from the policy no role of the account can."""
    review = review_of(template, tmp_path)
    admin = find(review, KEY, BROAD, m.PUT_KEY_POLICY)
    assert admin.outcome.by == 'key policy "KeyAdministration"'
    assert admin.outcome.witness["principal"] == "arn:aws:iam::111122223333:role/KeyAdministrator"
    assert find(review, AUDIT, BROAD, m.SCHEDULE_DELETION).outcome.allowed   # root kms:* delegates to IAM
    policy = template["Resources"]["DataKey"]["Properties"]["KeyPolicy"]["Statement"]
    policy[:] = [s for s in policy if s.get("Sid") != "KeyAdministration"]
    nobody = find(review_of(template, tmp_path, "no-admin"), KEY, BROAD, m.PUT_KEY_POLICY)
    assert (nobody.outcome.effect, nobody.outcome.by) == ("ImplicitDeny", "key policy: no statement allows it")


def test_every_request_of_a_cell_counts_not_one_probe(template, tmp_path):
    """A second endpoint id in the endpoint lock: the fixed probe's other endpoint is still denied, but the
    cell 'through another VPC endpoint' is allowed, with the added endpoint as its witness."""
    lock = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Condition"]
    lock["StringNotEquals"]["aws:sourceVpce"] = [lock["StringNotEquals"]["aws:sourceVpce"], "vpce-0ffeeffeeffeeffee"]
    result = find(review_of(template, tmp_path), BUCKET, BROAD, m.LIST, m.OTHER_ENDPOINT)
    assert result.outcome.allowed and result.contradiction
    assert result.outcome.witness["context"]["aws:sourcevpce"] == "vpce-0ffeeffeeffeeffee"


def test_organisation_member_and_service_on_the_callers_behalf(template, tmp_path):
    """An Allow for the organisation opens the organisation row (not the row of accounts in no
    organisation); an exemption for requests made by services opens the 'through a service' row."""
    policy = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    policy.append({"Sid": "Organisation", "Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                   "Resource": "arn:aws:s3:::fixture-data-bucket",
                   "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdef1234"}}})
    policy[0]["Condition"]["Bool"] = {"aws:ViaAWSService": "false"}
    template["Resources"]["GatewayEndpoint"]["Properties"].pop("PolicyDocument")
    review = review_of(template, tmp_path)
    member = find(review, BUCKET, "principal of an organisation", m.LIST)
    assert member.outcome.allowed and member.outcome.witness["context"]["aws:principalorgid"] == "o-abcdef1234"
    assert not find(review, BUCKET, OTHER, m.LIST).outcome.allowed
    via = find(review, BUCKET, BROAD, m.LIST, m.VIA_SERVICE)
    assert via.outcome.allowed and via.contradiction and via.outcome.witness["context"]["aws:viaawsservice"] == "true"
    sse_s3 = find(review, BUCKET, BROAD, m.UPLOAD_SSE_S3)   # AES256: neither the data key nor aws:kms
    assert sse_s3.outcome.effect == "Deny" and sse_s3.outcome.by.startswith('bucket policy "DenyUploadsWithOther')
    assert sse_s3.expectation.clause == ex.key_clause(review.inventory)


def test_anonymous_never_reaches_kms(template, tmp_path):
    template["Resources"]["AuditKey"]["Properties"]["KeyPolicy"]["Statement"].append(
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"})
    result = find(review_of(template, tmp_path), AUDIT, ANON, m.DECRYPT)
    assert result.outcome.effect == "ImplicitDeny" and "anonymous" in result.outcome.by


def test_other_account_named_in_a_key_policy(template, tmp_path):
    template["Resources"]["AuditKey"]["Properties"]["KeyPolicy"]["Statement"].append(
        {"Sid": "PartnerDecrypts", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "kms:Decrypt", "Resource": "*"})
    result = find(review_of(template, tmp_path), AUDIT, OTHER, m.DECRYPT, m.INTERNET)
    assert result.outcome.allowed and result.contradiction and result.expectation.clause == ex.NOBODY_OUTSIDE


# -- services -------------------------------------------------------------------------------
def test_cloudtrail_acts_for_this_account_only(template, tmp_path):
    review = review_of(template, tmp_path)
    mine = find(review, AUDIT, "service cloudtrail.amazonaws.com for this account", m.GENERATE, m.AWS_SERVICE)
    theirs = find(review, AUDIT, "service cloudtrail.amazonaws.com for another account", m.GENERATE, m.AWS_SERVICE)
    assert mine.outcome.by == 'key policy "CloudTrailEncryptsThisAccountsTrails"'
    assert theirs.outcome.effect == "ImplicitDeny" and not theirs.contradiction


def test_confused_deputy_is_flagged(template, tmp_path):
    trail_statement = statement(template, "AuditKey", "CloudTrailEncryptsThisAccountsTrails", "KeyPolicy")
    trail_statement["Condition"] = {}
    result = find(review_of(template, tmp_path), AUDIT, "service cloudtrail.amazonaws.com for another account",
                  m.GENERATE, m.AWS_SERVICE)
    assert result.outcome.allowed and result.contradiction


# -- identity policies the assembly defines ---------------------------------------------------
def test_roles_of_the_assembly_are_reviewed_with_their_identity_policies(template, tmp_path):
    template["Resources"]["ReaderRole"] = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
    template["Resources"]["ReaderPolicy"] = {"Type": "AWS::IAM::Policy", "Properties": {
        "Roles": [{"Ref": "ReaderRole"}], "PolicyName": "read",
        "PolicyDocument": {"Statement": [{"Sid": "ReadData", "Effect": "Allow", "Action": "s3:GetObject",
                                          "Resource": "arn:aws:s3:::fixture-data-bucket/*"}]}}}
    review = review_of(template, tmp_path)
    read = find(review, BUCKET, "role Fixture/ReaderRole", m.READ)
    assert read.outcome.effect == "ImplicitDeny"   # the KMS leg: the role may not use the key
    assert 'KMS call by S3' in read.outcome.by
    listing = find(review, BUCKET, "role Fixture/ReaderRole", m.LIST)
    assert listing.outcome.by == "bucket policy: no statement allows it"


def test_not_principal_allow_names_everyone_else(template, tmp_path):
    template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"].append(
        {"Sid": "AllButOne", "Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/Excluded"},
         "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::fixture-data-bucket"})
    template["Resources"]["GatewayEndpoint"]["Properties"].pop("PolicyDocument")
    blocked = find(review_of(template, tmp_path, "blocked"), BUCKET, OTHER, m.LIST)
    assert blocked.outcome.by == "Block Public Access: RestrictPublicBuckets"     # NotPrincipal Allow is public
    template["Resources"]["DataBucket"]["Properties"].pop("PublicAccessBlockConfiguration")
    result = find(review_of(template, tmp_path, "open"), BUCKET, OTHER, m.LIST)
    assert result.outcome.allowed and result.outcome.by == 'bucket policy "AllButOne"' and result.contradiction
