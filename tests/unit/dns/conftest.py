"""Fixtures of the DNS tests: API object builders and a fake upstream resolver.

`upstream` is a tiny resolver of the test's own on 127.0.0.1 (UDP and TCP on one
free port) that answers every A query with 192.0.2.53 and records the names it was
asked; no test ever sends a query beyond loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, cast

import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]

UPSTREAM_ANSWER = "192.0.2.53"


def service(
    name: str,
    namespace: str = "default",
    *,
    cluster_ips: tuple[str, ...] = ("10.43.0.20",),
    ports: tuple[dict[str, Any], ...] = ({"name": "http", "port": 80, "protocol": "TCP"},),
    **spec: Any,
) -> dict[str, Any]:
    """A Service; `cluster_ips=("None",)` makes it headless."""
    body: dict[str, Any] = {"ports": list(ports), **spec}
    if cluster_ips:
        body["clusterIP"] = cluster_ips[0]
        body["clusterIPs"] = list(cluster_ips)
    return {"metadata": {"name": name, "namespace": namespace}, "spec": body}


def endpoint_slice(
    name: str,
    service_name: str,
    endpoints: list[dict[str, Any]],
    *,
    namespace: str = "default",
    ports: tuple[dict[str, Any], ...] = ({"name": "http", "port": 8080, "protocol": "TCP"},),
    address_type: str = "IPv4",
) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": address_type,
        "endpoints": endpoints,
        "ports": list(ports),
    }


def endpoint(address: str, *, ready: bool | None = True, hostname: str = "") -> dict[str, Any]:
    ep: dict[str, Any] = {"addresses": [address]}
    if ready is not None:
        ep["conditions"] = {"ready": ready}
    if hostname:
        ep["hostname"] = hostname
    return ep


@dataclass
class FakeUpstream:
    port: int
    asked: list[str] = field(default_factory=list)

    def respond(self, wire: bytes) -> bytes:
        query = dns.message.from_wire(wire)
        self.asked.append(query.question[0].name.to_text())
        response = dns.message.make_response(query, recursion_available=True)
        if query.question[0].rdtype == dns.rdatatype.A:
            response.answer.append(
                dns.rrset.from_text(query.question[0].name, 60, "IN", "A", UPSTREAM_ANSWER)
            )
        return response.to_wire()


class _UpstreamUDP(asyncio.DatagramProtocol):
    def __init__(self, upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's UDP transport does not derive from DatagramTransport (3.11).
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Any) -> None:
        assert self.transport is not None
        self.transport.sendto(self.upstream.respond(data), addr)


@pytest.fixture
async def upstream() -> AsyncIterator[FakeUpstream]:
    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                size = int.from_bytes(await reader.readexactly(2), "big")
                reply = fake.respond(await reader.readexactly(size))
                writer.write(len(reply).to_bytes(2, "big") + reply)
                await writer.drain()
        writer.close()

    tcp = await asyncio.start_server(connection, "127.0.0.1", 0)
    port = int(tcp.sockets[0].getsockname()[1])
    fake = FakeUpstream(port)
    udp, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        lambda: _UpstreamUDP(fake), local_addr=("127.0.0.1", port)
    )
    try:
        yield fake
    finally:
        udp.close()
        tcp.close()
        await tcp.wait_closed()
