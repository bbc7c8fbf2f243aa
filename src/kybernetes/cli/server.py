"""`kyb server`: the control plane and a local node in one process.

It opens the store, starts every component that exists and is not disabled, writes
the admin kubeconfig, prints its path, and runs until SIGINT or SIGTERM, then shuts
every component down before closing the store. Startup errors (bad endpoint, corrupt
database, unreachable etcd, port in use) are one line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sys
from dataclasses import dataclass, field
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
from kybernetes.apiserver.metrics import APIMetrics, MeasuredStore
from kybernetes.apiserver.openapi import OPENAPI_KEY, add_openapi_routes
from kybernetes.apiserver.rest import API, add_api_routes
from kybernetes.apiserver.watchcache import WatchCache
from kybernetes.client import RestConfig, write_kubeconfig
from kybernetes.store import Store, StoreError, open_store

COMPONENTS = frozenset(
    {"scheduler", "controller-manager", "proxy", "dns", "kubelet", "metrics-server"}
)
RUNTIMES = frozenset({"oci", "process", "simulated"})


def default_data_dir() -> Path:
    """/var/lib/kybernetes for root, else ~/.local/share/kybernetes."""
    if os.geteuid() == 0:
        return Path("/var/lib/kybernetes")
    return Path.home() / ".local" / "share" / "kybernetes"


def default_runtime() -> str:
    """`oci` when running as root with runc present, else `process`."""
    return "oci" if os.geteuid() == 0 and shutil.which("runc") else "process"


@dataclass(frozen=True)
class ServerOptions:
    """The flags of `kyb server` (DESIGN.md's command contract)."""

    data_dir: str
    datastore_endpoint: str | None = None
    bind_address: str = "0.0.0.0"
    https_listen_port: int = 6443
    write_kubeconfig: str | None = None
    node_name: str | None = None
    runtime: str | None = None
    disable_agent: bool = False
    disable: frozenset[str] = field(default_factory=frozenset)
    watch_cache_size: int = 20_000

    @property
    def endpoint(self) -> str:
        return self.datastore_endpoint or f"sqlite://{Path(self.data_dir).resolve()}/state.db"

    @property
    def kubeconfig_path(self) -> Path:
        return Path(self.write_kubeconfig or Path(self.data_dir) / "kubeconfig.yaml")

    @property
    def node(self) -> str:
        return self.node_name or socket.gethostname().lower()


def run_server(options: ServerOptions) -> int:
    """Runs the server until a signal; returns the process exit status."""
    data_dir = Path(options.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        pki = ensure_pki(data_dir / "pki", hosts=_serving_hosts(options))
        asyncio.run(_serve(options, pki))
    except (StoreError, OSError, ValueError) as e:
        print(f"kyb server: error: {e}", file=sys.stderr)
        return 1
    return 0


def _serving_hosts(options: ServerOptions) -> list[str]:
    hosts = [options.node, socket.gethostname()]
    if options.bind_address not in ("0.0.0.0", "::", ""):
        hosts.append(options.bind_address)
    return hosts


async def _serve(options: ServerOptions, pki: PKI) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    metrics = APIMetrics()
    store = MeasuredStore(await open_store(options.endpoint), metrics)
    try:
        config = APIServerConfig(
            pki_dir=pki.directory,
            bind_address=options.bind_address,
            port=options.https_listen_port,
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
            async with APIServer(app, config) as server:
                await asyncio.to_thread(
                    _write_admin_kubeconfig, options.kubeconfig_path, server, pki
                )
                print(f"kyb server: API server listening on {server.url}", flush=True)
                print(f"kyb server: kubeconfig written to {options.kubeconfig_path}", flush=True)
                await stop.wait()
                print("kyb server: shutting down", flush=True)
            crds.cancel()
            feeding.cancel()
    finally:
        await store.close()


async def _wait_ready(cache: WatchCache, feeding: asyncio.Task[None]) -> None:
    """Waits for the watch cache's initial load (or for its failure, which raises)."""
    ready = asyncio.ensure_future(cache.ready.wait())
    await asyncio.wait({ready, feeding}, return_when=asyncio.FIRST_COMPLETED)
    ready.cancel()
    if feeding.done():
        feeding.result()


def _store_check(store: Store) -> HealthCheck:
    async def check() -> None:
        await store.current_revision()

    return check


def _write_admin_kubeconfig(path: Path, server: APIServer, pki: PKI) -> None:
    write_kubeconfig(
        path,
        RestConfig(
            server=server.url,
            ca_pem=pki.ca.cert_pem(),
            client_cert_pem=pki.admin.cert_pem(),
            client_key_pem=pki.admin.key_pem(),
        ),
    )
