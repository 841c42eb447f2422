"""What each AWS call the lifecycle makes asks IAM: actions, resources and request context.

From the Service Authorization Reference (docs.aws.amazon.com/service-authorization/latest/
reference/list_<service>.html), its "API operations" table (the IAM actions an operation
authorises, dependent actions included) and its "Actions" table (resource types and condition
keys), and from the services' own guides where they add a rule (cited at the rule). An operation
without an entry is refused with NotModelledByRehearsal: the model never guesses "allowed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

ANY = "*"


@dataclass
class Ask:
    """One authorisation: `action` on `resource` with `context`; `key_arn` when a KMS key policy decides."""
    action: str
    resource: str
    context: dict[str, Any] = field(default_factory=dict)
    key_arn: str | None = None            # KMS: the key whose key policy is evaluated first
    resource_policy: list | None = None   # a bucket's or a secret's policy (parsed), evaluated with IAM's
    via_s3_endpoint: bool = False         # S3: a gateway endpoint on the caller's route evaluates its policy


class Lookup:
    """What the table needs to know about the account (implemented over moto's backends)."""
    account: str
    region: str

    def key(self, key_id: str) -> dict | None: ...
    def secret_arn(self, secret_id: str) -> str | None: ...
    def secret_kms_key(self, secret_id: str) -> str | None: ...
    def parameter_kms_key(self, name: str) -> str | None: ...
    def service_linked_role_exists(self, name: str) -> bool: ...
    def bucket_policy(self, bucket: str) -> list | None: ...
    def secret_policy(self, secret_id: str) -> list | None: ...
    def bucket_default_encryption(self, bucket: str) -> tuple[str | None, str | None, bool]: ...
    def object_kms_key(self, bucket: str, key: str) -> str | None: ...


def _key_ask(action: str, lookup: Lookup, key_id: str, **context: Any) -> Ask:
    """A request on one KMS key: its ARN, its policy, the key's own condition keys (list_awskeymanagementservice)."""
    key = lookup.key(key_id) or {}
    arn = key.get("Arn") or f"arn:aws:kms:{lookup.region}:{lookup.account}:key/{key_id}"
    values = {"kms:CallerAccount": lookup.account, "kms:KeyOrigin": key.get("Origin", ""),
              "kms:KeySpec": key.get("KeySpec", ""), "kms:KeyUsage": key.get("KeyUsage", ""), **context}
    return Ask(action, arn, values, key_arn=arn)


def _kms_tags_context(params: dict) -> dict:
    tags = params.get("Tags") or []
    context: dict[str, Any] = {"aws:TagKeys": [tag["TagKey"] for tag in tags]}
    for tag in tags:
        context[f"aws:RequestTag/{tag['TagKey']}"] = tag.get("TagValue", "")
    return context


def kms_create_key(params: dict, lookup: Lookup) -> list[Ask]:
    context = {"kms:KeyOrigin": params.get("Origin", "AWS_KMS"), "kms:KeySpec": params.get("KeySpec", "SYMMETRIC_DEFAULT"),
               "kms:KeyUsage": params.get("KeyUsage", "ENCRYPT_DECRYPT"), "kms:CallerAccount": lookup.account,
               **_kms_tags_context(params)}
    asks = [Ask("kms:CreateKey", ANY, context)]
    if params.get("Tags"):
        # "To add tags while creating a KMS key, the principal must have permission in an IAM policy that
        # isn't restricted to particular KMS keys" (KMS Developer Guide, "Controlling access to tags"):
        # there is no key yet, so the request's resource is "*".
        asks.append(Ask("kms:TagResource", ANY, context))
    return asks


def kms_alias(action: str) -> Callable[[dict, Lookup], list[Ask]]:
    """Create/Update/DeleteAlias: permission on the alias (IAM) and on the key (key policy)
    (KMS Developer Guide, "Controlling access to aliases")."""
    def asks(params: dict, lookup: Lookup) -> list[Ask]:
        alias = params["AliasName"]
        alias_arn = f"arn:aws:kms:{lookup.region}:{lookup.account}:{alias}"
        key_id = params.get("TargetKeyId") or (lookup.key(alias) or {}).get("KeyId", alias)
        return [Ask(action, alias_arn, {"kms:CallerAccount": lookup.account}),
                _key_ask(action, lookup, key_id)]
    return asks


def kms_key(action: str) -> Callable[[dict, Lookup], list[Ask]]:
    return lambda params, lookup: [_key_ask(action, lookup, params["KeyId"])]


def iam_only(action: str, **context: Any) -> Callable[[dict, Lookup], list[Ask]]:
    """Actions with no resource type: the IAM statement's Resource must be "*"."""
    return lambda params, lookup: [Ask(action, ANY, dict(context))]


CUSTOM_KEY_STORE_ROLE = "AWSServiceRoleForKeyManagementServiceCustomKeyStores"


def kms_create_custom_key_store(params: dict, lookup: Lookup) -> list[Ask]:
    asks = [Ask("kms:CreateCustomKeyStore", ANY, {}),
            Ask("cloudhsm:DescribeClusters", ANY, {})]
    if not lookup.service_linked_role_exists(CUSTOM_KEY_STORE_ROLE):
        # The first AWS CloudHSM key store in an account creates the service-linked role with the
        # caller's permission (KMS Developer Guide, "Authorizing AWS KMS to manage AWS CloudHSM and
        # Amazon EC2 resources").
        asks.append(Ask("iam:CreateServiceLinkedRole",
                        f"arn:aws:iam::{lookup.account}:role/aws-service-role/cks.kms.amazonaws.com/{CUSTOM_KEY_STORE_ROLE}",
                        {"iam:AWSServiceName": "cks.kms.amazonaws.com"}))
    return asks


def _cluster(lookup: Lookup, cluster_id: str) -> str:
    return f"arn:aws:cloudhsm:{lookup.region}:{lookup.account}:cluster/{cluster_id}"


def cloudhsm_cluster(action: str, parameter: str = "ClusterId",
                     dependent: tuple[str, ...] = ()) -> Callable[[dict, Lookup], list[Ask]]:
    """A cluster action, plus the dependent actions list_cloudhsm's API operations table names."""
    def asks(params: dict, lookup: Lookup) -> list[Ask]:
        return [Ask(action, _cluster(lookup, params[parameter]), {})] + \
            [Ask(extra, ANY, {}) for extra in dependent]
    return asks


# list_cloudhsm.html, "API operations defined by AWS CloudHSM": CreateHsm and DeleteHsm.
CREATE_HSM_DEPENDENT = ("ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress",
                        "ec2:CreateNetworkInterface", "ec2:CreateSecurityGroup", "ec2:DeleteNetworkInterface",
                        "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets",
                        "ec2:RevokeSecurityGroupEgress")
DELETE_HSM_DEPENDENT = ("ec2:DeleteNetworkInterface",)


def ssm_parameter(params: dict, lookup: Lookup) -> list[Ask]:
    name = params["Name"]
    if name.startswith("arn:"):
        arn = name
    else:
        arn = f"arn:aws:ssm:{lookup.region}:{lookup.account}:parameter/{name.lstrip('/')}"
    asks = [Ask("ssm:GetParameter", arn, {})]
    key = lookup.parameter_kms_key(name) if params.get("WithDecryption") else None
    if key:  # a SecureString with a customer managed key: KMS decrypts on the caller's behalf
        asks.append(_key_ask("kms:Decrypt", lookup, key, **{"kms:ViaService": f"ssm.{lookup.region}.amazonaws.com",
                                                                 "aws:ViaAWSService": "true"}))
    return asks


def ssm_send_command(params: dict, lookup: Lookup) -> list[Ask]:
    """SendCommand is authorised on the document and on each instance (list_awssystemsmanager)."""
    document = params["DocumentName"]
    document_arn = document if document.startswith("arn:") else \
        f"arn:aws:ssm:{lookup.region}:{lookup.account}:document/{document}"
    asks = [Ask("ssm:SendCommand", document_arn, {})]
    for instance in params.get("InstanceIds") or []:
        asks.append(Ask("ssm:SendCommand", f"arn:aws:ec2:{lookup.region}:{lookup.account}:instance/{instance}", {}))
    return asks


def secrets_get_value(params: dict, lookup: Lookup) -> list[Ask]:
    secret_id = params["SecretId"]
    arn = lookup.secret_arn(secret_id) or secret_id
    asks = [Ask("secretsmanager:GetSecretValue", arn, {"secretsmanager:SecretId": arn},
                resource_policy=lookup.secret_policy(secret_id))]
    key = lookup.secret_kms_key(secret_id)
    if key:  # Secrets Manager decrypts with the caller's permission on a customer managed key
        asks.append(_key_ask("kms:Decrypt", lookup, key, **{
            "kms:ViaService": f"secretsmanager.{lookup.region}.amazonaws.com", "aws:ViaAWSService": "true",
            "kms:EncryptionContext:SecretARN": arn}))
    return asks


# The request headers that are condition keys of s3:PutObject (list_amazons3.html, "Actions").
S3_HEADER_KEYS = ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id",
                  "x-amz-server-side-encryption-customer-algorithm", "x-amz-acl", "x-amz-storage-class")


