"""The offline model's own rules: what CloudHSM and KMS accept and refuse, and when states change."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from cryptography import x509
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.services.cloudhsm.models import activate, model_of
from tests.lifecycle.conftest import deployed
from tests.support.world import ACCOUNT, REGION, ZONES, Deployment


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def test_cluster_states_and_the_one_hsm_before_activation_rule(aws):
    world = Deployment()
    vpc = world.ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnets = [world.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.1.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(ZONES[:2])]
    cluster_id = world.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=subnets)["Cluster"]["ClusterId"]

    def cluster() -> dict:
        return world.cloudhsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]
    assert cluster()["State"] == "CREATE_IN_PROGRESS"
    with pytest.raises(ClientError) as early:
        world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])
    assert _code(early) == "CloudHsmInvalidRequestException"
    CLOCK.advance(durations.CLUSTER_CREATE)
    assert cluster()["State"] == "UNINITIALIZED"
    with pytest.raises(ClientError) as wrong_zone:
        world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[2])
    assert "subnet mapping" in str(wrong_zone.value)
    first = world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])["Hsm"]
    assert first["State"] == "CREATE_IN_PROGRESS" and first["EniIp"].startswith("10.1.0.")
    with pytest.raises(ClientError) as second:
        world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[1])
    assert "only one HSM until it is activated" in str(second.value)
    assert "ClusterCsr" not in cluster()["Certificates"]
    CLOCK.advance(durations.HSM_CREATE)
    csr = cluster()["Certificates"]["ClusterCsr"]
    assert x509.load_pem_x509_csr(csr.encode()).is_signature_valid
    # Replacing the first HSM before initialisation issues a new CSR.
    world.cloudhsm.delete_hsm(ClusterId=cluster_id, HsmId=first["HsmId"])
    CLOCK.advance(durations.HSM_DELETE)
    world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])
    CLOCK.advance(durations.HSM_CREATE)
    assert cluster()["Certificates"]["ClusterCsr"] != csr
    with pytest.raises(ClientError) as unknown:
        world.cloudhsm.delete_hsm(ClusterId=cluster_id, HsmId="hsm-nothere")
    assert _code(unknown) == "CloudHsmResourceNotFoundException"


def test_initialize_cluster_checks_the_certificates(world):
    deployed(world, "first_hsm")
    anchor = world.first_hsm.attributes["ClusterCsr"]
    with pytest.raises(ClientError) as garbage:
        world.cloudhsm.initialize_cluster(ClusterId=world.cluster_id, SignedCert=anchor, TrustAnchor=anchor)
    assert "PEM X.509 certificates" in str(garbage.value)


def test_key_store_rules(world):
    deployed(world, "activation")
    anchor = world.initialisation.attributes["TrustAnchorPem"]
    password = world.secrets.get_secret_value(SecretId=world.kmsuser_secret)["SecretString"]
    with pytest.raises(ClientError) as one_hsm:
        world.kms.create_custom_key_store(CustomKeyStoreName="s", CloudHsmClusterId=world.cluster_id,
                                          TrustAnchorCertificate=anchor, KeyStorePassword=password)
    assert _code(one_hsm) == "CloudHsmClusterInvalidConfigurationException"
    world.deploy_fleet()
    with pytest.raises(ClientError) as wrong_anchor:
        world.kms.create_custom_key_store(CustomKeyStoreName="s", CloudHsmClusterId=world.cluster_id,
                                          TrustAnchorCertificate="not it", KeyStorePassword=password)
    assert _code(wrong_anchor) == "IncorrectTrustAnchorException"
    store = world.kms.create_custom_key_store(CustomKeyStoreName="s", CloudHsmClusterId=world.cluster_id,
                                              TrustAnchorCertificate=anchor, KeyStorePassword=password)["CustomKeyStoreId"]
    with pytest.raises(ClientError) as in_use:
        world.kms.create_custom_key_store(CustomKeyStoreName="t", CloudHsmClusterId=world.cluster_id,
                                          TrustAnchorCertificate=anchor, KeyStorePassword=password)
    assert _code(in_use) == "CloudHsmClusterInUseException"
    with pytest.raises(ClientError) as disconnected:
        world.kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store)
    assert _code(disconnected) == "CustomKeyStoreInvalidStateException"
    world.kms.connect_custom_key_store(CustomKeyStoreId=store)
    assert world.kms.describe_custom_key_stores(CustomKeyStoreId=store)["CustomKeyStores"][0]["ConnectionState"] == "CONNECTING"
    CLOCK.advance(durations.KEY_STORE_CONNECT)
    assert world.kms.describe_custom_key_stores(CustomKeyStoreId=store)["CustomKeyStores"][0]["ConnectionState"] == "CONNECTED"
    key = world.kms.create_key(Origin="AWS_CLOUDHSM", CustomKeyStoreId=store)["KeyMetadata"]
    assert key["CustomKeyStoreId"] == store and key["CloudHsmClusterId"] == world.cluster_id
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store)
    CLOCK.advance(durations.KEY_STORE_DISCONNECT)
    with pytest.raises(ClientError) as has_keys:
        world.kms.delete_custom_key_store(CustomKeyStoreId=store)
    assert _code(has_keys) == "CustomKeyStoreHasCMKsException"
    with pytest.raises(ClientError) as unusable:
        world.kms.encrypt(KeyId=key["KeyId"], Plaintext=b"x")
    assert _code(unusable) == "KMSInvalidStateException"


def test_create_cluster_refuses_a_type_retired_for_new_clusters(world):
    """hsm1.medium can no longer be used to create a cluster (the app refuses it at synth too)."""
    subnets = list(world.cluster()["SubnetMapping"].values())
    with pytest.raises(ClientError) as retired:
        world.cloudhsm.create_cluster(HsmType="hsm1.medium", SubnetIds=subnets, Mode="FIPS")
    assert _code(retired) == "CloudHsmInvalidRequestException" and "use hsm2m.medium" in str(retired.value)


def test_the_regions_default_quotas_of_clusters_and_hsms(aws):
    """AWS CloudHSM User Guide, "AWS CloudHSM quotas": 4 clusters and 6 HSMs per Region by default;
    the HSMs of every cluster in the Region count."""
    world = Deployment()
    vpc = world.ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    subnets = [world.ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.2.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
               for i, zone in enumerate(ZONES[:2])]
    clusters = [world.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=subnets)["Cluster"]["ClusterId"]
                for _ in range(4)]
    with pytest.raises(ClientError) as fifth:
        world.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=subnets)
    assert _code(fifth) == "CloudHsmResourceLimitExceededException" and "Clusters per Region" in str(fifth.value)
    CLOCK.advance(durations.CLUSTER_CREATE)
    for cluster_id in clusters:  # one HSM each: all a cluster may have before activation
        world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])
    CLOCK.advance(durations.HSM_CREATE)
    backend = cloudhsmv2_backends[ACCOUNT][REGION]
    first = backend.clusters[clusters[0]]
    first.state = "INITIALIZED"
    activate(first, "admin-password", "kmsuser-password")
    world.cloudhsm.create_hsm(ClusterId=clusters[0], AvailabilityZone=ZONES[1])
    world.cloudhsm.create_hsm(ClusterId=clusters[0], AvailabilityZone=ZONES[0])
    assert sum(len(model_of(cluster).hsms) for cluster in backend.clusters.values()) == 6
    with pytest.raises(ClientError) as seventh:
        world.cloudhsm.create_hsm(ClusterId=clusters[0], AvailabilityZone=ZONES[1])
    assert _code(seventh) == "CloudHsmResourceLimitExceededException" and "HSMs per Region" in str(seventh.value)
