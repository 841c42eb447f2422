"""The base of the model's typed errors (each service's exceptions.py): the class's name is AWS's
error code, so each error is named once, and moto serialises it as the JSON protocols do."""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError, ServiceException


class AwsError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)


class Refused(ServiceException):
    """An authorisation refusal for a service moto serialises from its service model (query protocols).
    Defined here, not raised as moto.core's ServiceException itself: moto looks an exception's error
    shape up by the moto package it comes from, and "core" is no service."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
