"""`kyb server`: the control plane and a local node in one process.

It starts every component that exists and is not disabled — the API server
(`apiserver.running_apiserver`: store, PKI, HTTPS, admin kubeconfig), then the
scheduler and the controller manager as its clients — prints where the kubeconfig is, and runs
until SIGINT or SIGTERM, then shuts every component down before closing the store.
Startup errors (bad endpoint, corrupt database, unreachable etcd, port in use) are
one line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .apiserver import APIServerOptions, prepare, run_component, running_apiserver
from .controllermanager import run_controllers
from .scheduler import serve_scheduler

COMPONENTS = frozenset(
    {"scheduler", "controller-manager", "proxy", "dns", "kubelet", "metrics-server"}
)
RUNTIMES = frozenset({"oci", "process", "simulated"})


def default_data_dir() -> Path:
    """/var/lib/kybernetes for root, else ~/.local/share/kybernetes."""
    if os.geteuid() == 0:
        return Path("/var/lib/kybernetes")
    return Path.home() / ".local" / "share" / "kybernetes"


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
    token_auth_file: str | None = None

    @property
    def node(self) -> str:
        return self.node_name or socket.gethostname().lower()

    def apiserver_options(self) -> APIServerOptions:
        return APIServerOptions(
            data_dir=Path(self.data_dir),
            datastore_endpoint=self.datastore_endpoint,
            bind_address=self.bind_address,
            port=self.https_listen_port,
            token_file=Path(self.token_auth_file) if self.token_auth_file else None,
            write_kubeconfig=Path(self.write_kubeconfig) if self.write_kubeconfig else None,
            watch_cache_size=self.watch_cache_size,
            hostnames=(self.node,),
        )


def run_server(options: ServerOptions) -> int:
    """Runs the server until a signal; returns the process exit status."""
    apiserver = options.apiserver_options()
    try:
        pki = prepare(apiserver)
    except (OSError, ValueError) as e:
        print(f"kyb server: error: {e}", file=sys.stderr)
        return 1

    async def main(stop: asyncio.Event) -> None:
        async with (
            running_apiserver(apiserver, pki, "kyb server") as admin,
            asyncio.TaskGroup() as tg,
        ):
            components = []
            if "scheduler" not in options.disable:
                components.append(tg.create_task(serve_scheduler(admin)))
            if "controller-manager" not in options.disable:
                components.append(tg.create_task(run_controllers(admin)))
            await stop.wait()
            for task in components:
                task.cancel()

    return run_component("kyb server", main)
