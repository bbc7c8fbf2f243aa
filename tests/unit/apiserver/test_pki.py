"""ensure_pki: creation, reuse, repair, SANs, file modes; issuing client certificates."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kybernetes.apiserver.pki import DEFAULT_SANS, PKI, RENEW_BEFORE, ensure_pki


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _files(pki: PKI) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(pki.directory.iterdir())}


def test_creates_ca_serving_and_admin_with_private_modes(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=["node-1", "192.0.2.7"])
    modes = {p.name: p.stat().st_mode & 0o777 for p in pki.directory.iterdir()}
    assert modes == {
        "ca.crt": 0o644,
        "ca.key": 0o600,
        "apiserver.crt": 0o644,
        "apiserver.key": 0o600,
        "admin.crt": 0o644,
        "admin.key": 0o600,
        "apiserver-kubelet-client.crt": 0o644,
        "apiserver-kubelet-client.key": 0o600,
    }
    assert pki.directory.stat().st_mode & 0o777 == 0o700
    kubelet_client = _cert(pki.kubelet_client.cert_path).subject.rfc4514_string()
    assert kubelet_client == "CN=kube-apiserver-kubelet-client,O=system:masters"

    ca = _cert(pki.ca.cert_path)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > timedelta(days=3649)

    serving = _cert(pki.serving.cert_path)
    serving.verify_directly_issued_by(ca)
    san = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = set(san.get_values_for_type(x509.DNSName))
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert {"node-1", "localhost", "kubernetes.default.svc.cluster.local"} <= names
    assert {"192.0.2.7", "127.0.0.1", "::1", "10.43.0.1"} <= ips
    assert len(names) + len(ips) == len(DEFAULT_SANS) + 2
    eku = serving.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    admin = _cert(pki.admin.cert_path)
    admin.verify_directly_issued_by(ca)
    assert admin.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:admin"
    orgs = [a.value for a in admin.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:masters"]


def test_second_call_reuses_everything(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=["node-1"])
    before = _files(pki)
    ensure_pki(tmp_path / "pki", hosts=["node-1", "127.0.0.1"])
    assert _files(pki) == before


def test_new_host_reissues_only_the_serving_certificate(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=["node-1"])
    before = _files(pki)
    ensure_pki(tmp_path / "pki", hosts=["node-1", "2001:db8::1"])
    after = _files(pki)
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"apiserver.crt", "apiserver.key"}
    san = _cert(pki.serving.cert_path).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert ipaddress.ip_address("2001:db8::1") in san.value.get_values_for_type(x509.IPAddress)


def test_missing_leaf_key_is_repaired(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=[])
    ca_before = pki.ca.cert_pem()
    pki.admin.key_path.unlink()
    ensure_pki(tmp_path / "pki", hosts=[])
    assert pki.ca.cert_pem() == ca_before
    key = load_pem_private_key(pki.admin.key_pem(), password=None)
    assert key.public_key() == _cert(pki.admin.cert_path).public_key()


def test_unusable_ca_regenerates_everything(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=[])
    before = _files(pki)
    pki.ca.key_path.write_bytes(b"garbage")
    ensure_pki(tmp_path / "pki", hosts=[])
    after = _files(pki)
    assert all(before[name] != after[name] for name in before)
    _cert(pki.admin.cert_path).verify_directly_issued_by(_cert(pki.ca.cert_path))


def test_leaf_close_to_expiry_is_renewed(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    pki = ensure_pki(tmp_path / "pki", hosts=[], now=now)
    before = _files(pki)
    later = _cert(pki.serving.cert_path).not_valid_after_utc - RENEW_BEFORE + timedelta(days=1)
    ensure_pki(tmp_path / "pki", hosts=[], now=later)
    after = _files(pki)
    assert before["ca.crt"] == after["ca.crt"]
    assert before["apiserver.crt"] != after["apiserver.crt"]
    assert before["admin.crt"] != after["admin.crt"]
    assert _cert(pki.serving.cert_path).not_valid_after_utc > later + RENEW_BEFORE


def test_issue_client_certificate(tmp_path: Path) -> None:
    pki = ensure_pki(tmp_path / "pki", hosts=[])
    ca = pki.certificate_authority()
    issued = ca.issue_client("system:node:n1", ["system:nodes", "extra"])
    cert = x509.load_pem_x509_certificate(issued.cert_pem)
    cert.verify_directly_issued_by(ca.cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    orgs = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert orgs == ["system:nodes", "extra"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert b"PRIVATE KEY" in issued.key_pem
