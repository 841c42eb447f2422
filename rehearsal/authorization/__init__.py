"""Authorise every AWS call a Lambda function or the client host makes, as AWS decides it.

The caller is the role the rehearsal runs the code as (rehearsal/caller.py). Its identity policies
are the role's inline and attached policies as deployed from the template (moto's IAM holds them).
The decision uses the project's own evaluator (cmk_validate/policy), with the rules of the IAM User
Guide's "Policy evaluation logic" page for a principal and a resource in the same account: an
explicit Deny wins; otherwise an Allow allows. The resource policies read are KMS key policies
("Key policies in AWS KMS"): the key policy decides first, and identity policies count only where
it allows the account (its root), so a key policy that names neither the caller nor the account
refuses whatever IAM allows. A bucket's or a secret's resource policy is evaluated with the identity
policies: in one account either may allow ("Policy evaluation logic"). For an S3 request through
a gateway endpoint, the endpoint's policy must allow too ("Control access to VPC endpoints using
endpoint policies"), and the request carries `aws:SourceVpce` and `aws:SourceVpc`. The other
resources these calls touch (clusters, parameters, documents) have no resource policy and are
decided by identity policies.

A refusal is AWS's: AccessDeniedException (CloudHsmAccessDeniedException, EC2's
UnauthorizedOperation, S3's AccessDenied), with the message shape of the IAM User Guide's "Troubleshoot access denied
error messages": who, which action, which resource, and which kind of policy did not allow it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cmk_validate.policy import (
    Effect,
    Principal,
    Request,
    evaluate,
    parse_policy,
    principal_match_kind,
    statement_matches,
)
from rehearsal.authorization.operations import OPERATIONS, Ask, Lookup
from rehearsal.caller import Caller
from rehearsal.network import S3Path, s3_path

DENIAL_CODES = {"cloudhsmv2": "CloudHsmAccessDeniedException", "ec2": "UnauthorizedOperation",
                "iam": "AccessDenied", "sts": "AccessDenied", "cloudwatch": "AccessDenied", "s3": "AccessDenied"}


@dataclass(frozen=True)
class Denied:
    code: str
    message: str


def check(service: str, operation: str, params: dict, who: Caller, account: str, region: str) -> Denied | None:
    """None when every authorisation the call needs is allowed; else AWS's refusal."""
    build = OPERATIONS.get((service, operation))
    if build is None:
        return Denied("NotModelledByRehearsal",
                      f"the rehearsal has no authorisation model for {service}:{operation}; add it to "
                      "rehearsal/authorization/operations.py from the Service Authorization Reference")
    lookup = MotoLookup(account, region)
    identity = identity_policies(who.role_arn, account)
    path = s3_path(account, region, who.subnet_id) if service == "s3" else None
    for ask in build(params, lookup):
        reason = _refusal(ask, who, identity, lookup, path)
        if reason is not None:
            message = f"User: {session_arn(who, account)} is not authorized to perform: {ask.action} on resource: {ask.resource} {reason}"
            return Denied(DENIAL_CODES.get(service, "AccessDeniedException"), message)
    return None


def session_arn(who: Caller, account: str) -> str:
    return f"arn:aws:sts::{account}:assumed-role/{who.role_arn.rsplit('/', 1)[-1]}/{who.session_name}"


def _refusal(ask: Ask, who: Caller, identity: list, lookup: "MotoLookup", path: S3Path | None) -> str | None:
    # The caller is a role session: its role ARN (aws:PrincipalArn, with the role's path) and its session ARN.
    principal = Principal("AWS", who.role_arn, lookup.account, session_arn(who, lookup.account))
    # aws:ViaAWSService is in every request: false for a direct call, true where a service calls on the
    # caller's behalf (operations.py sets it there).
    context = {"aws:RequestedRegion": lookup.region, "aws:SecureTransport": "true", "aws:ViaAWSService": "false",
               **ask.context}
    if ask.via_s3_endpoint and path is not None and path.endpoint is not None:
        context.update({"aws:SourceVpce": path.endpoint, "aws:SourceVpc": path.vpc})
    request = Request(ask.action, ask.resource, principal, context)
    mine = evaluate(request, identity)
    if mine.effect == Effect.DENY:
        return "with an explicit deny in an identity-based policy"
    if ask.via_s3_endpoint and path is not None and path.endpoint is not None:
        endpoint = evaluate(request, [parse_policy(json.loads(path.endpoint_policy or "{}"))])
        if endpoint.effect == Effect.DENY:
            return "with an explicit deny in a VPC endpoint policy"
        if not endpoint.allowed:
            return f"because no VPC endpoint policy allows the {ask.action} action"
    if ask.resource_policy is not None:
        theirs = evaluate(request, [ask.resource_policy])
        if theirs.effect == Effect.DENY:
            return "with an explicit deny in a resource-based policy"
        if theirs.allowed:
            return None
    if ask.key_arn is not None:
        key_policy = lookup.key_policy(ask.key_arn)
        if evaluate(request, [key_policy]).effect == Effect.DENY:
            return "with an explicit deny in a resource-based policy"
        allowing = [statement for statement in key_policy
                    if statement.effect == Effect.ALLOW and statement_matches(statement, request)]
        if not allowing:
            return f"because no resource-based policy allows the {ask.action} action"
        named = any(principal_match_kind(statement.principals or {}, principal) == "direct" for statement in allowing)
        if not named and not mine.allowed:  # the key policy only delegates to the account's IAM policies
            return f"because no identity-based policy allows the {ask.action} action"
        return None
    if mine.allowed:
        return None
    return f"because no identity-based policy allows the {ask.action} action"


