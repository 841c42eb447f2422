"""The decision of one cell, and which statement made it.

The verdict is proved over every request of the cell (`symbolic.Space`, z3): allowed with a witness
request taken from the model, or denied because no request of the cell is allowed. The statements named
come from evaluating one concrete request with `cmk_validate.policy.evaluate`: the witness for an
allowed cell (which also checks the proof against the evaluator), the cell's fixed probe for a denied
one (exact there: every request of the cell is denied, the probe among them).

`cmk_validate.policy.evaluate` decides one request against policies (explicit deny wins, then allow,
else implicit deny). What it cannot know is how IAM *combines* policies of different kinds; that is
what this module adds (and `symbolic` writes as formulas):

- S3, same account: allowed by the identity policy OR the bucket policy; another account: needs
  both (the bucket policy naming the principal or its account); anonymous: only a bucket policy
  naming `*`. Through a VPC endpoint its policy must allow too. Block Public Access
  (RestrictPublicBuckets) and BlockedEncryptionTypes are bucket settings that deny on their own.
  Reads and KMS uploads also need the KMS leg: S3 calls KMS *as the caller* (`kms:ViaService`).
- KMS: the key policy must allow. A statement naming the principal (or a service) suffices;
  one naming only the account root delegates to IAM, so the identity policy must allow too.
  KMS rejects anonymous requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from cmk_validate.policy import Principal, Request, Statement, evaluate, principal_match_kind, statement_matches
from cmk_validate.policy.statements import Effect
from cmk_validate.review import callers as who
from cmk_validate.review import matrix as m
from cmk_validate.review.matrix import Cell
from cmk_validate.review.subjects import Bucket, Inventory, Key

ALLOW, DENY, IMPLICIT = Effect.ALLOW, Effect.DENY, Effect.IMPLICIT_DENY
CONTROL_KEYS = ("aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:sourcevpce",
                "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:userid", "aws:sourceip",
                "aws:sourcevpc", "aws:principalorgpaths")


@dataclass(frozen=True)
class Outcome:
    effect: Effect
    by: str              # the deciding statement(s) or setting, e.g. 'bucket policy "DenyInsecureTransport"'
    witness: dict | None = field(default=None, compare=False)   # an allowed request of the cell (from the model)

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW

    @property
    def symbol(self) -> str:
        return {ALLOW: "allow", DENY: "deny", IMPLICIT: "implicit deny"}[self.effect]


def decide(cell: Cell, inv: Inventory, space=None) -> Outcome:
    """The cell's verdict over all its requests, explained by the statements that decide one of them."""
    from cmk_validate.review.symbolic import Space

    return outcome(cell, inv, (space or Space()).decide(cell, inv))


def outcome(cell: Cell, inv: Inventory, verdict) -> Outcome:
    if verdict.undecided:
        return Outcome(ALLOW, f"undecided, counted as allowed: {verdict.undecided}")
    if not verdict.allowed:
        probe = evaluate_probe(cell, inv)
        if probe.allowed:   # the evaluator and the encoding disagree on the probe: the proof decides
            return Outcome(IMPLICIT, f"no request of this cell is allowed (proved; the evaluator reads the probe as allowed by {probe.by})")
        return probe
    explained = explain(cell, inv, verdict.witness)
    if explained.allowed:
        return replace(explained, witness=verdict.witness)
    return Outcome(ALLOW, f"allowed for this request (proved); the evaluator reads it as {explained.symbol}: {explained.by}",
                   verdict.witness)


