"""The KMS errors the custom key store model raises, one class per AWS error code, so that each
raise names the error the KMS API reference documents for it and moto serialises it as AWS would."""

from __future__ import annotations

from moto.kms.exceptions import ValidationException  # noqa: F401  (moto has it, in the same wire form)

from rehearsal.services.errors import AwsError


class CustomKeyStoreNotFoundException(AwsError):
    """No custom key store has the given id or name."""


class CustomKeyStoreNameInUseException(AwsError):
    """Another custom key store in the account has that name."""


class CustomKeyStoreInvalidStateException(AwsError):
    """The store's connection state does not allow the operation."""


class CustomKeyStoreHasCMKsException(AwsError):
    """The store still holds KMS keys."""


class CloudHsmClusterNotFoundException(AwsError):
    """No CloudHSM cluster has the given id."""


class CloudHsmClusterInUseException(AwsError):
    """The cluster already backs another custom key store."""


class CloudHsmClusterNotActiveException(AwsError):
    """The cluster is not ACTIVE."""


class CloudHsmClusterInvalidConfigurationException(AwsError):
    """The cluster lacks what a key store needs: private subnets in two Availability Zones, its security
    group's rules, two ACTIVE HSMs in different Availability Zones."""


class CloudHsmClusterNotRelatedException(AwsError):
    """The new cluster does not share the store's cluster's backup history."""


class InvalidMarkerException(AwsError):
    """The pagination marker is not one the operation issued."""


class IncorrectTrustAnchorException(AwsError):
    """The trust anchor certificate is not the cluster's."""


class UnsupportedOperationException(AwsError):
    """A parameter is not supported for the resource (a key spec other than SYMMETRIC_DEFAULT in a store)."""


class KMSInvalidStateException(AwsError):
    """The key's state (here: its store disconnected) does not allow the operation."""


class DisabledException(AwsError):
    """The key is disabled: no cryptographic operation uses it."""