def identity_policies(role_arn: str, account: str) -> list:
    """The role's inline policies and the default versions of its attached managed policies."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    role = backend.get_role_by_arn(role_arn)
    documents = list(role.policies.values())
    for policy in role.managed_policies.values():
        version = next((v for v in policy.versions if v.is_default), None)
        documents.append(version.document if version is not None else policy.document)
    return [parse_policy(json.loads(document) if isinstance(document, str) else document) for document in documents]


class MotoLookup(Lookup):
    """The account's keys, secrets, parameters and roles, read from moto's backends."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region

    def _kms(self):
        from moto.kms.models import kms_backends
        return kms_backends[self.account][self.region]

    def key(self, key_id: str) -> dict | None:
        backend = self._kms()
        try:
            key = backend.describe_key(backend.get_key_id_from_alias(key_id) or key_id
                                       if key_id.startswith("alias/") else key_id)
        except Exception:
            return None
        return {"Arn": key.arn, "KeyId": key.id, "Origin": key.origin, "KeySpec": key.key_spec,
                "KeyUsage": key.key_usage}

    def key_policy(self, key_arn: str) -> list:
        backend = self._kms()
        key = backend.describe_key(key_arn.rsplit("/", 1)[-1])
        return parse_policy(json.loads(key.policy))

    def _secret(self, secret_id: str):
        from moto.secretsmanager.models import secretsmanager_backends
        backend = secretsmanager_backends[self.account][self.region]
        try:
            return backend.describe_secret(secret_id)
        except Exception:
            return None

    def secret_arn(self, secret_id: str) -> str | None:
        secret = self._secret(secret_id)
        return getattr(secret, "arn", None) if secret is not None else None

    def secret_kms_key(self, secret_id: str) -> str | None:
        secret = self._secret(secret_id)
        key = getattr(secret, "kms_key_id", None) if secret is not None else None
        return key if key and not str(key).startswith("alias/aws/") else None

    def parameter_kms_key(self, name: str) -> str | None:
        from moto.ssm.models import ssm_backends
        parameter = ssm_backends[self.account][self.region].get_parameter(name)
        key = getattr(parameter, "keyid", None) if parameter is not None else None
        return key if key and not str(key).startswith("alias/aws/") else None

    def _bucket(self, name: str):
        from moto.s3.models import s3_backends
        return s3_backends[self.account]["aws"].buckets.get(name)

    def bucket_policy(self, name: str) -> list | None:
        bucket = self._bucket(name)
        policy = getattr(bucket, "policy", None)
        return parse_policy(json.loads(policy)) if policy else None

    def secret_policy(self, secret_id: str) -> list | None:
        secret = self._secret(secret_id)
        policy = getattr(secret, "policy", None) if secret is not None else None
        return parse_policy(json.loads(policy)) if policy else None

    def bucket_default_encryption(self, name: str) -> tuple[str | None, str | None, bool]:
        """(SSEAlgorithm, KMSMasterKeyID, BucketKeyEnabled) of the bucket's default encryption."""
        rule = ((getattr(self._bucket(name), "encryption", None) or {}).get("Rule") or {})
        rule = rule[0] if isinstance(rule, list) else rule
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        return (default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"),
                str(rule.get("BucketKeyEnabled", "false")).lower() == "true")

    def object_kms_key(self, bucket: str, key: str) -> str | None:
        found = getattr(self._bucket(bucket), "keys", {}).get(key)
        return getattr(found, "kms_key_id", None) if found is not None else None

    def service_linked_role_exists(self, name: str) -> bool:
        from moto.iam.models import iam_backends
        return any(role.name == name for role in iam_backends[self.account]["global"].roles.values())
