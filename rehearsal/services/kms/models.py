"""A stateful model of KMS custom key stores (AWS CloudHSM type) on top of moto's KMS.

moto 5.2 has no custom key stores. Here a store is created against a modelled cluster
(trust anchor, cluster configuration and two ACTIVE HSMs in different AZs checked as
the KMS API Reference's exceptions describe), goes DISCONNECTED -> CONNECTING ->
CONNECTED or FAILED (with the documented ConnectionErrorCode) on the simulated clock,
creating KMS's security group and network interfaces in the cluster's VPC while it is
connected, and keys with Origin=AWS_CLOUDHSM exist only in a CONNECTED store, their
material recorded in the cluster. Scheduled key deletion completes on the simulated
clock; material of a key deleted while its store is disconnected stays in the cluster
as an orphan, as it would in AWS. DescribeCustomKeyStores pages as AWS does.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import timedelta

from moto.cloudhsmv2.models import cloudhsmv2_backends
from moto.ec2.exceptions import InvalidSubnetIdError
from moto.ec2.models import ec2_backends
from moto.kms import models as kms_models

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.network import _route_table_of
from rehearsal.services.cloudhsm import ACTIVATED_STATES, model_of, password_digest
from rehearsal.services.cloudhsm.models import HSM_PORTS
from rehearsal.services.kms.exceptions import (
    CloudHsmClusterInUseException,
    CloudHsmClusterInvalidConfigurationException,
    CloudHsmClusterNotActiveException,
    CloudHsmClusterNotFoundException,
    CloudHsmClusterNotRelatedException,
    CustomKeyStoreHasCMKsException,
    CustomKeyStoreInvalidStateException,
    CustomKeyStoreNameInUseException,
    CustomKeyStoreNotFoundException,
    DisabledException,
    IncorrectTrustAnchorException,
    InvalidMarkerException,
    KMSInvalidStateException,
    UnsupportedOperationException,
    ValidationException,
)

_random = random.Random(11)


@dataclass
class CustomKeyStore:
    store_id: str
    name: str
    cluster_id: str
    trust_anchor: str
    password_digest: str
    creation_date: float
    connection_state: str = "DISCONNECTED"
    connection_error_code: str | None = None
    generation: int = 0  # bumps on every connect/disconnect so stale transitions do nothing
    security_group_id: str | None = None  # kms-<store id>, while connected (see _build_network)
    eni_ids: list[str] = field(default_factory=list)

    def to_api(self) -> dict:
        result = {"CustomKeyStoreId": self.store_id, "CustomKeyStoreName": self.name,
                  "CloudHsmClusterId": self.cluster_id, "TrustAnchorCertificate": self.trust_anchor,
                  "ConnectionState": self.connection_state, "CreationDate": self.creation_date,
                  "CustomKeyStoreType": "AWS_CLOUDHSM"}
        if self.connection_state == "FAILED" and self.connection_error_code:
            result["ConnectionErrorCode"] = self.connection_error_code
        return result


def stores(backend) -> dict[str, CustomKeyStore]:
    if not hasattr(backend, "custom_key_stores"):
        backend.custom_key_stores = {}
    return backend.custom_key_stores


def _store(backend, store_id: str) -> CustomKeyStore:
    store = stores(backend).get(store_id)
    if store is None:
        raise CustomKeyStoreNotFoundException(f"Custom key store {store_id} not found")
    return store


def _clusters(backend) -> dict:
    return cloudhsmv2_backends[backend.account_id][backend.region_name].clusters


def _cluster_of(backend, cluster_id: str):
    cluster = _clusters(backend).get(cluster_id)
    if cluster is None:
        raise CloudHsmClusterNotFoundException(f"No CloudHSM cluster {cluster_id}")
    return cluster


def _require_two_zones(cluster) -> None:
    active = model_of(cluster).active_hsms()
    if len({hsm.availability_zone for hsm in active}) < 2:
        raise CloudHsmClusterInvalidConfigurationException(
            f"Cluster {cluster.cluster_id} must have at least two active HSMs, each in a different Availability Zone")


def _require_activated(cluster) -> None:
    """CloudHsmClusterNotActiveException: "Initialize and activate the cluster" (KMS API Reference). An
    activated cluster stays active while HSMs are added or replaced."""
    if cluster.state not in ACTIVATED_STATES:
        raise CloudHsmClusterNotActiveException(f"Cluster {cluster.cluster_id} is {cluster.state}, not active; "
                                                "initialize and activate it and try again")


def _ec2(backend):
    return ec2_backends[backend.account_id][backend.region_name]


def _is_private(ec2, subnet) -> bool:
    """A subnet without a route to an internet gateway (Amazon VPC User Guide, "Subnets for your VPC")."""
    table = _route_table_of(ec2, subnet.id, subnet.vpc_id)
    return table is None or not any(route.gateway is not None and route.gateway.id.startswith("igw-")
                                    for route in table.routes)


def _require_cluster_group_rules(backend, cluster) -> None:
    """The cluster security group (cloudhsm-cluster-<id>-sg) must allow TCP 2223-2225 in from and out to
    itself: CloudHsmClusterInvalidConfigurationException in the KMS API Reference ("These rules are set
    by default when you create the CloudHSM cluster. Do not delete or change them")."""
    group_id = getattr(cluster, "security_group", None)
    group = _ec2(backend).get_security_group_from_id(group_id) if group_id else None

    def allows_itself(rules) -> bool:
        return any(rule.source_group.get("GroupId") == group_id and (
            rule.ip_protocol == "-1" or (rule.ip_protocol == "tcp" and rule.from_port <= HSM_PORTS[0] and rule.to_port >= HSM_PORTS[1]))
            for rule in rules)
    if group is None or not allows_itself(group.ingress_rules) or not allows_itself(group.egress_rules):
        raise CloudHsmClusterInvalidConfigurationException(
            f"The security group of cluster {cluster.cluster_id} ({group_id}) must allow TCP {HSM_PORTS[0]}-{HSM_PORTS[1]} "
            "inbound from itself and outbound to itself")


def _require_configuration(backend, cluster) -> None:
    """What CreateCustomKeyStore, UpdateCustomKeyStore and CreateKey need of the cluster, as the KMS API
    Reference's CloudHsmClusterInvalidConfigurationException lists it: private subnets in at least two
    Availability Zones, the cluster security group's rules, two ACTIVE HSMs in different zones."""
    ec2 = _ec2(backend)
    private_zones = set()
    for zone, subnet_id in cluster.subnet_mapping.items():
        try:
            if _is_private(ec2, ec2.get_subnet(subnet_id)):
                private_zones.add(zone)
        except InvalidSubnetIdError:
            continue
    if len(private_zones) < 2:
        raise CloudHsmClusterInvalidConfigurationException(
            f"Cluster {cluster.cluster_id} must be configured with private subnets in at least two Availability Zones "
            f"(it has {len(private_zones)})")
    _require_cluster_group_rules(backend, cluster)
    _require_two_zones(cluster)


def _same_backup_history(cluster, other) -> bool:
    """Clusters that share a backup history have the same cluster certificate (KMS Developer Guide,
    "Assemble the prerequisites")."""
    certificate = getattr(cluster, "cluster_certificate", None)
    return cluster is other or (certificate is not None and certificate == getattr(other, "cluster_certificate", None))


def _keys_in(backend, store_id: str) -> list:
    return [key for key in backend.keys.values() if getattr(key, "custom_key_store_id", None) == store_id]


def create_custom_key_store(self, name: str, cluster_id: str, trust_anchor: str, password: str) -> str:
    if not 7 <= len(password or "") <= 32:
        raise ValidationException("KeyStorePassword must be 7-32 characters")
    if any(store.name == name for store in stores(self).values()):
        raise CustomKeyStoreNameInUseException(f"Custom key store name {name} is in use")
    cluster = _cluster_of(self, cluster_id)
    if any(_same_backup_history(cluster, _clusters(self).get(store.cluster_id)) for store in stores(self).values()):
        raise CloudHsmClusterInUseException(f"Cluster {cluster_id}, or a cluster that shares its backup history, is "
                                            "associated with another custom key store")
    _require_activated(cluster)
    if (trust_anchor or "").strip() != model_of(cluster).trust_anchor_pem.strip():
        raise IncorrectTrustAnchorException("The trust anchor certificate does not match the cluster's")
    _require_configuration(self, cluster)
    store_id = "cks-" + "".join(_random.choice("0123456789abcdef") for _ in range(17))
    stores(self)[store_id] = CustomKeyStore(store_id, name, cluster_id, trust_anchor, password_digest(password), CLOCK.now())
    ensure_service_linked_role(self.account_id)
    return store_id


SERVICE_LINKED_ROLE = "AWSServiceRoleForKeyManagementServiceCustomKeyStores"


def ensure_service_linked_role(account: str) -> None:
    """The first AWS CloudHSM key store creates KMS's service-linked role (KMS Developer Guide,
    "Authorizing AWS KMS to manage AWS CloudHSM and Amazon EC2 resources"); later ones find it."""
    from moto.iam.models import iam_backends

    backend = iam_backends[account]["global"]
    if any(role.name == SERVICE_LINKED_ROLE for role in backend.roles.values()):
        return
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "cks.kms.amazonaws.com"}}]}
    backend.create_role(SERVICE_LINKED_ROLE, json.dumps(trust), "/aws-service-role/cks.kms.amazonaws.com/",
                        permissions_boundary=None, description="KMS custom key stores", tags=[],
                        max_session_duration="3600", linked_service="cks.kms.amazonaws.com")


