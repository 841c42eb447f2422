"""The offline model held to AWS's documented behaviour where a deployment breaks: each test names the
page it follows (KMS and CloudHSM API References, KMS Developer Guide, CloudHSM User Guide)."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError
from moto.cloudhsmv2.models import cloudhsmv2_backends
from moto.ec2.models import ec2_backends

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.services.cloudhsm import LEDGER, fail_hsm, model_of, replace_failed_hsm
from tests.lifecycle.conftest import deployed
from tests.lifecycle.test_cluster_initialisation import _external_ca
from tests.support.provider import ResourceFailed, run_now
from tests.support.world import ACCOUNT, REGION, ZONES


def _code(error: pytest.ExceptionInfo) -> str:
    return error.value.response["Error"]["Code"]


def _backend():
    return cloudhsmv2_backends[ACCOUNT][REGION]


def _store(world, store_id: str) -> dict:
    return world.kms.describe_custom_key_stores(CustomKeyStoreId=store_id)["CustomKeyStores"][0]


def _secret(world) -> str:
    return world.secrets.get_secret_value(SecretId=world.kmsuser_secret)["SecretString"]


def _new_store(world, name: str = "other-keys") -> str:
    """A store on the app's activated cluster made through the KMS API, with kmsuser's current password."""
    return world.kms.create_custom_key_store(
        CustomKeyStoreName=name, CloudHsmClusterId=world.cluster_id, KeyStorePassword=_secret(world),
        TrustAnchorCertificate=world.initialisation.attributes["TrustAnchorPem"])["CustomKeyStoreId"]


def _connect(world, store_id: str) -> dict:
    world.kms.connect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_CONNECT + 1)
    return _store(world, store_id)


def _disconnect(world, store_id: str) -> None:
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    CLOCK.advance(durations.KEY_STORE_DISCONNECT + 1)


def _another_cluster(world) -> str:
    """A second cluster in the app's subnets, UNINITIALIZED."""
    subnets = list(world.cluster()["SubnetMapping"].values())
    cluster_id = world.cloudhsm.create_cluster(HsmType="hsm2m.medium", SubnetIds=subnets, Mode="FIPS")["Cluster"]["ClusterId"]
    CLOCK.advance(durations.CLUSTER_CREATE)
    return cluster_id


def _another_applications_store(world) -> str:
    """Another application's store, on its own activated cluster with two HSMs, made before the app's."""
    cluster_id = _another_cluster(world)
    world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])
    CLOCK.advance(durations.HSM_CREATE)
    csr = world.cloudhsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]["Certificates"]["ClusterCsr"]
    signed, anchor = _external_ca(csr)
    world.cloudhsm.initialize_cluster(ClusterId=cluster_id, SignedCert=signed, TrustAnchor=anchor)
    CLOCK.advance(durations.CLUSTER_INITIALIZE)
    _backend().clusters[cluster_id].state = "ACTIVE"  # its operators activated it from their own host
    world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[1])
    CLOCK.advance(durations.HSM_CREATE)
    return world.kms.create_custom_key_store(CustomKeyStoreName="another-application", CloudHsmClusterId=cluster_id,
                                             TrustAnchorCertificate=anchor, KeyStorePassword="their-kmsuser-password")[
        "CustomKeyStoreId"]


# --- UpdateCustomKeyStore -------------------------------------------------------------------------------

