"""CKE109 on small templates: secret properties found from the resource schemas (any literal there is a
finding, in types no list of names covers), names of the template's own in free-form places, and
secret content in every section. Values are obviously fake placeholders."""

from __future__ import annotations

import json

import pytest

from cmk_validate.engine import run
from cmk_validate.model import load
from cmk_validate.model.secret_slots import names_secret, secret_slots
from cmk_validate.rules.no_plaintext_secrets import NoPlaintextSecrets


def findings(tmp_path, resources=None, **sections) -> dict[str, str]:
    """path -> message of CKE109's findings on a template of these resources and sections."""
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources or {
        "Topic": {"Type": "AWS::SNS::Topic"}}, **sections}
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    report = run(load(str(path)), rules=[NoPlaintextSecrets])
    return {f.path_text: f.message for f in report.findings}


def resource(kind, **properties):
    return {"R": {"Type": kind, "Properties": properties}}


# Types and properties no list of names held: each is a secret by its schema.
@pytest.mark.parametrize("kind, properties, where", [
    ("AWS::Events::Connection", {"AuthorizationType": "API_KEY", "AuthParameters": {"ApiKeyAuthParameters": {
        "ApiKeyName": "x-api-key", "ApiKeyValue": "FAKE-key"}}},
     "Resources/R/Properties/AuthParameters/ApiKeyAuthParameters/ApiKeyValue"),
    ("AWS::DMS::Endpoint", {"EndpointType": "source", "EngineName": "mongodb",
                            "MongoDbSettings": {"Password": "abc"}},   # short: any literal is the secret
     "Resources/R/Properties/MongoDbSettings/Password"),
    ("AWS::ElastiCache::User", {"UserId": "u1", "UserName": "app", "Engine": "redis",
                                "Passwords": ["FAKE-placeholder-password-1"]},
     "Resources/R/Properties/Passwords/0"),
    # Only the schema's description says it: the TDE password of an Oracle source.
    ("AWS::DMS::Endpoint", {"EndpointType": "source", "EngineName": "oracle",
                            "OracleSettings": {"SecurityDbEncryption": "FAKE-tde"}},
     "Resources/R/Properties/OracleSettings/SecurityDbEncryption"),
    ("AWS::EC2::VPNConnection", {"CustomerGatewayId": "cgw-1", "Type": "ipsec.1", "VpnTunnelOptionsSpecifications": [
        {"PreSharedKey": "FAKE_psk_value"}]},
     "Resources/R/Properties/VpnTunnelOptionsSpecifications/0/PreSharedKey"),
])
def test_a_literal_in_a_schema_secret_is_a_finding(tmp_path, kind, properties, where):
    found = findings(tmp_path, resource(kind, **properties))
    assert list(found) == [where]
    assert "schema" in found[where] and "literal" in found[where]


@pytest.mark.parametrize("value", ["{{resolve:secretsmanager:db-admin:SecretString:password}}",
                                   "{{resolve:ssm-secure:/db/admin-password:1}}"])
def test_a_secure_dynamic_reference_is_silent(tmp_path, value):
    assert findings(tmp_path, resource("AWS::RDS::DBInstance", DBInstanceClass="db.t3.micro", Engine="mysql",
                                       MasterUsername="admin", MasterUserPassword=value)) == {}


def test_a_plain_ssm_reference_is_a_finding(tmp_path):
    found = findings(tmp_path, resource("AWS::RDS::DBInstance", DBInstanceClass="db.t3.micro", Engine="mysql",
                                        MasterUsername="admin",
                                        MasterUserPassword="{{resolve:ssm:/db/admin-password:1}}"))
    assert "plain String SSM parameter" in found["Resources/R/Properties/MasterUserPassword"]


def test_a_secret_parameter_must_be_no_echo_without_a_default(tmp_path):
    uses = resource("AWS::DirectoryService::SimpleAD", Name="corp.example.com", Size="Small",
                    VpcSettings={"SubnetIds": ["subnet-1", "subnet-2"], "VpcId": "vpc-1"},
                    Password={"Ref": "Admin"})   # a parameter whose name says nothing of a secret
    assert findings(tmp_path, uses, Parameters={"Admin": {"Type": "String", "NoEcho": True}}) == {}
    shown = findings(tmp_path, uses, Parameters={"Admin": {"Type": "String"}})
    assert "not NoEcho" in shown["Resources/R/Properties/Password"]
    written = findings(tmp_path, uses, Parameters={"Admin": {"Type": "String", "NoEcho": True, "Default": "Fake1"}})
    assert list(written) == ["Parameters/Admin/Default"]
    assert "passed to Password" in written["Parameters/Admin/Default"]