def _connection_outcome(backend, store: CustomKeyStore) -> str | None:
    """None if the connection succeeds, else the ConnectionErrorCode (KMS API Reference,
    CustomKeyStoresListEntry), checked in the order ConnectCustomKeyStore describes the connection:
    KMS "finds the CloudHSM cluster ..., creates the connection infrastructure, connects to the
    cluster, logs into the CloudHSM client as the kmsuser CU, and rotates its password"."""
    cluster = _clusters(backend).get(store.cluster_id)
    if cluster is None or cluster.state == "DELETED":
        return "CLUSTER_NOT_FOUND"
    ec2 = _ec2(backend)
    subnets = []
    for subnet_id in cluster.subnet_mapping.values():
        try:
            subnets.append(ec2.get_subnet(subnet_id))
        except InvalidSubnetIdError:
            return "SUBNET_NOT_FOUND"
    # "A CloudHSM key store connection requires one free IP address in each of the associated private
    # subnets" (its network interfaces; moto counts the addresses the subnet's interfaces hold).
    if any(subnet.available_ip_address_count < 1 for subnet in subnets):
        return "INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET"
    _build_network(backend, store, cluster, subnets)
    model = model_of(cluster)
    if not model.active_hsms():
        return "INSUFFICIENT_CLOUDHSM_HSMS"
    if model.network_broken:
        return "NETWORK_ERRORS"
    kmsuser = model.users.get("kmsuser")
    if kmsuser is None or kmsuser.get("role") != "crypto-user":
        return "USER_NOT_FOUND"
    if kmsuser.get("locked_out"):
        return "USER_LOCKED_OUT"
    if kmsuser.get("password_digest") != store.password_digest:
        return "INVALID_CREDENTIALS"
    if "kmsuser" in model.logged_in:
        return "USER_LOGGED_IN"
    return None


