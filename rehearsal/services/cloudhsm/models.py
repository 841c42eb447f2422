"""A stateful model of the CloudHSM v2 calls moto 5.2 lacks, grafted onto moto's backend.

moto's clusters are born ACTIVE with an empty CSR and it has no CreateHsm, DeleteHsm
or InitializeCluster. Here a cluster goes CREATE_IN_PROGRESS -> UNINITIALIZED ->
INITIALIZE_IN_PROGRESS -> INITIALIZED -> ACTIVE (activation happens on the client
host, see rehearsal.services.ssm), and an activated cluster is UPDATE_IN_PROGRESS while
an HSM is added or removed and DEGRADED while a failed HSM is not replaced. HSMs go
CREATE_IN_PROGRESS -> ACTIVE -> DELETE_IN_PROGRESS -> gone on the simulated clock (each
in its own time when a rehearsal asks for spread, see rehearsal.faults), each with a
real ENI in moto's EC2, and the first ACTIVE HSM of an uninitialised cluster issues a
real PEM CSR (a new one if that HSM is replaced). CloudHSM's own side effects are here
too: the cluster's security group and audit log group. ListTags pages as AWS does.
Errors are the documented CloudHsm*Exception codes.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from moto.cloudhsmv2 import models as cloudhsm_models
from moto.ec2.models import ec2_backends
from moto.logs.models import logs_backends

from rehearsal import durations
from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from rehearsal.services.cloudhsm.exceptions import (
    CloudHsmInvalidRequestException,
    CloudHsmResourceLimitExceededException,
    CloudHsmResourceNotFoundException,
    CloudHsmServiceException,
)


@dataclass
class Quotas:
    """The account's CloudHSM quotas in the region: the defaults of the AWS CloudHSM User Guide,
    "AWS CloudHSM quotas" (4 clusters and 6 HSMs per Region, 28 HSMs per cluster). A rehearsal of an
    account with raised quotas sets them here. Exceeding one is CloudHsmResourceLimitExceededException
    ("exceeds an CloudHSM limit", the CloudHSM API model)."""
    clusters_per_region: int = 4
    hsms_per_region: int = 6
    hsms_per_cluster: int = 28


QUOTAS = Quotas()
LIVE_HSM_STATES = ("CREATE_IN_PROGRESS", "ACTIVE", "DEGRADED")
# The states of an activated cluster (DescribeClusters' ClusterState): HSMs are added and removed
# in any of them, and the cluster moves between them as they are (see _settle).
ACTIVATED_STATES = ("ACTIVE", "UPDATE_IN_PROGRESS", "DEGRADED")
_random = random.Random(7)


def _hsm_id() -> str:
    return "hsm-" + "".join(_random.choice(string.ascii_lowercase + "234567") for _ in range(11))


@dataclass
class ModelledHsm:
    hsm_id: str
    cluster_id: str
    availability_zone: str
    subnet_id: str
    eni_id: str
    eni_ip: str
    state: str = "CREATE_IN_PROGRESS"
    state_message: str = "HSM is being created."
    hsm_type: str = ""
    created_at: float = 0.0            # billing starts when CreateHsm is accepted
    deleted_at: float | None = None    # and stops when the HSM is gone

    def to_api(self) -> dict:
        return {"AvailabilityZone": self.availability_zone, "ClusterId": self.cluster_id,
                "SubnetId": self.subnet_id, "EniId": self.eni_id, "EniIp": self.eni_ip,
                "HsmId": self.hsm_id, "State": self.state, "StateMessage": self.state_message}


@dataclass
class ClusterModel:
    """What moto's Cluster lacks: HSMs, CSR key, trust anchor, HSM users, injected faults."""
    hsms: list[ModelledHsm] = field(default_factory=list)
    csr_pem: str = ""
    csr_public_key: bytes = b""
    trust_anchor_pem: str = ""
    # name -> {"role", "password_digest"}, with "failed_logins" and "locked_out" once a login fails (log_in)
    users: dict[str, dict] = field(default_factory=dict)
    logged_in: set[str] = field(default_factory=set)
    network_broken: bool = False
    key_material: set[str] = field(default_factory=set)  # KMS key ids whose material lives here

    def live_hsms(self) -> list[ModelledHsm]:
        return [hsm for hsm in self.hsms if hsm.state in LIVE_HSM_STATES]

    def active_hsms(self) -> list[ModelledHsm]:
        return [hsm for hsm in self.hsms if hsm.state == "ACTIVE"]


