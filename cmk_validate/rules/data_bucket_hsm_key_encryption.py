"""CKE103: data buckets encrypt with the HSM-backed key, Bucket Keys on, other keys and SSE-C refused."""

from __future__ import annotations

from cmk_validate.architecture import (
    EXCLUSIVE_UPLOAD_HEADERS,
    HSM_KEY_TYPE,
    KMS_KEY_HEADER,
    SSE_C_HEADER,
    SSE_HEADER,
    as_list,
    requires_sse_c,
)
from cmk_validate.model.resolver import Unresolved
from cmk_validate.policy.prover import Proof, Scope, deny_covers
from cmk_validate.rules import Rule


class DataBucketHsmKeyEncryption(Rule):
    id = "CKE103"
    title = "Data bucket encrypts with the HSM-backed key and refuses other keys and SSE-C"
    rationale = ("The point of the architecture is that data is encrypted under key material held in the "
                 "customer's CloudHSM cluster. Default encryption must be SSE-KMS with the "
                 "Custom::HsmBackedKmsKey (an AWS::KMS::Key of this assembly in kms mode), Bucket Keys must be "
                 "on (custom key stores have low request quotas), the policy must deny uploads naming any "
                 "other KMS key or another encryption, and SSE-C must be blocked unless the bucket is in "
                 "sse-c mode (its policy then requires SSE-C on every upload).")
    fix = ("BucketEncryption: SSEAlgorithm aws:kms, KMSMasterKeyID = the HSM-backed key's KeyArn, "
           "BucketKeyEnabled true, BlockedEncryptionTypes [SSE-C]; bucket policy Deny s3:PutObject with "
           "Null s3:x-amz-server-side-encryption-aws-kms-key-id = false and StringNotEquals on it = that ARN, "
           "and likewise for s3:x-amz-server-side-encryption = aws:kms (not ...IfExists, which is true when "
           "the header is absent and would deny every upload relying on the default encryption; "
           "CDK: cmk_constructs.locked_bucket).")
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/keystore-cloudhsm.html"
    tags = ("s3", "kms", "cloudhsm", "encryption")

    def check(self, ctx):
        facts = ctx.facts
        for stack, lid, name in facts.data_buckets:
            yield from self._check_bucket(ctx, facts, stack, lid, name)

    def _check_bucket(self, ctx, facts, stack, lid, name):
        props = ctx.props(stack, lid)
        base = ("Resources", lid, "Properties", "BucketEncryption")
        encryption = props.get("BucketEncryption")
        rules = encryption.get("ServerSideEncryptionConfiguration") if isinstance(encryption, dict) else None
        if isinstance(encryption, Unresolved) or isinstance(rules, Unresolved):
            yield self.cannot_prove(stack, base, (encryption if isinstance(encryption, Unresolved) else rules).reason)
            return
        rules = [r for r in as_list(rules) if isinstance(r, dict)]
        if not rules:
            yield self.finding(stack, ("Resources", lid, "Properties"),
                               f"data bucket {name} has no default encryption with the HSM-backed key")
            return
        rule_path = base + ("ServerSideEncryptionConfiguration", 0)
        rule = rules[0]
        default = rule.get("ServerSideEncryptionByDefault") or {}
        algorithm = default.get("SSEAlgorithm") if isinstance(default, dict) else None
        key = default.get("KMSMasterKeyID") if isinstance(default, dict) else None
        key_arn = None
        if algorithm not in ("aws:kms", "aws:kms:dsse"):
            yield self.finding(stack, rule_path + ("ServerSideEncryptionByDefault", "SSEAlgorithm"),
                               f"data bucket {name} defaults to {algorithm!r}, not SSE-KMS with the HSM-backed key")
        elif isinstance(key, Unresolved):
            yield self.cannot_prove(stack, rule_path + ("ServerSideEncryptionByDefault", "KMSMasterKeyID"), key.reason)
        else:
            key_arn = yield from self._check_key(ctx, facts, stack, name, key,
                                                 rule_path + ("ServerSideEncryptionByDefault", "KMSMasterKeyID"))
        if rule.get("BucketKeyEnabled") not in (True, "true"):
            yield self.finding(stack, rule_path + ("BucketKeyEnabled",),
                               f"data bucket {name} has S3 Bucket Keys off: every object operation calls the "
                               "custom key store, whose request quota is low",
                               fix="Set BucketKeyEnabled: true (CDK: bucket_key_enabled=True).")
        yield from self._check_policy(ctx, facts, stack, lid, name, rule, rule_path, key_arn)

    def _check_key(self, ctx, facts, stack, name, key, path):
        """Returns the key ARN token when the key is the right one."""
        origin = ctx.origin(key)
        if origin is None:
            if isinstance(key, str) and not key.startswith("{{"):
                yield self.finding(stack, path, f"data bucket {name} uses key {key!r}, which is not a key of "
                                   "this assembly")
            else:
                yield self.cannot_prove(stack, path, f"cannot tell which key {key!r} is")
            return None
        key_stack, key_lid, key_resource, attribute = origin
        kind = key_resource.get("Type")
        wanted = HSM_KEY_TYPE if facts.uses_cloudhsm else "AWS::KMS::Key"
        if kind != wanted:
            yield self.finding(stack, path, f"data bucket {name} uses {key_lid} ({kind}), not the "
                               f"{'HSM-backed key of the custom key store' if facts.uses_cloudhsm else 'KMS key'} "
                               f"({wanted})")
            return None
        if kind == HSM_KEY_TYPE:
            store = ctx.props(key_stack, key_lid).get("CustomKeyStoreId")
            store_origin = ctx.origin(store)
            if store_origin is None or store_origin[2].get("Type") != "Custom::KmsCustomKeyStore":
                yield self.finding(key_stack, ("Resources", key_lid, "Properties", "CustomKeyStoreId"),
                                   f"key {key_lid} is not in this assembly's custom key store (CustomKeyStoreId "
                                   f"resolves to {store!r})")
                return None
        if attribute in ("Ref", "KeyId"):
            return ctx.ref(key_stack, key_lid, "Arn")  # a key id works for SSE-KMS; the upload policy names the ARN
        if attribute not in ("Arn", "KeyArn"):
            yield self.finding(stack, path, f"data bucket {name} names attribute {attribute!r} of {key_lid}, which is "
                               "neither the key's ARN nor its id")
            return None
        return key

    def _check_policy(self, ctx, facts, stack, lid, name, rule, rule_path, key_arn):
        policies = facts.policy_of(name)
        statements = [s for policy in policies for s in policy.statements]
        policy_path = ("Resources", policies[0].logical_id, "Properties", "PolicyDocument") if policies else ("Resources", lid)
        policy_stack = policies[0].stack if policies else stack
        objects = f"arn:aws:s3:::{name}/*"
        unresolved = next((s for s in statements if s.unresolved), None)
        exclusive = EXCLUSIVE_UPLOAD_HEADERS
        sse_c_required = requires_sse_c(statements, objects)
        mode = ctx.options.bucket_encryption
        if mode == "auto":
            mode = "sse-c" if sse_c_required else "sse-kms"
        if mode == "sse-c" and not sse_c_required:
            yield self.finding(policy_stack, policy_path, f"bucket {name} is in sse-c mode but its policy does "
                               "not deny uploads without SSE-C headers",
                               fix="Deny s3:PutObject with Condition Null "
                                   "s3:x-amz-server-side-encryption-customer-algorithm = true.")
        if mode == "sse-kms":
            blocked = rule.get("BlockedEncryptionTypes")
            types = as_list(blocked.get("EncryptionType")) if isinstance(blocked, dict) else []
            sse_c_denied = _covers(statements, Scope(["s3:PutObject"], [objects], equals={SSE_C_HEADER: "AES256"},
                                                     exclusive=exclusive))
            if "SSE-C" not in types and not sse_c_denied.proven:
                if sse_c_denied.undecided:
                    yield self.cannot_prove(policy_stack, policy_path, sse_c_denied.undecided)
                else:
                    yield self.finding(stack, rule_path + ("BlockedEncryptionTypes",),
                                       f"data bucket {name} accepts SSE-C uploads (customer-provided keys bypass the "
                                       "HSM-backed key) and the bucket is not declared sse-c",
                                       fix="Add BlockedEncryptionTypes: {EncryptionType: [SSE-C]} to the encryption "
                                           "rule (CDK: blocked_encryption_types=[BlockedEncryptionType.SSE_C]), or "
                                           "deny s3:PutObject when s3:x-amz-server-side-encryption-customer-algorithm "
                                           "is present.")
            other_encryption = _covers(statements, Scope(
                ["s3:PutObject"], [objects], present_and_not_in={SSE_HEADER: ["aws:kms", "aws:kms:dsse"]},
                exclusive=exclusive))
            if not other_encryption.proven:
                if other_encryption.undecided or unresolved:
                    yield self.cannot_prove(policy_stack, policy_path,
                                            other_encryption.undecided or unresolved.unresolved)
                else:
                    yield self.finding(policy_stack, policy_path, f"bucket {name} accepts uploads that ask for "
                                       "another encryption (e.g. AES256)")
        if key_arn is None:
            return
        other_key = _covers(statements, Scope(["s3:PutObject"], [objects],
                                              present_and_not_in={KMS_KEY_HEADER: [key_arn]}, exclusive=exclusive))
        if not other_key.proven:
            if other_key.undecided or unresolved:
                yield self.cannot_prove(policy_stack, policy_path, other_key.undecided or unresolved.unresolved)
            else:
                yield self.finding(policy_stack, policy_path, f"bucket {name} accepts uploads encrypted with a KMS "
                                   "key other than the HSM-backed key")


def _covers(statements, scope: Scope) -> Proof:
    """No policy statements: nothing is denied (no need to ask the solver)."""
    return deny_covers(statements, scope) if statements else Proof(False)
