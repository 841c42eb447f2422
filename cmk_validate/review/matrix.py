"""The request matrix: one `Cell` per subject x who x where x how x what.

A cell's identity (`key`) is made of labels only, so the same cell can be found in the review of
another version of the app. The request details (action, resource, condition context) ride along
but do not take part in comparisons.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cmk_validate.policy import Request
from cmk_validate.policy.statements import Effect
from cmk_validate.review import callers as who
from cmk_validate.review.callers import Caller
from cmk_validate.review.subjects import Bucket, Endpoint, Inventory, Key

THIS_ENDPOINT, OTHER_ENDPOINT, INTERNET, AWS_SERVICE = (
    "through this assembly's endpoint", "through another VPC endpoint", "from the internet", "as an AWS service")
# A service the caller called makes the request with the caller's identity (forward access session):
# aws:ViaAWSService true, aws:CalledVia names the service, no VPC endpoint.
# https://docs.aws.amazon.com/IAM/latest/UserGuide/access_forward_access_sessions.html
VIA_SERVICE = "through an AWS service on the caller's behalf"
EXAMPLE_CALLED_VIA = "cloudformation.amazonaws.com"
OTHER_VPCE = "vpce-0a1b2c3d4e5f60718"
OTHER_KMS_KEY = "arn:aws:kms:{region}:{account}:key/00000000-0000-4000-8000-0000000000aa"
FOREIGN_BUCKET = f"arn:aws:s3:::some-bucket-of-account-{who.OTHER_ACCOUNT}"
FOREIGN_TARGET = "to any other bucket (other accounts' included)"

# what -> (S3 action, on objects?, encryption variant)
READ, LIST, DELETE = "read", "list", "delete"
UPLOAD_DATA_KEY, UPLOAD_OTHER_KEY, UPLOAD_NO_HEADER, UPLOAD_SSE_C, UPLOAD_SSE_S3 = (
    "upload, data key", "upload, other KMS key", "upload, no encryption header", "upload, SSE-C",
    "upload, SSE-S3 (AES256)")
PUT_POLICY, DELETE_POLICY = "put bucket policy", "delete bucket policy"
UPLOADS = (UPLOAD_DATA_KEY, UPLOAD_OTHER_KEY, UPLOAD_NO_HEADER, UPLOAD_SSE_C, UPLOAD_SSE_S3)
POLICY_CHANGES = (PUT_POLICY, DELETE_POLICY)
BUCKET_WHATS = (READ, LIST, DELETE) + UPLOADS + POLICY_CHANGES
S3_ACTIONS = {READ: ("s3:GetObject", True), LIST: ("s3:ListBucket", False), DELETE: ("s3:DeleteObject", True),
              PUT_POLICY: ("s3:PutBucketPolicy", False), DELETE_POLICY: ("s3:DeleteBucketPolicy", False),
              **{upload: ("s3:PutObject", True) for upload in UPLOADS}}

ENCRYPT, DECRYPT, GENERATE = "encrypt", "decrypt", "generate data key"
VIA_S3 = " via S3"
PUT_KEY_POLICY, SCHEDULE_DELETION = "put key policy", "schedule key deletion"
KEY_USE = (ENCRYPT, DECRYPT, GENERATE)
KEY_WHATS = KEY_USE + tuple(w + VIA_S3 for w in KEY_USE) + (PUT_KEY_POLICY, SCHEDULE_DELETION)
KMS_ACTIONS = {ENCRYPT: "kms:Encrypt", DECRYPT: "kms:Decrypt", GENERATE: "kms:GenerateDataKey",
               PUT_KEY_POLICY: "kms:PutKeyPolicy", SCHEDULE_DELETION: "kms:ScheduleKeyDeletion"}

ENDPOINT_WHATS = (READ, UPLOAD_DATA_KEY, DELETE, LIST)


@dataclass(frozen=True)
class Cell:
    subject: str
    who: str
    where: str
    tls: bool
    what: str
    kind: str = field(default="s3", compare=False)               # s3 | kms | endpoint
    caller: Caller | None = field(default=None, compare=False, hash=False)
    request: Request | None = field(default=None, compare=False, hash=False)
    via_endpoint: bool = field(default=False, compare=False)       # through this assembly's endpoint
    endpoint: str | None = field(default=None, compare=False)      # which one (its id token), when via_endpoint
    # The bucket, key or endpoint the cell is about (`subject` is its label); Inventory.subject_of finds it
    # in another version of the assembly.
    target: object = field(default=None, compare=False, hash=False, repr=False)

    @property
    def key(self) -> tuple:
        return (self.subject, self.who, self.where, self.tls, self.what)

    @property
    def row(self) -> tuple:
        return (self.who, self.where, self.tls)


def build(inv: Inventory, break_glass: list[str] | None = None) -> list[Cell]:
    """Every cell of every data bucket, KMS key and S3 gateway endpoint of the inventory."""
    arns = inv.break_glass if break_glass is None else break_glass
    base = who.standard_callers(inv.account, arns)
    cells: list[Cell] = []
    for bucket in inv.buckets:
        cells += bucket_cells(inv, bucket, base + _services_of(bucket.policy, inv) + _roles_for(inv, bucket))
    for key in inv.keys:
        service_callers = [c for s in key.services for c in who.services(s, inv.account)]
        cells += key_cells(inv, key, base + service_callers + _roles_for(inv, key))
    for endpoint in inv.endpoints:
        cells += endpoint_cells(inv, endpoint, base)
    return cells


def this_assembly_wheres(inv: Inventory) -> list[tuple[str, str]]:
    """(where, endpoint token) for each of this assembly's S3 gateway endpoints: the first is "through this
    assembly's endpoint", each further one (a peered application VPC's) names itself after that, so a
    review of an app with one endpoint keeps its cells."""
    if not inv.endpoints:
        return [(THIS_ENDPOINT, "{{this-assembly-gateway-endpoint}}")]
    return [(THIS_ENDPOINT if index == 0 else f"{THIS_ENDPOINT} ({endpoint.label})", endpoint.token)
            for index, endpoint in enumerate(inv.endpoints)]


def bucket_cells(inv: Inventory, bucket: Bucket, callers: list[Caller]) -> list[Cell]:
    cells = []
    for caller in callers:
        for where, tls in _wheres(caller):
            endpoints = this_assembly_wheres(inv) if where == THIS_ENDPOINT else [(where, None)]
            for label, endpoint in endpoints:
                for what in BUCKET_WHATS:
                    action, on_objects = S3_ACTIONS[what]
                    resource = f"{bucket.arn}/{caller.object_prefix}review-probe-object" if on_objects else bucket.arn
                    context = _network_context(where, tls, endpoint, caller) | _service_context(caller, inv) | \
                        _encryption(what, inv, bucket)
                    if caller.object_prefix and not on_objects:
                        context["s3:prefix"] = caller.object_prefix
                    cells.append(Cell(bucket.label, caller.label, label, tls, what, "s3", caller,
                                      Request(action, resource, caller.principal, context), where == THIS_ENDPOINT,
                                      endpoint, bucket))
    return cells


def key_cells(inv: Inventory, key: Key, callers: list[Caller]) -> list[Cell]:
    cells = []
    kms_endpoint = inv.kms_interface_endpoint
    for caller in callers:
        for where, _tls in _wheres(caller, tls_variants=False):
            for what in KEY_WHATS:
                via_s3 = what.endswith(VIA_S3)
                if via_s3 and (caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER) or where == VIA_SERVICE):
                    continue  # a service calls KMS itself, not through S3 for a caller; S3 is a service already
                action = KMS_ACTIONS[what[: -len(VIA_S3)] if via_s3 else what]
                context = {"aws:SecureTransport": "true", "kms:CallerAccount": caller.account or ""}
                context |= _service_context(caller, inv)
                if via_s3:
                    bucket = inv.bucket_using(key)
                    arn = bucket.arn if bucket else f"arn:aws:s3:::another-bucket-of-{inv.account}"
                    context |= {"kms:ViaService": f"s3.{inv.region}.amazonaws.com",
                                "kms:EncryptionContext:aws:s3:arn": arn}
                elif where == THIS_ENDPOINT and kms_endpoint:
                    context["aws:sourceVpce"] = kms_endpoint
                elif where == OTHER_ENDPOINT:
                    context["aws:sourceVpce"] = OTHER_VPCE
                elif where == VIA_SERVICE:
                    context["kms:ViaService"] = f"{EXAMPLE_CALLED_VIA.split('.')[0]}.{inv.region}.amazonaws.com"
                context |= caller_context(caller, where)
                cells.append(Cell(key.label, caller.label, where, True, what, "kms", caller,
                                  Request(action, key.arn, caller.principal, context), where == THIS_ENDPOINT,
                                  target=key))
    return cells


def endpoint_cells(inv: Inventory, endpoint: Endpoint, callers: list[Caller]) -> list[Cell]:
    """What the endpoint policy lets through, to each data bucket and to a bucket of another account."""
    cells = []
    targets = [(f"to {b.name}", b.arn) for b in inv.buckets] + [(FOREIGN_TARGET, FOREIGN_BUCKET)]
    for caller in callers:
        if caller.kind == who.BREAK_GLASS:
            continue  # the endpoint policy cannot tell them apart from the broad role
        for where, arn in targets:
            for what in ENDPOINT_WHATS:
                action, on_objects = S3_ACTIONS[what]
                resource = arn + "/review-probe-object" if on_objects else arn
                context = {"aws:SecureTransport": "true", "aws:sourceVpce": endpoint.token} | caller_context(caller, THIS_ENDPOINT)
                cells.append(Cell(endpoint.label, caller.label, where, True, what if what != UPLOAD_DATA_KEY else "upload",
                                  "endpoint", caller, Request(action, resource, caller.principal, context), True,
                                  target=endpoint))
    return cells


def _wheres(caller: Caller, tls_variants: bool = True) -> list[tuple[str, bool]]:
    if caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
        return [(AWS_SERVICE, True)]
    tls_values = (True, False) if tls_variants else (True,)
    through_service = [] if caller.kind == who.ANONYMOUS else [(VIA_SERVICE, True)]   # services sign with TLS
    return [(where, tls) for where in (THIS_ENDPOINT, OTHER_ENDPOINT, INTERNET) for tls in tls_values] + through_service


def caller_context(caller: Caller, where: str) -> dict:
    """What the probe request carries about how the caller asks: through a service or not, its organisation."""
    if caller.kind in (who.SERVICE, who.SERVICE_FOR_OTHER):
        return {"aws:PrincipalIsAWSService": "true", "aws:ViaAWSService": "false"}
    context = {"aws:ViaAWSService": "true" if where == VIA_SERVICE else "false"}
    if caller.kind != who.ANONYMOUS:
        context["aws:PrincipalIsAWSService"] = "false"
    if where == VIA_SERVICE:
        context["aws:CalledVia"] = EXAMPLE_CALLED_VIA
    if caller.kind == who.ORGANISATION:
        context["aws:PrincipalOrgID"] = who.EXAMPLE_ORGANISATION
    return context


def _network_context(where: str, tls: bool, endpoint: str, caller: Caller) -> dict:
    context = {"aws:SecureTransport": "true" if tls else "false"}
    if where == THIS_ENDPOINT:
        context["aws:sourceVpce"] = endpoint
    elif where == OTHER_ENDPOINT:
        context["aws:sourceVpce"] = OTHER_VPCE
    return context | caller_context(caller, where)


def _service_context(caller: Caller, inv: Inventory) -> dict:
    """What a service adds when it acts for an account: source account and ARN, its encryption context."""
    if caller.kind not in (who.SERVICE, who.SERVICE_FOR_OTHER):
        return {}
    account, service = caller.acting_for, caller.principal.id
    name = service.split(".", 1)[0]
    context = {"aws:SourceAccount": account, "aws:SourceArn": f"arn:aws:{name}:{inv.region}:{account}:review-probe"}
    if name == "cloudtrail":
        arn = f"arn:aws:cloudtrail:{inv.region}:{account}:trail/review-probe"
        context |= {"aws:SourceArn": arn, "kms:EncryptionContext:aws:cloudtrail:arn": arn}
    elif name == "logs":
        arn = f"arn:aws:logs:{inv.region}:{account}:log-group:review-probe"
        context |= {"aws:SourceArn": arn, "kms:EncryptionContext:aws:logs:arn": arn}
    return context


def _encryption(what: str, inv: Inventory, bucket: Bucket) -> dict:
    """The upload's encryption headers, as S3 exposes them to bucket policies."""
    if what == UPLOAD_DATA_KEY:
        return {"s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": bucket.default_key or "(no default key)"}
    if what == UPLOAD_OTHER_KEY:
        return {"s3:x-amz-server-side-encryption": "aws:kms",
                "s3:x-amz-server-side-encryption-aws-kms-key-id": other_kms_key(inv)}
    if what == UPLOAD_SSE_C:
        return {"s3:x-amz-server-side-encryption-customer-algorithm": "AES256"}
    if what == UPLOAD_SSE_S3:
        return {"s3:x-amz-server-side-encryption": "AES256"}
    return {}


