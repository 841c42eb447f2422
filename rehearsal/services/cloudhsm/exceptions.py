"""The CloudHSM v2 errors the model raises, one class per AWS error code, so that each raise names
the error AWS documents for it and moto serialises it as AWS would."""

from __future__ import annotations

from rehearsal.services.errors import AwsError


class CloudHsmInvalidRequestException(AwsError):
    """The request is not valid for the cluster's state, its subnets or its HSMs."""


class CloudHsmResourceNotFoundException(AwsError):
    """The request names a cluster or HSM that does not exist."""


class CloudHsmServiceException(AwsError):
    """The service refused the request (here: the cluster already has as many HSMs as it can)."""


class CloudHsmResourceLimitExceededException(AwsError):
    """The request exceeds a CloudHSM limit (an account quota)."""