def _object_ask(action: str, bucket: str, key: str, lookup: Lookup, context: dict) -> Ask:
    return Ask(action, f"arn:aws:s3:::{bucket}/{key}", context, resource_policy=lookup.bucket_policy(bucket),
               via_s3_endpoint=True)


def s3_object(action: str) -> Callable[[dict, Lookup], list[Ask]]:
    """An object request, and the KMS request S3 makes for it with the caller's permissions when the
    object is (to be) encrypted with a KMS key: GenerateDataKey to upload, Decrypt to download (S3 User
    Guide, "Using server-side encryption with AWS KMS keys", permissions). KMS sees it via S3, with the
    object's ARN as encryption context, or the bucket's ARN when S3 Bucket Keys are on."""
    def asks(params: dict, lookup: Lookup) -> list[Ask]:
        bucket, key = params["Bucket"], params["Key"]
        headers = {name.lower(): value for name, value in (params.get("Headers") or {}).items()}
        context = {f"s3:{name}": headers[name] for name in S3_HEADER_KEYS if name in headers}
        asks = [_object_ask(action, bucket, key, lookup, context)]
        algorithm, default_key, bucket_key = lookup.bucket_default_encryption(bucket)
        if action == "s3:PutObject":
            algorithm = headers.get("x-amz-server-side-encryption", algorithm)
            kms_key = headers.get("x-amz-server-side-encryption-aws-kms-key-id", default_key)
            kms_action = "kms:GenerateDataKey"
            if "x-amz-server-side-encryption-customer-algorithm" in headers:
                algorithm = None
        else:
            kms_key, kms_action = lookup.object_kms_key(bucket, key), "kms:Decrypt"
            algorithm = "aws:kms" if kms_key else None
        if algorithm in ("aws:kms", "aws:kms:dsse") and kms_key:
            arn = f"arn:aws:s3:::{bucket}" if bucket_key else f"arn:aws:s3:::{bucket}/{key}"
            # S3 calls KMS with the caller's credentials (a forward access session): the request names
            # S3 in kms:ViaService, has aws:ViaAWSService true, and carries no aws:SourceVpce (IAM User
            # Guide, "AWS global condition context keys": aws:ViaAWSService, aws:SourceVpce).
            asks.append(_key_ask(kms_action, lookup, kms_key, **{
                "kms:ViaService": f"s3.{lookup.region}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": arn,
                "aws:ViaAWSService": "true"}))
        return asks
    return asks


