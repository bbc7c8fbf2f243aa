"""A component's own HTTP endpoints: /metrics, /healthz, /livez, /readyz and /health.

kube-scheduler, kube-proxy and the kubelet each serve their Prometheus metrics and a
health check on a port of their own; `serving_endpoints(address, registry, healthy)`
does the same for ours while the context is entered. `address` is "HOST:PORT" (port 0
picks a free one; the bound port is `Endpoints.port`). `healthy()` decides between
200 "ok" and 503; it must be cheap. Plain HTTP: bind it to loopback unless the network
is trusted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry
from prometheus_client.exposition import generate_latest


@dataclass(frozen=True)
class Endpoints:
    host: str
    port: int


def parse_address(address: str) -> tuple[str, int]:
    """ "HOST:PORT" (IPv6 hosts in brackets); ValueError naming the problem."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid address {address!r} (want HOST:PORT)")
    return host.strip("[]") or "0.0.0.0", int(port)


@asynccontextmanager
async def serving_endpoints(
    address: str, registry: CollectorRegistry, healthy: Callable[[], bool] = lambda: True
) -> AsyncIterator[Endpoints]:
    """Serves the endpoints while the block runs; OSError if the address is taken."""
    host, port = parse_address(address)

    async def metrics(request: web.Request) -> web.Response:
        body = generate_latest(registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(request: web.Request) -> web.Response:
        if healthy():
            return web.Response(text="ok")
        return web.Response(status=503, text="unhealthy")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    for path in ("/healthz", "/livez", "/readyz", "/health"):
        app.router.add_get(path, health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        yield Endpoints(host, int(bound))
    finally:
        await runner.cleanup()