def test_properties_the_schema_names_and_does_not_call_secrets_are_silent(tmp_path):
    """An idempotency ClientToken, an enumerated HttpTokens, a KMS EncryptionKey: named like secrets,
    not secrets (a list of property-name patterns reported the first)."""
    assert findings(tmp_path, {
        **resource("AWS::EFS::AccessPoint", FileSystemId="fs-1", ClientToken="FAKE-idempotency-token-1"),
        "Host": {"Type": "AWS::EC2::Instance", "Properties": {"ImageId": "ami-1",
                                                              "MetadataOptions": {"HttpTokens": "required"}}},
        "Build": {"Type": "AWS::CodeBuild::Project", "Properties": {
            "EncryptionKey": "alias/FAKE-build-key", "ServiceRole": "arn:aws:iam::111122223333:role/b",
            "Artifacts": {"Type": "NO_ARTIFACTS"}, "Source": {"Type": "NO_SOURCE", "BuildSpec": "version: 0.2"},
            "Environment": {"Type": "LINUX_CONTAINER", "ComputeType": "BUILD_GENERAL1_SMALL",
                            "Image": "aws/codebuild/standard:7.0"}}}}) == {}


def test_free_form_names_are_read_by_name(tmp_path):
    found = findings(tmp_path, resource(
        "AWS::Lambda::Function", Role="arn:aws:iam::111122223333:role/f", Runtime="python3.12", Handler="i.h",
        Code={"ZipFile": "def h(e, c): pass"},
        Environment={"Variables": {"DB_PASSWORD": "FAKE-placeholder-pw", "DB_PASSWORD_SECRET_ARN":
                                   "arn:aws:secretsmanager:eu-west-1:111122223333:secret:db-AbCdEf",
                                   "API_TOKEN_URL": "FAKE-not-a-secret"}}))
    assert list(found) == ["Resources/R/Properties/Environment/Variables/DB_PASSWORD"]


def test_a_custom_resource_has_no_schema_so_its_names_are_read(tmp_path):
    found = findings(tmp_path, resource("Custom::Directory", ServiceToken="arn:aws:lambda:eu-west-1:1:function:f",
                                        AdminPassword="FAKE-placeholder-1", PasswordSecretArn="arn:aws:x"))
    assert list(found) == ["Resources/R/Properties/AdminPassword"]


@pytest.mark.parametrize("section, value, where", [
    ("Description", "deployed with key AKIAFAKEFAKEFAKEFAKE", "Description"),
    ("Conditions", {"IsLegacy": {"Fn::Equals": [{"Ref": "AWS::Region"}, "API_TOKEN=FAKEfakeFAKEfake"]}},
     "Conditions/IsLegacy/Fn::Equals/1"),
    ("Rules", {"Check": {"Assertions": [{"Assert": {"Fn::Equals": ["a", "a"]},
                                         "AssertDescription": "-----BEGIN PRIVATE KEY----- FAKE"}]}},
     "Rules/Check/Assertions/0/AssertDescription"),
    ("Metadata", {"Notes": "run with --password FAKE-secret-1"}, "Metadata/Notes"),
])
def test_secret_content_in_any_section_is_a_finding(tmp_path, section, value, where):
    assert list(findings(tmp_path, **{section: value})) == [where]


def test_secret_names_read_as_words():
    for name in ("MasterUserPassword", "ApiKeyValue", "DomainSigningPrivateKey", "HECToken", "OAuthToken",
                 "DB_PASSWORD", "SecretAccessKey", "PreSharedKey", "Passwords"):
        assert names_secret(name), name
    for name in ("PasswordSecretArn", "SecretName", "ClientToken", "KmsKeyId", "EncryptionKey", "HttpTokens",
                 "PasswordLength", "ExcludeCharacters", "TokenUrl"):
        assert not names_secret(name), name


def test_slots_come_from_the_schema():
    assert ("MasterUserPassword",) in secret_slots("AWS::RDS::DBInstance").secrets
    assert ("Environment", "Variables") in secret_slots("AWS::Lambda::Function").free_form
    # Read-only properties are outputs: a template cannot set them.
    assert ("ClientSecret",) not in secret_slots("AWS::Cognito::UserPoolClient").secrets
    assert not secret_slots("Custom::Anything").known