def test_a_rename_needs_no_disconnect_but_a_new_password_does(world):
    """KMS API Reference, UpdateCustomKeyStore: NewCustomKeyStoreName "To change this value, the custom key
    store can be connected or disconnected"; KeyStorePassword "the CloudHSM key store must be
    disconnected"; CustomKeyStoreInvalidStateException in any other state."""
    deployed(world, "key_store")
    store_id = world.key_store.physical_id
    world.kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed-while-connected")
    store = _store(world, store_id)
    assert (store["CustomKeyStoreName"], store["ConnectionState"]) == ("renamed-while-connected", "CONNECTED")
    with pytest.raises(ClientError) as password:
        world.kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=_secret(world))
    assert _code(password) == "CustomKeyStoreInvalidStateException" and "disconnect it" in str(password.value)
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=store_id)
    with pytest.raises(ClientError) as disconnecting:
        world.kms.update_custom_key_store(CustomKeyStoreId=store_id, NewCustomKeyStoreName="renamed-while-disconnecting")
    assert _code(disconnecting) == "CustomKeyStoreInvalidStateException"


def test_an_update_needs_a_related_cluster_with_two_active_hsms_in_two_zones(world):
    """KMS API Reference, UpdateCustomKeyStore: CloudHsmClusterNotRelatedException for a cluster with
    another cluster certificate; CloudHsmClusterInvalidConfigurationException: "For the
    CreateCustomKeyStore, UpdateCustomKeyStore, and CreateKey operations, the CloudHSM cluster must have
    at least two active HSMs, each in a different Availability Zone"."""
    deployed(world, "fleet")
    store_id = _new_store(world)
    unrelated = _another_cluster(world)
    with pytest.raises(ClientError) as not_related:
        world.kms.update_custom_key_store(CustomKeyStoreId=store_id, CloudHsmClusterId=unrelated)
    assert _code(not_related) == "CloudHsmClusterNotRelatedException"
    world.kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=_secret(world))
    world.cloudhsm.delete_hsm(ClusterId=world.cluster_id, HsmId=world.fleet[0].attributes["HsmId"])
    CLOCK.advance(durations.HSM_DELETE)
    with pytest.raises(ClientError) as one_hsm:
        world.kms.update_custom_key_store(CustomKeyStoreId=store_id, KeyStorePassword=_secret(world))
    assert _code(one_hsm) == "CloudHsmClusterInvalidConfigurationException" and "two active HSMs" in str(one_hsm.value)


# --- CreateCustomKeyStore: the cluster's configuration ------------------------------------------------

def test_create_needs_private_subnets_in_two_zones_and_the_cluster_groups_own_rules(world):
    """KMS API Reference, CreateCustomKeyStore, CloudHsmClusterInvalidConfigurationException: "configured
    with private subnets in at least two different Availability Zones"; the cluster security group "must
    include inbound rules and outbound rules that allow TCP traffic on ports 2223-2225" whose source and
    destination are the group itself."""
    deployed(world, "fleet")
    cluster = world.cluster()
    gateway = world.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    world.ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=cluster["VpcId"])
    routes = []
    for zone in ZONES[:2]:  # two of the three cluster subnets become public
        (table,) = world.ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id",
                                                             "Values": [cluster["SubnetMapping"][zone]]}])["RouteTables"]
        world.ec2.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
        routes.append(table["RouteTableId"])
    with pytest.raises(ClientError) as public:
        _new_store(world)
    assert _code(public) == "CloudHsmClusterInvalidConfigurationException" and "private subnets" in str(public.value)
    for table in routes:
        world.ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    own_rule = {"IpProtocol": "tcp", "FromPort": 2223, "ToPort": 2225,
                "UserIdGroupPairs": [{"GroupId": cluster["SecurityGroup"], "UserId": ACCOUNT}]}
    world.ec2.revoke_security_group_egress(GroupId=cluster["SecurityGroup"], IpPermissions=[own_rule])
    with pytest.raises(ClientError) as rules:
        _new_store(world)
    assert _code(rules) == "CloudHsmClusterInvalidConfigurationException" and "security group" in str(rules.value)
    world.ec2.authorize_security_group_egress(GroupId=cluster["SecurityGroup"], IpPermissions=[own_rule])
    assert _store(world, _new_store(world))["ConnectionState"] == "DISCONNECTED"


# --- connection error codes ---------------------------------------------------------------------------

