"""`kyb dns`: the cluster DNS (CoreDNS with its `kubernetes` plugin), as a client of
the API.

`run_dns(rest, options)` watches Services and EndpointSlices into a `RecordIndex`,
answers the cluster domain over UDP and TCP on `bind_address:port` and forwards other
names to the upstream resolvers (`--upstream`, else the nameservers of
`--resolv-conf`, default /etc/resolv.conf; with none, they are REFUSED). It serves
/metrics and /healthz on `metrics_bind_address` (healthy once the caches synced).
Like CoreDNS it waits at most `sync_timeout` seconds for the first list before
serving, so an API server that is slow to answer does not keep DNS down. `kyb server`
can run it beside the control plane; it runs until cancelled.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kybernetes.client import APIClient, RestConfig, SharedInformerFactory, load_kubeconfig
from kybernetes.client.endpoints import serving_endpoints
from kybernetes.client.resource import ENDPOINTSLICES, SERVICES
from kybernetes.dns.answer import DEFAULT_TTL, Answerer
from kybernetes.dns.forward import Forwarder, Upstream, parse_upstream, resolv_conf_upstreams
from kybernetes.dns.metrics import DNSMetrics
from kybernetes.dns.records import RecordIndex
from kybernetes.dns.registration import keep_registered
from kybernetes.dns.server import DNSServer
from kybernetes.dns.watch import attach

from .apiserver import run_component


@dataclass(frozen=True)
class DNSOptions:
    """The cluster DNS's settings (flags of `kyb dns`). `upstreams` None: read them
    from `resolv_conf` ("" for none)."""

    bind_address: str = "0.0.0.0"
    port: int = 53
    cluster_domain: str = "cluster.local"
    upstreams: tuple[str, ...] | None = None
    resolv_conf: str = "/etc/resolv.conf"
    metrics_bind_address: str = "127.0.0.1:9153"
    ttl: int = DEFAULT_TTL
    sync_timeout: float = 5.0
    publish_service_ip: str = ""
    """When set, publish this server as `kube-system/kube-dns` at that ClusterIP
    (`dns.registration`), reachable at `advertise_address` (default: the bind address)."""
    advertise_address: str = ""

    def upstream_servers(self) -> list[Upstream]:
        """The resolvers to forward to; ValueError for a bad address, OSError for an
        unreadable resolv.conf."""
        if self.upstreams is not None:
            return [parse_upstream(u) for u in self.upstreams]
        return resolv_conf_upstreams(Path(self.resolv_conf)) if self.resolv_conf else []


async def run_dns(
    rest: RestConfig, options: DNSOptions, *, started: Callable[[int], None] | None = None
) -> None:
    """Serves DNS until cancelled; `started(port)` is called once queries are
    answered. OSError if an address is taken, ValueError for bad options."""
    if not 0 <= options.port <= 65535:
        raise ValueError(f"invalid port {options.port} (0-65535)")
    upstreams = options.upstream_servers()
    metrics = DNSMetrics(f"dns://{options.bind_address}:{options.port}")
    index = RecordIndex(options.cluster_domain)
    forwarder = Forwarder(upstreams, on_result=metrics.forwarded) if upstreams else None
    server = DNSServer(Answerer(index, ttl=options.ttl), metrics, forwarder=forwarder)
    synced = False
    async with contextlib.AsyncExitStack() as stack:
        if options.metrics_bind_address:
            await stack.enter_async_context(
                serving_endpoints(options.metrics_bind_address, metrics.registry, lambda: synced)
            )
        client = await stack.enter_async_context(APIClient(rest, component="coredns"))
        factory = SharedInformerFactory(client)
        attach(index, factory.informer(SERVICES), factory.informer(ENDPOINTSLICES))
        await stack.enter_async_context(factory.running())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(options.sync_timeout):
                await factory.wait_for_cache_sync()
        port = await stack.enter_async_context(server.listening(options.bind_address, options.port))
        if started is not None:
            started(port)
        await factory.wait_for_cache_sync()
        synced = True
        if not options.publish_service_ip:
            await asyncio.Event().wait()  # only cancellation ends this
        address = options.advertise_address or options.bind_address
        if address in ("0.0.0.0", "::", ""):
            raise ValueError("publishing the DNS Service needs a specific --advertise-address")
        metrics_port = int(options.metrics_bind_address.rpartition(":")[2] or 0)
        await keep_registered(
            client,
            service_ip=options.publish_service_ip,
            address=address,
            port=port,
            metrics_port=metrics_port,
        )


def add_dns_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """`kyb dns` and its flags."""
    p = commands.add_parser(
        "dns",
        help="run the cluster DNS against an API server",
        description="Serve the cluster domain's Service and pod records (CoreDNS).",
    )
    defaults = DNSOptions()
    p.add_argument("--kubeconfig", required=True, help="how to reach the API")
    p.add_argument("--bind-address", default=defaults.bind_address, help="UDP and TCP address")
    p.add_argument("--port", type=int, default=defaults.port, help="UDP and TCP port")
    p.add_argument("--cluster-domain", default=defaults.cluster_domain)
    p.add_argument(
        "--upstream",
        action="append",
        default=None,
        metavar="IP[:PORT]",
        help="resolver for names outside the cluster domain (repeatable; default: "
        "the nameservers of --resolv-conf)",
    )
    p.add_argument(
        "--resolv-conf",
        default=defaults.resolv_conf,
        help="where to find upstream resolvers without --upstream ('' for none: REFUSED)",
    )
    p.add_argument("--ttl", type=int, default=defaults.ttl, help="TTL of the zone's records")
    p.add_argument(
        "--publish-service-ip",
        default="",
        help="publish this server as the kube-system/kube-dns Service at this ClusterIP",
    )
    p.add_argument(
        "--advertise-address", default="", help="the address the Service's endpoint names"
    )
    p.add_argument(
        "--metrics-bind-address",
        default=defaults.metrics_bind_address,
        help="HOST:PORT serving /metrics and /healthz over HTTP ('' disables)",
    )


def run_dns_command(args: argparse.Namespace) -> int:
    """`kyb dns`: returns the process exit status."""
    prog = "kyb dns"
    try:
        rest = load_kubeconfig(Path(args.kubeconfig))
    except (OSError, ValueError) as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    options = DNSOptions(
        bind_address=args.bind_address,
        port=args.port,
        cluster_domain=args.cluster_domain,
        upstreams=tuple(args.upstream) if args.upstream is not None else None,
        resolv_conf=args.resolv_conf,
        metrics_bind_address=args.metrics_bind_address,
        ttl=args.ttl,
        publish_service_ip=args.publish_service_ip,
        advertise_address=args.advertise_address,
    )

    def started(port: int) -> None:
        print(
            f"{prog}: serving {options.cluster_domain} on {options.bind_address}:{port}", flush=True
        )

    async def main(stop: asyncio.Event) -> None:
        serving = asyncio.create_task(run_dns(rest, options, started=started))
        stopping = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            serving.cancel()
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving  # re-raises a start-up failure (OSError: address in use)

    return run_component(prog, main)
