"""AWS errors and our own failures, turned into the one line CloudFormation shows.

The Provider framework reports str(exception) as the resource's failure reason, so
every failure leaves the handler as a LifecycleError whose message says what
failed and what to do.
"""

from __future__ import annotations

import functools
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from lifecycle_runtime.structured_log import log

MAX_REASON_LENGTH = 900  # CloudFormation truncates longer status reasons

# Error code -> what to do about it. Codes are the services' documented exceptions.
_FIXES = {
    "ThrottlingException": "AWS kept throttling after all retries; retry the deployment later",
    "AccessDeniedException": "the handler role lacks this permission; compare its IAM statements with the calls in its handler",
    "CloudHsmAccessDeniedException": "the handler role lacks this CloudHSM permission",
    "CloudHsmInvalidRequestException": "CloudHSM rejected the request in the cluster's current state",
    "CloudHsmResourceNotFoundException": "the cluster or HSM does not exist (deleted outside CloudFormation?)",
    "CloudHsmServiceException": "CloudHSM refused the request (quota of HSMs per cluster, or no capacity in this AZ); see the message",
    "CloudHsmInternalFailureException": "CloudHSM internal failure; retry the deployment",
    "CloudHsmClusterNotActiveException": "the cluster must be ACTIVE (initialised and activated) first",
    "CloudHsmClusterInvalidConfigurationException": "the cluster needs at least two ACTIVE HSMs in different AZs and a security group that allows 2223-2225",
    "CloudHsmClusterInUseException": "another custom key store already uses this cluster",
    "CloudHsmClusterNotFoundException": "no CloudHSM cluster with this id in this account and region",
    "CloudHsmClusterNotRelatedException": "a store can only move to a cluster restored from a backup of its original cluster",
    "IncorrectTrustAnchorException": "the trust anchor does not match the cluster's; use the certificate that signed the cluster CSR",
    "CustomKeyStoreNameInUseException": "a custom key store with this name exists; choose another name or import it",
    "CustomKeyStoreNotFoundException": "the custom key store no longer exists",
    "CustomKeyStoreInvalidStateException": "the custom key store is in the wrong connection state for this operation",
    "CustomKeyStoreHasCMKsException": "the store still holds KMS keys; they must be deleted (after their pending window) first",
    "NotFoundException": "the resource does not exist",
    "KMSInvalidStateException": "the KMS key is in the wrong state for this operation",
    "MalformedPolicyDocumentException": "the key policy is invalid or does not let the handler role administer the key",
    "AlreadyExistsException": "the alias already points to another key",
    "InvocationDoesNotExist": "the SSM command has not reached the instance (is the SSM agent running?)",
    "InvalidInstanceId": "the client host is not a running, SSM-managed instance",
    "InvalidDocument": "the SSM activation document does not exist",
    "ParameterNotFound": "the SSM parameter does not exist",
    "ResourceNotFoundException": "the resource does not exist",
}


class LifecycleError(Exception):
    """A failure whose message is already the one-line reason for CloudFormation."""


def reason_for(error: BaseException, action: str) -> str:
    """One line: what we were doing, the AWS error code and message, and the fix."""
    if isinstance(error, LifecycleError):
        text = str(error)
    elif isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "Unknown")
        message = error.response.get("Error", {}).get("Message", "")
        fix = _FIXES.get(code, "see the handler log for the request")
        text = f"{action}: {code}: {message} -> {fix}"
    elif isinstance(error, BotoCoreError):
        text = f"{action}: {type(error).__name__}: {error} -> network or endpoint problem; retry the deployment"
    else:
        text = f"{action}: unexpected {type(error).__name__}: {error}"
    return " ".join(text.split())[:MAX_REASON_LENGTH]


def reported(action: str) -> Callable:
    """Decorator: any exception leaves as LifecycleError(one-line reason), after a structured log line."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(event, context):
            try:
                return function(event, context)
            except Exception as error:  # re-raised below as a failure, never turned into success
                reason = reason_for(error, f"{action} {event.get('RequestType', '')}".strip())
                log("failed", action=action, request_type=event.get("RequestType"),
                    logical_id=event.get("LogicalResourceId"), reason=reason)
                raise LifecycleError(reason) from error
        return wrapper
    return decorate