def password_digest(password: str) -> str:
    """The model stores digests only, like an HSM, so no fixture holds a password."""
    return hashlib.sha256(password.encode()).hexdigest()


def model_of(cluster) -> ClusterModel:
    if not hasattr(cluster, "model"):
        cluster.model = ClusterModel()
    return cluster.model


def _cluster(backend, cluster_id: str):
    cluster = backend.clusters.get(cluster_id)
    if cluster is None:
        raise CloudHsmResourceNotFoundException(f"Cluster {cluster_id} not found")
    return cluster


# --- cluster lifecycle -------------------------------------------------------------

_original_create_cluster = cloudhsm_models.CloudHSMV2Backend.create_cluster
HSM_PORTS = (2223, 2225)


def _cluster_security_group(ec2, cluster) -> str:
    """The group CloudHSM creates with the cluster, `cloudhsm-<cluster id>-sg`: TCP 2223-2225 within
    itself, in and out (AWS CloudHSM User Guide, "Review cluster security group"). It stays in the
    VPC when the cluster is deleted."""
    group = ec2.create_security_group(f"cloudhsm-{cluster.cluster_id}-sg",
                                      f"Cluster {cluster.cluster_id} communication", vpc_id=cluster.vpc_id)
    for authorize in (ec2.authorize_security_group_ingress, ec2.authorize_security_group_egress):
        authorize(group.id, "tcp", HSM_PORTS[0], HSM_PORTS[1], [],
                  source_groups=[{"GroupId": group.id, "UserId": ec2.account_id}], vpc_id=cluster.vpc_id)
    # CloudHSM's group has no allow-all egress rule.
    ec2.revoke_security_group_egress(group.id, "-1", None, None, [{"CidrIp": "0.0.0.0/0"}], [], [])
    return group.id



# HSM types CloudHSM no longer accepts for new clusters (existing hsm1.medium clusters keep running).
RETIRED_FOR_NEW_CLUSTERS = ("hsm1.medium",)


def create_cluster(self, backup_retention_policy, hsm_type, source_backup_id, subnet_ids, network_type, tag_list, mode):
    if hsm_type in RETIRED_FOR_NEW_CLUSTERS:
        raise CloudHsmInvalidRequestException(f"HsmType {hsm_type} can no longer be used to create a cluster; "
                                              "use hsm2m.medium")
    live_clusters = [c for c in self.clusters.values() if c.state not in ("DELETE_IN_PROGRESS", "DELETED")]
    if len(live_clusters) >= QUOTAS.clusters_per_region:
        raise CloudHsmResourceLimitExceededException(
            f"The account already has {len(live_clusters)} clusters in {self.region_name}; the quota is "
            f"{QUOTAS.clusters_per_region} (Service Quotas: AWS CloudHSM, Clusters per Region)")
    ec2 = ec2_backends[self.account_id][self.region_name]
    mapping: dict[str, str] = {}
    for subnet_id in subnet_ids or []:
        try:
            subnet = ec2.get_subnet(subnet_id)
        except Exception:
            raise CloudHsmInvalidRequestException(f"Subnet {subnet_id} does not exist") from None
        if subnet.availability_zone in mapping:
            raise CloudHsmInvalidRequestException(f"Only one subnet per Availability Zone: {subnet.availability_zone}")
        mapping[subnet.availability_zone] = subnet_id
    if not mapping:
        raise CloudHsmInvalidRequestException("SubnetIds must name at least one subnet")
    created = _original_create_cluster(self, backup_retention_policy, hsm_type, source_backup_id, subnet_ids,
                                       network_type, tag_list, mode)
    cluster = self.clusters[created["ClusterId"]]
    cluster.cluster_id = "cluster-" + "".join(_random.choice(string.ascii_lowercase + "234567") for _ in range(11))
    self.clusters = {cluster.cluster_id if c is cluster else key: c for key, c in self.clusters.items()}
    cluster.subnet_mapping = mapping
    # "Tags to apply to the CloudHSM cluster during creation" (API Reference, CreateCluster, TagList) are
    # the cluster's tags like any other: ListTags returns them (moto keeps them on the cluster only).
    self.tags[cluster.cluster_id] = [dict(tag) for tag in tag_list or []]
    cluster.vpc_id = ec2.get_subnet(next(iter(mapping.values()))).vpc_id
    cluster.security_group = _cluster_security_group(ec2, cluster)
    if FAULTS.audit_log_with_cluster:
        audit_log(self, cluster)
    cluster.state, cluster.state_message = "CREATE_IN_PROGRESS", "Cluster is being created."
    model_of(cluster)

    def created_done() -> None:
        cluster.state, cluster.state_message = "UNINITIALIZED", "Cluster is uninitialized: create an HSM, then initialize."
    CLOCK.schedule(durations.CLUSTER_CREATE, f"cluster {cluster.cluster_id} created", created_done)
    return cluster.to_dict()


