"""Custom::CloudHsmClusterInitialisation: sign the cluster CSR and call InitializeCluster.

managed CA: the CA key is a KMS RSA_3072 signing key; certificates.py builds the CA
and HSM certificates and KMS signs them, so no private key exists outside KMS.
external CA: an operator signs the CSR and puts the certificate and trust anchor in
two SSM parameters; is_complete polls for them until the time budget runs out.
Complete when the cluster is INITIALIZED; the trust anchor PEM is the attribute
TrustAnchorPem. A cluster cannot be un-initialised, so Delete changes nothing.
"""

from __future__ import annotations

import base64
import datetime

import certificates
from cryptography import x509
from lifecycle_runtime import events, time_budget
from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.clusters import describe_cluster
from lifecycle_runtime.errors import LifecycleError, reported
from lifecycle_runtime.structured_log import log

DONE_STATES = ("INITIALIZED", "ACTIVE")


def _kms_signer(key_arn: str):
    def sign(tbs: bytes) -> bytes:
        response = client("kms").sign(KeyId=key_arn, Message=tbs, MessageType="RAW",
                                      SigningAlgorithm=certificates.SIGNING_ALGORITHM)
        signature = response["Signature"]
        return signature if isinstance(signature, bytes) else base64.b64decode(signature)
    return sign


def _not_before(cluster: dict) -> datetime.datetime:
    created = cluster.get("CreateTimestamp")
    if isinstance(created, datetime.datetime):
        return created.astimezone(datetime.timezone.utc).replace(microsecond=0)
    return datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)


def _managed_ca(props: dict, cluster: dict) -> x509.Certificate:
    key_arn = events.required(props, "CaSigningKeyArn")
    public_key = client("kms").get_public_key(KeyId=key_arn)["PublicKey"]
    return certificates.ca_certificate(props.get("CaCommonName") or "CloudHSM cluster CA", public_key,
                                       _not_before(cluster), f"{cluster['ClusterId']}|{key_arn}", _kms_signer(key_arn))


def _parameter(name: str) -> str | None:
    try:
        return client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except client("ssm").exceptions.ParameterNotFound:
        return None


def _csr(cluster: dict) -> str:
    csr = cluster.get("Certificates", {}).get("ClusterCsr", "")
    if not csr:
        raise LifecycleError(f"cluster {cluster['ClusterId']} has no CSR yet: its first HSM must be ACTIVE (Custom::CloudHsmFirstHsm)")
    return csr


def _initialize(cluster_id: str, signed_cert: str, trust_anchor: str) -> None:
    """InitializeCluster, treating "not UNINITIALIZED" after a retried call as the first call having worked."""
    try:
        client("cloudhsmv2").initialize_cluster(ClusterId=cluster_id, SignedCert=signed_cert, TrustAnchor=trust_anchor)
    except client("cloudhsmv2").exceptions.CloudHsmInvalidRequestException:
        state = describe_cluster(cluster_id)["State"]
        if state not in ("INITIALIZE_IN_PROGRESS", *DONE_STATES):
            raise
        log("initialize_already_accepted", cluster_id=cluster_id, state=state)


def _initialise_managed(props: dict, cluster: dict) -> None:
    ca = _managed_ca(props, cluster)
    hsm = certificates.hsm_certificate(_csr(cluster), ca, _not_before(cluster), _kms_signer(props["CaSigningKeyArn"]))
    _initialize(cluster["ClusterId"], certificates.pem(hsm), certificates.pem(ca))
    log("initialize_requested", cluster_id=cluster["ClusterId"], ca_mode="managed", ca_subject=ca.subject.rfc4514_string())


def _initialise_external(props: dict, cluster: dict) -> bool:
    """InitializeCluster with the operator's certificate once both parameters exist; False while waiting."""
    certificate_pem = _parameter(events.required(props, "ExternalCertificateParameterName"))
    anchor_pem = _parameter(events.required(props, "ExternalTrustAnchorParameterName"))
    if not certificate_pem or not anchor_pem:
        return False
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    anchor = x509.load_pem_x509_certificate(anchor_pem.encode())
    if not certificates.same_public_key(certificate, _csr(cluster)):
        raise LifecycleError(f"the certificate in {props['ExternalCertificateParameterName']} was not issued for the cluster's "
                             "current CSR (was the first HSM replaced?); sign the CSR from `aws cloudhsmv2 describe-clusters` again")
    try:
        certificate.verify_directly_issued_by(anchor)
    except Exception:
        raise LifecycleError(f"the certificate in {props['ExternalCertificateParameterName']} is not signed by the trust anchor in "
                             f"{props['ExternalTrustAnchorParameterName']}") from None
    _initialize(cluster["ClusterId"], certificate_pem, anchor_pem)
    log("initialize_requested", cluster_id=cluster["ClusterId"], ca_mode="external")
    return True


