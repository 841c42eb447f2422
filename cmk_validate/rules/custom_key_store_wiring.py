"""CKE112: HSM-backed keys live in this assembly's key store, on this assembly's cluster, password from a secret."""

from __future__ import annotations

from cmk_validate.architecture import HSM_KEY_TYPE, KEY_STORE_TYPE
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule


class CustomKeyStoreWiring(Rule):
    id = "CKE112"
    title = "HSM-backed key -> custom key store -> cluster chain is intact"
    rationale = ("A reviewer of this architecture wants the chain unbroken: the data key must be in the custom "
                 "key store this assembly creates, the store must sit on this assembly's FIPS cluster (not an "
                 "unmanaged one), and the kmsuser password must come from Secrets Manager, not a literal.")
    fix = ("Set CustomKeyStoreId to the CustomKeyStoreId attribute of the Custom::KmsCustomKeyStore, its "
           "ClusterId to the AWS::CloudHSM::Cluster's ClusterId, and KmsUserPasswordSecretArn to a Ref of an "
           "AWS::SecretsManager::Secret.")
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/create-keystore.html"
    tags = ("kms", "cloudhsm")

    def check(self, ctx):
        for stack, lid, _ in ctx.resources(HSM_KEY_TYPE):
            store = ctx.props(stack, lid).get("CustomKeyStoreId")
            path = ("Resources", lid, "Properties", "CustomKeyStoreId")
            if isinstance(store, Unresolved):
                yield self.cannot_prove(stack, path, store.reason)
                continue
            origin = ctx.origin(store)
            if origin is None or origin[2].get("Type") != KEY_STORE_TYPE:
                yield self.finding(stack, path, f"key {lid} names key store {store!r}, not a "
                                   f"{KEY_STORE_TYPE} of this assembly")
        for stack, lid, _ in ctx.resources(KEY_STORE_TYPE):
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            cluster = props.get("ClusterId")
            if isinstance(cluster, Unresolved):
                yield self.cannot_prove(stack, base + ("ClusterId",), cluster.reason)
            elif ctx.facts.cluster_of(cluster) is None:
                yield self.finding(stack, base + ("ClusterId",), f"key store {lid} uses cluster {cluster!r}, not "
                                   "the AWS::CloudHSM::Cluster of this assembly")
            secret = props.get("KmsUserPasswordSecretArn")
            if isinstance(secret, Unresolved):
                yield self.cannot_prove(stack, base + ("KmsUserPasswordSecretArn",), secret.reason)
                continue
            origin = ctx.origin(secret)
            if origin is None or origin[2].get("Type") != "AWS::SecretsManager::Secret":
                yield self.finding(stack, base + ("KmsUserPasswordSecretArn",),
                                   f"key store {lid}: kmsuser password does not come from a Secrets Manager "
                                   "secret of this assembly")