_original_to_dict = cloudhsm_models.Cluster.to_dict


def cluster_to_dict(self) -> dict:
    model = model_of(self)
    self.hsms = [hsm.to_api() for hsm in model.hsms]
    self.certificates = {"ClusterCsr": model.csr_pem} if model.csr_pem and self.state == "UNINITIALIZED" else {}
    if self.state in ("INITIALIZE_IN_PROGRESS", "INITIALIZED", "ACTIVE") and model.trust_anchor_pem:
        self.certificates = {"ClusterCertificate": self.cluster_certificate}
    result = _original_to_dict(self)
    result["SecurityGroup"] = getattr(self, "security_group", "sg-cloudhsm")
    return result


def delete_cluster(self, cluster_id: str) -> dict:
    cluster = _cluster(self, cluster_id)
    if model_of(cluster).live_hsms() or any(h.state == "DELETE_IN_PROGRESS" for h in model_of(cluster).hsms):
        raise CloudHsmInvalidRequestException("Delete all HSMs in the cluster before deleting it")
    cluster.state = "DELETED"
    del self.clusters[cluster_id]
    return cluster.to_dict()


# ListTags: "each response might contain only a subset of all the tags"; MaxResults 1-100, no
# documented default (CloudHSM API Reference, ListTags).
LIST_TAGS_MAX_RESULTS = 100


def list_tags(self, resource_id: str, next_token: str | None, max_results: int | None) -> tuple[list, str | None]:
    """A page of the cluster's tags, by key; a NextToken while more remain."""
    if resource_id not in self.clusters and resource_id not in self.backups:
        raise CloudHsmResourceNotFoundException(f"Resource {resource_id} not found")
    if max_results is not None and not 1 <= int(max_results) <= LIST_TAGS_MAX_RESULTS:
        raise CloudHsmInvalidRequestException(f"MaxResults must be between 1 and {LIST_TAGS_MAX_RESULTS}")
    tags = sorted(self.tags.get(resource_id, []), key=lambda tag: tag["Key"])
    try:
        return FAULTS.page("cloudhsmv2", "ListTags", tags, next_token, max_results, LIST_TAGS_MAX_RESULTS)
    except ValueError as invalid:
        raise CloudHsmInvalidRequestException(f"Invalid NextToken: {invalid}") from None


# --- HSMs --------------------------------------------------------------------------

