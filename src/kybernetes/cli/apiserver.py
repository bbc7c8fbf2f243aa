"""`kyb apiserver`: the API server alone, over its store, with its certificates.

`serve_apiserver` is also what `kyb server` runs: it opens the store, loads the watch
cache, makes sure the system namespaces exist, serves HTTPS (REST API, discovery,
OpenAPI, health, metrics) and follows the CustomResourceDefinitions, writes the admin
kubeconfig, and runs until `stop` is set; then it stops serving and closes the store.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver import (
    HEALTH_KEY,
    PKI,
    APIServer,
    APIServerConfig,
    HealthCheck,
    create_app,
    ensure_pki,
)
from kybernetes.apiserver.bootstrap import ensure_system_namespaces
from kybernetes.apiserver.crds import CustomResources
from kybernetes.apiserver.kubernetesservice import keep_kubernetes_service
from kybernetes.apiserver.metrics import APIMetrics, MeasuredStore
from kybernetes.apiserver.openapi import OPENAPI_KEY, add_openapi_routes
from kybernetes.apiserver.rest import API, add_api_routes
from kybernetes.apiserver.watchcache import WatchCache
from kybernetes.client import RestConfig, write_kubeconfig
from kybernetes.store import Store, StoreError, open_store


@dataclass(frozen=True)
class APIServerOptions:
    """Where the API server keeps its state and how it listens."""

    data_dir: Path
    datastore_endpoint: str | None = None
    bind_address: str = "0.0.0.0"
    port: int = 6443
    token_file: Path | None = None
    write_kubeconfig: Path | None = None
    watch_cache_size: int = 20_000
    hostnames: tuple[str, ...] = ()
    join_secret: str | None = None
    advertise_address: str | None = None
    """The address pods reach the API server at (the `kubernetes` Service's endpoint);
    default: the bind address if specific, else the machine's first global IPv4."""

    @property
    def endpoint(self) -> str:
        return self.datastore_endpoint or f"sqlite://{self.data_dir.resolve()}/state.db"

    @property
    def kubeconfig_path(self) -> Path:
        return self.write_kubeconfig or self.data_dir / "kubeconfig.yaml"

    def serving_hosts(self) -> list[str]:
        """The names and addresses the serving certificate is valid for."""
        hosts = [socket.gethostname(), *self.hostnames]
        if self.bind_address not in ("0.0.0.0", "::", ""):
            hosts.append(self.bind_address)
        return hosts


def run_component(prog: str, main: Callable[[asyncio.Event], Awaitable[None]]) -> int:
    """Runs `main(stop)` until SIGINT or SIGTERM sets `stop`; a start-up failure is one
    line `<prog>: error: …` and exit status 1."""

    async def with_signals() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main(stop)

    try:
        asyncio.run(with_signals())
    except (StoreError, OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    return 0


def prepare(options: APIServerOptions) -> PKI:
    """Creates the data directory and the cluster PKI (once). OSError/ValueError."""
    options.data_dir.mkdir(parents=True, exist_ok=True)
    return ensure_pki(options.data_dir / "pki", hosts=options.serving_hosts())


@asynccontextmanager
async def running_apiserver(
    options: APIServerOptions, pki: PKI, prog: str
) -> AsyncIterator[RestConfig]:
    """Serves while the context is entered (see the module docstring); yields the
    admin connection settings (also written as the admin kubeconfig)."""
    metrics = APIMetrics()
    store = MeasuredStore(await open_store(options.endpoint), metrics)
    try:
        config = APIServerConfig(
            pki_dir=pki.directory,
            bind_address=options.bind_address,
            port=options.port,
            token_file=options.token_file,
            join_secret=options.join_secret,
        )
        cache = WatchCache(store, history_size=options.watch_cache_size)
        api = API(store, cache, ResourceTable.builtin())
        app = create_app(store, config, metrics=metrics)
        add_api_routes(app, api)
        add_openapi_routes(app, lambda: api.table)
        app[HEALTH_KEY].add_readiness_check("store", _store_check(store))
        async with asyncio.TaskGroup() as tg:
            feeding = tg.create_task(cache.run())
            await _wait_ready(cache, feeding)
            await ensure_system_namespaces(api)
            crds = tg.create_task(CustomResources(api, app[OPENAPI_KEY].catalog).run())
            address = options.advertise_address or advertise_address(options.bind_address)
            service = tg.create_task(keep_kubernetes_service(api, address, options.port))
            async with APIServer(app, config) as server:
                admin = _admin_config(server, pki)
                path = options.kubeconfig_path
                await asyncio.to_thread(write_kubeconfig, path, admin)
                print(f"{prog}: API server listening on {server.url}", flush=True)
                print(f"{prog}: kubeconfig written to {path}", flush=True)
                yield admin
                print(f"{prog}: shutting down", flush=True)
            service.cancel()
            crds.cancel()
            feeding.cancel()
    finally:
        await store.close()


async def serve_apiserver(
    options: APIServerOptions, pki: PKI, stop: asyncio.Event, prog: str
) -> None:
    """Serves until `stop` is set."""
    async with running_apiserver(options, pki, prog):
        await stop.wait()


async def _wait_ready(cache: WatchCache, feeding: asyncio.Task[None]) -> None:
    """Waits for the watch cache's initial load (or for its failure, which raises)."""
    ready = asyncio.ensure_future(cache.ready.wait())
    await asyncio.wait({ready, feeding}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if feeding.done():
        feeding.result()


def advertise_address(bind_address: str) -> str:
    """`bind_address` if it names one non-loopback address, else the first global IPv4
    address of this machine (as `ip -4 addr` lists them), else 127.0.0.1 (which the
    `kubernetes` Endpoints cannot hold: Kubernetes forbids loopback endpoints)."""
    unspecific = bind_address in ("0.0.0.0", "::", "")
    if not unspecific and not ipaddress.ip_address(bind_address).is_loopback:
        return bind_address
    try:
        listing = subprocess.run(
            ["ip", "-4", "-o", "addr", "show", "scope", "global"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        listing = ""
    for line in listing.splitlines():
        fields = line.split()
        if "inet" in fields:
            return fields[fields.index("inet") + 1].split("/")[0]
    return "127.0.0.1"


def _store_check(store: Store) -> HealthCheck:
    async def check() -> None:
        await store.current_revision()

    return check


def _admin_config(server: APIServer, pki: PKI) -> RestConfig:
    """How the cluster's administrator (and `kyb server`'s own components) connect."""
    return RestConfig(
        server=server.url,
        ca_pem=pki.ca.cert_pem(),
        client_cert_pem=pki.admin.cert_pem(),
        client_key_pem=pki.admin.key_pem(),
    )


def run_apiserver(options: APIServerOptions) -> int:
    """`kyb apiserver`: returns the process exit status."""
    try:
        pki = prepare(options)
    except (OSError, ValueError) as e:
        print(f"kyb apiserver: error: {e}", file=sys.stderr)
        return 1
    return run_component(
        "kyb apiserver", lambda stop: serve_apiserver(options, pki, stop, "kyb apiserver")
    )
