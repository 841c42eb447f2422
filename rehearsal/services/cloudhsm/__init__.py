"""CloudHSM v2 as the rehearsal needs it: clusters with HSMs, a CSR and initialisation, which
moto 5.2 lacks, grafted onto moto's backend and response class by `install()`.

The KMS and SSM models, the session and the HSM bill use the names re-exported below.
"""

from __future__ import annotations

from moto.cloudhsmv2 import models as cloudhsm_models
from moto.cloudhsmv2 import responses as cloudhsm_responses

from rehearsal.services.cloudhsm import models, responses
from rehearsal.services.cloudhsm.models import (
    ACTIVATED_STATES,
    LEDGER,
    activate,
    fail_hsm,
    model_of,
    password_digest,
    replace_failed_hsm,
    reset_ledger,
)

__all__ = ["ACTIVATED_STATES", "LEDGER", "activate", "fail_hsm", "install", "model_of", "password_digest",
           "replace_failed_hsm", "reset_ledger"]


def install() -> None:
    backend, response, cluster = cloudhsm_models.CloudHSMV2Backend, cloudhsm_responses.CloudHSMV2Response, cloudhsm_models.Cluster
    backend.create_cluster = models.create_cluster
    backend.delete_cluster = models.delete_cluster
    backend.create_hsm = models.create_hsm
    backend.delete_hsm = models.delete_hsm
    backend.initialize_cluster = models.initialize_cluster
    backend.list_tags = models.list_tags
    cluster.to_dict = models.cluster_to_dict
    response.create_hsm = responses.create_hsm
    response.delete_hsm = responses.delete_hsm
    response.initialize_cluster = responses.initialize_cluster
