"""Every call a handler makes is authorised as AWS would, from the deployed template's own policies:
remove one permission a handler needs and the rehearsal stops on exactly that call, with AWS's
AccessDenied shape (IAM User Guide, "Troubleshoot access denied error messages")."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from rehearsal.authorization import check
from rehearsal.caller import Caller
from rehearsal.cli import main
from rehearsal.session import offline_account

ACCOUNT, REGION = "111122223333", "eu-west-1"


def _strip(directory: Path, stack_suffix: str, policy_prefix: str, action: str) -> None:
    """Remove `action` from the role policies whose logical ids start with `policy_prefix`."""
    path = next(directory.glob(f"*-{stack_suffix}.template.json"))
    template = json.loads(path.read_text())
    removed = 0
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::IAM::Policy" or not logical_id.startswith(policy_prefix):
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if action in actions:
                statement["Action"] = [a for a in actions if a != action] or ["logs:DescribeLogGroups"]
                removed += 1
    assert removed, f"{policy_prefix} grants no {action}"
    path.write_text(json.dumps(template))


@pytest.mark.parametrize("stack, policy, action, failing, role", [
    # The handlers' own calls, each as its Lambda function's role.
    ("Keys", "DataKeyLifecycleHandlerRole", "kms:TagResource", "DataKey", "DataKeyLifecycleHandlerRole"),
    ("Hsm", "KeyStoreLifecycleHandlerRole", "kms:ConnectCustomKeyStore", "KeyStore", "KeyStoreLifecycleHandlerRole"),
    ("Hsm", "FirstHsmLifecycleHandlerRole", "ec2:CreateNetworkInterface", "FirstHsm", "FirstHsmLifecycleHandlerRole"),
    ("Hsm", "ClusterAuditLogLifecycleHandlerRole", "logs:AssociateKmsKey", "ClusterAuditLog",
     "ClusterAuditLogLifecycleHandlerRole"),
    ("Hsm", "InitialisationLifecycleHandlerRole", "kms:Sign", "Initialisation", "InitialisationLifecycleHandlerRole"),
    ("Hsm", "ActivationLifecycleHandlerRole", "ssm:SendCommand", "Activation", "ActivationLifecycleHandlerRole"),
    # The client host's AWS CLI calls in the activation document, as the instance profile's role.
    ("Hsm", "ClientHostRoleDefaultPolicy", "secretsmanager:GetSecretValue", "Activation", "ClientHostRole"),
    # The Provider framework's own calls, as its functions' roles.
    ("Hsm", "KeyStoreLifecycleProviderframeworkonEventServiceRole", "lambda:InvokeFunction", "KeyStore",
     "KeyStoreLifecycleProviderframeworkonEventServiceRole"),
    ("Keys", "DataKeyLifecycleProviderframeworkonEventServiceRole", "states:StartExecution", "DataKey",
     "DataKeyLifecycleProviderframeworkonEventServiceRole"),
])
def test_a_missing_permission_stops_the_deploy_on_exactly_that_call(copied_assembly, capsys, stack, policy, action,
                                                                   failing, role):
    directory = copied_assembly()
    _strip(directory, stack, policy, action)
    assert main([str(directory), "--no-destroy"]) == 1
    err = capsys.readouterr().err
    assert f"-{stack}, resource {failing}" in err
    assert f"is not authorized to perform: {action} on resource: " in err
    assert "AccessDenied" in err or "UnauthorizedOperation" in err
    # CloudFormation names the role stack-logicalid-suffix, the logical id cut to fit 64 characters.
    assert f"assumed-role/CustomerKeys-{stack}-{role[:30]}" in err


def _role(cloud, name: str, *statements: dict) -> str:
    iam = cloud.client("iam")
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    if statements:
        iam.put_role_policy(RoleName=name, PolicyName="p",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))
    return arn


def _key(cloud, *statements: dict) -> str:
    return cloud.client("kms").create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))[
        "KeyMetadata"]["KeyId"]


ROOT = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
DESCRIBE_ANY_KEY = {"Effect": "Allow", "Action": "kms:DescribeKey", "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"}


@pytest.fixture
def cloud():
    with offline_account(ACCOUNT, REGION) as account, contextlib.redirect_stdout(io.StringIO()):
        yield account


def test_kms_key_policy_that_delegates_to_the_account_needs_the_iam_policy_too(cloud):
    """KMS Developer Guide, "Key policies in AWS KMS": IAM policies count only where the key policy
    allows the account."""
    key = _key(cloud, {"Effect": "Allow", "Principal": ROOT, "Action": "kms:*", "Resource": "*"})
    allowed = Caller(_role(cloud, "Allowed", DESCRIBE_ANY_KEY), "s")
    bare = Caller(_role(cloud, "Bare"), "s")
    assert check("kms", "DescribeKey", {"KeyId": key}, allowed, ACCOUNT, REGION) is None
    denied = check("kms", "DescribeKey", {"KeyId": key}, bare, ACCOUNT, REGION)
    assert denied is not None and denied.code == "AccessDeniedException"
    assert "because no identity-based policy allows the kms:DescribeKey action" in denied.message


def test_kms_key_policy_without_the_account_refuses_whatever_iam_allows(cloud):
    named = Caller(_role(cloud, "Named"), "s")
    key = _key(cloud, {"Effect": "Allow", "Principal": {"AWS": named.role_arn}, "Action": "kms:DescribeKey",
                       "Resource": "*"})
    iam_only = Caller(_role(cloud, "IamOnly", DESCRIBE_ANY_KEY), "s")
    assert check("kms", "DescribeKey", {"KeyId": key}, named, ACCOUNT, REGION) is None, "named in the key policy"
    denied = check("kms", "DescribeKey", {"KeyId": key}, iam_only, ACCOUNT, REGION)
    assert denied is not None and "because no resource-based policy allows" in denied.message


def test_an_explicit_deny_wins_over_any_allow(cloud):
    """IAM User Guide, "Policy evaluation logic": an explicit deny in any policy overrides allows."""
    key = _key(cloud, {"Effect": "Allow", "Principal": ROOT, "Action": "kms:*", "Resource": "*"})
    who = Caller(_role(cloud, "Denied", DESCRIBE_ANY_KEY,
                       {"Effect": "Deny", "Action": "kms:*", "Resource": "*"}), "s")
    denied = check("kms", "DescribeKey", {"KeyId": key}, who, ACCOUNT, REGION)
    assert denied is not None and "explicit deny in an identity-based policy" in denied.message


def test_create_key_tags_need_tag_resource_on_any_key(cloud):
    """KMS Developer Guide, "Controlling access to tags": to tag a key at creation the IAM policy must
    not be restricted to particular keys."""
    create = {"Effect": "Allow", "Action": "kms:CreateKey", "Resource": "*"}
    scoped = Caller(_role(cloud, "Scoped", create, {"Effect": "Allow", "Action": "kms:TagResource",
                                                     "Resource": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/*"}), "s")
    unscoped = Caller(_role(cloud, "Unscoped", create, {"Effect": "Allow", "Action": "kms:TagResource",
                                                         "Resource": "*"}), "s")
    tagged = {"Tags": [{"TagKey": "t", "TagValue": "v"}]}
    assert check("kms", "CreateKey", {}, scoped, ACCOUNT, REGION) is None
    denied = check("kms", "CreateKey", tagged, scoped, ACCOUNT, REGION)
    assert denied is not None and "kms:TagResource on resource: *" in denied.message
    assert check("kms", "CreateKey", tagged, unscoped, ACCOUNT, REGION) is None


def test_an_operation_without_a_model_is_refused_not_guessed(cloud):
    who = Caller(_role(cloud, "Admin", {"Effect": "Allow", "Action": "*", "Resource": "*"}), "s")
    denied = check("kms", "ReplicateKey", {"KeyId": "k"}, who, ACCOUNT, REGION)
    assert denied is not None and denied.code == "NotModelledByRehearsal"


def test_the_first_key_store_needs_the_callers_permission_to_create_kms_service_linked_role(cloud):
    """KMS Developer Guide, "Authorizing AWS KMS to manage AWS CloudHSM and Amazon EC2 resources": the
    first AWS CloudHSM key store in an account creates the role with the caller's permission."""
    from rehearsal.services.kms.models import ensure_service_linked_role

    who = Caller(_role(cloud, "StoreMaker", {"Effect": "Allow", "Resource": "*",
                                             "Action": ["kms:CreateCustomKeyStore", "cloudhsm:DescribeClusters"]}), "s")
    denied = check("kms", "CreateCustomKeyStore", {}, who, ACCOUNT, REGION)
    assert denied is not None and "iam:CreateServiceLinkedRole on resource: arn:aws:iam::" in denied.message
    ensure_service_linked_role(ACCOUNT)   # what KMS does when the first store is created
    assert check("kms", "CreateCustomKeyStore", {}, who, ACCOUNT, REGION) is None


