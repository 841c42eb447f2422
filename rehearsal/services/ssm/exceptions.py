"""The SSM errors the Run Command model raises, one class per AWS error code, so that each raise
names the error SendCommand documents for it."""

from __future__ import annotations

from rehearsal.services.errors import AwsError


class InvalidDocument(AwsError):
    """The document does not exist."""


class InvalidInstanceId(AwsError):
    """The instance is not a managed instance, or not running."""