def _build_network(backend, store: CustomKeyStore, cluster, subnets: list) -> None:
    """KMS Developer Guide, "Connecting and disconnecting an AWS CloudHSM key store": KMS creates a
    security group named kms-<custom key store ID> in the cluster's VPC with a single rule allowing
    inbound traffic from the cluster security group, and a network interface in each of the cluster's
    subnets, in that group and the cluster's, described "KMS managed ENI for cluster <cluster-ID>"."""
    if store.security_group_id is not None:
        return
    ec2 = _ec2(backend)
    group = ec2.create_security_group(f"kms-{store.store_id}", f"KMS custom key store {store.store_id}",
                                      vpc_id=cluster.vpc_id)
    ec2.authorize_security_group_ingress(group.id, "-1", None, None, [], vpc_id=cluster.vpc_id,
                                         source_groups=[{"GroupId": cluster.security_group, "UserId": ec2.account_id}])
    ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}], [], [])
    store.security_group_id = group.id
    store.eni_ids = [ec2.create_network_interface(subnet, None, group_ids=[group.id, cluster.security_group],
                                                  description=f"KMS managed ENI for cluster {cluster.cluster_id}").id
                     for subnet in subnets]


def _remove_network(backend, store: CustomKeyStore) -> None:
    """Disconnecting "removes the network infrastructure that it created to support the connection"
    (KMS Developer Guide, "Disconnecting an AWS CloudHSM key store"): the interfaces, then the group."""
    ec2 = _ec2(backend)
    for eni_id in store.eni_ids:
        if eni_id in ec2.enis:
            ec2.delete_network_interface(eni_id)
    store.eni_ids = []
    if store.security_group_id is not None and ec2.get_security_group_from_id(store.security_group_id) is not None:
        ec2.delete_security_group(group_id=store.security_group_id)
    store.security_group_id = None


