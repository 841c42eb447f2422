"""Custom::CloudHsmClusterInitialisation: managed CA through KMS, external CA through SSM, budget."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from rehearsal.clock import CLOCK
from rehearsal.faults import FAULTS
from tests.lifecycle.conftest import deployed
from tests.support.provider import ResourceFailed, run, run_now

CERTIFICATE_PARAMETER = "/customer-keys/cloudhsm/external-ca/signed-certificate"
ANCHOR_PARAMETER = "/customer-keys/cloudhsm/external-ca/trust-anchor"


def _spki(key) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_managed_ca_initialises_the_cluster_with_a_kms_held_ca(world):
    deployed(world, "initialisation")
    cluster = world.cluster()
    assert cluster["State"] == "INITIALIZED"
    anchor = x509.load_pem_x509_certificate(world.initialisation.attributes["TrustAnchorPem"].encode())
    assert world.initialisation.attributes["ClusterState"] == "INITIALIZED"
    # The CA's public key is the KMS key's: its private half never left KMS.
    assert _spki(anchor.public_key()) == world.kms.get_public_key(KeyId=world.ca_key_arn)["PublicKey"]
    anchor.verify_directly_issued_by(anchor)
    assert anchor.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    cluster_certificate = x509.load_pem_x509_certificate(cluster["Certificates"]["ClusterCertificate"].encode())
    cluster_certificate.verify_directly_issued_by(anchor)
    assert ("kms", "Sign") in world.calls_by(world.initialisation)


def test_a_retry_initialises_once_and_returns_the_same_trust_anchor(world):
    deployed(world, "initialisation")
    again = run_now(world.initialisation, "Create")
    assert again["Data"]["TrustAnchorPem"] == world.initialisation.attributes["TrustAnchorPem"]
    assert sum(1 for call in FAULTS.calls if call[2] == "InitializeCluster") == 1


def test_throttled_kms_signing_is_retried(world, retry_sleeps):
    deployed(world, "first_hsm")
    FAULTS.throttle("kms", "Sign", times=2)
    world.deploy_initialisation()
    assert world.cluster_state() == "INITIALIZED" and len(retry_sleeps) == 2


def test_without_a_csr_it_fails_with_what_is_missing(world):
    world.deploy_first_hsm()
    world.cloudhsm.delete_hsm(ClusterId=world.cluster_id, HsmId=world.first_hsm.attributes["HsmId"])
    CLOCK.run_until_idle()  # the HSM, and the CSR it issued, are gone
    with pytest.raises(ResourceFailed, match="has no CSR yet: its first HSM must be ACTIVE"):
        world.deploy_initialisation()


def test_delete_changes_nothing(world):
    deployed(world, "initialisation")
    run_now(world.initialisation, "Delete")
    assert world.cluster_state() == "INITIALIZED"


def _external_ca(csr_pem: str) -> tuple[str, str]:
    """An operator's CA (generated for the test, never stored) signing the cluster CSR."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Operator CA")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    anchor = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
              .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365))
              .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    signed = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(name).public_key(csr.public_key())
              .serial_number(2).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=365)).sign(key, hashes.SHA256()))
    return signed.public_bytes(serialization.Encoding.PEM).decode(), anchor.public_bytes(serialization.Encoding.PEM).decode()


def test_external_ca_waits_for_the_operator_then_initialises(world):
    world.ca_mode = "external"
    deployed(world, "first_hsm")
    resource = world.initialisation_resource()
    steps = run(resource, "Create")
    CLOCK.advance_to(next(steps))
    CLOCK.advance(20 * 60)  # the operator signs the CSR twenty minutes later
    signed, anchor = _external_ca(world.first_hsm.attributes["ClusterCsr"])
    world.ssm.put_parameter(Name=CERTIFICATE_PARAMETER, Value=signed, Type="String")
    world.ssm.put_parameter(Name=ANCHOR_PARAMETER, Value=anchor, Type="String")
    try:
        while True:
            CLOCK.advance_to(next(steps))
    except StopIteration as done:
        response = done.value
    assert response["Data"]["TrustAnchorPem"].strip() == anchor.strip()
    assert world.cluster_state() == "INITIALIZED"


def test_external_ca_rejects_a_certificate_for_another_csr(world):
    world.ca_mode = "external"
    deployed(world, "first_hsm")
    from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys
    other = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")])) \
        .sign(rsa_keys.generate_private_key(public_exponent=65537, key_size=2048), hashes.SHA256())
    signed, anchor = _external_ca(other.public_bytes(serialization.Encoding.PEM).decode())
    world.ssm.put_parameter(Name=CERTIFICATE_PARAMETER, Value=signed, Type="String")
    world.ssm.put_parameter(Name=ANCHOR_PARAMETER, Value=anchor, Type="String")
    with pytest.raises(ResourceFailed, match="was not issued for the cluster's current CSR"):
        run_now(world.initialisation_resource(), "Create")
    assert world.cluster_state() == "UNINITIALIZED"


def test_external_ca_gives_up_at_the_budget_with_instructions(world):
    world.ca_mode = "external"
    deployed(world, "first_hsm")
    with pytest.raises(ResourceFailed) as failure:
        run_now(world.initialisation_resource(), "Create")
    message = str(failure.value)
    assert "min waiting for the externally signed certificate" in message
    assert CERTIFICATE_PARAMETER in message and "describe-clusters" in message and "\n" not in message


def test_update_returns_the_same_trust_anchor_without_reinitialising(world):
    deployed(world, "activation")
    response = run_now(world.initialisation, "Update", old_properties=world.initialisation.properties)
    assert response["Data"] == {"TrustAnchorPem": world.initialisation.attributes["TrustAnchorPem"], "ClusterState": "ACTIVE"}
    assert sum(1 for call in FAULTS.calls if call[2] == "InitializeCluster") == 1


def test_a_different_ca_key_on_an_initialised_cluster_is_refused(world):
    deployed(world, "initialisation")
    old = dict(world.initialisation.properties)
    # Another CA key of the same spec: the model reuses key pairs per spec, so change the CA's name instead.
    world.initialisation.properties["CaCommonName"] = "another CA"
    with pytest.raises(ResourceFailed, match="was initialised by another CA than the configured one"):
        run_now(world.initialisation, "Update", old_properties=old)
