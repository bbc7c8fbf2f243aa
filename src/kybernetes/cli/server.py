"""`kyb server`: the control plane and a local node.

It starts every component that exists and is not disabled — the API server
(`apiserver.running_apiserver`: store, PKI, HTTPS, admin kubeconfig) in this process,
then the scheduler and the controller manager as child processes (`supervisor`:
restarted if they die, stopped with the server) that connect with the admin
kubeconfig, and the local kubelet — prints where the kubeconfig is
and where the join token for `kyb agent` is (DATA_DIR/server/token, 0600; the API
server serves /kyb/v1/join for it, see `apiserver.join`), and runs
until SIGINT or SIGTERM, then shuts every component down before closing the store.
Startup errors (bad endpoint, corrupt database, unreachable etcd, port in use) are
one line on stderr and exit status 1.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from kybernetes.apiserver.join import ensure_join_token

from .apiserver import (
    APIServerOptions,
    advertise_address,
    prepare,
    run_component,
    running_apiserver,
)
from .kubelet import local_kubelet_options, serve_kubelet
from .supervisor import kyb_command, supervise

COMPONENTS = frozenset(
    {"scheduler", "controller-manager", "proxy", "dns", "kubelet", "metrics-server"}
)
RUNTIMES = frozenset({"oci", "process", "simulated"})
CLUSTER_DNS_IP = "10.43.0.10"
CLUSTER_CIDR = "10.42.0.0/16"


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
    kubelet_port: int = 10250
    node_ip: str = ""

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
            hostnames=(self.node, self.node_ip) if self.node_ip else (self.node,),
        )


def _runs_node(options: ServerOptions) -> bool:
    return not options.disable_agent and "kubelet" not in options.disable


def _runs_dns(options: ServerOptions) -> bool:
    return _runs_node(options) and "dns" not in options.disable


def _child_components(options: ServerOptions, kubeconfig: str) -> list[tuple[str, list[str]]]:
    """The components `kyb server` runs as child processes (so that they use other
    cores than the API server's): (name, argv) of each enabled one. The proxy and the
    DNS belong to the local node: they run only with it. The DNS listens on the node's
    address and publishes itself as `kube-system/kube-dns` at `CLUSTER_DNS_IP`."""
    children = []
    if "scheduler" not in options.disable:
        argv = ["scheduler", "--kubeconfig", kubeconfig, "--metrics-bind-address", ""]
        children.append(("scheduler", kyb_command(*argv)))
    if "controller-manager" not in options.disable:
        children.append(
            ("controller-manager", kyb_command("controller-manager", "--kubeconfig", kubeconfig))
        )
    if _runs_node(options) and "proxy" not in options.disable:
        argv = ["proxy", "--kubeconfig", kubeconfig, "--node-name", options.node]
        children.append(("proxy", kyb_command(*argv, "--cluster-cidr", CLUSTER_CIDR)))
    if _runs_dns(options):
        address = options.node_ip or advertise_address(options.bind_address)
        argv = ["dns", "--kubeconfig", kubeconfig, "--bind-address", address]
        argv += ["--publish-service-ip", CLUSTER_DNS_IP, "--metrics-bind-address", ""]
        children.append(("dns", kyb_command(*argv)))
    return children


def run_server(options: ServerOptions) -> int:
    """Runs the server until a signal; returns the process exit status."""
    apiserver = options.apiserver_options()
    try:
        pki = prepare(apiserver)
        token_path = Path(options.data_dir) / "server" / "token"
        token = ensure_join_token(token_path, pki.ca.cert_pem())
    except (OSError, ValueError) as e:
        print(f"kyb server: error: {e}", file=sys.stderr)
        return 1
    apiserver = replace(apiserver, join_secret=token.secret)

    async def main(stop: asyncio.Event) -> None:
        async with (
            running_apiserver(apiserver, pki, "kyb server") as admin,
            asyncio.TaskGroup() as tg,
        ):
            print(f"kyb server: join token written to {token_path}", flush=True)
            components = []
            kubeconfig = str(apiserver.kubeconfig_path)
            for name, argv in _child_components(options, kubeconfig):
                components.append(tg.create_task(supervise(name, argv)))
            if not options.disable_agent and "kubelet" not in options.disable:
                kubelet = local_kubelet_options(
                    pki, Path(options.data_dir), options.node, options.runtime, options.kubelet_port
                )
                if options.node_ip:
                    kubelet = replace(kubelet, node_ip=options.node_ip)
                if _runs_dns(options):
                    kubelet = replace(kubelet, cluster_dns=(CLUSTER_DNS_IP,))
                components.append(tg.create_task(serve_kubelet(admin, kubelet)))
            await stop.wait()
            for task in components:
                task.cancel()

    return run_component("kyb server", main)