def test_a_secrets_resource_policy_counts_with_the_identity_policies(cloud):
    """IAM User Guide, "Policy evaluation logic": in one account, a resource-based policy that names the
    principal allows without an identity policy; its explicit deny refuses what IAM allows."""
    secrets = cloud.client("secretsmanager")
    arn = secrets.create_secret(Name="s", SecretString="generated")["ARN"]
    granted = Caller(_role(cloud, "Granted", {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                              "Resource": "*"}), "s")
    named = Caller(_role(cloud, "NamedInSecret"), "s")
    assert check("secretsmanager", "GetSecretValue", {"SecretId": arn}, named, ACCOUNT, REGION) is not None
    secrets.put_resource_policy(SecretId=arn, ResourcePolicy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": named.role_arn}, "Action": "secretsmanager:GetSecretValue",
         "Resource": "*"},
        {"Effect": "Deny", "Principal": {"AWS": granted.role_arn}, "Action": "secretsmanager:*", "Resource": "*"}]}))
    assert check("secretsmanager", "GetSecretValue", {"SecretId": arn}, named, ACCOUNT, REGION) is None
    denied = check("secretsmanager", "GetSecretValue", {"SecretId": arn}, granted, ACCOUNT, REGION)
    assert denied is not None and "with an explicit deny in a resource-based policy" in denied.message


