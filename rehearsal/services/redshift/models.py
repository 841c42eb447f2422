"""What moto 5's Redshift lacks for this app, grafted onto its backend: a cluster's states
(creating -> available, deleting), admin credentials managed in Secrets Manager (ManageMasterPassword,
MasterPasswordSecretKmsKeyId), the cluster's KMS key checked as Redshift's grant on it would be, and
parameter values of a parameter group (ModifyClusterParameterGroup, DescribeClusterParameters).

From the Amazon Redshift API Reference (CreateCluster, DeleteCluster, ModifyClusterParameterGroup,
DescribeClusterParameters, the Cluster data type) and the Cluster Management Guide, "Managing Amazon
Redshift admin passwords using AWS Secrets Manager":
https://docs.aws.amazon.com/redshift/latest/mgmt/redshift-secrets-manager-integration.html
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from moto.kms import models as kms_models
from moto.redshift import models as redshift_models
from moto.secretsmanager.models import secretsmanager_backends

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.services.kms import models as kms_model
from rehearsal.services.redshift.exceptions import (
    ClusterParameterGroupNotFound,
    InvalidClusterParameterGroupState,
    InvalidParameterCombination,
    InvalidParameterValue,
    KeyNotUsable,
)

_original_create_cluster = redshift_models.RedshiftBackend.create_cluster
_original_delete_cluster = redshift_models.RedshiftBackend.delete_cluster

# Parameters of the redshift-1.0 family that this app sets, with the values Redshift accepts
# (Cluster Management Guide, "Amazon Redshift parameter groups", the parameter table).
BOOLEAN_PARAMETERS = ("require_ssl", "enable_user_activity_logging", "use_fips_ssl")


def _secret_name(cluster_identifier: str) -> str:
    """Redshift names the secret it manages after the cluster ("redshift!<cluster>-<admin user>" in
    the console); the rehearsal keeps that shape. Only the ARN (MasterPasswordSecretArn) is API."""
    return f"redshift!{cluster_identifier}-admin"


def create_cluster(self, **kwargs: Any):
    manage = bool(kwargs.pop("manage_master_password", False))
    secret_key = kwargs.pop("master_password_secret_kms_key_id", None)
    if manage and kwargs.get("master_user_password"):
        raise InvalidParameterCombination("You can't use MasterUserPassword if ManageMasterPassword is true.")
    if not manage and not kwargs.get("master_user_password") and not kwargs.get("snapshot_identifier"):
        raise InvalidParameterValue("MasterUserPassword is required unless ManageMasterPassword is true.")
    if secret_key and not manage:
        raise InvalidParameterCombination("MasterPasswordSecretKmsKeyId requires ManageMasterPassword.")
    if kwargs.get("kms_key_id"):
        _require_usable_key(self, kwargs["kms_key_id"])
    cluster = _original_create_cluster(self, **kwargs)
    cluster.status = "creating"
    cluster.master_password_secret_arn = None
    cluster.master_password_secret_kms_key_id = None
    if manage:
        backend = secretsmanager_backends[self.account_id][self.region_name]
        arguments = dict(name=_secret_name(cluster.cluster_identifier),
                         secret_string=json.dumps({"username": cluster.master_username,
                                                    "password": secrets.token_urlsafe(24)}),
                         secret_binary=None, description=f"Admin credentials of Redshift cluster "
                         f"{cluster.cluster_identifier}, managed by Redshift", tags=None, kms_key_id=secret_key,
                         client_request_token=None, replica_regions=[], force_overwrite=False)
        secret = backend.create_secret(**arguments)
        cluster.master_password_secret_arn = json.loads(secret)["ARN"] if isinstance(secret, str) else secret["ARN"]
        cluster.master_password_secret_kms_key_id = secret_key

    def available() -> None:
        if cluster.status == "creating":
            cluster.status = "available"
    CLOCK.schedule(durations.REDSHIFT_CLUSTER_CREATE, f"Redshift cluster {cluster.cluster_identifier} available",
                   available)
    return cluster


def _require_usable_key(self, key_id: str) -> None:
    """Redshift creates a grant on the key for the cluster; KMS refuses it for a key that cannot be used
    (disabled, pending deletion, in a custom key store that is not connected)."""
    backend = kms_models.kms_backends[self.account_id][self.region_name]
    try:
        key = backend.describe_key(key_id.rsplit("/", 1)[-1])
        kms_model.usable(backend, key.id)
    except (kms_model.DisabledException, kms_model.KMSInvalidStateException) as error:
        raise KeyNotUsable(error.error_type, error.message) from None
    except Exception as error:
        if type(error).__name__ == "NotFoundException":
            raise InvalidParameterValue(f"KMS key {key_id} does not exist.") from None
        raise


def delete_cluster(self, **kwargs: Any):
    """The cluster goes with its managed secret (Redshift deletes the secret it created); a final
    snapshot stays when one is asked for."""
    cluster = _original_delete_cluster(self, **kwargs)
    cluster.status = "deleting"
    arn = getattr(cluster, "master_password_secret_arn", None)
    if arn:
        backend = secretsmanager_backends[self.account_id][self.region_name]
        backend.delete_secret(secret_id=arn, recovery_window_in_days=None, force_delete_without_recovery=True)
    return cluster


def parameter_values(group) -> dict[str, str]:
    if not hasattr(group, "parameter_values"):
        group.parameter_values = {}
    return group.parameter_values


def modify_cluster_parameter_group(self, name: str, parameters: list[dict]) -> str:
    if name.startswith("default."):
        raise InvalidClusterParameterGroupState(f"Cannot modify the default parameter group {name}.")
    group = self.parameter_groups.get(name)
    if group is None:
        raise ClusterParameterGroupNotFound(f"Cluster parameter group {name} not found.")
    for parameter in parameters:
        key, value = parameter.get("ParameterName"), str(parameter.get("ParameterValue", ""))
        if key in BOOLEAN_PARAMETERS and value.lower() not in ("true", "false"):
            raise InvalidParameterValue(f"Value for parameter {key} must be true or false, not {value!r}.")
        parameter_values(group)[key] = value.lower() if key in BOOLEAN_PARAMETERS else value
    return name


def describe_cluster_parameters(self, name: str) -> list[dict]:
    group = self.parameter_groups.get(name)
    if group is None:
        raise ClusterParameterGroupNotFound(f"Cluster parameter group {name} not found.")
    values = parameter_values(group)
    return [{"ParameterName": key, "ParameterValue": values.get(key, "false"), "Source":
             "user" if key in values else "engine-default", "DataType": "boolean"} for key in BOOLEAN_PARAMETERS] + \
        [{"ParameterName": key, "ParameterValue": value, "Source": "user"} for key, value in values.items()
         if key not in BOOLEAN_PARAMETERS]
