"""A real API server for the client's integration tests, in-process on a free port.

`serve(...)` assembles the server as `kyb server` does (SQLite store under the test's
tmp dir, watch cache, the full API, TLS with the cluster PKI) and yields a `Server`
whose admin kubeconfig the client loads. Knobs the tests need: a small watch-cache
history (so a paused watcher falls out of it and gets 410) and a `WatchGate` that can
hold new watch requests and break the running ones. `client(server)` is an open
`APIClient`; `namespace(client)` creates a namespace of the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver import APIServer, APIServerConfig, create_app, ensure_pki
from kybernetes.apiserver.bootstrap import ensure_system_namespaces
from kybernetes.apiserver.pki import PKI
from kybernetes.apiserver.rest import API, add_api_routes
from kybernetes.apiserver.watchcache import WatchCache
from kybernetes.client import APIClient, RestConfig, load_kubeconfig, write_kubeconfig
from kybernetes.client.resource import NAMESPACES
from kybernetes.store import open_store

TOKEN = "client-test-token"


class WatchGate:
    """Holds watch requests while closed; `break_watches()` cuts the running ones."""

    def __init__(self) -> None:
        self.open = asyncio.Event()
        self.open.set()
        self.held = 0
        self.served = 0
        self._changed = asyncio.Condition()
        self._transports: set[asyncio.BaseTransport] = set()

    @web.middleware
    async def middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.query.get("watch") not in ("true", "1"):
            return await handler(request)
        await self._bump(held=1)
        try:
            await self.open.wait()
        finally:
            await self._bump(held=-1)
        await self._bump(served=1)
        transport = request.transport
        if transport is not None:
            self._transports.add(transport)
        try:
            return await handler(request)
        finally:
            if transport is not None:
                self._transports.discard(transport)

    async def _bump(self, *, held: int = 0, served: int = 0) -> None:
        async with self._changed:
            self.held += held
            self.served += served
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[WatchGate], bool]) -> None:
        async with asyncio.timeout(10), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    def break_watches(self) -> None:
        for transport in list(self._transports):
            transport.close()


@dataclass(frozen=True)
class Server:
    url: str
    kubeconfig: Path
    pki: PKI
    cache: WatchCache
    gate: WatchGate

    @property
    def config(self) -> RestConfig:
        return load_kubeconfig(self.kubeconfig)

    @property
    def token_config(self) -> RestConfig:
        return RestConfig(self.url, ca_pem=self.pki.ca.cert_pem(), token=TOKEN)


Serve = Callable[..., AbstractAsyncContextManager[Server]]


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return ensure_pki(tmp_path_factory.mktemp("pki"), hosts=["localhost"])


@pytest.fixture
def serve(pki: PKI, tmp_path: Path) -> Serve:
    counter = itertools.count()

    @asynccontextmanager
    async def serve(*, history_size: int = 20_000) -> AsyncIterator[Server]:
        directory = tmp_path / f"server-{next(counter)}"
        directory.mkdir()
        tokens = directory / "tokens.csv"
        tokens.write_text(f'{TOKEN},alice,uid-1,"system:masters"\n')
        store = await open_store(f"sqlite://{directory}/state.db")
        try:
            config = APIServerConfig(
                pki_dir=pki.directory,
                bind_address="127.0.0.1",
                port=0,
                token_file=tokens,
                shutdown_timeout=0.5,  # watches the client left hold on until then
            )
            cache = WatchCache(store, history_size=history_size)
            api = API(store, cache, ResourceTable.builtin())
            app = create_app(store, config)
            gate = WatchGate()
            app.middlewares.append(gate.middleware)
            add_api_routes(app, api)
            async with asyncio.TaskGroup() as tg:
                feeding = tg.create_task(cache.run())
                await cache.ready.wait()
                await ensure_system_namespaces(api)
                try:
                    async with APIServer(app, config) as server:
                        kubeconfig = directory / "kubeconfig.yaml"
                        write_kubeconfig(
                            kubeconfig,
                            RestConfig(
                                server.url,
                                ca_pem=pki.ca.cert_pem(),
                                client_cert_pem=pki.admin.cert_pem(),
                                client_key_pem=pki.admin.key_pem(),
                            ),
                        )
                        try:
                            yield Server(server.url, kubeconfig, pki, cache, gate)
                        finally:
                            gate.open.set()  # let held watches finish
                finally:
                    feeding.cancel()
        finally:
            await store.close()

    return serve


@pytest.fixture
async def server(serve: Serve) -> AsyncIterator[Server]:
    """A server with default settings. It runs in a task of its own: its TaskGroup
    must be left by the task that entered it, and pytest-asyncio runs a fixture's
    setup and teardown in different tasks."""
    ready: asyncio.Future[Server] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()

    async def hold() -> None:
        async with serve() as s:
            ready.set_result(s)
            await stop.wait()

    task = asyncio.ensure_future(hold())
    try:
        either: set[asyncio.Future[Any]] = {ready, task}
        done, _ = await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        yield ready.result()
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
async def client(server: Server) -> AsyncIterator[APIClient]:
    async with APIClient(server.config, component="test") as api:
        yield api


@pytest.fixture
async def namespace(client: APIClient, request: pytest.FixtureRequest) -> str:
    name = "t-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:50].strip("-")
    await client.create(NAMESPACES, {"metadata": {"name": name}})
    return name