def test_kmsuser_locked_out_or_missing_fails_the_connection_with_its_code(world):
    """KMS API Reference, CustomKeyStoresListEntry: USER_LOCKED_OUT "locked out of the associated CloudHSM
    cluster due to too many failed password attempts"; USER_NOT_FOUND "KMS cannot find a kmsuser CU
    account in the associated CloudHSM cluster"."""
    deployed(world, "fleet")
    store_id = _new_store(world)
    users = model_of(_backend().clusters[world.cluster_id]).users
    users["kmsuser"]["locked_out"] = True  # as cloudhsm-cli leaves it after repeated failed logins
    store = _connect(world, store_id)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == ("FAILED", "USER_LOCKED_OUT")
    _disconnect(world, store_id)
    del users["kmsuser"]
    store = _connect(world, store_id)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == ("FAILED", "USER_NOT_FOUND")


def test_a_deleted_cluster_subnet_fails_the_connection_with_subnet_not_found(world):
    """KMS API Reference, CustomKeyStoresListEntry: SUBNET_NOT_FOUND "A subnet in the CloudHSM cluster
    configuration was deleted"; KMS Developer Guide, "Assemble the prerequisites": do not delete any of
    the cluster's private subnets."""
    deployed(world, "fleet")
    store_id = _new_store(world)
    ec2 = ec2_backends[ACCOUNT][REGION]
    spare = world.cluster()["SubnetMapping"][ZONES[2]]  # no HSM there; EC2 deletes no subnet with interfaces in it
    for eni in [eni for eni in ec2.enis.values() if eni.subnet.id == spare]:
        ec2.delete_network_interface(eni.id)
    world.ec2.delete_subnet(SubnetId=spare)
    store = _connect(world, store_id)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == ("FAILED", "SUBNET_NOT_FOUND")


def test_a_cluster_subnet_without_a_free_address_fails_the_connection(world):
    """KMS API Reference, CustomKeyStoresListEntry: INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET "A CloudHSM key
    store connection requires one free IP address in each of the associated private subnets"."""
    deployed(world, "fleet")
    store_id = _new_store(world)
    ec2 = ec2_backends[ACCOUNT][REGION]
    full = ec2.get_subnet(world.cluster()["SubnetMapping"][ZONES[2]])
    while full.available_ip_address_count > 0:
        ec2.create_network_interface(full, None, description="someone else's workload")
    store = _connect(world, store_id)
    assert (store["ConnectionState"], store["ConnectionErrorCode"]) == ("FAILED", "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET")


# --- KMS's network in the cluster's VPC ---------------------------------------------------------------

def test_connecting_creates_the_kms_security_group_and_interfaces_and_disconnecting_removes_them(world):
    """KMS Developer Guide, "Connecting and disconnecting an AWS CloudHSM key store": KMS creates a security
    group kms-<custom key store ID> in the cluster's VPC with a single rule allowing inbound traffic from
    the cluster security group, and an ENI in each of the cluster's subnets in both groups, described
    "KMS managed ENI for cluster <cluster-ID>"; disconnecting "removes the network infrastructure that it
    created to support the connection"."""
    deployed(world, "fleet")
    cluster = world.cluster()
    store_id = _new_store(world)
    assert _connect(world, store_id)["ConnectionState"] == "CONNECTED"
    (group,) = world.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"kms-{store_id}"]}])["SecurityGroups"]
    assert group["VpcId"] == cluster["VpcId"] and group["IpPermissionsEgress"] == []
    (rule,) = group["IpPermissions"]
    assert rule["IpProtocol"] == "-1" and [pair["GroupId"] for pair in rule["UserIdGroupPairs"]] == [cluster["SecurityGroup"]]
    description = [{"Name": "description", "Values": [f"KMS managed ENI for cluster {world.cluster_id}"]}]
    enis = world.ec2.describe_network_interfaces(Filters=description)["NetworkInterfaces"]
    assert sorted(eni["SubnetId"] for eni in enis) == sorted(cluster["SubnetMapping"].values())
    assert all({g["GroupId"] for g in eni["Groups"]} == {group["GroupId"], cluster["SecurityGroup"]} for eni in enis)
    _disconnect(world, store_id)
    assert not world.ec2.describe_network_interfaces(Filters=description)["NetworkInterfaces"]
    assert not world.ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"kms-{store_id}"]}])["SecurityGroups"]


