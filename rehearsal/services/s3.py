"""Where moto's S3 differs from S3: it authorises nothing, it never asks KMS for the key that
encrypts an object, and it is stricter than S3 when server access logging targets a bucket with
Object Ownership `BucketOwnerEnforced`.

Authorisation: moto's S3 evaluates bucket policies on object requests with its own evaluator, which
knows no request context (no `aws:SourceVpce`: it refuses every request to a bucket locked to an
endpoint), so that evaluation is replaced. moto's S3 does not dispatch through the path the other
services share, so the request is authorised where moto would authenticate it: as the calling role, from the network its
requests leave (rehearsal/network.py), with the bucket and endpoint policies
(rehearsal/authorization). A subnet with no route to S3 times out connecting, as the SDK would.
An object (to be) encrypted with a KMS key needs the key usable: S3 answers with KMS's error
(KMS.KMSInvalidStateException, for a key in a disconnected custom key store) otherwise.

SSE-C, which moto ignores: an object uploaded with a customer-provided key is encrypted with that
key instead of the bucket's default; reading it needs the same key (no key: 400 InvalidRequest;
another key: 403 AccessDenied) and the response names the algorithm and the key's MD5 (S3 User
Guide, "Using server-side encryption with customer-provided keys (SSE-C)").

moto refuses PutBucketLogging unless the target's bucket policy (or ACL) already grants the
logging service. S3 grants log delivery to such a target only through its bucket policy
(S3 User Guide, "Permissions for log delivery"), and CDK's own output depends on S3 not checking
that policy when logging is enabled: the target's policy names the source bucket's ARN in
`aws:SourceArn`, so CloudFormation creates the source bucket, with logging on, before that policy
exists. A policy that does not admit the logging service loses logs later; it is the validator's
concern (CKE104), not a deploy failure. New buckets default to BucketOwnerEnforced (since April
2023), so a target without OwnershipControls is treated the same way.

One module, not moto's three: two hooks change, the errors are moto's own S3 error type, and the
wire format is moto's.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ConnectTimeoutError
from moto.s3 import models as s3_models
from moto.s3.exceptions import CrossLocationLoggingProhibited, InvalidTargetBucketForLogging, S3ClientError
from moto.s3.responses import S3Response

_original_authenticate = S3Response._authenticate_and_authorize_s3_action
_original_key_put = S3Response._key_response_put
_original_response_dict = s3_models.FakeKey.response_dict
SSE_C_ALGORITHM = "x-amz-server-side-encryption-customer-algorithm"
SSE_C_KEY_MD5 = "x-amz-server-side-encryption-customer-key-md5"

_original_set_logging = s3_models.FakeBucket.set_logging


def _owner_enforced(bucket) -> bool:
    """moto keeps the ObjectOwnership setting as its text; None when the bucket never set it."""
    return bucket.ownership_rule in (None, "BucketOwnerEnforced")


def set_logging(self, logging_config: dict[str, Any] | None, bucket_backend) -> None:
    if logging_config:
        target = bucket_backend.buckets.get(logging_config["TargetBucket"])
        if target is None:
            raise InvalidTargetBucketForLogging("The target bucket for logging does not exist.")
        if _owner_enforced(target):
            if target.region_name != self.region_name:
                raise CrossLocationLoggingProhibited()
            self.logging = logging_config
            return
    _original_set_logging(self, logging_config, bucket_backend)


class AccessDenied(S3ClientError):
    code = "AccessDenied"


class InvalidRequest(S3ClientError):
    code = "InvalidRequest"


class KmsError(S3ClientError):
    """S3 passes KMS's refusal on, its code prefixed with `KMS.`."""


def authenticate_and_authorize(self, bucket_name: str | None = None, key_name: str | None = None) -> None:
    _original_authenticate(self, bucket_name=bucket_name, key_name=key_name)
    from rehearsal import caller
    from rehearsal.authorization import check
    from rehearsal.network import s3_path

    account, region = self.current_account, self.region
    if self.method in ("GET", "HEAD"):
        _require_customer_key(self, account, bucket_name, key_name)
    who = caller.current()
    if who is None:
        return  # CloudFormation itself, or a test's own client
    if not s3_path(account, region, who.subnet_id).reachable:
        raise ConnectTimeoutError(endpoint_url=f"https://{bucket_name}.s3.{region}.amazonaws.com/")
    params = {"Bucket": bucket_name, "Key": key_name, "Headers": dict(self.headers)}
    denied = check("s3", self._get_action(), params, who, account, region)
    if denied is not None:
        raise AccessDenied(denied.code, denied.message)
    key_id = _kms_key_for(self, account, bucket_name, key_name)
    if key_id is not None:
        _require_usable(account, region, key_id)


