"""The expected outcome of the reference app, cell by cell, and the summary line built from it.

Expected: data reachable only through the gateway endpoint, with TLS, with the HSM-backed key
(SSE-C in sse-c mode); the data key used only through S3; the break-glass principal can still fix
the bucket policy; nobody outside the account gets anything. Each cell expects `allow`, `deny` or
`either` (not part of the claim, e.g. what a break-glass role may do with data: exempt by design,
or a delete through the endpoint: "reachable" means read, list and upload, and a stricter lock that
keeps deletes from everyone loses no data) and belongs to the clause it would contradict.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmk_validate.review import callers as who
from cmk_validate.review import matrix as m
from cmk_validate.review.matrix import Cell
from cmk_validate.review.subjects import Inventory

ALLOW, DENY, EITHER = "allow", "deny", "either"
ENDPOINT_ONLY = "data reachable only through the gateway endpoint"
TLS_ONLY = "only with TLS"
S3_ONLY = "the data key is used only through S3"
BREAK_GLASS_FIX = "the break-glass principal can still fix the bucket policy"
NOBODY_OUTSIDE = "nobody outside the account gets anything"
ENDPOINT_SCOPE = "the endpoint passes only this account's principals to the data and no uploads to other accounts' buckets"


@dataclass(frozen=True)
class Expectation:
    expected: str      # allow | deny | either
    clause: str = ""   # the claim a contradicting cell breaks


def clauses(inv: Inventory) -> list[str]:
    return [ENDPOINT_ONLY, TLS_ONLY, key_clause(inv), S3_ONLY, BREAK_GLASS_FIX, NOBODY_OUTSIDE, ENDPOINT_SCOPE]


def summary_line(inv: Inventory, cells: int, contradicting: int, broken: list[str]) -> str:
    """The line at the top of every output: the expected outcome, and whether every cell agrees."""
    if not cells:
        return "Nothing to review: no data bucket, KMS key or S3 gateway endpoint in the assembly."
    parts = clauses(inv)
    exempt = " (break-glass principals exempt by design)" if inv.break_glass else ""
    claim = f"Expected: {parts[0]}{exempt}, {parts[1]}, {parts[2]}; {parts[3]}; {parts[4]}; {parts[5]}."
    if not broken:
        return f"OK: {claim} Holds in all {cells} cells."
    return f"CONTRADICTED: {claim} {contradicting} of {cells} cells contradict it (broken: {'; '.join(broken)})."


def key_clause(inv: Inventory) -> str:
    if any(b.sse_c_required for b in inv.buckets):
        return "only with SSE-C (client-held keys)"
    keys = [inv.key_by_arn(b.default_key) for b in inv.buckets]
    if keys and all(k is not None and k.kind == "HSM-backed" for k in keys):
        return "only with the HSM-backed key"
    return "only with the bucket's KMS key"


def expect(cell: Cell, inv: Inventory) -> Expectation:
    caller = cell.caller
    if cell.kind == "endpoint":
        return _endpoint(cell)
    if caller.outside:
        return Expectation(DENY, NOBODY_OUTSIDE)
    if caller.kind == who.SERVICE:
        return Expectation(EITHER)
    if cell.kind == "s3":
        return _bucket(cell, inv)
    return _key(cell, inv)


def _bucket(cell: Cell, inv: Inventory) -> Expectation:
    caller = cell.caller
    bucket = inv.subject_of(cell)
    if not cell.tls:
        return Expectation(DENY, TLS_ONLY)
    if caller.kind == who.BREAK_GLASS:
        fixes_from_anywhere = cell.what in m.POLICY_CHANGES and cell.where == m.INTERNET
        return Expectation(ALLOW, BREAK_GLASS_FIX) if fixes_from_anywhere else Expectation(EITHER)
    if not cell.via_endpoint:
        return Expectation(DENY, ENDPOINT_ONLY)
    if cell.what in m.POLICY_CHANGES:
        return Expectation(EITHER)
    if cell.what in m.UPLOADS:
        compliant = m.UPLOAD_SSE_C if bucket.sse_c_required else m.UPLOAD_DATA_KEY
        if cell.what == m.UPLOAD_NO_HEADER and not bucket.sse_c_required:
            return Expectation(EITHER)   # the bucket default is the data key; a policy may still want the header
        if cell.what != compliant:
            return Expectation(DENY, key_clause(inv))
    if caller.kind == who.ASSEMBLY_ROLE or cell.what == m.DELETE:
        return Expectation(EITHER)   # its identity policy may rightly grant less; deletes may be kept from all
    return Expectation(ALLOW, ENDPOINT_ONLY)


def _key(cell: Cell, inv: Inventory) -> Expectation:
    key = inv.subject_of(cell)
    bucket = inv.bucket_using(key)
    if bucket is None or cell.caller.kind != who.IN_ACCOUNT:
        return Expectation(EITHER)
    if cell.what in (m.PUT_KEY_POLICY, m.SCHEDULE_DELETION):
        return Expectation(EITHER)
    if not cell.what.endswith(m.VIA_S3):
        if cell.where == m.VIA_SERVICE and any(w["encrypted"] for w in inv.topology.warehouses):
            return Expectation(EITHER)   # an encrypted warehouse uses the key through Redshift (CKE117 allows that)
        return Expectation(DENY, S3_ONLY)
    if bucket.sse_c_required and not cell.what.startswith(m.DECRYPT):
        return Expectation(EITHER)
    if cell.where == m.THIS_ENDPOINT:
        return Expectation(ALLOW, ENDPOINT_ONLY)
    return Expectation(DENY, ENDPOINT_ONLY)


def _endpoint(cell: Cell) -> Expectation:
    """The endpoint policy is one leg of the request (the bucket decides too): it should let this account's
    principals reach the data, keep others from it, and carry no writes to buckets of other accounts."""
    if cell.where == m.FOREIGN_TARGET:
        return Expectation(DENY, ENDPOINT_SCOPE) if cell.what in ("upload", m.DELETE) else Expectation(EITHER)
    if cell.caller.outside:
        return Expectation(DENY, ENDPOINT_SCOPE)
    if cell.what == m.DELETE:
        return Expectation(EITHER)
    return Expectation(ALLOW, ENDPOINT_ONLY) if cell.caller.kind == who.IN_ACCOUNT else Expectation(EITHER)


def contradicts(expectation: Expectation, allowed: bool) -> bool:
    return (expectation.expected == ALLOW and not allowed) or (expectation.expected == DENY and allowed)
