"""CKE117: the data key's policy grants administration only to declared administrators (or roles the
assembly defines), cryptography only through S3 from this account, and nothing to the account root but
that use.

KMS authorises with the key policy first (KMS Developer Guide, "Key policies in AWS KMS"): each Allow
statement grants on its own, so each is checked on its own; a Deny that narrows one is not credited
(the check errs towards a finding). What the actions can do is read from the KMS permissions reference:
- cryptographic operations (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, MAC and signing), and
  CreateGrant, which lets its holder grant those operations to any principal, itself included
  (KMS Developer Guide, "Grants in AWS KMS");
- administration: every other key action except reading the key's metadata and policy.
`kms:ViaService` says which service made the call, not for which account: only `kms:CallerAccount`
pins the callers to this account (KMS Developer Guide, "kms:ViaService" and "kms:CallerAccount").
Where the assembly has a Redshift cluster (the analytics warehouse, encrypted with this key), use
through Redshift (`redshift.<region>.amazonaws.com`) is admitted too, under the same conditions.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from cmk_validate.architecture import as_list
from cmk_validate.model.resolver import Unresolved
from cmk_validate.policy import parse_policy
from cmk_validate.policy.not_principal import root_account
from cmk_validate.policy.statements import Effect
from cmk_validate.rules import Rule

HSM_KEY_TYPE = "Custom::HsmBackedKmsKey"
CRYPTOGRAPHY = ("kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
                "kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair",
                "kms:GenerateDataKeyPairWithoutPlaintext", "kms:GenerateMac", "kms:VerifyMac", "kms:Sign",
                "kms:Verify", "kms:DeriveSharedSecret", "kms:CreateGrant")
READ_ONLY = ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
             "kms:ListGrants", "kms:ListKeyPolicies", "kms:ListKeyRotations", "kms:GetPublicKey")
ADMINISTRATION = ("kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:DisableKey",
                  "kms:EnableKey", "kms:RevokeGrant", "kms:RetireGrant", "kms:TagResource", "kms:UntagResource",
                  "kms:UpdateKeyDescription", "kms:UpdateAlias", "kms:CreateAlias", "kms:DeleteAlias",
                  "kms:EnableKeyRotation", "kms:DisableKeyRotation", "kms:RotateKeyOnDemand",
                  "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial", "kms:UpdatePrimaryRegion",
                  "kms:ReplicateKey", "kms:ConnectCustomKeyStore")


def _granted(statement, catalogue: tuple[str, ...]) -> list[str]:
    """The actions of `catalogue` the statement allows (IAM matches actions as case-insensitive globs)."""
    if statement.not_actions is not None:
        excluded = [str(a).lower() for a in statement.not_actions]
        return [a for a in catalogue if not any(fnmatchcase(a.lower(), pattern) for pattern in excluded)]
    patterns = [str(a).lower() for a in statement.actions or []]
    return [a for a in catalogue if any(fnmatchcase(a.lower(), pattern) for pattern in patterns)]


class DataKeyPolicyLeastPrivilege(Rule):
    id = "CKE117"
    title = "Data key policy: declared administrators only, cryptography only through S3 from this account"
    rationale = ("The data key decides who can read the data. An undeclared administrator can rewrite its policy; an "
                 "administrator who may encrypt, decrypt or create grants can read the data without the bucket's "
                 "endpoint lock; a use grant without kms:CallerAccount lets another account's principals use it "
                 "through their own S3 calls; and kms:* for the account root hands the key to every IAM policy "
                 "of the account, which the README promises not to do.")
    fix = ("Give administration actions (no kms:Create*, which includes kms:CreateGrant; name kms:CreateAlias) only "
           "to the declared administrators and the roles this app defines; give cryptographic actions only to the "
           "account root with StringEquals kms:ViaService = s3.<region>.amazonaws.com and kms:CallerAccount = this "
           "account; nothing else to the root.")
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html"
    tags = ("kms", "least-privilege")

    def check(self, ctx):
        account = ctx.resolve(ctx.stacks[0], {"Ref": "AWS::AccountId"}) if ctx.stacks else None
        roles = {ctx.ref(stack, lid, "Arn") for stack, lid, _ in ctx.resources("AWS::IAM::Role", "AWS::IAM::User")}
        declared = ctx.options.key_administrators
        services = ("s3.", "redshift.") if any(ctx.resources("AWS::Redshift::Cluster")) else ("s3.",)
        for stack, lid, policy in _data_keys(ctx):
            path = ("Resources", lid, "Properties", "KeyPolicy")
            if isinstance(policy, Unresolved):
                yield self.cannot_prove(stack, path, policy.reason)
                continue
            for statement in parse_policy(policy):
                where = path + ("Statement", statement.index)
                if statement.unresolved and statement.effect != Effect.DENY:
                    yield self.cannot_prove(stack, where, f"key policy {statement.label}: {statement.unresolved}")
                    continue
                if statement.effect == Effect.ALLOW:
                    yield from self._allow(stack, lid, where, statement, account, roles, declared, services)

    def _allow(self, stack, lid, where, statement, account, roles, declared, services):
        label = f"data key {lid}: key policy {statement.label}"
        if statement.not_principals is not None:
            yield self.finding(stack, where, f"{label} allows every principal but those it lists (NotPrincipal)")
            return
        crypto = _granted(statement, CRYPTOGRAPHY)
        admin = _granted(statement, ADMINISTRATION)
        principals = statement.principals or {}
        for kind, values in principals.items():
            for principal in values:
                if isinstance(principal, Unresolved):
                    yield self.cannot_prove(stack, where, principal.reason)
                    continue
                principal = str(principal)
                if kind != "AWS":
                    if crypto or admin:
                        yield self.finding(stack, where, f"{label} gives {kind} principal {principal} "
                                           f"{_some(crypto + admin)}; only S3, on a caller's behalf, may use the key")
                    continue
                root = "*" if principal == "*" else root_account(principal)
                if root is not None and root not in ("*", account):
                    if crypto or admin:
                        yield self.finding(stack, where, f"{label} gives {principal} {_some(crypto + admin)}")
                    continue
                if root is not None:  # this account's root, or "*" (any principal), for use through S3 only
                    if admin:
                        yield self.finding(stack, where, f"{label} gives {'every principal' if root == '*' else 'the account root'} "
                                           f"{_some(admin)}: every IAM policy of the account could then administer the key")
                    if crypto:
                        yield from self._through_s3_from(stack, where, label, statement, account, services)
                    continue
                if crypto:
                    yield self.finding(stack, where, f"{label} gives {principal} {_some(crypto)} directly: use goes "
                                       "through S3 only (the account root with kms:ViaService and kms:CallerAccount)")
                if admin and principal not in roles and not _declared(principal, declared):
                    yield self.finding(stack, where, f"{label} makes {principal} an administrator, who is neither a "
                                       "declared key administrator nor a role this assembly defines")

    def _through_s3_from(self, stack, where, label, statement, account, services):
        via = [c for c in statement.conditions if c.key.lower() == "kms:viaservice"]
        caller = [c for c in statement.conditions if c.key.lower() == "kms:calleraccount"]
        if not via or not all(c.base in ("StringEquals", "StringLike") and not c.if_exists and c.values
                              and all(isinstance(v, str) and v.startswith(services) for v in c.values) for c in via):
            yield self.finding(stack, where, f"{label} lets the account's principals use the key without requiring "
                               "kms:ViaService = s3.<region>.amazonaws.com (StringEquals, not IfExists)")
        if not caller or not all(c.base == "StringEquals" and not c.if_exists and list(c.values) == [account]
                                 for c in caller):
            yield self.finding(stack, where, f"{label} does not pin kms:CallerAccount to this account "
                               f"({account}): kms:ViaService alone lets other accounts' S3 calls use the key")


def _data_keys(ctx):
    """(stack, logical id, key policy) of the HSM-backed keys and of every KMS key a data bucket encrypts with."""
    seen = set()
    for stack, lid, _ in ctx.resources(HSM_KEY_TYPE):
        seen.add((stack.name, lid))
        yield stack, lid, ctx.props(stack, lid).get("KeyPolicy")
    for bucket_stack, bucket_lid, _ in ctx.facts.data_buckets:
        encryption = ctx.props(bucket_stack, bucket_lid).get("BucketEncryption")
        rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, dict) else None
        for rule in as_list(rules):
            default = rule.get("ServerSideEncryptionByDefault") if isinstance(rule, dict) else None
            origin = ctx.origin(default.get("KMSMasterKeyID")) if isinstance(default, dict) else None
            if origin and origin[2].get("Type") == "AWS::KMS::Key" and (origin[0].name, origin[1]) not in seen:
                seen.add((origin[0].name, origin[1]))
                yield origin[0], origin[1], ctx.props(origin[0], origin[1]).get("KeyPolicy")


def _declared(principal: str, declared) -> bool:
    """A declared administrator; with none declared, any explicit role or user ARN without wildcards."""
    if declared is not None:
        return principal in declared
    return principal.startswith("arn:") and ":iam::" in principal and "*" not in principal and "?" not in principal \
        and principal.split(":")[5].startswith(("role/", "user/"))


def _some(actions: list[str]) -> str:
    shown = ", ".join(actions[:4])
    return shown + (f" and {len(actions) - 4} more" if len(actions) > 4 else "")