def connect_custom_key_store(self, store_id: str) -> None:
    store = _store(self, store_id)
    if store.connection_state in ("CONNECTED", "CONNECTING"):
        return
    if store.connection_state in ("FAILED", "DISCONNECTING"):
        raise CustomKeyStoreInvalidStateException(
            f"Custom key store {store_id} is {store.connection_state}; disconnect it before connecting")
    cluster = _cluster_of(self, store.cluster_id)
    _require_activated(cluster)
    # "Some connection attempts fail quickly due to easily detected cluster configuration errors" (KMS
    # Developer Guide, "How to fix a connection failure"); the HSM count and subnets are settled later.
    _require_cluster_group_rules(self, cluster)
    store.connection_state, store.connection_error_code = "CONNECTING", None
    store.generation += 1
    generation = store.generation

    def settle() -> None:
        if store.generation != generation:
            return
        code = _connection_outcome(self, store)
        store.connection_state, store.connection_error_code = ("FAILED", code) if code else ("CONNECTED", None)
        if code is None:
            _rotate_kmsuser_password(self, store)
    CLOCK.schedule(durations.KEY_STORE_CONNECT, f"key store {store_id} connection settles", settle)


def kmsuser_logged_in(account: str, region: str, cluster_id: str) -> bool:
    """KMS stays logged in as kmsuser while a store is connected to the cluster (and while it connects
    or disconnects)."""
    backend = kms_models.kms_backends[account][region]
    return any(store.cluster_id == cluster_id and store.connection_state in ("CONNECTED", "CONNECTING", "DISCONNECTING")
               for store in stores(backend).values())


def _rotate_kmsuser_password(backend, store: CustomKeyStore) -> None:
    """Connecting logs in as kmsuser and rotates its password to one only KMS knows (KMS Developer
    Guide, "Connecting and disconnecting an AWS CloudHSM key store": "AWS KMS changes the kmsuser
    password each time that it connects"). The copy the store was created with is stale from then
    on: another store created with it, or an UpdateCustomKeyStore that passes it, fails to connect
    with INVALID_CREDENTIALS until an admin resets the password ("Troubleshooting a custom key store",
    "How to fix invalid kmsuser credentials")."""
    cluster = _cluster_of(backend, store.cluster_id)
    rotated = password_digest("".join(_random.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(32)))
    model_of(cluster).users["kmsuser"]["password_digest"] = rotated
    store.password_digest = rotated


def disconnect_custom_key_store(self, store_id: str) -> None:
    store = _store(self, store_id)
    if store.connection_state in ("DISCONNECTED", "DISCONNECTING"):
        raise CustomKeyStoreInvalidStateException(f"Custom key store {store_id} is {store.connection_state}")
    store.connection_state, store.connection_error_code = "DISCONNECTING", None
    store.generation += 1
    generation = store.generation

    def disconnected() -> None:
        if store.generation == generation:
            _remove_network(self, store)
            store.connection_state = "DISCONNECTED"
    CLOCK.schedule(durations.KEY_STORE_DISCONNECT, f"key store {store_id} disconnected", disconnected)