class _OneKmsBucket:
    """A Lookup (rehearsal/authorization/operations.py) of one bucket whose objects are under one KMS key."""
    account, region = "111122223333", "eu-west-1"

    def key(self, key_id):
        return {"Arn": f"arn:aws:kms:{self.region}:{self.account}:key/{key_id}", "Origin": "AWS_CLOUDHSM"}

    def bucket_policy(self, bucket):
        return None

    def bucket_default_encryption(self, bucket):
        return "aws:kms", "data-key", True

    def object_kms_key(self, bucket, key):
        return "data-key"


def test_s3_calls_kms_on_the_callers_behalf_as_a_forward_request():
    """The KMS leg of a download is made by S3 with the caller's credentials: kms:ViaService names S3,
    aws:ViaAWSService is true, and it does not pass through the gateway endpoint (no aws:SourceVpce); the
    object request itself does (IAM User Guide, "AWS global condition context keys", aws:ViaAWSService and
    aws:SourceVpce)."""
    from rehearsal.authorization.operations import OPERATIONS

    object_ask, kms_ask = OPERATIONS[("s3", "GetObject")]({"Bucket": "data", "Key": "k"}, _OneKmsBucket())
    assert object_ask.via_s3_endpoint and "aws:ViaAWSService" not in object_ask.context
    assert kms_ask.action == "kms:Decrypt" and not kms_ask.via_s3_endpoint
    assert kms_ask.context["aws:ViaAWSService"] == "true"
    assert kms_ask.context["kms:ViaService"] == "s3.eu-west-1.amazonaws.com"
    assert kms_ask.context["kms:CallerAccount"] == "111122223333"
