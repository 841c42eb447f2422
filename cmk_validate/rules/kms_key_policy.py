"""CKE110: KMS keys: no open Allow, deletion window set, rotation on for KMS-mode keys."""

from __future__ import annotations

from cmk_validate.model.resolver import Unresolved
from cmk_validate.policy import parse_policy
from cmk_validate.policy.evaluate import NEGATED
from cmk_validate.policy.statements import Effect
from cmk_validate.rules import Rule

KEY_TYPES = ("AWS::KMS::Key", "Custom::HsmBackedKmsKey")


class KmsKeyPolicy(Rule):
    id = "CKE110"
    title = "KMS key policy has no open Allow; deletion window set; rotation on"
    rationale = ("A key policy is the only thing that decides who may use a KMS key: an Allow to every "
                 "principal without a condition that narrows who (account, organisation, service, principal) "
                 "hands the key to anyone. An explicit deletion window is a deliberate recovery period. KMS-mode "
                 "symmetric keys must rotate; keys in a custom key store cannot, so rotation is not asked of them.")
    fix = ("Replace Principal \"*\" with named principals or add a positive condition such as "
           "kms:CallerAccount / aws:PrincipalAccount / kms:ViaService; set PendingWindowInDays (7-30); set "
           "EnableKeyRotation true on AWS::KMS::Key.")
    source_url = "https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html"
    tags = ("kms",)

    def check(self, ctx):
        for stack, lid, resource in ctx.resources(*KEY_TYPES):
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            document = props.get("KeyPolicy")
            if isinstance(document, Unresolved):
                yield self.cannot_prove(stack, base + ("KeyPolicy",), document.reason)
            elif document is not None:
                for statement in parse_policy(document):
                    if statement.unresolved and statement.effect != Effect.DENY:
                        yield self.cannot_prove(stack, base + ("KeyPolicy",), f"key {lid}: {statement.label}: "
                                                f"{statement.unresolved}")
                    elif statement.effect == Effect.ALLOW and _open_principal(statement) and not _restricting(statement):
                        yield self.finding(stack, base + ("KeyPolicy", "Statement", statement.index),
                                           f"key {lid}: {statement.label} allows every principal with no "
                                           "condition that narrows who")
            window = props.get("PendingWindowInDays")
            if isinstance(window, Unresolved):
                yield self.cannot_prove(stack, base + ("PendingWindowInDays",), window.reason)
            elif window is None:
                yield self.finding(stack, base, f"key {lid} has no PendingWindowInDays (deletion window)",
                                   fix="Set PendingWindowInDays to 7-30 (CDK: pending_window=Duration.days(30)).")
            else:
                try:
                    days = int(window)
                except (TypeError, ValueError):
                    days = -1
                if not 7 <= days <= 30:
                    yield self.finding(stack, base + ("PendingWindowInDays",),
                                       f"key {lid} deletion window {window!r} is not 7-30 days")
            if resource.get("Type") == "AWS::KMS::Key" and props.get("KeySpec", "SYMMETRIC_DEFAULT") == \
                    "SYMMETRIC_DEFAULT" and props.get("Origin", "AWS_KMS") == "AWS_KMS" and \
                    props.get("EnableKeyRotation") not in (True, "true"):
                yield self.finding(stack, base + ("EnableKeyRotation",) if "EnableKeyRotation" in props else base,
                                   f"key {lid} does not rotate its key material (EnableKeyRotation)",
                                   fix="Set EnableKeyRotation: true (CDK: enable_key_rotation=True).")


def _open_principal(statement) -> bool:
    if statement.not_principals is not None:
        return True
    principals = statement.principals or {}
    return any(value == "*" for value in principals.get("AWS", []))


def _restricting(statement) -> bool:
    """A positive, non-IfExists condition limits who can use the Allow; a negated one does not."""
    return any(not c.if_exists and c.base not in NEGATED and c.base != "Null" and c.qualifier != "ForAllValues"
               for c in statement.conditions)