# --- cluster states while HSMs change -----------------------------------------------------------------

def test_an_active_cluster_is_update_in_progress_while_hsms_are_added_or_removed(world):
    """CloudHSM API Reference, Cluster: State UPDATE_IN_PROGRESS; AWS CloudHSM User Guide, "Adding or
    removing HSMs": CloudHSM backs up an existing HSM and restores it onto the new one. CreateHsm and
    DeleteHsm are accepted meanwhile (the API reference documents no refusal)."""
    deployed(world, "activation")
    added = world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=ZONES[1])["Hsm"]["HsmId"]
    assert world.cluster_state() == "UPDATE_IN_PROGRESS"
    also = world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=ZONES[2])["Hsm"]["HsmId"]
    CLOCK.advance(durations.HSM_CREATE)
    assert world.cluster_state() == "ACTIVE" and {h["State"] for h in world.cluster()["Hsms"]} == {"ACTIVE"}
    world.cloudhsm.delete_hsm(ClusterId=world.cluster_id, HsmId=also)
    assert world.cluster_state() == "UPDATE_IN_PROGRESS"
    CLOCK.advance(durations.HSM_DELETE)
    assert world.cluster_state() == "ACTIVE" and added in {h["HsmId"] for h in world.cluster()["Hsms"]}


def test_a_failed_hsm_degrades_the_cluster_until_it_is_replaced(world):
    """CloudHSM API Reference, Cluster and Hsm: State DEGRADED; CloudHSM replaces a failed HSM with a new
    HSM id on the same ENI, and the failed one stops billing."""
    deployed(world, "fleet")
    failed = world.fleet[0].attributes["HsmId"]
    fail_hsm(_backend(), world.cluster_id, failed)
    assert world.cluster_state() == "DEGRADED"
    assert {h["HsmId"]: h["State"] for h in world.cluster()["Hsms"]}[failed] == "DEGRADED"
    replacement = replace_failed_hsm(_backend(), world.cluster_id, failed)
    assert world.cluster_state() == "UPDATE_IN_PROGRESS"
    assert next(hsm for hsm in LEDGER if hsm.hsm_id == failed).deleted_at == CLOCK.now()
    CLOCK.advance(durations.HSM_CREATE)
    assert world.cluster_state() == "ACTIVE"
    assert {h["HsmId"]: h["State"] for h in world.cluster()["Hsms"]}[replacement] == "ACTIVE"


# --- HSM creation: time and capacity ------------------------------------------------------------------

def test_hsm_creation_times_spread_over_the_published_range_the_same_way_for_a_seed(world):
    """durations.HSM_CREATE_RANGE: "up to 15 minutes" (AWS CloudHSM User Guide, "Create an HSM"), 10-15
    minutes measured. Each HSM draws its own time; the same seed draws the same times."""
    deployed(world, "activation")
    FAULTS.spread_hsm_creation(seed=5)
    draw = random.Random(5)
    expected = [durations.hsm_create_seconds(draw) for _ in range(2)]
    assert all(durations.HSM_CREATE_RANGE[0] <= seconds <= durations.HSM_CREATE_RANGE[1] for seconds in expected)
    assert abs(expected[0] - expected[1]) > 10
    started = CLOCK.now()
    ids = [world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=zone)["Hsm"]["HsmId"] for zone in ZONES[1:]]
    for hsm_id, seconds in sorted(zip(ids, expected), key=lambda pair: pair[1]):
        CLOCK.advance_to(started + seconds - 1)
        assert {h["HsmId"]: h["State"] for h in world.cluster()["Hsms"]}[hsm_id] == "CREATE_IN_PROGRESS"
        CLOCK.advance_to(started + seconds)
        assert {h["HsmId"]: h["State"] for h in world.cluster()["Hsms"]}[hsm_id] == "ACTIVE"