def redshift_create_cluster(params: dict, lookup: Lookup) -> list[Ask]:
    """redshift:CreateCluster on the cluster (list_amazonredshift: resource type cluster,
    arn:${Partition}:redshift:${Region}:${Account}:cluster:${ClusterName}), and what Redshift does with
    the caller's credentials:
    - with KmsKeyId, it describes the key and creates a grant on it for the cluster, both through
      Redshift (KMS Developer Guide, "How Amazon Redshift uses AWS KMS", and "kms:ViaService",
      "kms:GrantIsForAWSResource"): the key policy must admit the caller's use through Redshift;
    - with ManageMasterPassword, Secrets Manager stores the admin secret under MasterPasswordSecretKmsKeyId,
      asking KMS for a data key through Secrets Manager (Secrets Manager User Guide, "Secret encryption
      and decryption in AWS Secrets Manager")."""
    identifier = params["ClusterIdentifier"]
    asks = [Ask("redshift:CreateCluster", f"arn:aws:redshift:{lookup.region}:{lookup.account}:cluster:{identifier}",
                {})]
    through_redshift = {"kms:ViaService": f"redshift.{lookup.region}.amazonaws.com"}
    if params.get("KmsKeyId"):
        asks += [_key_ask("kms:DescribeKey", lookup, params["KmsKeyId"], **through_redshift),
                 _key_ask("kms:CreateGrant", lookup, params["KmsKeyId"], **through_redshift,
                          **{"kms:GrantIsForAWSResource": "true"})]
    if str(params.get("ManageMasterPassword", "")).lower() == "true" and params.get("MasterPasswordSecretKmsKeyId"):
        asks.append(_key_ask("kms:GenerateDataKey", lookup, params["MasterPasswordSecretKmsKeyId"],
                             **{"kms:ViaService": f"secretsmanager.{lookup.region}.amazonaws.com"}))
    return asks


