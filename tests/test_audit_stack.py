"""Audit stack: validated, encrypted trail with data events for the data bucket; log retention everywhere."""

import pytest


def test_trail_validates_encrypts_and_records_data_events(reference, config):
    audit = reference.template("Audit")
    (_, trail), = audit.find_resources("AWS::CloudTrail::Trail").items()
    props = trail["Properties"]
    assert props["EnableLogFileValidation"] is True
    assert props["IsMultiRegionTrail"] is True
    assert "KMSKeyId" in props
    management, data = props["EventSelectors"]
    assert management == {"IncludeManagementEvents": True, "ReadWriteType": "All"}
    assert data["ReadWriteType"] == "All"
    assert data["DataResources"] == [{"Type": "AWS::S3::Object", "Values": [
        f"arn:aws:s3:::{config.bucket_name('data')}/"]}]  # partition literal (cdk.json feature flags)


def test_audit_key_rotates(reference):
    audit = reference.template("Audit")
    audit.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


@pytest.mark.parametrize("environment", ["reference", "dev-kms", "sse-c"])
def test_every_log_group_has_retention_and_encryption(synth, environment):
    for name, template in synth(environment).templates.items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::Logs::LogGroup":
                assert "RetentionInDays" in resource["Properties"], f"{name}/{logical_id}"
                assert "KmsKeyId" in resource["Properties"], f"{name}/{logical_id}"


@pytest.mark.parametrize("environment", ["reference", "dev-kms", "sse-c"])
def test_every_bucket_denies_insecure_transport(synth, environment):
    app = synth(environment)
    for template in app.templates.values():
        policies = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::S3::BucketPolicy"]
        buckets = {k for k, r in template["Resources"].items() if r["Type"] == "AWS::S3::Bucket"}
        assert {p["Bucket"]["Ref"] for p in policies} == buckets
        for policy in policies:
            assert any(s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
                       for s in policy["PolicyDocument"]["Statement"])
