"""Authentication: who is making the request.

Each `Authenticator` looks for one kind of credential. `authentication_middleware`
asks all of them, as Kubernetes' union authenticator does:

- the first that recognises valid credentials names the user;
- credentials that are present but invalid (an unknown bearer token, a certificate the
  cluster CA did not sign) fail the request with 401 unless another authenticator
  accepts the request;
- a request with no credentials at all is the anonymous user (`system:anonymous`,
  group `system:unauthenticated`) on the public health and version paths, and 401
  everywhere else (Kubernetes' `anonymous.conditions` with those paths).

Every authenticated user also gets the group `system:authenticated`. The user is
stored on the request under `USER_KEY` for authorization and handlers.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .status import unauthorized

log = logging.getLogger(__name__)

ANONYMOUS_USER = "system:anonymous"
UNAUTHENTICATED_GROUP = "system:unauthenticated"
AUTHENTICATED_GROUP = "system:authenticated"

PUBLIC_PATHS = ("/healthz", "/livez", "/readyz", "/version", "/kyb/v1/cacerts")
"""Paths (and their sub-paths) that anonymous users may read."""


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated identity (`k8s.io/apiserver/pkg/authentication/user.Info`)."""

    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()


ANONYMOUS = UserInfo(ANONYMOUS_USER, groups=(UNAUTHENTICATED_GROUP,))

USER_KEY = web.RequestKey("user", UserInfo)


class AuthenticationError(Exception):
    """The request carries credentials of an authenticator's kind, but they are invalid."""


class Authenticator(Protocol):
    """One way of establishing who sent a request. Safe for concurrent use."""

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        """The user the request's credentials name, or None if the request carries no
        credentials of this kind. Raises `AuthenticationError` if it carries some that
        are invalid."""
        ...


class X509Authenticator:
    """TLS client certificates signed by the cluster CA: CN is the user, each O a group.

    The TLS layer already verified the chain; this verifies it again against the
    cluster CA alone (with the client-auth key usage and the validity period), so a
    server context that trusts more CAs cannot let their certificates in. A
    certificate without a common name is not a credential (as in Kubernetes).

    A verified certificate's answer is remembered (by its DER bytes) until the
    certificate expires, so a client's requests cost one verification, not one each.
    """

    _CACHE_SIZE = 4096

    def __init__(self, ca_cert: x509.Certificate) -> None:
        self._store = Store([ca_cert])
        self._ee_policy = ExtensionPolicy.webpki_defaults_ee().may_be_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        )
        self._verified: dict[bytes, tuple[UserInfo | None, datetime]] = {}

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        ssl_object = request.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if not der:
            return None
        remembered = self._verified.get(der)
        if remembered is not None and datetime.now(UTC) < remembered[1]:
            return remembered[0]
        cert = x509.load_der_x509_certificate(der)
        user = self._verify(cert)
        if len(self._verified) >= self._CACHE_SIZE:
            self._verified.clear()
        self._verified[der] = (user, cert.not_valid_after_utc)
        return user

    def _verify(self, cert: x509.Certificate) -> UserInfo | None:
        """The certificate's user after a full verification; AuthenticationError if it
        does not verify."""
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(datetime.now(UTC))
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=self._ee_policy
            )
            .build_client_verifier()
        )
        try:
            verifier.verify(cert, [])
        except VerificationError as e:
            raise AuthenticationError(f"verifying certificate failed: {e}") from e
        names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names or not names[0].value:
            return None
        orgs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
        return UserInfo(name=str(names[0].value), groups=tuple(str(o.value) for o in orgs))


class TokenFileAuthenticator:
    """Bearer tokens from a kube-apiserver static token file (`--token-auth-file`).

    Each CSV line is `token,user,uid[,"group1,group2"]`. The file is read once.
    """

    def __init__(self, tokens: Mapping[str, UserInfo]) -> None:
        self._tokens = dict(tokens)

    @classmethod
    def from_file(cls, path: Path) -> TokenFileAuthenticator:
        """Parses the file. Raises OSError, or ValueError for a line with fewer than
        three columns. Lines with an empty token are skipped; a repeated token keeps
        its last line (both logged)."""
        tokens: dict[str, UserInfo] = {}
        with path.open(newline="") as f:
            for number, record in enumerate(csv.reader(f), start=1):
                if not record:
                    continue
                if len(record) < 3:
                    raise ValueError(
                        f"token file '{path}' must have at least 3 columns "
                        f"(token, user name, user uid), found {len(record)}"
                    )
                token, name, uid = record[0], record[1], record[2]
                if not token:
                    log.warning("empty token in token file '%s', record %d", path, number)
                    continue
                if token in tokens:
                    log.warning("duplicate token in token file '%s', record %d", path, number)
                groups = tuple(g for g in record[3].split(",") if g) if len(record) > 3 else ()
                tokens[token] = UserInfo(name=name, uid=uid, groups=groups)
        return cls(tokens)

    async def authenticate(self, request: web.Request) -> UserInfo | None:
        token = bearer_token(request)
        if token is None:
            return None
        user = self._tokens.get(token)
        if user is None:
            raise AuthenticationError("invalid bearer token")
        return user


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None if there is none."""
    parts = request.headers.get("Authorization", "").strip().split(" ", 2)
    if len(parts) < 2 or parts[0].lower() != "bearer" or not parts[1]:
        return None
    return parts[1]


def is_public_path(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS)


async def authenticate(request: web.Request, authenticators: Sequence[Authenticator]) -> UserInfo:
    """The request's user. Raises a 401 `StatusError` when it cannot be established."""
    errors: list[str] = []
    for authenticator in authenticators:
        try:
            user = await authenticator.authenticate(request)
        except AuthenticationError as e:
            errors.append(str(e))
            continue
        if user is not None:
            if AUTHENTICATED_GROUP not in user.groups:
                user = replace(user, groups=(*user.groups, AUTHENTICATED_GROUP))
            return user
    if not errors and is_public_path(request.path):
        return ANONYMOUS
    log.debug("unable to authenticate %s %s: %s", request.method, request.path, errors)
    raise unauthorized()


def authentication_middleware(authenticators: Sequence[Authenticator]) -> Middleware:
    """Stores the request's user under `USER_KEY`, or answers 401."""
    chain = tuple(authenticators)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        request[USER_KEY] = await authenticate(request, chain)
        return await handler(request)

    return middleware
