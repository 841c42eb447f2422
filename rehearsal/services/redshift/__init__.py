"""Amazon Redshift as this app deploys it (a provisioned cluster, its parameter group and managed admin
secret), grafted onto moto's Redshift backend and responses by `install()`."""

from __future__ import annotations

from moto.redshift import models as redshift_models
from moto.redshift import responses as redshift_responses

from rehearsal.services.redshift import models, responses


def install() -> None:
    backend, response = redshift_models.RedshiftBackend, redshift_responses.RedshiftResponse
    backend.create_cluster = models.create_cluster
    backend.delete_cluster = models.delete_cluster
    backend.modify_cluster_parameter_group = models.modify_cluster_parameter_group
    backend.describe_cluster_parameters = models.describe_cluster_parameters
    response.create_cluster = responses.create_cluster
    response.modify_cluster_parameter_group = responses.modify_cluster_parameter_group
    response.describe_cluster_parameters = responses.describe_cluster_parameters
