"""Fixtures: a cluster PKI, a token file, and real API servers on free loopback ports.

`start(...)` serves an app built by `create_app` (plus test routes, an authorizer, or
a setup hook) over TLS on 127.0.0.1 with port 0; `tls(cert)` is a client TLS context
trusting the cluster CA and presenting `cert`; `fetch(url, tls)` makes one request.
"""

from __future__ import annotations

import io
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
import orjson
import pytest
from aiohttp import web

from kybernetes.apiserver import (
    APIServer,
    APIServerConfig,
    Authorizer,
    IssuedCertificate,
    create_app,
    ensure_pki,
)
from kybernetes.apiserver.pki import PKI
from kybernetes.store import Store

TOKEN = "s3cr3t-token"


@pytest.fixture
def pki(tmp_path: Path) -> PKI:
    return ensure_pki(tmp_path / "pki", hosts=["test-host"])


@pytest.fixture
def admin_cert(pki: PKI) -> IssuedCertificate:
    return IssuedCertificate(pki.admin.cert_pem(), pki.admin.key_pem())


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "tokens.csv"
    path.write_text(f'{TOKEN},alice,uid-1,"devs,ops"\nother-token,bob,uid-2\n')
    return path


Start = Callable[..., AbstractAsyncContextManager[APIServer]]


@pytest.fixture
def start(pki: PKI, token_file: Path) -> Start:
    @asynccontextmanager
    async def start(
        *,
        routes: list[web.RouteDef] | None = None,
        authorizer: Authorizer | None = None,
        setup: Callable[[web.Application], None] | None = None,
    ) -> AsyncIterator[APIServer]:
        config = APIServerConfig(
            pki_dir=pki.directory, bind_address="127.0.0.1", port=0, token_file=token_file
        )
        app = create_app(cast(Store, object()), config, authorizer=authorizer)
        app.router.add_routes(routes or [])
        if setup is not None:
            setup(app)
        async with APIServer(app, config) as server:
            yield server

    return start


TLS = Callable[..., ssl.SSLContext]


@pytest.fixture
def tls(pki: PKI, tmp_path: Path) -> TLS:
    def tls(cert: IssuedCertificate | None = None) -> ssl.SSLContext:
        context = ssl.create_default_context(cadata=pki.ca.cert_pem().decode())
        if cert is not None:
            path = tmp_path / "client.pem"
            path.write_bytes(cert.cert_pem + cert.key_pem)
            context.load_cert_chain(path)
            path.unlink()
        return context

    return tls


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return orjson.loads(self.body)


Fetch = Callable[..., Awaitable[Reply]]


async def _fetch(
    url: str,
    context: ssl.SSLContext,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    data: bytes | io.BytesIO | None = None,
) -> Reply:
    connector = aiohttp.TCPConnector(ssl=context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, url, headers=headers, data=data) as response,
    ):
        return Reply(response.status, await response.read(), dict(response.headers))


@pytest.fixture
def fetch() -> Fetch:
    return _fetch