def _kms_key_for(response, account: str, bucket_name: str | None, key_name: str | None) -> str | None:
    """The KMS key that encrypts the object this request writes or reads, if any."""
    if not bucket_name or not key_name:
        return None
    bucket = s3_models.s3_backends[account]["aws"].buckets.get(bucket_name)
    if bucket is None:
        return None
    if response.method == "PUT":
        headers = _headers(response)
        if SSE_C_ALGORITHM in headers:
            return None
        if headers.get("x-amz-server-side-encryption", "").startswith("aws:kms"):
            return headers.get("x-amz-server-side-encryption-aws-kms-key-id") or "alias/aws/s3"
        default = ((bucket.encryption or {}).get("Rule") or {}).get("ApplyServerSideEncryptionByDefault") or {}
        return default.get("KMSMasterKeyID") if str(default.get("SSEAlgorithm", "")).startswith("aws:kms") else None
    found = bucket.keys.get(key_name)
    return getattr(found, "kms_key_id", None) if found is not None else None


def _headers(response) -> dict[str, str]:
    return {name.lower(): value for name, value in response.headers.items()}


def _require_customer_key(response, account: str, bucket_name: str | None, key_name: str | None) -> None:
    bucket = s3_models.s3_backends[account]["aws"].buckets.get(bucket_name or "")
    stored = bucket.keys.get(key_name) if bucket is not None and key_name else None
    sse_c = getattr(stored, "sse_c", None)
    if sse_c is None:
        return
    given = _headers(response).get(SSE_C_KEY_MD5)
    if given is None:
        raise InvalidRequest("InvalidRequest", "The object was stored using a form of Server Side Encryption. The "
                             "correct parameters must be provided to retrieve the object.")
    if given != sse_c[1]:
        raise AccessDenied("AccessDenied", "Access Denied")


def key_response_put(self, query: dict, key_name: str):
    """PutObject with SSE-C headers: the object is encrypted with the customer's key, not the default."""
    response = _original_key_put(self, query, key_name)
    headers = _headers(self)
    if SSE_C_KEY_MD5 in headers and not query:
        stored = self.backend.get_object(self.bucket_name, key_name)
        if stored is not None:
            stored.encryption, stored.kms_key_id, stored.bucket_key_enabled = None, None, None
            stored.sse_c = (headers.get(SSE_C_ALGORITHM, "AES256"), headers[SSE_C_KEY_MD5])
    return response


def response_dict(self) -> dict:
    headers = _original_response_dict.fget(self)
    sse_c = getattr(self, "sse_c", None)
    if sse_c is not None:
        headers[SSE_C_ALGORITHM], headers[SSE_C_KEY_MD5] = sse_c
    return headers


def _require_usable(account: str, region: str, key_id: str) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import kms_backends

    from rehearsal.services.kms.models import usable

    if key_id.startswith("alias/aws/"):
        return  # the AWS managed key: S3 creates it on first use
    try:
        usable(kms_backends[account][region], key_id)
    except JsonRESTError as error:  # KMS's refusal (not found, disabled, invalid state), passed on by S3
        raise KmsError(f"KMS.{error.error_type}", error.message) from None


def no_bucket_policy_verdict(self, action: str, resource: str):
    """The bucket policy is evaluated by the rehearsal's authorisation, with the request's context."""
    from moto.iam.access_control import PermissionResult
    return PermissionResult.NEUTRAL


def install() -> None:
    s3_models.FakeBucket.set_logging = set_logging
    s3_models.FakeBucket.get_permission = no_bucket_policy_verdict
    S3Response._authenticate_and_authorize_s3_action = authenticate_and_authorize
    S3Response._key_response_put = key_response_put
    s3_models.FakeKey.response_dict = property(response_dict)
