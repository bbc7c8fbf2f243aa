"""Authenticators on their own: the x509 authenticator's second check, token files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kybernetes.apiserver import PKI, UserInfo
from kybernetes.apiserver.authn import (
    AuthenticationError,
    TokenFileAuthenticator,
    X509Authenticator,
)
from kybernetes.apiserver.pki import CertificateAuthority


class FakeSSLObject:
    def __init__(self, der: bytes | None) -> None:
        self.der = der

    def getpeercert(self, binary_form: bool) -> bytes | None:
        assert binary_form
        return self.der


class FakeRequest:
    """Just what the authenticators read from an aiohttp request."""

    def __init__(self, *, pem: bytes | None = None, headers: dict[str, str] | None = None):
        der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER) if pem else None
        self.ssl_object = FakeSSLObject(der)
        self.headers = headers or {}

    def get_extra_info(self, name: str) -> Any:
        return self.ssl_object if name == "ssl_object" else None


def request(**kwargs: Any) -> web.Request:
    return cast(web.Request, FakeRequest(**kwargs))


async def test_x509_accepts_only_certificates_of_its_ca(pki: PKI) -> None:
    ca = pki.certificate_authority()
    authenticator = X509Authenticator(ca.cert)
    good = ca.issue_client("bob", ["a", "b"]).cert_pem
    assert await authenticator.authenticate(request(pem=good)) == UserInfo("bob", "", ("a", "b"))

    stranger = CertificateAuthority.generate(datetime.now(UTC)).issue_client("bob", ["a"])
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(request(pem=stranger.cert_pem))

    old = ca.issue_client("bob", [], now=datetime.now(UTC) - timedelta(days=400))
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(request(pem=old.cert_pem))

    serving = pki.serving.cert_pem()  # right CA, but not for client authentication
    with pytest.raises(AuthenticationError):
        await authenticator.authenticate(request(pem=serving))


async def test_x509_without_certificate_or_common_name_is_no_credential(pki: PKI) -> None:
    ca = pki.certificate_authority()
    authenticator = X509Authenticator(ca.cert)
    assert await authenticator.authenticate(request()) is None
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "group")])
    nameless = ca._issue(subject, ExtendedKeyUsageOID.CLIENT_AUTH, (), None)  # no CN
    assert await authenticator.authenticate(request(pem=nameless.cert_pem)) is None


async def test_token_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text('t1,alice,u1,"a,b"\n,nobody,u0\nt2,bob,u2\n\nt2,carol,u3,\n')
    authenticator = TokenFileAuthenticator.from_file(path)
    bearer = {"Authorization": "Bearer t1"}
    assert await authenticator.authenticate(request(headers=bearer)) == UserInfo(
        "alice", "u1", ("a", "b")
    )
    carol = await authenticator.authenticate(request(headers={"Authorization": "bearer t2"}))
    assert carol == UserInfo("carol", "u3", ())
    assert await authenticator.authenticate(request()) is None
    assert await authenticator.authenticate(request(headers={"Authorization": "Bearer "})) is None
    with pytest.raises(AuthenticationError, match="invalid bearer token"):
        await authenticator.authenticate(request(headers={"Authorization": "Bearer t3"}))


def test_token_file_needs_three_columns(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("t1,alice\n")
    with pytest.raises(ValueError, match="at least 3 columns"):
        TokenFileAuthenticator.from_file(path)