def test_an_hsm_slower_than_the_handlers_budget_fails_the_resource(world):
    """A slow HSM (durations.HSM_CREATE_SLOW, armed with FAULTS.slow_hsm_creation) outlasts the 40 minutes
    the HSM handler waits: the resource fails saying what it waited for."""
    assert durations.HSM_CREATE_SLOW > 40 * 60
    deployed(world, "activation")
    FAULTS.slow_hsm_creation()
    with pytest.raises(ResourceFailed, match=r"waiting for HSM hsm-\w+ to become ACTIVE .*\(budget 40 min\)"):
        run_now(world.fleet_resource(1), "Create")


def test_a_zone_without_hsm_capacity_refuses_create_hsm(world):
    """CloudHSM API Reference, CreateHsm: no capacity error is named; CloudHsmServiceException is the
    documented refusal "because an error occurred". Armed for one zone, once."""
    deployed(world, "activation")
    FAULTS.no_hsm_capacity(ZONES[1])
    with pytest.raises(ClientError) as no_capacity:
        world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=ZONES[1])
    assert _code(no_capacity) == "CloudHsmServiceException" and f"capacity for hsm2m.medium in {ZONES[1]}" in str(no_capacity.value)
    world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=ZONES[2])
    world.cloudhsm.create_hsm(ClusterId=world.cluster_id, AvailabilityZone=ZONES[1])
    assert len(world.cluster()["Hsms"]) == 3


# --- pagination ---------------------------------------------------------------------------------------

def test_list_tags_pages_and_the_hsm_claims_are_read_from_every_page(world):
    """CloudHSM API Reference, ListTags: "each response might contain only a subset of all the tags", with
    a NextToken while more remain; MaxResults 1-100. A claim on a later page is still the HSM's: the
    first HSM is created once."""
    world.cloudhsm.tag_resource(ResourceId=world.cluster_id, TagList=[  # the operators' own tags, listed first
        {"Key": "application", "Value": "customer-keys"}, {"Key": "cost-centre", "Value": "security"}])
    FAULTS.short_pages("cloudhsmv2", "ListTags", 1)
    world.deploy_first_hsm()
    assert len(world.cluster()["Hsms"]) == 1
    first = world.cloudhsm.list_tags(ResourceId=world.cluster_id)
    assert len(first["TagList"]) == 1 and first["NextToken"]
    pages = world.cloudhsm.get_paginator("list_tags").paginate(ResourceId=world.cluster_id)
    keys = [tag["Key"] for page in pages for tag in page["TagList"]]
    assert keys == sorted(keys) and f"lifecycle:hsm/0/{ZONES[0]}" in keys and len(keys) > 1
    with pytest.raises(ClientError) as too_many:
        world.cloudhsm.list_tags(ResourceId=world.cluster_id, MaxResults=101)
    assert _code(too_many) == "CloudHsmInvalidRequestException"
    with pytest.raises(ClientError) as unknown:
        world.cloudhsm.list_tags(ResourceId="cluster-doesnotexist")
    assert _code(unknown) == "CloudHsmResourceNotFoundException"