def other_kms_key(inv: Inventory) -> str:
    return OTHER_KMS_KEY.format(region=inv.region, account=inv.account)


def _services_of(policy, inv: Inventory) -> list[Caller]:
    """Services named in the policy, and those acting in this assembly (a trail, log delivery)."""
    named = list(inv.services)
    for statement in policy:
        if statement.effect == Effect.ALLOW:
            named += [s for s in (statement.principals or {}).get("Service", []) if isinstance(s, str)]
    return [c for s in dict.fromkeys(named) for c in who.services(s, inv.account)]


def _roles_for(inv: Inventory, subject) -> list[Caller]:
    """Roles of the assembly whose identity policies allow some action of the matrix on this subject."""
    from cmk_validate.policy import evaluate

    found = []
    for role in inv.roles:
        # The key's cells also ask S3 for the bucket that uses the key: probe the prefix the role reaches.
        bucket = subject if isinstance(subject, Bucket) else inv.bucket_using(subject)
        prefixes = (_object_prefixes(role.policy, bucket.arn) if bucket else []) + [""]
        for prefix in prefixes:
            caller = who.assembly_role(role.arn, role.stack, role.logical_id, inv.account, role.policy, prefix)
            if any(evaluate(Request(action, resource, caller.principal, context), [role.policy]).allowed
                   for action, resource, context in _probes(inv, subject, prefix)):
                found.append(caller)
                break
    return found


