"""TLS for the local AWS API: AWS's endpoints speak HTTPS with certificates clients verify, so the local one does too.

A CA of the local cloud's own, made once in its state folder (its key owner-only, never leaving it), signs a
server certificate for the address moto listens on each time moto starts. Clients trust the CA through the AWS
SDK's own setting (AWS_CA_BUNDLE, which botocore and amazon.aws read); the host containers get it in their system
trust store, as a host trusts a corporate CA.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_NAME = "tiny-analytics local AWS endpoint CA"
# The hosts trust this CA system-wide: it may only vouch for loopback and private addresses (and `localhost`),
# never for a public name, so its key could not impersonate a real site to them (RFC 5280, 4.2.1.10).
PERMITTED = [x509.IPAddress(ipaddress.ip_network(n)) for n in
             ("127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")] + [x509.DNSName("localhost")]
CA_DAYS = 3650
SERVER_DAYS = 825  # the longest lifetime Apple's and Chromium's policies accept for a TLS server certificate


@dataclass(frozen=True)
class EndpointTls:
    """The files moto serves with and clients verify with."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.unlink(missing_ok=True)
    path.touch(mode=0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def ensure_ca(folder: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """The local cloud's CA in `folder` (ca.pem, ca.key), made on first use and kept after: the host containers
    trust it across moto restarts."""
    cert_file, key_file = folder / "ca.pem", folder / "ca.key"
    if cert_file.is_file() and key_file.is_file():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
        fresh = cert.not_valid_after_utc > _now() + datetime.timedelta(days=30)
        constrained = any(isinstance(e.value, x509.NameConstraints) for e in cert.extensions)
        if fresh and constrained and isinstance(key, ec.EllipticCurvePrivateKey):
            return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.NameConstraints(permitted_subtrees=PERMITTED, excluded_subtrees=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(key_file, key)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def issue_endpoint_tls(folder: Path, address: str) -> EndpointTls:
    """A fresh server certificate for `address` (an IP address or a DNS name) from the folder's CA."""
    ca, ca_key = ensure_ca(folder)
    key = ec.generate_private_key(ec.SECP256R1())
    try:
        san: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        san = x509.DNSName(address)
    now = _now()
    # No subject name: the SAN is then critical (RFC 5280, 4.2.1.6), as for the platform's own certificates.
    cert = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(min(now + datetime.timedelta(days=SERVER_DAYS), ca.not_valid_after_utc))
            .add_extension(x509.SubjectAlternativeName([san]), critical=True)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    tls = EndpointTls(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    _write_key(tls.key_file, key)
    tls.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return tls
