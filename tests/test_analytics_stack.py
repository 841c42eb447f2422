"""Analytics stack: the Redshift warehouse's placement, encryption, credentials, logging and grants,
read from the synthesised `analytics` environment; and no trace of it where `analytics` is off."""

from __future__ import annotations

import json

import pytest

from cmk_constructs.analytics_warehouse.infrastructure import AUDIT_LOG_EXPORTS, audit_log_group_name


@pytest.fixture(scope="module")
def analytics(synth):
    return synth("analytics")


@pytest.fixture(scope="module")
def settings(config_of):
    return config_of("analytics")


def _cluster(app):
    (cluster,) = app.template("Analytics").find_resources("AWS::Redshift::Cluster").values()
    return cluster


def _origin(app, imported):
    """The value a Fn::ImportValue stands for, found in the exporting stack's outputs."""
    name = imported["Fn::ImportValue"]
    stack = name.split(":")[0].rsplit("-", 1)[1]
    return app.output_value(stack, name)


def test_warehouse_is_encrypted_with_the_hsm_backed_data_key(analytics):
    props = _cluster(analytics)["Properties"]
    (key_id,) = analytics.template("Keys").find_resources("Custom::HsmBackedKmsKey")
    assert props["Encrypted"] is True
    assert _origin(analytics, props["KmsKeyId"]) == {"Fn::GetAtt": [key_id, "KeyArn"]}
    assert "HsmConfigurationIdentifier" not in props and "HsmClientCertificateIdentifier" not in props


def test_warehouse_is_private_in_the_isolated_subnets_with_enhanced_vpc_routing(analytics):
    props = _cluster(analytics)["Properties"]
    assert props["PubliclyAccessible"] is False and props["EnhancedVpcRouting"] is True
    (subnet_group,) = analytics.template("Analytics").find_resources("AWS::Redshift::ClusterSubnetGroup").values()
    network = analytics.raw("Network")["Resources"]
    subnets = [_origin(analytics, subnet)["Ref"] for subnet in subnet_group["Properties"]["SubnetIds"]]
    assert len(subnets) == 3
    for subnet in subnets:
        assert network[subnet]["Type"] == "AWS::EC2::Subnet"
        assert network[subnet]["Properties"]["MapPublicIpOnLaunch"] is False
        assert "Isolated" in json.dumps(network[subnet]["Properties"]["Tags"])


def test_admin_password_is_generated_by_redshift_under_the_app_key(analytics):
    props = _cluster(analytics)["Properties"]
    assert props["ManageMasterPassword"] is True
    assert "MasterUserPassword" not in props
    (audit_key,) = analytics.template("Audit").find_resources("AWS::KMS::Key")
    assert _origin(analytics, props["MasterPasswordSecretKmsKeyId"]) == {"Fn::GetAtt": [audit_key, "Arn"]}
    for template in analytics.templates.values():
        assert "MasterUserPassword" not in json.dumps(template)


def test_tls_and_user_activity_logging_are_required_by_the_parameter_group(analytics):
    groups = analytics.template("Analytics").find_resources("AWS::Redshift::ClusterParameterGroup")
    (group_id, group), = groups.items()
    assert _cluster(analytics)["Properties"]["ClusterParameterGroupName"] == {"Ref": group_id}
    parameters = {p["ParameterName"]: p["ParameterValue"] for p in group["Properties"]["Parameters"]}
    assert parameters == {"require_ssl": "true", "enable_user_activity_logging": "true"}


def test_audit_logs_go_to_encrypted_log_groups_with_the_configured_retention(analytics, settings):
    cluster = _cluster(analytics)
    props = cluster["Properties"]
    assert props["LoggingProperties"] == {"LogDestinationType": "cloudwatch", "LogExports": list(AUDIT_LOG_EXPORTS)}
    groups = analytics.template("Analytics").find_resources("AWS::Logs::LogGroup")
    names = {group["Properties"]["LogGroupName"]: (lid, group) for lid, group in groups.items()}
    for log_type in AUDIT_LOG_EXPORTS:
        lid, group = names[audit_log_group_name(props["ClusterIdentifier"], log_type)]
        assert group["Properties"]["RetentionInDays"] == settings.log_retention_days
        assert "KmsKeyId" in group["Properties"] and group["DeletionPolicy"] != "Delete"
        assert lid in cluster["DependsOn"]  # the group, with its retention, exists before Redshift writes


def test_loading_role_reaches_only_its_prefix_and_the_key_only_through_s3(analytics, settings):
    cluster = _cluster(analytics)
    (role_id, role), = analytics.template("Analytics").find_resources("AWS::IAM::Role").items()
    assert cluster["Properties"]["IamRoles"] == [{"Fn::GetAtt": [role_id, "Arn"]}]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "redshift.amazonaws.com"}
    (policy,) = analytics.template("Analytics").find_resources("AWS::IAM::Policy").values()
    bucket = f"arn:aws:s3:::{settings.bucket_name('data')}"
    prefix = settings.analytics.data_prefix
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    assert statements["ReadAndWriteThePrefix"]["Resource"] == f"{bucket}/{prefix}*"
    assert statements["ListThePrefix"]["Condition"] == {"StringLike": {"s3:prefix": [f"{prefix}*"]}}
    assert statements["BucketRegion"]["Resource"] == bucket
    kms = statements["DataKeyOnlyThroughS3"]
    assert kms["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{settings.region}.amazonaws.com"}}
    (key_id,) = analytics.template("Keys").find_resources("Custom::HsmBackedKmsKey")
    assert _origin(analytics, {"Fn::ImportValue": kms["Resource"]["Fn::ImportValue"]}) == \
        {"Fn::GetAtt": [key_id, "KeyArn"]}
    assert set(statements) == {"ReadAndWriteThePrefix", "ListThePrefix", "BucketRegion", "DataKeyOnlyThroughS3"}


def test_data_key_admits_redshift_only_through_redshift_from_this_account(analytics, reference, settings):
    def redshift_statements(app):
        (key,) = app.template("Keys").find_resources("Custom::HsmBackedKmsKey").values()
        return [s for s in key["Properties"]["KeyPolicy"]["Statement"] if "redshift" in json.dumps(s)]

    statements = redshift_statements(analytics)
    assert {s["Sid"] for s in statements} == {"UseOnlyThroughRedshiftForTheWarehouse", "RedshiftGrantOnlyForTheWarehouse"}
    for statement in statements:
        assert statement["Condition"]["StringEquals"] == {
            "kms:ViaService": f"redshift.{settings.region}.amazonaws.com", "kms:CallerAccount": settings.account}
    grant = next(s for s in statements if s["Sid"] == "RedshiftGrantOnlyForTheWarehouse")
    assert grant["Action"] == "kms:CreateGrant" and grant["Condition"]["Bool"] == {"kms:GrantIsForAWSResource": "true"}
    assert redshift_statements(reference) == []


def test_bucket_policy_needs_nothing_for_the_warehouse(analytics, reference):
    """COPY/UNLOAD come through the gateway endpoint (enhanced VPC routing) with the loading role's own
    grant, so the bucket's policy is the same lock as without a warehouse."""
    def statements(app):
        (policy,) = app.template("Data").find_resources("AWS::S3::BucketPolicy").values()
        return [s["Sid"] for s in policy["Properties"]["PolicyDocument"]["Statement"]]
    assert statements(analytics) == statements(reference)


def test_no_warehouse_where_analytics_is_off(reference):
    assert not any(name.endswith("-Analytics") for name in reference.templates)
    assert "AWS::Redshift" not in json.dumps(reference.templates)