def test_the_tags_a_cluster_is_created_with_are_listed_beside_the_claims(world):
    """CloudHSM API Reference, CreateCluster: TagList, "tags to apply to the CloudHSM cluster during
    creation"; ListTags lists them with those added later. The app's stack tags (project, environment)
    reach the cluster this way, and the HSM claims live beside them."""
    tags = {tag["Key"]: tag["Value"] for tag in world.cloudhsm.list_tags(ResourceId=world.cluster_id)["TagList"]}
    assert tags.get("project") == "customer-keys" and tags.get("environment") == "reference"
    world.deploy_first_hsm()
    keys = [tag["Key"] for tag in world.cloudhsm.list_tags(ResourceId=world.cluster_id)["TagList"]]
    assert {"project", "environment", f"lifecycle:hsm/0/{ZONES[0]}"} <= set(keys)
    assert len(world.cluster()["Hsms"]) == 1


def test_describe_custom_key_stores_pages_and_the_scale_down_guard_reads_every_page(world):
    """KMS API Reference, DescribeCustomKeyStores: Limit 1-1000, "it might return fewer"; NextMarker while
    Truncated; InvalidMarkerException for a marker it did not issue. The app's store on the second page
    still stops a scale-down below two HSMs."""
    other = _another_applications_store(world)
    deployed(world, "key_store")
    FAULTS.short_pages("kms", "DescribeCustomKeyStores", 1)
    first = world.kms.describe_custom_key_stores()
    assert [store["CustomKeyStoreId"] for store in first["CustomKeyStores"]] == [other] and first["Truncated"]
    second = world.kms.describe_custom_key_stores(Marker=first["NextMarker"])
    assert [store["CustomKeyStoreId"] for store in second["CustomKeyStores"]] == [world.key_store.physical_id]
    assert not second["Truncated"]
    with pytest.raises(ClientError) as marker:
        world.kms.describe_custom_key_stores(Marker="not-a-marker")
    assert _code(marker) == "InvalidMarkerException"
    with pytest.raises(ResourceFailed, match=r"refusing to delete HSM .*custom key store cks-\w+ uses cluster"):
        run_now(world.fleet[0], "Delete")


# --- the cluster's audit log group --------------------------------------------------------------------

def _log_group_collides(world, cluster_id: str) -> str:
    """What creating /aws/cloudhsm/<cluster id> answers, as a template's AWS::Logs::LogGroup would."""
    logs = world.cloud.client("logs")
    try:
        logs.create_log_group(logGroupName=f"/aws/cloudhsm/{cluster_id}")
    except ClientError as refused:
        return refused.response["Error"]["Code"]
    logs.delete_log_group(logGroupName=f"/aws/cloudhsm/{cluster_id}")
    return "created"


def test_cloudhsm_makes_the_audit_log_group_and_a_stream_per_hsm(world):
    """AWS CloudHSM User Guide, "Viewing HSM audit logs in CloudWatch Logs": one log group per cluster,
    /aws/cloudhsm/<cluster ID>, and one log stream per HSM named by its ID; "You do not have to create
    any CloudWatch Logs components". A template that creates the group once CloudHSM has collides."""
    deployed(world, "activation")
    cluster_id = _another_cluster(world)
    assert _log_group_collides(world, cluster_id) == "created"  # no HSM has logged yet
    hsm_id = world.cloudhsm.create_hsm(ClusterId=cluster_id, AvailabilityZone=ZONES[0])["Hsm"]["HsmId"]
    CLOCK.advance(durations.HSM_CREATE)
    streams = world.cloud.client("logs").describe_log_streams(logGroupName=f"/aws/cloudhsm/{cluster_id}")["logStreams"]
    assert [stream["logStreamName"] for stream in streams] == [hsm_id]
    assert _log_group_collides(world, cluster_id) == "ResourceAlreadyExistsException"


def test_a_rehearsal_can_have_the_audit_log_group_made_with_the_cluster(world):
    """The guide does not say when CloudHSM makes the group; FAULTS.audit_log_group_with_cluster rehearses
    the earliest moment, when a group a template creates after the cluster already exists."""
    FAULTS.audit_log_group_with_cluster()
    cluster_id = _another_cluster(world)
    assert _log_group_collides(world, cluster_id) == "ResourceAlreadyExistsException"
