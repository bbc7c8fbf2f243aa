"""The join token and the join endpoints: format, CA verification, constant-time
secret, authentication only by the token, certificates issued for the node."""

from __future__ import annotations

import json
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import cast

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

from kybernetes.apiserver import APIServer, APIServerConfig, IssuedCertificate, create_app
from kybernetes.apiserver.join import (
    CACERTS_PATH,
    JOIN_PATH,
    JoinToken,
    ca_hash,
    ensure_join_token,
)
from kybernetes.apiserver.pki import PKI
from kybernetes.store import Store

from .conftest import TLS, Fetch

SECRET = "0123456789abcdef" * 4


def test_token_format_round_trips() -> None:
    token = JoinToken(secret=SECRET, ca_hash="a" * 64)
    assert str(token) == f"K10{'a' * 64}::server:{SECRET}"
    assert JoinToken.parse(str(token)) == token
    assert JoinToken.parse(f"  {token}\n") == token


def test_bare_secret_is_a_token_without_ca_hash() -> None:
    assert JoinToken.parse("just-a-secret") == JoinToken(secret="just-a-secret")
    JoinToken.parse("just-a-secret").verify_ca(b"anything")  # nothing to verify


@pytest.mark.parametrize(
    "text",
    ["", "   ", f"K10{'a' * 63}::server:x", f"K10{'a' * 64}::node:x", f"K10{'g' * 64}::server:x"],
)
def test_malformed_tokens_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        JoinToken.parse(text)


def test_verify_ca_checks_the_hash(pki: PKI) -> None:
    ca_pem = pki.ca.cert_pem()
    token = JoinToken(secret=SECRET, ca_hash=ca_hash(ca_pem))
    token.verify_ca(ca_pem)
    with pytest.raises(ValueError, match="does not match"):
        token.verify_ca(ca_pem + b"\n")


def test_ensure_join_token_writes_0600_and_keeps_the_secret(tmp_path: Path, pki: PKI) -> None:
    path = tmp_path / "server" / "token"
    first = ensure_join_token(path, pki.ca.cert_pem())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == f"{first}\n"
    assert len(first.secret) == 64 and first.ca_hash == ca_hash(pki.ca.cert_pem())
    assert ensure_join_token(path, pki.ca.cert_pem()) == first
    renewed = ensure_join_token(path, b"another CA")
    assert renewed.secret == first.secret and renewed.ca_hash == ca_hash(b"another CA")
    assert JoinToken.parse(path.read_text()) == renewed


@asynccontextmanager
async def join_server(pki: PKI) -> AsyncIterator[APIServer]:
    config = APIServerConfig(
        pki_dir=pki.directory, bind_address="127.0.0.1", port=0, join_secret=SECRET
    )
    async with APIServer(create_app(cast(Store, object()), config), config) as server:
        yield server


def _join_body(node: str = "worker-1", addresses: list[str] | None = None) -> bytes:
    return json.dumps({"nodeName": node, "addresses": addresses or ["10.0.0.7"]}).encode()


async def test_cacerts_is_public(pki: PKI, tls: TLS, fetch: Fetch) -> None:
    async with join_server(pki) as server:
        reply = await fetch(server.url + CACERTS_PATH, tls())
    assert reply.status == 200
    assert reply.body == pki.ca.cert_pem()


async def test_join_issues_node_certificates(pki: PKI, tls: TLS, fetch: Fetch) -> None:
    async with join_server(pki) as server:
        reply = await fetch(
            server.url + JOIN_PATH, tls(), method="POST", data=_join_body(),
            headers={"Authorization": f"Bearer {SECRET}"},
        )  # fmt: skip
    assert reply.status == 200, reply.text
    answer = reply.json()
    assert answer["caCert"].encode() == pki.ca.cert_pem()
    ca = pki.certificate_authority().cert
    client = x509.load_pem_x509_certificate(answer["clientCert"].encode())
    client.verify_directly_issued_by(ca)
    cn = client.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    orgs = [o.value for o in client.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert (cn, orgs) == ("system:node:worker-1", ["system:nodes"])
    serving = x509.load_pem_x509_certificate(answer["servingCert"].encode())
    serving.verify_directly_issued_by(ca)
    serving_cn = serving.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert serving_cn == "system:node:worker-1"
    sans = serving.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(v) for v in sans.get_values_for_type(x509.IPAddress)} == {"10.0.0.7"}
    assert sans.get_values_for_type(x509.DNSName) == ["worker-1"]
    assert "PRIVATE KEY" in answer["clientKey"] and "PRIVATE KEY" in answer["servingKey"]


async def test_the_issued_client_certificate_authenticates(
    pki: PKI, tls: TLS, fetch: Fetch
) -> None:
    async with join_server(pki) as server:
        reply = await fetch(
            server.url + JOIN_PATH, tls(), method="POST", data=_join_body(),
            headers={"Authorization": f"Bearer {SECRET}"},
        )  # fmt: skip
        answer = reply.json()
        cert = IssuedCertificate(answer["clientCert"].encode(), answer["clientKey"].encode())
        version = await fetch(server.url + "/version", tls(cert))
    assert version.status == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {SECRET}x"},
        {"Authorization": f"Basic {SECRET}"},
    ],
)
async def test_join_without_the_secret_is_401(
    pki: PKI, tls: TLS, fetch: Fetch, headers: dict[str, str]
) -> None:
    async with join_server(pki) as server:
        reply = await fetch(server.url + JOIN_PATH, tls(), method="POST", data=_join_body(),
                            headers=headers)  # fmt: skip
    assert reply.status == 401
    assert reply.json()["reason"] == "Unauthorized"


async def test_other_identities_cannot_join(
    pki: PKI, tls: TLS, fetch: Fetch, admin_cert: IssuedCertificate
) -> None:
    async with join_server(pki) as server:
        reply = await fetch(server.url + JOIN_PATH, tls(admin_cert), method="POST",
                            data=_join_body())  # fmt: skip
    assert reply.status == 401


async def test_the_secret_is_no_api_credential(pki: PKI, tls: TLS, fetch: Fetch) -> None:
    async with join_server(pki) as server:
        reply = await fetch(server.url + "/api", tls(),
                            headers={"Authorization": f"Bearer {SECRET}"})  # fmt: skip
    assert reply.status == 401


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"nodeName": "Bad_Name"}).encode(),
        json.dumps({"addresses": ["10.0.0.1"]}).encode(),
        json.dumps({"nodeName": "ok", "addresses": ["not an address!"]}).encode(),
        json.dumps({"nodeName": "ok", "addresses": "10.0.0.1"}).encode(),
    ],
)
async def test_bad_join_requests_are_400(pki: PKI, tls: TLS, fetch: Fetch, body: bytes) -> None:
    async with join_server(pki) as server:
        reply = await fetch(server.url + JOIN_PATH, tls(), method="POST", data=body,
                            headers={"Authorization": f"Bearer {SECRET}"})  # fmt: skip
    assert reply.status == 400, reply.text


async def test_no_join_routes_without_a_secret(
    pki: PKI, tls: TLS, fetch: Fetch, admin_cert: IssuedCertificate
) -> None:
    config = APIServerConfig(pki_dir=pki.directory, bind_address="127.0.0.1", port=0)
    async with APIServer(create_app(cast(Store, object()), config), config) as server:
        reply = await fetch(server.url + JOIN_PATH, tls(admin_cert), method="POST",
                            data=_join_body())  # fmt: skip
    assert reply.status == 404