def _probes(inv: Inventory, subject, prefix: str) -> list[tuple[str, str, dict]]:
    """(action, resource, context) that show a role's grant on the subject: objects under `prefix` and
    listing it for a bucket; a key used directly or through S3 (kms:ViaService), as the matrix asks."""
    tls = {"aws:SecureTransport": "true"}
    if isinstance(subject, Bucket):
        return [(action, f"{subject.arn}/{prefix}x" if objects else subject.arn,
                 tls | ({"s3:prefix": prefix} if prefix and not objects else {}))
                for action, objects in S3_ACTIONS.values()]
    via_s3 = tls | {"kms:ViaService": f"s3.{inv.region}.amazonaws.com"}
    return [(action, subject.arn, context) for action in KMS_ACTIONS.values() for context in (tls, via_s3)]


def _object_prefixes(policy, bucket_arn: str) -> list[str]:
    """Key prefixes of `bucket_arn` that the policy's Allow statements name as `<bucket>/<prefix>*`."""
    found = []
    for statement in policy:
        if statement.effect != Effect.ALLOW:
            continue
        for resource in statement.resources or []:
            if isinstance(resource, str) and resource.startswith(bucket_arn + "/") and resource.endswith("*"):
                prefix = resource[len(bucket_arn) + 1:-1]
                if prefix and "*" not in prefix and "?" not in prefix:
                    found.append(prefix)
    return list(dict.fromkeys(found))
