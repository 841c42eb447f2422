"""The Redshift errors the model raises, one class per error code of the Amazon Redshift API Reference
(CreateCluster, ModifyClusterParameterGroup, DescribeClusterParameters), in moto's wire form for
Redshift's query protocol."""

from __future__ import annotations

from moto.redshift.exceptions import RedshiftClientError


class _RedshiftError(RedshiftClientError):
    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)


class InvalidParameterCombination(_RedshiftError):
    """Two parameters that exclude each other, or one missing that another needs."""


class InvalidParameterValue(_RedshiftError):
    """A parameter value Redshift does not accept."""


class ClusterParameterGroupNotFound(_RedshiftError):
    """No parameter group has the given name."""


class InvalidClusterParameterGroupState(_RedshiftError):
    """The parameter group is in use or cannot be changed now."""


class KeyNotUsable(RedshiftClientError):
    """Redshift's grant on the cluster's KMS key failed because of the key's state (disabled, pending
    deletion, or in a custom key store that is not connected). Redshift's API reference lists no error
    of its own for this; the rehearsal answers with KMS's code and message (DisabledException,
    KMSInvalidStateException), which is what the failed grant reports (KMS API Reference, CreateGrant)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
