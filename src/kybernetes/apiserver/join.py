"""Joining worker nodes: the join token, and the two endpoints `kyb agent` uses.

The token (k3s' "secure" format) is `K10<sha256 of the CA PEM, hex>::server:<secret>`.
The agent first reads the CA from the public `GET /kyb/v1/cacerts` over unverified
TLS and checks it against the token's hash (kubeadm's discovery-token-ca-cert-hash),
then `POST /kyb/v1/join` over TLS verified by that CA with `Authorization: Bearer
<secret>`; the answer is the CA and freshly issued certificates for the node:

    request:  {"nodeName": NAME, "addresses": [IP or DNS name, ...]}
    response: {"caCert": PEM, "clientCert": PEM, "clientKey": PEM,
               "servingCert": PEM, "servingKey": PEM}

The client certificate is `CN=system:node:NAME, O=system:nodes` (the kubelet's
identity in Kubernetes); the serving certificate, for the kubelet's own HTTPS API, has
`CN=system:node:NAME` (as the kubelet-serving signer requires) and the node's name and
addresses as SANs.

Invariants:
- The join path is authenticated ONLY by the secret: `JoinTokenAuthenticator`
  recognises the bearer only on `JOIN_PATH` (so the secret is no API credential), and
  the handler answers 401 to every other identity, admin certificates included.
- The secret is compared in constant time (`hmac.compare_digest`).
- The token file is 0600 and replaced atomically; `ensure_join_token` keeps the secret
  of an existing file and rewrites only the CA hash when the CA changed.
- These paths live under /kyb, never under /api or /apis.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from kybernetes.api.validation.names import is_dns1123_subdomain

from .authn import USER_KEY, AuthenticationError, UserInfo, bearer_token
from .pki import CertificateAuthority, _write_file
from .status import bad_request, unauthorized

JOIN_PATH = "/kyb/v1/join"
CACERTS_PATH = "/kyb/v1/cacerts"
JOIN_USER = "kyb:node-bootstrapper"
NODES_GROUP = "system:nodes"
NODE_USER_PREFIX = "system:node:"
TOKEN_PREFIX = "K10"
_SECRET_BYTES = 32
_TOKEN = re.compile(r"K10(?P<hash>[0-9a-f]{64})::(?P<user>[^:]+):(?P<secret>.+)")


def ca_hash(ca_pem: bytes) -> str:
    """The hex SHA-256 of the CA certificate bundle, as the token carries it."""
    return hashlib.sha256(ca_pem).hexdigest()


@dataclass(frozen=True, slots=True)
class JoinToken:
    """A parsed join token. `ca_hash` is "" for a bare secret (nothing to verify)."""

    secret: str
    ca_hash: str = ""

    def __str__(self) -> str:
        return f"{TOKEN_PREFIX}{self.ca_hash}::server:{self.secret}"

    @classmethod
    def parse(cls, text: str) -> JoinToken:
        """A full `K10<hash>::server:<secret>` token or a bare secret. ValueError if
        the text is empty, malformed K10, or carries a user other than `server`."""
        text = text.strip()
        if not text:
            raise ValueError("empty join token")
        match = _TOKEN.fullmatch(text)
        if match is None:
            if text.startswith(TOKEN_PREFIX) and "::" in text:
                raise ValueError("malformed join token (want K10<sha256>::server:<secret>)")
            return cls(secret=text)
        if match["user"] != "server":
            raise ValueError(f"join token for user {match['user']!r}, want 'server'")
        return cls(secret=match["secret"], ca_hash=match["hash"])

    def verify_ca(self, ca_pem: bytes) -> None:
        """Raises ValueError if the token names a CA hash and `ca_pem` does not match it."""
        if self.ca_hash and not hmac.compare_digest(self.ca_hash, ca_hash(ca_pem)):
            raise ValueError(
                f"the server's CA (sha256 {ca_hash(ca_pem)}) does not match the join token's "
                f"({self.ca_hash})"
            )


def ensure_join_token(path: Path, ca_pem: bytes) -> JoinToken:
    """The cluster's join token, written to `path` (0600) if missing or stale (a new
    CA); an existing secret is kept. OSError if the file cannot be read or written."""
    try:
        existing = JoinToken.parse(path.read_text())
    except (FileNotFoundError, ValueError):
        existing = JoinToken(secret=secrets.token_hex(_SECRET_BYTES))
    token = JoinToken(secret=existing.secret, ca_hash=ca_hash(ca_pem))
    if existing != token:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_file(path, f"{token}\n".encode(), 0o600)
    return token


class JoinTokenAuthenticator:
    """The bearer secret, recognised only on `JOIN_PATH` (user `JOIN_USER`)."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        if request.path != JOIN_PATH:
            return None
        token = bearer_token(request)
        if token is None:
            return None
        if not hmac.compare_digest(token.encode(), self._secret):
            raise AuthenticationError("invalid join token")
        return UserInfo(JOIN_USER)


def add_join_routes(app: web.Application, ca: CertificateAuthority) -> None:
    """Serves `CACERTS_PATH` (public) and `JOIN_PATH` (join token only) from `ca`.
    The app's authentication chain must include a `JoinTokenAuthenticator`."""
    ca_pem = ca.cert_pem

    async def cacerts(request: web.Request) -> web.Response:
        return web.Response(body=ca_pem, content_type="application/x-pem-file")

    async def join(request: web.Request) -> web.Response:
        if request[USER_KEY].name != JOIN_USER:
            raise unauthorized()
        try:
            body: Any = json.loads(await request.read())
        except ValueError as e:
            raise bad_request(f"join request is not JSON: {e}") from None
        node, addresses = _join_request(body)
        client = ca.issue_client(NODE_USER_PREFIX + node, [NODES_GROUP])
        serving = ca.issue_serving(NODE_USER_PREFIX + node, [node, *addresses])
        return web.json_response(
            {
                "caCert": ca_pem.decode(),
                "clientCert": client.cert_pem.decode(),
                "clientKey": client.key_pem.decode(),
                "servingCert": serving.cert_pem.decode(),
                "servingKey": serving.key_pem.decode(),
            }
        )

    app.router.add_get(CACERTS_PATH, cacerts)
    app.router.add_post(JOIN_PATH, join)


def _join_request(body: Any) -> tuple[str, list[str]]:
    """(node name, addresses) of a join request; a 400 StatusError if invalid."""
    if not isinstance(body, dict):
        raise bad_request("join request must be a JSON object")
    node = body.get("nodeName")
    if not isinstance(node, str) or is_dns1123_subdomain(node):
        raise bad_request(f"invalid nodeName {node!r}: must be a DNS-1123 subdomain")
    addresses = body.get("addresses", [])
    if not isinstance(addresses, list) or not all(_address(a) for a in addresses):
        raise bad_request("addresses must be a list of IP addresses or DNS-1123 subdomains")
    return node, list(addresses)


def _address(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return not is_dns1123_subdomain(value)
    return True
