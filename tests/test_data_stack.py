"""Data stack: the bucket's encryption, public access, logging, and its exact policy in both modes."""

import pytest


def _bucket(app, config):
    buckets = app.template("Data").find_resources("AWS::S3::Bucket")
    (logical_id, bucket), = buckets.items()
    assert bucket["Properties"]["BucketName"] == config.bucket_name("data")
    return logical_id, bucket


def _gateway_endpoint_ids(app):
    """Every S3 gateway endpoint of the app: the HSM VPC's and each peered application VPC's."""
    return sorted(logical_id for template in app.templates.values() for logical_id, resource in
                  template["Resources"].items() if resource["Type"] == "AWS::EC2::VPCEndpoint"
                  and resource["Properties"].get("VpcEndpointType") == "Gateway")


def _expected_statements(bucket_id, endpoint_import, key_import, break_glass, mode):
    bucket_arn = {"Fn::GetAtt": [bucket_id, "Arn"]}
    objects = {"Fn::Join": ["", [bucket_arn, "/*"]]}
    everything = [bucket_arn, objects]
    statements = [
        {"Sid": "DenyRequestsOutsideGatewayEndpoint", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
         "Resource": everything,
         "Condition": {"StringNotEquals": {"aws:sourceVpce": endpoint_import},
                       "ArnNotLike": {"aws:PrincipalArn": list(break_glass)}}},
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
         "Resource": everything, "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if mode == "sse-c":
        statements.append({"Sid": "DenyUploadsWithoutSseC", "Effect": "Deny", "Principal": {"AWS": "*"},
                           "Action": "s3:PutObject", "Resource": objects,
                           "Condition": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "true"}}})
    else:
        statements += [
            {"Sid": "DenyUploadsWithOtherKmsKey", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
             "Resource": objects,
             "Condition": {"Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                           "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_import}}},
            {"Sid": "DenyUploadsWithOtherEncryption", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:PutObject",
             "Resource": objects,
             "Condition": {"Null": {"s3:x-amz-server-side-encryption": "false"},
                           "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}},
        ]
    return statements


@pytest.mark.parametrize("environment", ["reference", "dev-kms", "sse-c"])
def test_bucket_policy_is_exactly_the_lock(synth, config_of, environment):
    app, config = synth(environment), config_of(environment)
    bucket_id, bucket = _bucket(app, config)
    (_, policy), = app.template("Data").find_resources("AWS::S3::BucketPolicy").items()
    assert policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    endpoint_import = statements[0]["Condition"]["StringNotEquals"]["aws:sourceVpce"]
    key_import = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
        "ServerSideEncryptionByDefault"]["KMSMasterKeyID"]
    mode = "sse-c" if environment == "sse-c" else "sse-kms"
    assert statements == _expected_statements(bucket_id, endpoint_import, key_import, config.break_glass_principals, mode)
    # The condition's endpoints are exactly this app's S3 gateway endpoints, through the network stack's
    # exports: one in the HSM VPC, one more per peered application VPC that reads the bucket (reference).
    imports = endpoint_import if isinstance(endpoint_import, list) else [endpoint_import]
    named = sorted(app.output_value(value["Fn::ImportValue"].split(":")[0].rsplit("-", 1)[1],
                                    value["Fn::ImportValue"])["Ref"] for value in imports)
    assert named == _gateway_endpoint_ids(app)
    assert len(named) == (2 if environment == "reference" else 1)


@pytest.mark.parametrize("environment", ["reference", "sse-c"])
def test_bucket_uses_the_hsm_backed_key_with_bucket_keys(synth, config_of, environment):
    app = synth(environment)
    _, bucket = _bucket(app, config_of(environment))
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BucketKeyEnabled"] is True
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    (key_id, _), = app.template("Keys").find_resources("Custom::HsmBackedKmsKey").items()
    exported = app.output_value("Keys", rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::ImportValue"])
    assert exported == {"Fn::GetAtt": [key_id, "KeyArn"]}


def test_kms_mode_bucket_uses_the_rotating_kms_key(synth, config_of):
    app = synth("dev-kms")
    _, bucket = _bucket(app, config_of("dev-kms"))
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    (key_id, _), = app.template("Keys").find_resources("AWS::KMS::Key").items()
    exported = app.output_value("Keys", rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::ImportValue"])
    assert exported == {"Fn::GetAtt": [key_id, "Arn"]}
    assert rule["BucketKeyEnabled"] is True


@pytest.mark.parametrize("environment,blocked", [("reference", ["SSE-C"]), ("sse-c", ["NONE"])])
def test_sse_c_is_blocked_unless_the_mode_asks_for_it(synth, config_of, environment, blocked):
    _, bucket = _bucket(synth(environment), config_of(environment))
    rule = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["BlockedEncryptionTypes"] == {"EncryptionType": blocked}


def test_bucket_is_private_versioned_logged_and_retained(reference, config):
    _, bucket = _bucket(reference, config)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["DestinationBucketName"] == config.bucket_name("accesslogs")
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")


def test_without_break_glass_principals_the_deny_has_no_exception():
    from cmk_constructs.locked_bucket.infrastructure import endpoint_only_statements
    (statement,) = endpoint_only_statements("arn:aws:s3:::b", ["vpce-0123"], [])
    assert statement.to_statement_json()["Condition"] == {"StringNotEquals": {"aws:sourceVpce": "vpce-0123"}}


def test_several_endpoints_are_one_list_in_one_deny():
    from cmk_constructs.locked_bucket.infrastructure import endpoint_only_statements
    (statement,) = endpoint_only_statements("arn:aws:s3:::b", ["vpce-0123", "vpce-4567"], [])
    assert statement.to_statement_json()["Condition"] == {
        "StringNotEquals": {"aws:sourceVpce": ["vpce-0123", "vpce-4567"]}}
    with pytest.raises(ValueError, match="at least one gateway endpoint"):
        endpoint_only_statements("arn:aws:s3:::b", [], [])


@pytest.mark.parametrize("environment", ["reference", "dev-kms"])
def test_every_kept_bucket_keeps_its_policy(synth, environment):
    """A bucket left by a stack deletion keeps its TLS rule and endpoint lock (the rehearsal's destroy
    scenario checks the account); the policy is kept exactly as the bucket is."""
    kept = 0
    for template in synth(environment).templates.values():
        resources = template["Resources"]
        for policy in (r for r in resources.values() if r["Type"] == "AWS::S3::BucketPolicy"):
            bucket = resources[policy["Properties"]["Bucket"]["Ref"]]
            assert (policy.get("DeletionPolicy"), policy.get("UpdateReplacePolicy")) == \
                (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
            kept += 1
    assert kept == 3, "the data, trail and access-log buckets"