def _new_csr(cluster) -> None:
    """The first HSM's key pair and CSR, as CloudHSM issues it for an uninitialised cluster."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "CA"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Cavium"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "N3FIPS"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"HSM:{cluster.cluster_id}:PARTN:1, for FIPS mode"),
    ])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    model = model_of(cluster)
    model.csr_pem = csr.public_bytes(serialization.Encoding.PEM).decode()
    model.csr_public_key = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _settle(cluster) -> None:
    """An activated cluster's state follows its HSMs: UPDATE_IN_PROGRESS while one is being created or
    deleted, DEGRADED while a failed one is not replaced, else ACTIVE (CloudHSM API Reference,
    Cluster: State; AWS CloudHSM User Guide, "Adding or removing HSMs": CloudHSM backs up an existing
    HSM and restores it onto the new one while it is added)."""
    if cluster.state not in ACTIVATED_STATES:
        return
    states = {hsm.state for hsm in model_of(cluster).hsms}
    if states & {"CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS"}:
        cluster.state, cluster.state_message = "UPDATE_IN_PROGRESS", "Cluster is being updated."
    elif "DEGRADED" in states:
        cluster.state, cluster.state_message = "DEGRADED", "An HSM in the cluster has failed and is being replaced."
    else:
        cluster.state, cluster.state_message = "ACTIVE", "Cluster is active."


def audit_log(backend, cluster, hsm: ModelledHsm | None = None) -> None:
    """AWS CloudHSM User Guide, "Viewing HSM audit logs in CloudWatch Logs": "AWS CloudHSM creates one log
    group for each cluster and one log stream for each HSM in the cluster", /aws/cloudhsm/<cluster ID>
    with a stream named by the HSM ID; "You do not have to create any CloudWatch Logs components". The
    guide does not say when: the audit log is the HSMs' own (their first events record their creation),
    so the model makes the group when the first HSM is ACTIVE, or with the cluster when a rehearsal
    asks (FAULTS.audit_log_group_with_cluster). A group that exists already is used as it is."""
    logs = logs_backends[backend.account_id][backend.region_name]
    name = f"/aws/cloudhsm/{cluster.cluster_id}"
    if name not in logs.groups:
        logs.create_log_group(name, {})
    if hsm is not None and hsm.hsm_id not in logs.groups[name].streams:
        logs.create_log_stream(name, hsm.hsm_id)


def _become_active(backend, cluster, hsm: ModelledHsm) -> None:
    if hsm.state != "CREATE_IN_PROGRESS":
        return
    hsm.state, hsm.state_message = "ACTIVE", "HSM is active."
    audit_log(backend, cluster, hsm)
    if cluster.state == "UNINITIALIZED":
        _new_csr(cluster)
    _settle(cluster)


# Every HSM the model has created since the last reset, for the HSM-hours a run was billed.
LEDGER: list[ModelledHsm] = []


def reset_ledger() -> None:
    LEDGER.clear()


def _start_hsm(backend, cluster, hsm: ModelledHsm) -> None:
    """Bill from now, and make the HSM ACTIVE after its creation time (typical, drawn or armed slow:
    rehearsal.faults)."""
    hsm.hsm_type, hsm.created_at = cluster.hsm_type, CLOCK.now()
    LEDGER.append(hsm)
    model_of(cluster).hsms.append(hsm)
    _settle(cluster)
    CLOCK.schedule(FAULTS.hsm_create_seconds(), f"HSM {hsm.hsm_id} active", lambda: _become_active(backend, cluster, hsm))


def create_hsm(self, cluster_id: str, availability_zone: str, ip_address: str | None) -> dict:
    cluster = _cluster(self, cluster_id)
    model = model_of(cluster)
    if cluster.state in ("CREATE_IN_PROGRESS", "DELETE_IN_PROGRESS", "DELETED"):
        raise CloudHsmInvalidRequestException(f"Cluster {cluster_id} is in state {cluster.state}")
    if cluster.state not in ACTIVATED_STATES and model.live_hsms():
        raise CloudHsmInvalidRequestException(
            f"Cluster {cluster_id} is {cluster.state}: a cluster can have only one HSM until it is activated")
    if availability_zone not in cluster.subnet_mapping:
        raise CloudHsmInvalidRequestException(
            f"Availability Zone {availability_zone} is not in the cluster's subnet mapping")
    if FAULTS.take_no_capacity(availability_zone):
        # The CloudHSM API Reference names no capacity error for CreateHsm; CloudHsmServiceException is
        # its documented refusal "because an error occurred".
        raise CloudHsmServiceException(f"Insufficient capacity for {cluster.hsm_type} in {availability_zone}; "
                                       "try another Availability Zone or retry later")
    if len(model.live_hsms()) >= QUOTAS.hsms_per_cluster:
        raise CloudHsmResourceLimitExceededException(
            f"Cluster {cluster_id} already has {QUOTAS.hsms_per_cluster} HSMs, the quota per cluster")
    in_region = sum(len(model_of(other).live_hsms()) + len([h for h in model_of(other).hsms if h.state == "DELETE_IN_PROGRESS"])
                    for other in self.clusters.values())
    if in_region >= QUOTAS.hsms_per_region:
        raise CloudHsmResourceLimitExceededException(
            f"The account already has {in_region} HSMs in {self.region_name}; the quota is {QUOTAS.hsms_per_region} "
            "(Service Quotas: AWS CloudHSM, HSMs per Region)")
    ec2 = ec2_backends[self.account_id][self.region_name]
    subnet = ec2.get_subnet(cluster.subnet_mapping[availability_zone])
    # Each HSM's ENI is in the cluster's security group (AWS CloudHSM User Guide, "Review cluster security
    # group": the group "controls network traffic to the HSMs in the cluster"), so who reaches an HSM is
    # that group's rules.
    eni = ec2.create_network_interface(subnet, ip_address, group_ids=[cluster.security_group],
                                       description=f"CloudHSM ENI for {cluster_id}")
    hsm = ModelledHsm(_hsm_id(), cluster_id, availability_zone, subnet.id, eni.id, eni.private_ip_address)
    _start_hsm(self, cluster, hsm)
    return hsm.to_api()


def _remove(backend, cluster, hsm: ModelledHsm) -> None:
    model = model_of(cluster)
    hsm.deleted_at = CLOCK.now()
    model.hsms = [other for other in model.hsms if other is not hsm]
    if not any(other.eni_id == hsm.eni_id for other in model.hsms):
        try:
            ec2_backends[backend.account_id][backend.region_name].delete_network_interface(hsm.eni_id)
        except Exception:
            pass
    _settle(cluster)


def delete_hsm(self, cluster_id: str, hsm_id: str | None, eni_id: str | None, eni_ip: str | None) -> str:
    cluster = _cluster(self, cluster_id)
    model = model_of(cluster)
    matches = [hsm for hsm in model.hsms
               if (hsm_id and hsm.hsm_id == hsm_id) or (eni_id and hsm.eni_id == eni_id) or (eni_ip and hsm.eni_ip == eni_ip)]
    if not matches:
        raise CloudHsmResourceNotFoundException(f"HSM {hsm_id or eni_id or eni_ip} not found in {cluster_id}")
    hsm = matches[0]
    if hsm.state != "DELETE_IN_PROGRESS":
        hsm.state, hsm.state_message = "DELETE_IN_PROGRESS", "HSM is being deleted."
        if cluster.state == "UNINITIALIZED":
            model.csr_pem, model.csr_public_key = "", b""  # the CSR belonged to this HSM
        _settle(cluster)
        CLOCK.schedule(durations.HSM_DELETE, f"HSM {hsm.hsm_id} deleted", lambda: _remove(self, cluster, hsm))
    return hsm.hsm_id


def fail_hsm(backend, cluster_id: str, hsm_id: str) -> None:
    """An HSM fails: it is DEGRADED (CloudHSM API Reference, Hsm: State), and so is an activated cluster
    until CloudHSM replaces it (replace_failed_hsm)."""
    cluster = _cluster(backend, cluster_id)
    hsm = next(hsm for hsm in model_of(cluster).hsms if hsm.hsm_id == hsm_id)
    hsm.state, hsm.state_message = "DEGRADED", "HSM has failed and will be replaced."
    _settle(cluster)


def replace_failed_hsm(backend, cluster_id: str, hsm_id: str) -> str:
    """What CloudHSM does when an HSM fails: a new HSM id on the same ENI, created as any HSM is (the
    cluster UPDATE_IN_PROGRESS meanwhile); the failed one stops billing. Returns the new id."""
    cluster = _cluster(backend, cluster_id)
    model = model_of(cluster)
    old = next(hsm for hsm in model.hsms if hsm.hsm_id == hsm_id)
    if old.state != "DEGRADED":
        fail_hsm(backend, cluster_id, hsm_id)
    model.hsms.remove(old)
    old.deleted_at = CLOCK.now()
    replacement = ModelledHsm(_hsm_id(), cluster_id, old.availability_zone, old.subnet_id, old.eni_id, old.eni_ip)
    _start_hsm(backend, cluster, replacement)
    if cluster.state == "UNINITIALIZED":
        model.csr_pem, model.csr_public_key = "", b""
    return replacement.hsm_id


# --- initialisation ----------------------------------------------------------------

def initialize_cluster(self, cluster_id: str, signed_cert: str, trust_anchor: str) -> dict:
    cluster = _cluster(self, cluster_id)
    model = model_of(cluster)
    if cluster.state != "UNINITIALIZED":
        raise CloudHsmInvalidRequestException(f"Cluster {cluster_id} is {cluster.state}, not UNINITIALIZED")
    if not model.active_hsms() or not model.csr_pem:
        raise CloudHsmInvalidRequestException("The cluster needs an ACTIVE HSM (and its CSR) before initialization")
    try:
        certificate = x509.load_pem_x509_certificate(signed_cert.encode())
        anchor = x509.load_pem_x509_certificate(trust_anchor.encode())
    except ValueError:
        raise CloudHsmInvalidRequestException("SignedCert and TrustAnchor must be PEM X.509 certificates") from None
    public = certificate.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if public != model.csr_public_key:
        raise CloudHsmInvalidRequestException("SignedCert was not issued for the cluster's current CSR")
    try:
        certificate.verify_directly_issued_by(anchor)
        anchor.verify_directly_issued_by(anchor)
    except (ValueError, TypeError, InvalidSignature):
        raise CloudHsmInvalidRequestException("SignedCert is not signed by TrustAnchor, or TrustAnchor is not self-signed") from None
    cluster.state, cluster.state_message = "INITIALIZE_IN_PROGRESS", "Cluster is being initialized."
    cluster.cluster_certificate = signed_cert
    model.trust_anchor_pem = trust_anchor

    def initialised() -> None:
        cluster.state, cluster.state_message = "INITIALIZED", "Cluster is initialized: activate it with cloudhsm-cli."
    CLOCK.schedule(durations.CLUSTER_INITIALIZE, f"cluster {cluster_id} initialized", initialised)
    return {"State": cluster.state, "StateMessage": cluster.state_message}


# --- HSM users (cloudhsm-cli on the client host acts on them: rehearsal.services.ssm.cloudhsm_cli) ----

def activate(cluster, admin_password: str, kmsuser_password: str | None = None) -> None:
    """`cluster activate`: the cluster becomes ACTIVE and its admin gets the password (and, for
    tests that skip the host, kmsuser as a crypto user)."""
    model = model_of(cluster)
    cluster.state, cluster.state_message = "ACTIVE", "Cluster is active."
    model.users["admin"] = {"role": "admin", "password_digest": password_digest(admin_password)}
    if kmsuser_password is not None:
        create_user(cluster, "kmsuser", "crypto-user", kmsuser_password)


def create_user(cluster, username: str, role: str, password: str) -> None:
    model_of(cluster).users[username] = {"role": role, "password_digest": password_digest(password)}


# "If you exceed five incorrect login attempts, your account is locked out. To unlock the account, an
# admin must reset your password using the user change-password command" (CloudHSM User Guide, CloudHSM
# CLI "login"; the same page: "your account is locked out after 20 incorrect login attempts" for
# clusters created before February 2018, so "after N" is the count that locks). A cluster of several
# HSMs may allow more attempts; the model counts for the whole cluster, as one HSM would.
FAILED_LOGINS_BEFORE_LOCKOUT = 5


def log_in(cluster, username: str, role: str, password: str) -> str | None:
    """None if the user logs in, else why not. A wrong password or role counts as a failed login
    (`failed_logins` on the user; a success starts the count again, an assumption); at the limit the
    user is `locked_out` and even the right password fails until an admin sets a new one."""
    user = model_of(cluster).users.get(username)
    if user is None:
        return "login failed: invalid credentials"
    if user.get("locked_out"):
        return f"login failed: user {username} is locked out; an admin must reset its password (user change-password)"
    if user["role"] != role or user["password_digest"] != password_digest(password):
        user["failed_logins"] = user.get("failed_logins", 0) + 1
        if user["failed_logins"] >= FAILED_LOGINS_BEFORE_LOCKOUT:
            user["locked_out"] = True
        return "login failed: invalid credentials"
    user.pop("failed_logins", None)
    return None


def set_password(cluster, username: str, password: str) -> None:
    """`user change-password`: the new password, which also unlocks a locked-out user."""
    user = model_of(cluster).users[username]
    user["password_digest"] = password_digest(password)
    user.pop("failed_logins", None)
    user.pop("locked_out", None)
