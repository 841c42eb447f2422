"""Wire format of the operations the Redshift model adds or extends (moto's query-protocol serialiser)."""

from __future__ import annotations

from moto.core.responses import ActionResult

# CreateCluster's request parameters as moto's backend takes them (moto's own response, plus the two the
# model adds), read with the boto3 service model's parsing (automated_parameter_parsing).
_PARAMETERS = {"cluster_identifier": "ClusterIdentifier", "node_type": "NodeType", "master_username": "MasterUsername",
               "master_user_password": "MasterUserPassword", "db_name": "DBName", "cluster_type": "ClusterType",
               "cluster_subnet_group_name": "ClusterSubnetGroupName", "availability_zone": "AvailabilityZone",
               "preferred_maintenance_window": "PreferredMaintenanceWindow",
               "cluster_parameter_group_name": "ClusterParameterGroupName", "cluster_version": "ClusterVersion",
               "kms_key_id": "KmsKeyId", "master_password_secret_kms_key_id": "MasterPasswordSecretKmsKeyId"}
_LISTS = {"cluster_security_groups": "ClusterSecurityGroups", "vpc_security_group_ids": "VpcSecurityGroupIds",
          "tags": "Tags", "iam_roles_arn": "IamRoles"}
_INTEGERS = {"automated_snapshot_retention_period": "AutomatedSnapshotRetentionPeriod", "port": "Port",
             "number_of_nodes": "NumberOfNodes"}
_BOOLEANS = {"allow_version_upgrade": ("AllowVersionUpgrade", True), "publicly_accessible": ("PubliclyAccessible", False),
             "encrypted": ("Encrypted", False), "enhanced_vpc_routing": ("EnhancedVpcRouting", False),
             "manage_master_password": ("ManageMasterPassword", False)}


def create_cluster(self) -> ActionResult:
    """moto's CreateCluster with ManageMasterPassword and MasterPasswordSecretKmsKeyId passed on."""
    kwargs = {name: self._get_param(key) for name, key in _PARAMETERS.items()}
    kwargs |= {name: self._get_param(key, []) for name, key in _LISTS.items()}
    kwargs |= {name: self._get_int_param(key) for name, key in _INTEGERS.items()}
    kwargs |= {name: self._get_bool_param(key, default) for name, (key, default) in _BOOLEANS.items()}
    cluster = self.redshift_backend.create_cluster(**kwargs, region_name=self.region)
    return ActionResult({"Cluster": cluster})


def modify_cluster_parameter_group(self) -> ActionResult:
    name = self.redshift_backend.modify_cluster_parameter_group(
        self._get_param("ParameterGroupName"), self._get_param("Parameters", []))
    return ActionResult({"ParameterGroupName": name, "ParameterGroupStatus": "Your parameter group has been updated."})


def describe_cluster_parameters(self) -> ActionResult:
    return ActionResult({"Parameters": self.redshift_backend.describe_cluster_parameters(
        self._get_param("ParameterGroupName"))})