def update_custom_key_store(self, store_id: str, new_name: str | None, password: str | None, cluster_id: str | None) -> None:
    """KMS API Reference, UpdateCustomKeyStore: a new name may be given while the store is CONNECTED or
    DISCONNECTED ("To change this value, the custom key store can be connected or disconnected"); a
    password or cluster only while it is DISCONNECTED. The (new) cluster must be related (same cluster
    certificate), activated, and meet the configuration CloudHsmClusterInvalidConfigurationException
    lists for UpdateCustomKeyStore, two ACTIVE HSMs in different Availability Zones included."""
    store = _store(self, store_id)
    new_cluster = bool(cluster_id) and cluster_id != store.cluster_id
    allowed = ("DISCONNECTED",) if password or new_cluster else ("CONNECTED", "DISCONNECTED")
    if store.connection_state not in allowed:
        raise CustomKeyStoreInvalidStateException(
            f"Custom key store {store_id} is {store.connection_state}; " + (
                "disconnect it before changing its password or cluster" if len(allowed) == 1
                else "it can be renamed only while CONNECTED or DISCONNECTED"))
    if new_name and new_name != store.name and any(other.name == new_name for other in stores(self).values()):
        raise CustomKeyStoreNameInUseException(f"Custom key store name {new_name} is in use")
    if password is not None and not 7 <= len(password) <= 32:
        raise ValidationException("KeyStorePassword must be 7-32 characters")
    cluster = _cluster_of(self, cluster_id or store.cluster_id)
    if new_cluster and not _same_backup_history(cluster, _clusters(self).get(store.cluster_id)):
        raise CloudHsmClusterNotRelatedException(
            f"Cluster {cluster_id} has a different cluster certificate than cluster {store.cluster_id}; "
            "specify a cluster that shares its backup history")
    _require_activated(cluster)
    _require_configuration(self, cluster)
    if new_name:
        store.name = new_name
    if password:
        store.password_digest = password_digest(password)
    if new_cluster:
        store.cluster_id = cluster_id


def delete_custom_key_store(self, store_id: str) -> None:
    store = _store(self, store_id)
    if _keys_in(self, store_id):
        raise CustomKeyStoreHasCMKsException(f"Custom key store {store_id} contains KMS keys")
    if store.connection_state != "DISCONNECTED":
        raise CustomKeyStoreInvalidStateException(f"Disconnect custom key store {store_id} before deleting it")
    del stores(self)[store_id]


# DescribeCustomKeyStores: Limit 1-1000, no documented default; "When this value is present, AWS KMS
# does not return more than the specified number of items, but it might return fewer" (KMS API
# Reference); the rest follows Marker/NextMarker while Truncated.
DESCRIBE_STORES_LIMIT = 1000


def describe_custom_key_stores(self, store_id: str | None, name: str | None, limit: int | None = None,
                               marker: str | None = None) -> tuple[list[dict], str | None]:
    """A page of the stores, in creation order, and the marker of the next page (None on the last)."""
    if store_id:
        found = [_store(self, store_id).to_api()]
    elif name:
        found = [store.to_api() for store in stores(self).values() if store.name == name]
        if not found:
            raise CustomKeyStoreNotFoundException(f"Custom key store {name} not found")
    else:
        found = [store.to_api() for store in stores(self).values()]
    if limit is not None and not 1 <= int(limit) <= DESCRIBE_STORES_LIMIT:
        raise ValidationException(f"Limit must be between 1 and {DESCRIBE_STORES_LIMIT}")
    try:
        return FAULTS.page("kms", "DescribeCustomKeyStores", found, marker, limit, DESCRIBE_STORES_LIMIT)
    except ValueError as invalid:
        raise InvalidMarkerException(f"Invalid marker: {invalid}") from None


# --- keys in a store ---------------------------------------------------------------

