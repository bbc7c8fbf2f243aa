"""`kyb proxy`: the node's service proxy (kube-proxy), as a client of the API.

`run_proxy(rest, options)` watches Services and EndpointSlices and programs this
network namespace's packet filter (nftables table `ip kube-proxy`, or iptables'
`KUBE-*` chains with `--proxy-mode iptables`) until cancelled, serving /metrics on
`metrics_bind_address` and /healthz on `healthz_bind_address`. `kyb server` and
`kyb agent` can run it beside the kubelet. `kyb proxy --cleanup` removes what either
mode programmed and exits. No sysctl is changed: NodePorts are not served on
127.0.0.0/8, which would need `route_localnet`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry

from kybernetes.client import APIClient, RestConfig, SharedInformerFactory, load_kubeconfig
from kybernetes.client.endpoints import serving_endpoints
from kybernetes.client.resource import ENDPOINTSLICES, SERVICES
from kybernetes.proxy.command import CommandError, Runner, command_runner
from kybernetes.proxy.iptables import IptablesApplier
from kybernetes.proxy.netlink import NetlinkRunner
from kybernetes.proxy.nftables import NftablesApplier
from kybernetes.proxy.proxier import Applier, Proxier
from kybernetes.proxy.rules import NodeConfig

from .apiserver import run_component

MODES = ("nftables", "iptables")


@dataclass(frozen=True)
class ProxyOptions:
    """kube-proxy's settings (flags of `kyb proxy`)."""

    node_name: str = ""
    mode: str = "nftables"
    cluster_cidr: str = ""
    nodeport_addresses: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ("10.43.0.0/16",)
    masquerade_all: bool = False
    min_sync_period: float = 0.1
    sync_period: float = 30.0
    full_sync_period: float = 3600.0
    metrics_bind_address: str = "127.0.0.1:10249"
    healthz_bind_address: str = "0.0.0.0:10256"

    def node(self) -> NodeConfig:
        return NodeConfig(
            name=self.node_name or socket.gethostname().lower(),
            cluster_cidr=self.cluster_cidr,
            nodeport_addresses=self.nodeport_addresses,
            service_cidrs=self.service_cidrs,
            masquerade_all=self.masquerade_all,
        )


def make_applier(mode: str, runner: Runner) -> Applier:
    if mode not in MODES:
        raise ValueError(f"unknown proxy mode {mode!r} (known: {', '.join(MODES)})")
    return NftablesApplier(runner) if mode == "nftables" else IptablesApplier(runner)


async def run_proxy(
    rest: RestConfig, options: ProxyOptions, *, runner: Runner | None = None
) -> None:
    """Proxies until cancelled. `runner` runs nft/iptables (default: the programs, in
    this network namespace, with nftables transactions sent over netlink when they
    can be). OSError if an endpoint address is taken."""
    registry = CollectorRegistry()
    applier = make_applier(options.mode, runner or NetlinkRunner(command_runner()))
    proxier = Proxier(
        applier,
        options.node(),
        mode=options.mode,
        registry=registry,
        min_sync_period=options.min_sync_period,
        sync_period=options.sync_period,
        full_sync_period=options.full_sync_period,
    )
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            serving_endpoints(options.healthz_bind_address, registry, proxier.healthy)
        )
        if options.metrics_bind_address != options.healthz_bind_address:
            await stack.enter_async_context(
                serving_endpoints(options.metrics_bind_address, registry, proxier.healthy)
            )
        client = await stack.enter_async_context(APIClient(rest, component="kube-proxy"))
        factory = SharedInformerFactory(client)
        proxier.attach(factory.informer(SERVICES), factory.informer(ENDPOINTSLICES))
        await stack.enter_async_context(factory.running())
        await proxier.run(factory.wait_for_cache_sync())


async def cleanup(runner: Runner | None = None) -> list[str]:
    """Removes both modes' rules; answers the errors (empty when all went well)."""
    run = runner or command_runner()
    errors = []
    for mode in MODES:
        try:
            await make_applier(mode, run).cleanup()
        except CommandError as e:
            errors.append(str(e))
    return errors


def add_proxy_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """`kyb proxy` and its flags."""
    p = commands.add_parser(
        "proxy",
        help="run the service proxy against an API server",
        description="Program this node's packet filter for Services (kube-proxy).",
    )
    defaults = ProxyOptions()
    p.add_argument("--kubeconfig", help="how to reach the API (not needed with --cleanup)")
    p.add_argument("--node-name", default="", help="node name (default: hostname)")
    p.add_argument("--proxy-mode", choices=MODES, default=defaults.mode)
    p.add_argument("--cluster-cidr", default="", help="pod CIDR: masquerade traffic from outside")
    p.add_argument(
        "--nodeport-addresses",
        default="",
        help="comma-separated CIDRs NodePorts listen on (default: every local address)",
    )
    p.add_argument("--service-cidr", default=defaults.service_cidrs[0], help="ClusterIP range")
    p.add_argument("--masquerade-all", action="store_true", help="SNAT all ClusterIP traffic")
    p.add_argument("--min-sync-period", type=float, default=defaults.min_sync_period)
    p.add_argument("--sync-period", type=float, default=defaults.sync_period)
    p.add_argument("--full-sync-period", type=float, default=defaults.full_sync_period)
    p.add_argument("--metrics-bind-address", default=defaults.metrics_bind_address)
    p.add_argument("--healthz-bind-address", default=defaults.healthz_bind_address)
    p.add_argument("--cleanup", action="store_true", help="remove the proxy's rules and exit")


def run_proxy_command(args: argparse.Namespace) -> int:
    """`kyb proxy`: returns the process exit status."""
    prog = "kyb proxy"
    if args.cleanup:
        errors = asyncio.run(cleanup())
        for error in errors:
            print(f"{prog}: error: {error}", file=sys.stderr)
        return 1 if errors else 0
    if not args.kubeconfig:
        print(f"{prog}: error: --kubeconfig is required", file=sys.stderr)
        return 1
    try:
        rest = load_kubeconfig(Path(args.kubeconfig))
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    options = ProxyOptions(
        node_name=args.node_name,
        mode=args.proxy_mode,
        cluster_cidr=args.cluster_cidr,
        nodeport_addresses=tuple(
            c.strip() for c in args.nodeport_addresses.split(",") if c.strip()
        ),
        service_cidrs=(args.service_cidr,) if args.service_cidr else (),
        masquerade_all=args.masquerade_all,
        min_sync_period=args.min_sync_period,
        sync_period=args.sync_period,
        full_sync_period=args.full_sync_period,
        metrics_bind_address=args.metrics_bind_address,
        healthz_bind_address=args.healthz_bind_address,
    )

    async def main(stop: asyncio.Event) -> None:
        proxying = asyncio.create_task(run_proxy(rest, options))
        stopping = asyncio.create_task(stop.wait())
        print(f"{prog}: running ({options.mode})", flush=True)
        try:
            await asyncio.wait({proxying, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            proxying.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await proxying  # re-raises a start-up failure (OSError: address in use)

    return run_component(prog, main)
