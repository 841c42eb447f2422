"""Wire format of the operations the Redshift model adds or extends (moto's query-protocol serialiser)."""

from __future__ import annotations

from moto.core.responses import ActionResult

_original_create_cluster = None


def create_cluster(self) -> ActionResult:
    """moto's CreateCluster with ManageMasterPassword and MasterPasswordSecretKmsKeyId passed on."""
    backend = self.redshift_backend
    original = backend.create_cluster

    def with_managed_password(**kwargs):
        return original(**kwargs, manage_master_password=self._get_bool_param("ManageMasterPassword", False),
                        master_password_secret_kms_key_id=self._get_param("MasterPasswordSecretKmsKeyId"))
    backend.create_cluster = with_managed_password
    try:
        return _original_create_cluster(self)
    finally:
        del backend.create_cluster


def modify_cluster_parameter_group(self) -> ActionResult:
    name = self.redshift_backend.modify_cluster_parameter_group(
        self._get_param("ParameterGroupName"), self._get_param("Parameters", []))
    return ActionResult({"ParameterGroupName": name, "ParameterGroupStatus": "Your parameter group has been updated."})


def describe_cluster_parameters(self) -> ActionResult:
    return ActionResult({"Parameters": self.redshift_backend.describe_cluster_parameters(
        self._get_param("ParameterGroupName"))})