def explain(cell: Cell, inv: Inventory, witness: dict) -> Outcome:
    """The concrete evaluation of a witness request (and S3's KMS call in it)."""
    caller = cell.caller
    if witness["principal"] == "anonymous":
        principal = Principal.anonymous()
    elif caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
        principal = caller.principal
    else:
        principal = Principal.aws(witness["principal"])
    caller = replace(caller, principal=principal)
    request = Request(cell.request.action, witness["resource"], principal, dict(witness["context"]))
    leg = witness.get("kms call")
    if cell.kind == "s3":
        bucket = inv.subject_of(cell)
        return s3_request(request, caller, bucket, inv, cell.via_endpoint, cell.what,
                          kms_context=leg["context"] if leg else None, endpoint_token=cell.endpoint)
    if cell.kind == "endpoint":
        return endpoint_request(request, inv.subject_of(cell).policy)
    key = inv.subject_of(cell)
    bucket = inv.bucket_using(key)
    if leg is None or bucket is None:
        return kms_request(replace(request, action=cell.request.action), caller, key, inv)
    s3_what = m.READ if cell.what.startswith(m.DECRYPT) else m.UPLOAD_DATA_KEY
    request = replace(request, action=m.S3_ACTIONS[s3_what][0])
    s3 = s3_request(request, caller, bucket, inv, cell.where == m.THIS_ENDPOINT, s3_what, with_kms=False)
    if not s3.allowed:
        return replace(s3, by=f"S3 request: {s3.by}")
    kms = kms_request(Request(cell.request.action, key.arn, principal, dict(leg["context"])), caller, key, inv)
    return kms if not kms.allowed else Outcome(ALLOW, f"{kms.by} (S3 request: {s3.by})")


def evaluate_probe(cell: Cell, inv: Inventory) -> Outcome:
    """The cell's fixed probe request, evaluated."""
    if cell.kind == "s3":
        bucket = inv.subject_of(cell)
        return s3_request(cell.request, cell.caller, bucket, inv, cell.via_endpoint, cell.what,
                          endpoint_token=cell.endpoint)
    if cell.kind == "kms":
        key = inv.subject_of(cell)
        return kms_cell(cell, key, inv)
    endpoint = inv.subject_of(cell)
    return endpoint_request(cell.request, endpoint.policy)


def statement_name(policy: str, statement: Statement) -> str:
    return f'{policy} "{statement.sid}"' if statement.sid else f"{policy} statement {statement.index}"


# -- S3 ---------------------------------------------------------------------------------------
def s3_request(request: Request, caller, bucket: Bucket, inv: Inventory, via_endpoint: bool, what: str,
               with_kms: bool = True, kms_context: dict | None = None,
               endpoint_token: str | None = None) -> Outcome:
    """`endpoint_token`: which of the assembly's endpoints the request comes through (default: the first)."""
    endpoint = inv.gateway_endpoint(endpoint_token) if via_endpoint else None
    policies = [("identity policy", list(caller.identity)), ("bucket policy", bucket.policy)]
    if endpoint is not None and endpoint.policy is not None:
        policies.append(("endpoint policy", endpoint.policy))
    denied = _explicit_deny(request, policies)
    if denied:
        return denied
    if what == m.UPLOAD_SSE_C and "SSE-C" in bucket.blocked_encryption:
        return Outcome(DENY, "bucket setting BlockedEncryptionTypes: SSE-C")
    allows: list[str] = []
    if endpoint is not None and endpoint.policy is not None:
        decision = evaluate(request, [endpoint.policy])
        if not decision.allowed:
            return Outcome(IMPLICIT, "endpoint policy: no statement allows it")
        allows.append(statement_name("endpoint policy", decision.statement))
    granted = _resource_grant(request, caller, bucket.policy, "bucket policy", bucket_account=inv.account)
    if not granted.allowed:
        return granted
    if granted.by.startswith("public:") and bucket.restrict_public and caller.outside:
        return Outcome(DENY, "Block Public Access: RestrictPublicBuckets")
    allows.insert(0, granted.by.removeprefix("public:"))
    kms = _kms_leg(request, caller, bucket, inv, what, kms_context) if with_kms else None
    if kms is not None:
        if not kms.allowed:
            return Outcome(kms.effect, f"KMS call by S3: {kms.by}")
        return Outcome(ALLOW, " + ".join(allows) + f"; KMS: {kms.by}")
    return Outcome(ALLOW, " + ".join(allows))


