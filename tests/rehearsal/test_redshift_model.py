"""Where the model's Redshift follows the Amazon Redshift API Reference rather than moto: the cluster's
states, the admin secret Redshift manages, the cluster key checked as Redshift's grant on it is, and a
parameter group's values."""

from __future__ import annotations

import contextlib
import io

import pytest
from botocore.exceptions import ClientError

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.session import offline_account
from tests.support.world import ACCOUNT, REGION

CLUSTER = dict(ClusterIdentifier="warehouse", NodeType="ra3.large", MasterUsername="warehouse_admin",
               ClusterType="single-node", Encrypted=True)


@pytest.fixture
def cloud():
    with offline_account(ACCOUNT, REGION) as cloud, contextlib.redirect_stdout(io.StringIO()):
        yield cloud


def _refusal(call) -> dict:
    with pytest.raises(ClientError) as refused:
        call()
    return refused.value.response["Error"]


def test_a_cluster_is_creating_then_available_with_its_admin_secret_under_the_given_key(cloud):
    redshift, kms = cloud.client("redshift"), cloud.client("kms")
    data_key = kms.create_key()["KeyMetadata"]["Arn"]
    secret_key = kms.create_key()["KeyMetadata"]["Arn"]
    created = redshift.create_cluster(**CLUSTER, KmsKeyId=data_key, ManageMasterPassword=True,
                                      MasterPasswordSecretKmsKeyId=secret_key)["Cluster"]
    assert created["ClusterStatus"] == "creating"
    CLOCK.advance(durations.REDSHIFT_CLUSTER_CREATE)
    (cluster,) = redshift.describe_clusters(ClusterIdentifier="warehouse")["Clusters"]
    assert cluster["ClusterStatus"] == "available" and cluster["KmsKeyId"] == data_key
    secret = cloud.client("secretsmanager").describe_secret(SecretId=cluster["MasterPasswordSecretArn"])
    assert secret["KmsKeyId"] == secret_key == cluster["MasterPasswordSecretKmsKeyId"]
    redshift.delete_cluster(ClusterIdentifier="warehouse", SkipFinalClusterSnapshot=False,
                            FinalClusterSnapshotIdentifier="warehouse-final")
    assert _refusal(lambda: cloud.client("secretsmanager").describe_secret(
        SecretId=cluster["MasterPasswordSecretArn"]))["Code"] == "ResourceNotFoundException"
    assert [s["SnapshotIdentifier"] for s in redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]] \
        == ["warehouse-final"]


def test_a_managed_password_excludes_a_given_one_and_one_of_them_is_needed(cloud):
    redshift = cloud.client("redshift")
    error = _refusal(lambda: redshift.create_cluster(**CLUSTER, ManageMasterPassword=True,
                                                     MasterUserPassword="FAKE-placeholder-Passw0rd"))
    assert error["Code"] == "InvalidParameterCombination" and "ManageMasterPassword" in error["Message"]
    assert _refusal(lambda: redshift.create_cluster(**CLUSTER))["Code"] == "InvalidParameterValue"


def test_a_cluster_key_that_cannot_be_used_refuses_the_cluster(cloud):
    redshift, kms = cloud.client("redshift"), cloud.client("kms")
    metadata = kms.create_key()["KeyMetadata"]
    key = metadata["Arn"]
    kms.disable_key(KeyId=metadata["KeyId"])
    error = _refusal(lambda: redshift.create_cluster(**CLUSTER, KmsKeyId=key, ManageMasterPassword=True))
    assert error["Code"] == "DisabledException" and "is disabled" in error["Message"]
    assert redshift.describe_clusters()["Clusters"] == []


def test_parameter_values_are_kept_and_checked(cloud):
    redshift = cloud.client("redshift")
    redshift.create_cluster_parameter_group(ParameterGroupName="tls", ParameterGroupFamily="redshift-1.0",
                                            Description="x")
    redshift.modify_cluster_parameter_group(ParameterGroupName="tls", Parameters=[
        {"ParameterName": "require_ssl", "ParameterValue": "TRUE"}])
    values = {p["ParameterName"]: (p["ParameterValue"], p["Source"])
              for p in redshift.describe_cluster_parameters(ParameterGroupName="tls")["Parameters"]}
    assert values["require_ssl"] == ("true", "user")
    assert values["enable_user_activity_logging"] == ("false", "engine-default")
    assert _refusal(lambda: redshift.modify_cluster_parameter_group(ParameterGroupName="tls", Parameters=[
        {"ParameterName": "require_ssl", "ParameterValue": "yes"}]))["Code"] == "InvalidParameterValue"
    assert _refusal(lambda: redshift.modify_cluster_parameter_group(ParameterGroupName="default.redshift-1.0",
                    Parameters=[{"ParameterName": "require_ssl", "ParameterValue": "true"}]))["Code"] == \
        "InvalidClusterParameterGroupState"
    assert _refusal(lambda: redshift.describe_cluster_parameters(ParameterGroupName="nope"))["Code"] == \
        "ClusterParameterGroupNotFound"
