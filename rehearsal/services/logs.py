"""Where moto's CloudWatch Logs differs from CloudWatch Logs: it lacks AssociateKmsKey, and takes any
kmsKeyId in CreateLogGroup.

CloudWatch Logs API Reference, AssociateKmsKey: associates a KMS key with a log group (overriding any
earlier association); the log group must exist (ResourceNotFoundException); "If you attempt to associate
a KMS key with a log group but the KMS key does not exist or the KMS key is disabled, you receive an
InvalidParameterException error"; "CloudWatch Logs supports only symmetric KMS keys". CreateLogGroup's
kmsKeyId answers the same way. The key's policy, which must let CloudWatch Logs use the key, is not
evaluated here (the validator and the stack tests check the audit key's statement for logs).

One module, not moto's three: one backend method and its wire format, and a check of an existing one.
"""

from __future__ import annotations

from typing import Any

from moto.kms.models import kms_backends
from moto.logs import models as logs_models
from moto.logs import responses as logs_responses
from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException

_original_create_log_group = logs_models.LogsBackend.create_log_group


def _usable_key(backend, key_id: str) -> None:
    """InvalidParameterException unless `key_id` names an enabled symmetric key of this account and region."""
    keys = kms_backends[backend.account_id][backend.region_name]
    try:
        key = keys.describe_key(key_id)
    except Exception:
        raise InvalidParameterException(f"Specified KMS key {key_id} does not exist or is not allowed to be used "
                                        "with the log group") from None
    if key.key_state != "Enabled":
        raise InvalidParameterException(f"Specified KMS key {key_id} is {key.key_state}")
    if key.key_spec != "SYMMETRIC_DEFAULT":
        raise InvalidParameterException(f"Specified KMS key {key_id} is not symmetric: CloudWatch Logs supports "
                                        "only symmetric KMS keys")


def create_log_group(self, log_group_name: str, tags: dict[str, str], **kwargs: Any):
    if kwargs.get("kmsKeyId"):
        _usable_key(self, kwargs["kmsKeyId"])
    return _original_create_log_group(self, log_group_name, tags, **kwargs)


def associate_kms_key(self, log_group_name: str, kms_key_id: str) -> None:
    group = self.groups.get(log_group_name)
    if group is None:
        raise ResourceNotFoundException()
    _usable_key(self, kms_key_id)
    group.kms_key_id = kms_key_id


def associate_kms_key_response(self) -> str:
    self.logs_backend.associate_kms_key(self._get_param("logGroupName"), self._get_param("kmsKeyId"))
    return ""


def install() -> None:
    logs_models.LogsBackend.create_log_group = create_log_group
    logs_models.LogsBackend.associate_kms_key = associate_kms_key
    logs_responses.LogsResponse.associate_kms_key = associate_kms_key_response