def _kms_leg(request: Request, caller, bucket: Bucket, inv: Inventory, what: str,
             context: dict | None = None) -> Outcome | None:
    """S3 calls KMS as the caller for SSE-KMS reads and uploads (a forward access session: aws:ViaAWSService
    true, aws:CalledVia S3); None when no KMS call is made. `context`: the call's keys, when a witness gives them.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html"""
    if bucket.sse_c_required and what in (m.READ, m.UPLOAD_NO_HEADER):
        return None
    if what not in (m.READ, m.UPLOAD_DATA_KEY, m.UPLOAD_OTHER_KEY, m.UPLOAD_NO_HEADER):
        return None
    if what == m.UPLOAD_OTHER_KEY:
        return Outcome(ALLOW, "other key's policy (not in this assembly, assumed to allow)")
    key = inv.key_by_arn(bucket.default_key)
    if key is None:
        return None if bucket.default_algorithm not in ("aws:kms", "aws:kms:dsse") else \
            Outcome(ALLOW, "default key's policy (not in this assembly, assumed to allow)")
    action = "kms:Decrypt" if what == m.READ else "kms:GenerateDataKey"
    if context is None:
        context = {"aws:SecureTransport": "true", "kms:CallerAccount": caller.account or "",
                   "kms:ViaService": f"s3.{inv.region}.amazonaws.com", "kms:EncryptionContext:aws:s3:arn": bucket.arn,
                   "aws:ViaAWSService": "true", "aws:CalledVia": "s3.amazonaws.com"}
    return kms_request(Request(action, key.arn, request.principal, context), caller, key, inv)


