"""KMS's JSON wire format for the custom key store calls moto's response class lacks, and CreateKey
with Origin AWS_CLOUDHSM; what they do is the backend's (models.py)."""

from __future__ import annotations

import json

from moto.kms import responses as kms_responses

from rehearsal.services.kms.exceptions import ValidationException
from rehearsal.services.kms.models import create_key_in_store

_original_create_key = kms_responses.KmsResponse.create_key


def _respond(body: dict | None = None) -> str:
    return json.dumps(body or {})


def create_key(self) -> str:
    if self._get_param("Origin") != "AWS_CLOUDHSM":
        if self._get_param("CustomKeyStoreId"):
            raise ValidationException("CustomKeyStoreId requires Origin AWS_CLOUDHSM")
        return _original_create_key(self)
    key = create_key_in_store(self.kms_backend, self._get_param("CustomKeyStoreId") or "", self._get_param("KeySpec"),
                              self._get_param("Policy"), self._get_param("Description"), self._get_param("Tags"))
    return json.dumps(key.to_dict())


def create_custom_key_store(self) -> str:
    return _respond({"CustomKeyStoreId": self.kms_backend.create_custom_key_store(
        self._get_param("CustomKeyStoreName"), self._get_param("CloudHsmClusterId"),
        self._get_param("TrustAnchorCertificate"), self._get_param("KeyStorePassword"))})


def connect_custom_key_store(self) -> str:
    return _respond(self.kms_backend.connect_custom_key_store(self._get_param("CustomKeyStoreId")))


def disconnect_custom_key_store(self) -> str:
    return _respond(self.kms_backend.disconnect_custom_key_store(self._get_param("CustomKeyStoreId")))


def update_custom_key_store(self) -> str:
    return _respond(self.kms_backend.update_custom_key_store(
        self._get_param("CustomKeyStoreId"), self._get_param("NewCustomKeyStoreName"),
        self._get_param("KeyStorePassword"), self._get_param("CloudHsmClusterId")))


def delete_custom_key_store(self) -> str:
    return _respond(self.kms_backend.delete_custom_key_store(self._get_param("CustomKeyStoreId")))


def describe_custom_key_stores(self) -> str:
    found, next_marker = self.kms_backend.describe_custom_key_stores(
        self._get_param("CustomKeyStoreId"), self._get_param("CustomKeyStoreName"), self._get_param("Limit"),
        self._get_param("Marker"))
    body = {"CustomKeyStores": found, "Truncated": next_marker is not None}
    if next_marker is not None:
        body["NextMarker"] = next_marker
    return _respond(body)