def ec2_security_group(action: str) -> Callable[[dict, Lookup], list[Ask]]:
    return lambda params, lookup: [Ask(action, f"arn:aws:ec2:{lookup.region}:{lookup.account}:security-group/"
                                       f"{params['GroupId']}", {})]


def cloudwatch_put_metric_data(params: dict, lookup: Lookup) -> list[Ask]:
    return [Ask("cloudwatch:PutMetricData", ANY, {"cloudwatch:namespace": params.get("Namespace", "")})]


def logs_log_group(action: str) -> Callable[[dict, Lookup], list[Ask]]:
    """A request on one log group (list_amazoncloudwatchlogs: resource type log-group,
    arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName})."""
    return lambda params, lookup: [Ask(action, f"arn:aws:logs:{lookup.region}:{lookup.account}:log-group:"
                                       f"{params['logGroupName']}", {})]


OPERATIONS: dict[tuple[str, str], Callable[[dict, Lookup], list[Ask]]] = {
    ("kms", "CreateKey"): kms_create_key,
    ("kms", "DescribeKey"): kms_key("kms:DescribeKey"),
    ("kms", "ListResourceTags"): kms_key("kms:ListResourceTags"),
    ("kms", "PutKeyPolicy"): kms_key("kms:PutKeyPolicy"),
    ("kms", "ScheduleKeyDeletion"): kms_key("kms:ScheduleKeyDeletion"),
    ("kms", "UpdateKeyDescription"): kms_key("kms:UpdateKeyDescription"),
    ("kms", "TagResource"): kms_key("kms:TagResource"),
    ("kms", "Sign"): kms_key("kms:Sign"),
    ("kms", "GetPublicKey"): kms_key("kms:GetPublicKey"),
    ("kms", "CreateAlias"): kms_alias("kms:CreateAlias"),
    ("kms", "UpdateAlias"): kms_alias("kms:UpdateAlias"),
    ("kms", "DeleteAlias"): kms_alias("kms:DeleteAlias"),
    ("kms", "ListKeys"): iam_only("kms:ListKeys"),
    ("kms", "ListAliases"): iam_only("kms:ListAliases"),
    ("kms", "CreateCustomKeyStore"): kms_create_custom_key_store,
    ("kms", "ConnectCustomKeyStore"): iam_only("kms:ConnectCustomKeyStore"),
    ("kms", "DisconnectCustomKeyStore"): iam_only("kms:DisconnectCustomKeyStore"),
    ("kms", "DeleteCustomKeyStore"): iam_only("kms:DeleteCustomKeyStore"),
    ("kms", "UpdateCustomKeyStore"): iam_only("kms:UpdateCustomKeyStore"),
    ("kms", "DescribeCustomKeyStores"): iam_only("kms:DescribeCustomKeyStores"),
    ("redshift", "CreateCluster"): redshift_create_cluster,
    ("cloudhsmv2", "DescribeClusters"): iam_only("cloudhsm:DescribeClusters"),
    ("cloudhsmv2", "CreateHsm"): cloudhsm_cluster("cloudhsm:CreateHsm", dependent=CREATE_HSM_DEPENDENT),
    ("cloudhsmv2", "DeleteHsm"): cloudhsm_cluster("cloudhsm:DeleteHsm", dependent=DELETE_HSM_DEPENDENT),
    ("cloudhsmv2", "InitializeCluster"): cloudhsm_cluster("cloudhsm:InitializeCluster"),
    ("cloudhsmv2", "ListTags"): cloudhsm_cluster("cloudhsm:ListTags", parameter="ResourceId"),
    ("cloudhsmv2", "TagResource"): cloudhsm_cluster("cloudhsm:TagResource", parameter="ResourceId"),
    ("cloudhsmv2", "UntagResource"): cloudhsm_cluster("cloudhsm:UntagResource", parameter="ResourceId"),
    ("ssm", "GetParameter"): ssm_parameter,
    ("ssm", "SendCommand"): ssm_send_command,
    ("ssm", "GetCommandInvocation"): iam_only("ssm:GetCommandInvocation"),
    ("ssm", "ListCommands"): iam_only("ssm:ListCommands"),
    # The SSM Agent's own calls (list_awssystemsmanager, list_amazonmessagedeliveryservice,
    # list_amazonsessionmanagermessagegatewayservice): no resource types.
    ("ssm", "UpdateInstanceInformation"): iam_only("ssm:UpdateInstanceInformation"),
    ("ec2messages", "GetMessages"): iam_only("ec2messages:GetMessages"),
    ("ssmmessages", "CreateControlChannel"): iam_only("ssmmessages:CreateControlChannel"),
    ("secretsmanager", "GetSecretValue"): secrets_get_value,
    ("ec2", "DescribeNetworkInterfaces"): iam_only("ec2:DescribeNetworkInterfaces"),
    ("ec2", "DescribeSubnets"): iam_only("ec2:DescribeSubnets"),
    ("ec2", "AuthorizeSecurityGroupIngress"): ec2_security_group("ec2:AuthorizeSecurityGroupIngress"),
    ("ec2", "AuthorizeSecurityGroupEgress"): ec2_security_group("ec2:AuthorizeSecurityGroupEgress"),
    ("ec2", "RevokeSecurityGroupIngress"): ec2_security_group("ec2:RevokeSecurityGroupIngress"),
    ("ec2", "RevokeSecurityGroupEgress"): ec2_security_group("ec2:RevokeSecurityGroupEgress"),
    ("cloudwatch", "PutMetricData"): cloudwatch_put_metric_data,
    ("logs", "CreateLogGroup"): logs_log_group("logs:CreateLogGroup"),
    ("logs", "AssociateKmsKey"): logs_log_group("logs:AssociateKmsKey"),
    ("logs", "PutRetentionPolicy"): logs_log_group("logs:PutRetentionPolicy"),
    ("s3", "GetObject"): s3_object("s3:GetObject"),
    ("s3", "PutObject"): s3_object("s3:PutObject"),
    ("s3", "DeleteObject"): lambda params, lookup: [_object_ask("s3:DeleteObject", params["Bucket"], params["Key"],
                                                                lookup, {})],
    ("sts", "GetCallerIdentity"): lambda params, lookup: [],   # needs no permission (STS API Reference)
    # The Provider framework's own calls (its functions' roles): list_awslambda, list_awsstepfunctions.
    ("lambda", "Invoke"): lambda params, lookup: [Ask("lambda:InvokeFunction", params["FunctionName"], {})],
    ("stepfunctions", "StartExecution"): lambda params, lookup: [Ask("states:StartExecution", params["stateMachineArn"],
                                                                     {})],
}