# -- KMS --------------------------------------------------------------------------------------
def kms_cell(cell: Cell, key: Key, inv: Inventory) -> Outcome:
    """Direct calls evaluate the key; `... via S3` is the caller's S3 request to the bucket using the key,
    then S3's call to KMS as the caller."""
    if not cell.what.endswith(m.VIA_S3):
        return kms_request(cell.request, cell.caller, key, inv)
    bucket = inv.bucket_using(key)
    if bucket is None:
        outcome = kms_request(cell.request, cell.caller, key, inv)
        return replace(outcome, by=outcome.by + " (no bucket of the assembly uses this key; KMS leg only)")
    if cell.caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
        return kms_request(cell.request, cell.caller, key, inv)
    s3_what = m.READ if cell.what.startswith(m.DECRYPT) else m.UPLOAD_DATA_KEY
    action, _ = m.S3_ACTIONS[s3_what]
    context = {"aws:SecureTransport": "true"} | m.caller_context(cell.caller, cell.where)
    if cell.where == m.THIS_ENDPOINT:
        context["aws:sourceVpce"] = inv.endpoints[0].token if inv.endpoints else "{{this-assembly-gateway-endpoint}}"
    elif cell.where == m.OTHER_ENDPOINT:
        context["aws:sourceVpce"] = m.OTHER_VPCE
    if s3_what == m.UPLOAD_DATA_KEY:
        context |= {"s3:x-amz-server-side-encryption": "aws:kms",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": key.arn}
    s3 = s3_request(Request(action, f"{bucket.arn}/{cell.caller.object_prefix if cell.caller else ''}review-probe-object", cell.request.principal, context),
                    cell.caller, bucket, inv, cell.where == m.THIS_ENDPOINT, s3_what, with_kms=False)
    if not s3.allowed:
        return replace(s3, by=f"S3 request: {s3.by}")
    kms = kms_request(cell.request, cell.caller, key, inv)
    return kms if not kms.allowed else Outcome(ALLOW, f"{kms.by} (S3 request: {s3.by})")


def kms_request(request: Request, caller, key: Key, inv: Inventory) -> Outcome:
    if caller.kind == who.ANONYMOUS:
        return Outcome(IMPLICIT, "KMS accepts only signed requests (no anonymous access)")
    denied = _explicit_deny(request, [("identity policy", list(caller.identity)), ("key policy", key.policy)])
    if denied:
        return denied
    return _resource_grant(request, caller, key.policy, "key policy", bucket_account=inv.account, kms=True)


# -- endpoint ---------------------------------------------------------------------------------
def endpoint_request(request: Request, policy: list[Statement] | None) -> Outcome:
    if policy is None:
        return Outcome(ALLOW, "endpoint has no policy (AWS default: full access)")
    decision = evaluate(request, [policy])
    if decision.effect == DENY:
        return Outcome(DENY, statement_name("endpoint policy", decision.statement))
    if decision.allowed:
        return Outcome(ALLOW, statement_name("endpoint policy", decision.statement))
    return Outcome(IMPLICIT, "endpoint policy: no statement allows it")


# -- shared -----------------------------------------------------------------------------------
def _explicit_deny(request: Request, policies: list[tuple[str, list[Statement]]]) -> Outcome | None:
    for name, statements in policies:
        decision = evaluate(request, [statements])
        if decision.effect == DENY:
            return Outcome(DENY, statement_name(name, decision.statement))
    return None


def _resource_grant(request: Request, caller, policy: list[Statement], name: str, bucket_account: str,
                    kms: bool = False) -> Outcome:
    """Allow from a resource policy combined with the caller's identity policy (see module docstring).
    The `by` of a grant through a statement open to everyone starts with 'public:'."""
    identity = evaluate(request, [list(caller.identity)]) if caller.identity else None
    identity_allows = identity is not None and identity.allowed
    direct = account_only = None
    for statement in policy:
        if statement.effect != Effect.ALLOW or not statement_matches(statement, request):
            continue
        how = _names(statement, caller)
        if how == "direct" and direct is None:
            direct = statement
        elif how == "account" and account_only is None:
            account_only = statement
    identity_name = statement_name("identity policy", identity.statement) if identity_allows else ""
    same_account = caller.kind in (who.IN_ACCOUNT, who.BREAK_GLASS, who.ASSEMBLY_ROLE) \
        and (caller.principal.account == bucket_account or "{{" in bucket_account)  # a lone template's own account
    if direct is not None:
        label = statement_name(name, direct)
        if caller.kind in (who.OTHER, who.IN_ACCOUNT, who.BREAK_GLASS, who.ASSEMBLY_ROLE) and not same_account \
                and not identity_allows:
            return Outcome(IMPLICIT, f"{label} allows, but the caller's identity policy does not")
        return Outcome(ALLOW, ("public:" if _is_public(direct) else "") + label)
    if account_only is not None and identity_allows:
        return Outcome(ALLOW, f"{statement_name(name, account_only)} (to the account) + {identity_name}")
    if account_only is not None and caller.kind != who.SERVICE_FOR_OTHER:
        return Outcome(IMPLICIT, f"{statement_name(name, account_only)} delegates to IAM, but the identity policy does not allow")
    if kms:
        return Outcome(IMPLICIT, f"{name}: no statement allows it")
    if same_account and identity_allows:
        return Outcome(ALLOW, identity_name)
    if caller.kind == who.OTHER and identity_allows:
        return Outcome(IMPLICIT, f"{name}: no statement allows another account")
    return Outcome(IMPLICIT, f"{name}: no statement allows it" + ("" if caller.identity else ", and the caller has no identity policy"))


def _names(statement: Statement, caller) -> str | None:
    """'direct' when the statement names the caller (or everyone), 'account' when only its account root."""
    if statement.not_principals is not None:
        return "direct"   # statement_matches has checked the caller is not among the excluded
    if statement.principals is None:
        return None
    return principal_match_kind(statement.principals, caller.principal)


def _is_public(statement: Statement) -> bool:
    """S3's notion of a public grant: Principal * without a condition pinning account, org, VPC or source."""
    everyone = "*" in (statement.principals or {}).get("AWS", []) or statement.not_principals is not None
    return everyone and not any(c.key in CONTROL_KEYS and "Not" not in c.base for c in statement.conditions)
