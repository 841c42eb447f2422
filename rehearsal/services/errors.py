"""The base of the model's typed errors (each service's exceptions.py): the class's name is AWS's
error code, so each error is named once, and moto serialises it as the JSON protocols do."""

from __future__ import annotations

from moto.core.exceptions import JsonRESTError


class AwsError(JsonRESTError):
    def __init__(self, message: str) -> None:
        super().__init__(type(self).__name__, message)