_original_key_to_dict = kms_models.Key.to_dict
_original_schedule_key_deletion = kms_models.KmsBackend.schedule_key_deletion
_original_encrypt = kms_models.KmsBackend.encrypt


def create_key_in_store(backend, store_id: str, key_spec: str | None, policy, description, tags):
    """CreateKey with Origin AWS_CLOUDHSM: a symmetric key whose material the store's cluster holds."""
    store = _store(backend, store_id)
    if store.connection_state != "CONNECTED":
        raise CustomKeyStoreInvalidStateException(f"Custom key store {store.store_id} is {store.connection_state}, not CONNECTED")
    if (key_spec or "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT":
        raise UnsupportedOperationException("Keys in an AWS CloudHSM key store must be SYMMETRIC_DEFAULT")
    cluster = _cluster_of(backend, store.cluster_id)
    _require_configuration(backend, cluster)
    key = backend.create_key(policy, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT", description, tags, False, "AWS_CLOUDHSM")
    key.custom_key_store_id, key.cloud_hsm_cluster_id = store.store_id, store.cluster_id
    model_of(cluster).key_material.add(key.id)
    return key


def key_to_dict(self) -> dict:
    result = _original_key_to_dict(self)
    if getattr(self, "custom_key_store_id", None):
        result["KeyMetadata"]["CustomKeyStoreId"] = self.custom_key_store_id
        result["KeyMetadata"]["CloudHsmClusterId"] = self.cloud_hsm_cluster_id
    return result


def schedule_key_deletion(self, key_id: str, pending_window_in_days: int):
    result = _original_schedule_key_deletion(self, key_id, pending_window_in_days)
    key = self.keys[key_id]
    key.deletion_date = CLOCK.utcnow().replace(tzinfo=None) + timedelta(days=pending_window_in_days)

    def deleted() -> None:
        if key.key_state != "PendingDeletion" or key_id not in self.keys:
            return
        store = stores(self).get(getattr(key, "custom_key_store_id", None) or "")
        if store is not None and store.connection_state == "CONNECTED":
            cluster = _clusters(self).get(store.cluster_id)
            if cluster is not None:
                model_of(cluster).key_material.discard(key_id)
        self.delete_key(key_id)
    CLOCK.schedule(pending_window_in_days * 86400, f"KMS key {key_id} deleted", deleted)
    return result


def usable(backend, key_id: str) -> None:
    """A cryptographic operation needs the key Enabled and, in a custom key store, the store CONNECTED
    (KMS Developer Guide, "Key states of AWS KMS keys"; "Troubleshooting a custom key store")."""
    key = backend.describe_key(backend.get_key_id_from_alias(key_id) or key_id if key_id.startswith("alias/") else key_id)
    if key.key_state == "Disabled":
        raise DisabledException(f"{key.arn} is disabled.")
    if key.key_state != "Enabled":
        raise KMSInvalidStateException(f"{key.arn} is {'pending deletion' if key.key_state == 'PendingDeletion' else key.key_state}.")
    store_id = getattr(key, "custom_key_store_id", None)
    if store_id and stores(backend).get(store_id, None) is not None and stores(backend)[store_id].connection_state != "CONNECTED":
        raise KMSInvalidStateException(f"Custom key store {store_id} of key {key.id} is not connected")


def encrypt(self, key_id: str, plaintext: bytes, encryption_context: dict):
    usable(self, key_id)
    return _original_encrypt(self, key_id, plaintext, encryption_context)


# --- key generation ----------------------------------------------------------------

_original_generate_private_key = kms_models.generate_private_key
_generated_keys: dict = {}


def reused_private_key(key_spec: str):
    """One key pair per asymmetric spec per process: RSA-3072 generation costs ~0.3 s and tests
    need signatures that verify, not distinct keys."""
    if key_spec == "SYMMETRIC_DEFAULT":
        return _original_generate_private_key(key_spec)
    if key_spec not in _generated_keys:
        _generated_keys[key_spec] = _original_generate_private_key(key_spec)
    return _generated_keys[key_spec]
