"""KMS custom key stores of the AWS CloudHSM type, which moto 5.2 lacks, grafted onto moto's KMS
backend and response class by `install()`, on top of the CloudHSM model (rehearsal.services.cloudhsm)."""

from __future__ import annotations

from moto.kms import models as kms_models
from moto.kms import responses as kms_responses

from rehearsal.services.kms import models, responses


def install() -> None:
    backend, response = kms_models.KmsBackend, kms_responses.KmsResponse
    kms_models.generate_private_key = models.reused_private_key
    backend.create_custom_key_store = models.create_custom_key_store
    backend.connect_custom_key_store = models.connect_custom_key_store
    backend.disconnect_custom_key_store = models.disconnect_custom_key_store
    backend.update_custom_key_store = models.update_custom_key_store
    backend.delete_custom_key_store = models.delete_custom_key_store
    backend.describe_custom_key_stores = models.describe_custom_key_stores
    backend.schedule_key_deletion = models.schedule_key_deletion
    backend.encrypt = models.encrypt
    kms_models.Key.to_dict = models.key_to_dict
    response.create_key = responses.create_key
    response.create_custom_key_store = responses.create_custom_key_store
    response.connect_custom_key_store = responses.connect_custom_key_store
    response.disconnect_custom_key_store = responses.disconnect_custom_key_store
    response.update_custom_key_store = responses.update_custom_key_store
    response.delete_custom_key_store = responses.delete_custom_key_store
    response.describe_custom_key_stores = responses.describe_custom_key_stores
