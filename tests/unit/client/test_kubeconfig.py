"""write_kubeconfig / load_kubeconfig: round trip, file mode, kubectl's file forms."""

from __future__ import annotations

import base64
import ssl
from pathlib import Path

import pytest
import yaml

from kybernetes.apiserver.pki import PKI, ensure_pki
from kybernetes.client import KubeconfigError, RestConfig, load_kubeconfig, write_kubeconfig


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return ensure_pki(tmp_path / "pki", hosts=[])


@pytest.fixture
def admin(pki: PKI) -> RestConfig:
    return RestConfig(
        server="https://127.0.0.1:6443",
        ca_pem=pki.ca.cert_pem(),
        client_cert_pem=pki.admin.cert_pem(),
        client_key_pem=pki.admin.key_pem(),
    )


def test_round_trip_and_private_mode(tmp_path: Path, admin: RestConfig) -> None:
    path = tmp_path / "sub" / "kubeconfig.yaml"
    write_kubeconfig(path, admin)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_kubeconfig(path) == admin
    assert [p.name for p in path.parent.iterdir()] == ["kubeconfig.yaml"]

    document = yaml.safe_load(path.read_text())
    assert document["current-context"] == "default"
    assert document["contexts"] == [
        {"name": "default", "context": {"cluster": "default", "user": "default"}}
    ]
    cluster = document["clusters"][0]["cluster"]
    assert base64.b64decode(cluster["certificate-authority-data"]) == admin.ca_pem
    assert set(document["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}


def test_rewrite_keeps_private_mode(tmp_path: Path, admin: RestConfig) -> None:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text("old")
    path.chmod(0o644)
    write_kubeconfig(path, RestConfig("https://10.0.0.1:6443", token="t", namespace="kube-system"))
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_kubeconfig(path)
    assert (loaded.server, loaded.token, loaded.namespace) == (
        "https://10.0.0.1:6443",
        "t",
        "kube-system",
    )
    assert loaded.auth_headers() == {"Authorization": "Bearer t"}


def test_file_references_resolve_against_the_kubeconfig(tmp_path: Path, pki: PKI) -> None:
    (tmp_path / "token").write_text("tok\n")
    path = tmp_path / "config"
    path.write_text(
        yaml.safe_dump(
            {
                "clusters": [
                    {
                        "name": "c",
                        "cluster": {
                            "server": "https://h:1",
                            "certificate-authority": str(pki.ca.cert_path),
                        },
                    }
                ],
                "users": [{"name": "u", "user": {"tokenFile": "token"}}],
                "contexts": [
                    {"name": "one", "context": {"cluster": "c", "user": "u", "namespace": "ns"}},
                    {"name": "two", "context": {"cluster": "c"}},
                ],
                "current-context": "one",
            }
        )
    )
    one = load_kubeconfig(path)
    assert (one.token, one.namespace, one.ca_pem) == ("tok", "ns", pki.ca.cert_pem())
    two = load_kubeconfig(path, context="two")
    assert (two.token, two.namespace) == (None, "default")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("- a list", "not a kubeconfig"),
        ("clusters: []", "no current-context"),
        ("current-context: x", "no context named 'x'"),
        (
            "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n"
            "clusters: [{name: c, cluster: {}}]",
            "has no server",
        ),
        (
            "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
            "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
            "users: [{name: u, user: {exec: {command: aws}}}]",
            "credential plugins",
        ),
    ],
)
def test_malformed_kubeconfigs(tmp_path: Path, document: str, message: str) -> None:
    path = tmp_path / "config"
    path.write_text(document)
    with pytest.raises(KubeconfigError, match=message):
        load_kubeconfig(path)


def test_ssl_context(admin: RestConfig) -> None:
    context = admin.ssl_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    insecure = RestConfig("https://h", insecure_skip_tls_verify=True).ssl_context()
    assert insecure.verify_mode == ssl.CERT_NONE
    with pytest.raises(ssl.SSLError):
        RestConfig("https://h", client_cert_pem=b"junk", client_key_pem=b"junk").ssl_context()
