"""X.509 for cluster initialisation: a CA certificate and the HSM certificate, signed by KMS.

`cryptography` builds each certificate's to-be-signed part (TBS); KMS signs those
bytes with the CA key (RSASSA_PKCS1_V1_5_SHA_256), whose private half never leaves
KMS; the certificate is then assembled by hand: SEQUENCE { TBS, algorithm, BIT
STRING signature }. cryptography cannot sign with an external signer, so the TBS
comes from a builder signed with a throwaway key whose signature is discarded (the
TBS does not contain the signer's key, only the algorithm, which is the same).

Everything is deterministic (serials and validity derive from the cluster and key,
PKCS#1 v1.5 signatures are deterministic), so a retry rebuilds the same CA
certificate and the trust anchor of an initialised cluster can be reproduced.
"""

from __future__ import annotations

import datetime
import hashlib
from functools import lru_cache
from typing import Callable

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SIGNING_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256"
# AlgorithmIdentifier { sha256WithRSAEncryption (1.2.840.113549.1.1.11), NULL }
_SHA256_WITH_RSA = bytes.fromhex("300d06092a864886f70d01010b0500")
CA_VALIDITY = datetime.timedelta(days=3650)
HSM_VALIDITY = datetime.timedelta(days=3650)

Signer = Callable[[bytes], bytes]  # TBS bytes -> PKCS#1 v1.5 SHA-256 signature


@lru_cache(maxsize=1)
def _throwaway_key() -> rsa.RSAPrivateKey:
    """Only to make cryptography emit a TBS; it signs nothing that is kept."""
    return rsa.generate_private_key(public_exponent=65537, key_size=1024)


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _signed_by_kms(builder: x509.CertificateBuilder, sign: Signer) -> x509.Certificate:
    tbs = builder.sign(_throwaway_key(), hashes.SHA256()).tbs_certificate_bytes
    signature = sign(tbs)
    der = _tlv(0x30, tbs + _SHA256_WITH_RSA + _tlv(0x03, b"\x00" + signature))
    return x509.load_der_x509_certificate(der)


def _serial(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:16], "big") >> 1 | 1


def ca_certificate(common_name: str, ca_public_key_der: bytes, not_before: datetime.datetime,
                   identity: str, sign: Signer) -> x509.Certificate:
    """The self-signed CA certificate (the cluster's trust anchor)."""
    public_key = serialization.load_der_public_key(ca_public_key_der)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64])])
    builder = (x509.CertificateBuilder()
               .subject_name(name).issuer_name(name)
               .public_key(public_key)
               .serial_number(_serial("ca", identity))
               .not_valid_before(not_before).not_valid_after(not_before + CA_VALIDITY)
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False))
    certificate = _signed_by_kms(builder, sign)
    certificate.verify_directly_issued_by(certificate)  # the KMS signature really is the CA key's
    return certificate


def hsm_certificate(csr_pem: str, ca: x509.Certificate, not_before: datetime.datetime, sign: Signer) -> x509.Certificate:
    """The cluster certificate: the CSR's subject and key, issued by `ca`."""
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    if not csr.is_signature_valid:
        raise ValueError("the cluster CSR's signature is invalid")
    builder = (x509.CertificateBuilder()
               .subject_name(csr.subject).issuer_name(ca.subject)
               .public_key(csr.public_key())
               .serial_number(_serial("hsm", csr_pem))
               .not_valid_before(not_before).not_valid_after(not_before + HSM_VALIDITY)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.public_key()), critical=False))
    certificate = _signed_by_kms(builder, sign)
    certificate.verify_directly_issued_by(ca)
    return certificate


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def same_public_key(certificate: x509.Certificate, csr_pem: str) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    csr = x509.load_pem_x509_csr(csr_pem.encode())
    return (certificate.public_key().public_bytes(serialization.Encoding.DER, spki)
            == csr.public_key().public_bytes(serialization.Encoding.DER, spki))