def _trust_anchor(props: dict, cluster: dict) -> str:
    """The PEM that issued the cluster certificate, rebuilt (managed) or read (external), and checked."""
    if props.get("CaMode", "managed") == "managed":
        anchor = _managed_ca(props, cluster)
    else:
        anchor_pem = _parameter(events.required(props, "ExternalTrustAnchorParameterName"))
        if not anchor_pem:
            raise LifecycleError(f"cluster is initialised but {props['ExternalTrustAnchorParameterName']} is missing: put the trust anchor back")
        anchor = x509.load_pem_x509_certificate(anchor_pem.encode())
    cluster_certificate = cluster.get("Certificates", {}).get("ClusterCertificate")
    if cluster_certificate:
        try:
            x509.load_pem_x509_certificate(cluster_certificate.encode()).verify_directly_issued_by(anchor)
        except Exception:
            raise LifecycleError(f"cluster {cluster['ClusterId']} was initialised by another CA than the configured one; "
                                 "configure that CA (caMode/external parameters) or use a new cluster") from None
    return certificates.pem(anchor)


def _start(event) -> dict:
    props = events.properties(event)
    cluster = describe_cluster(events.required(props, "ClusterId"))
    response = time_budget.started({"PhysicalResourceId": f"{cluster['ClusterId']}/initialisation"})
    if cluster["State"] in DONE_STATES or cluster["State"] == "INITIALIZE_IN_PROGRESS":
        log("already_initialised", cluster_id=cluster["ClusterId"], state=cluster["State"])
        return response
    if cluster["State"] != "UNINITIALIZED":
        raise LifecycleError(f"cluster {cluster['ClusterId']} is {cluster['State']}; it must be UNINITIALIZED with an ACTIVE first HSM")
    if props.get("CaMode", "managed") == "managed":
        _initialise_managed(props, cluster)
    else:
        _initialise_external(props, cluster)
    return response


def _delete(event) -> dict:
    log("delete_noop", reason="a CloudHSM cluster cannot be un-initialised", physical_id=event.get("PhysicalResourceId"))
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


@reported("cluster initialisation")
def on_event(event, context):
    return events.dispatch(event, create=_start, update=_start, delete=_delete)


@reported("cluster initialisation")
def is_complete(event, context):
    if event["RequestType"] == "Delete":
        return events.finished()
    props = events.properties(event)
    cluster = describe_cluster(events.required(props, "ClusterId"))
    log("initialisation_poll", cluster_id=cluster["ClusterId"], state=cluster["State"], waited_s=round(time_budget.elapsed(event)))
    if cluster["State"] in DONE_STATES:
        return events.finished({"TrustAnchorPem": _trust_anchor(props, cluster), "ClusterState": cluster["State"]})
    if cluster["State"] == "UNINITIALIZED":
        if props.get("CaMode", "managed") == "managed":
            _initialise_managed(props, cluster)  # on_event did not get as far (a crash between calls)
        elif not _initialise_external(props, cluster):
            time_budget.ensure_within(
                event,
                f"the externally signed certificate in SSM parameters {props['ExternalCertificateParameterName']} and "
                f"{props['ExternalTrustAnchorParameterName']}",
                f"sign the CSR (aws cloudhsmv2 describe-clusters --filters clusterIds={cluster['ClusterId']} "
                "--query 'Clusters[0].Certificates.ClusterCsr'), put the PEMs in both parameters, and redeploy")
            return events.still_waiting()
    elif cluster["State"] != "INITIALIZE_IN_PROGRESS":
        raise LifecycleError(f"cluster {cluster['ClusterId']} went to {cluster['State']} during initialisation: {cluster.get('StateMessage', '')}")
    time_budget.ensure_within(event, f"cluster {cluster['ClusterId']} to become INITIALIZED",
                              "check the cluster's StateMessage in the CloudHSM console, then redeploy")
    return events.still_waiting()
