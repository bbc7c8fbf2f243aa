"""The cluster's public-key infrastructure: one CA, the API server's serving
certificate, the admin client certificate, and issuance of further certificates.

`ensure_pki(directory, hosts=...)` is idempotent: it creates what is missing or no
longer usable and keeps everything else, so restarting a server keeps the CA and every
kubeconfig written from it valid. Layout (kubeadm's names):

    ca.crt  ca.key                  the cluster CA (ECDSA P-256, 10 years)
    apiserver.crt  apiserver.key    serving certificate (1 year, SANs: hosts + defaults)
    admin.crt  admin.key            client certificate CN=system:admin, O=system:masters
    apiserver-kubelet-client.crt/.key   the API server's client certificate for kubelets
                                    (CN=kube-apiserver-kubelet-client, O=system:masters)

Invariants:
- Private keys are written 0600, certificates 0644, the directory 0700; every file is
  replaced atomically (write to a temporary file, fsync, rename), so a crash never
  leaves a half-written key.
- A leaf is reissued when it is missing, unreadable, not signed by the current CA, does
  not match its key, expires within `RENEW_BEFORE`, or (serving) lacks a wanted SAN.
  A new CA (missing or unusable) reissues every leaf.
- Client certificates carry the user as the subject CN and the groups as O, the form
  the x509 authenticator (`authn.py`) reads, as in Kubernetes.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=90)
CLOCK_SKEW = timedelta(minutes=5)
"""Certificates are valid from this long before their issuance, for skewed clocks."""

DEFAULT_SERVICE_IP = "10.43.0.1"
"""The ClusterIP of the `kubernetes` Service (first address of the service CIDR)."""

DEFAULT_SANS = (
    "127.0.0.1",
    "::1",
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    DEFAULT_SERVICE_IP,
)
"""Names every serving certificate carries, besides the hosts `ensure_pki` is given."""

ADMIN_USER = "system:admin"
MASTERS_GROUP = "system:masters"
KUBELET_CLIENT_USER = "kube-apiserver-kubelet-client"


@dataclass(frozen=True, slots=True)
class CertKeyPair:
    """Where one certificate and its private key live (PEM files)."""

    cert_path: Path
    key_path: Path

    def cert_pem(self) -> bytes:
        return self.cert_path.read_bytes()

    def key_pem(self) -> bytes:
        return self.key_path.read_bytes()


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """A freshly issued certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes


class CertificateAuthority:
    """The cluster CA, loaded in memory, issuing client and serving certificates."""

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
        self.cert = cert
        self.key = key

    @classmethod
    def generate(cls, now: datetime) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, f"kybernetes-ca@{int(now.timestamp())}")]
        )
        public = key.public_key()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(now + CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(cert_sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        return cls(cert, key)

    @classmethod
    def load(cls, pair: CertKeyPair) -> CertificateAuthority:
        """Reads the CA from disk. Raises OSError or ValueError if it is unusable."""
        cert = x509.load_pem_x509_certificate(pair.cert_pem())
        key = serialization.load_pem_private_key(pair.key_pem(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{pair.key_path}: not an ECDSA key")
        if key.public_key() != cert.public_key():
            raise ValueError(f"{pair.cert_path} does not match {pair.key_path}")
        return cls(cert, key)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue_client(
        self, user: str, groups: Sequence[str] = (), *, now: datetime | None = None
    ) -> IssuedCertificate:
        """A client certificate for `user` (subject CN) in `groups` (one O each)."""
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
        return self._issue(x509.Name(attributes), ExtendedKeyUsageOID.CLIENT_AUTH, (), now)

    def issue_serving(
        self, common_name: str, hosts: Sequence[str], *, now: datetime | None = None
    ) -> IssuedCertificate:
        """A TLS server certificate valid for `hosts` (DNS names or IP addresses)."""
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        return self._issue(name, ExtendedKeyUsageOID.SERVER_AUTH, hosts, now)

    def _issue(
        self,
        subject: x509.Name,
        usage: x509.ObjectIdentifier,
        hosts: Sequence[str],
        now: datetime | None,
    ) -> IssuedCertificate:
        now = now or datetime.now(UTC)
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - CLOCK_SKEW)
            .not_valid_after(min(now + LEAF_VALIDITY, self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        )
        if hosts:
            sans = [_general_name(h) for h in dict.fromkeys(hosts)]
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return IssuedCertificate(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


@dataclass(frozen=True, slots=True)
class PKI:
    """The PKI directory's layout. `ensure_pki` makes its files exist and be valid."""

    directory: Path
    ca: CertKeyPair
    serving: CertKeyPair
    admin: CertKeyPair
    kubelet_client: CertKeyPair

    @classmethod
    def at(cls, directory: Path) -> PKI:
        """The layout under `directory`; reads and writes nothing."""

        def pair(stem: str) -> CertKeyPair:
            return CertKeyPair(directory / f"{stem}.crt", directory / f"{stem}.key")

        return cls(
            directory,
            pair("ca"),
            pair("apiserver"),
            pair("admin"),
            pair("apiserver-kubelet-client"),
        )

    def certificate_authority(self) -> CertificateAuthority:
        """Loads the CA (to issue further certificates). Raises OSError, ValueError."""
        return CertificateAuthority.load(self.ca)


def ensure_pki(directory: Path, *, hosts: Sequence[str], now: datetime | None = None) -> PKI:
    """Creates or repairs the cluster PKI under `directory` and returns its layout.

    `hosts` are extra names and addresses the API server is reached at (the node's
    hostname and IPs, a load balancer); `DEFAULT_SANS` are always included. Safe to
    call on every start; not safe to run concurrently on the same directory.
    """
    now = now or datetime.now(UTC)
    pki = PKI.at(directory)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    try:
        ca = CertificateAuthority.load(pki.ca)
        fresh_ca = not _usable(ca.cert, ca, now)
    except (OSError, ValueError):
        fresh_ca = True
    if fresh_ca:
        ca = CertificateAuthority.generate(now)
        _write(pki.ca, IssuedCertificate(ca.cert_pem, _key_pem(ca.key)))
    wanted = list(dict.fromkeys([*hosts, *DEFAULT_SANS]))
    if fresh_ca or not _leaf_ok(pki.serving, ca, now, wanted):
        _write(pki.serving, ca.issue_serving("kube-apiserver", wanted, now=now))
    if fresh_ca or not _leaf_ok(pki.admin, ca, now, []):
        _write(pki.admin, ca.issue_client(ADMIN_USER, [MASTERS_GROUP], now=now))
    if fresh_ca or not _leaf_ok(pki.kubelet_client, ca, now, []):
        _write(pki.kubelet_client, ca.issue_client(KUBELET_CLIENT_USER, [MASTERS_GROUP], now=now))
    return pki


def _leaf_ok(pair: CertKeyPair, ca: CertificateAuthority, now: datetime, hosts: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(pair.cert_pem())
        key = serialization.load_pem_private_key(pair.key_pem(), password=None)
    except (OSError, ValueError):
        return False
    if key.public_key() != cert.public_key() or not _usable(cert, ca, now):
        return False
    if not hosts:
        return True
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return {_general_name(h) for h in hosts} <= set(san)


def _usable(cert: x509.Certificate, ca: CertificateAuthority, now: datetime) -> bool:
    """Signed by `ca`, already valid, and not expiring within RENEW_BEFORE."""
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return cert.not_valid_before_utc <= now + CLOCK_SKEW and (
        now + RENEW_BEFORE < cert.not_valid_after_utc
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host.lower())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write(pair: CertKeyPair, issued: IssuedCertificate) -> None:
    # The key first: a crash between the two leaves a mismatch, which the next
    # ensure_pki detects and repairs, never a certificate whose key is gone.
    _write_file(pair.key_path, issued.key_pem, 0o600)
    _write_file(pair.cert_path, issued.cert_pem, 0o644)


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Atomically replaces `path` with `data`; the file never exists with wider `mode`."""
    tmp = path.with_name(f".{path.name}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
