"""`run_dns` against an in-process API server: records follow the API, over UDP and
TCP, with /metrics and /healthz served."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import dns.asyncquery
import dns.message
import dns.rcode
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kybernetes.cli.dns import DNSOptions, run_dns
from kybernetes.client import APIClient, RestConfig
from kybernetes.client.resource import ENDPOINTSLICES, SERVICES
from tests.unit.client.conftest import Server

from .conftest import UPSTREAM_ANSWER, FakeUpstream, endpoint, endpoint_slice, service


@contextlib.asynccontextmanager
async def running_dns(server: Server, options: DNSOptions) -> AsyncIterator[int]:
    started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_dns(server.config, options, started=started.set_result))
    either: set[asyncio.Future[Any]] = {started, task}
    try:
        done, _ = await asyncio.wait(either, timeout=10, return_when="FIRST_COMPLETED")
        if task in done:
            task.result()
        yield started.result()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Polls `check` until it answers True; TimeoutError after 5 seconds."""
    async with asyncio.timeout(5):
        while True:
            if await check():
                return
            await asyncio.sleep(0.02)  # a bounded poll of the server, not a wait for time


async def ask(port: int, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return await dns.asyncquery.tcp(query, "127.0.0.1", 2, port)
    return await dns.asyncquery.udp(query, "127.0.0.1", 2, port)


async def test_records_follow_services_and_slices(
    server: Server, client: APIClient, namespace: str, upstream: FakeUpstream
) -> None:
    options = DNSOptions(
        bind_address="127.0.0.1",
        port=0,
        upstreams=(f"127.0.0.1:{upstream.port}",),
        metrics_bind_address="",
    )
    await client.create(SERVICES, service("db", namespace, cluster_ips=("None",)))
    async with running_dns(server, options) as port:
        name = f"db.{namespace}.svc.cluster.local."
        assert (await ask(port, name)).rcode() == dns.rcode.NXDOMAIN  # no endpoints yet
        eps = endpoint_slice(
            "db-1", "db", [endpoint("10.42.0.5", hostname="db-0")], namespace=namespace
        )
        await client.create(ENDPOINTSLICES, eps)

        async def has_endpoint() -> bool:
            response = await ask(port, name, tcp=True)
            return bool(response.answer) and [str(r) for r in response.answer[0]] == ["10.42.0.5"]

        await eventually(has_endpoint)
        host = await ask(port, f"db-0.{name}")
        assert [str(r) for r in host.answer[0]] == ["10.42.0.5"]
        outside = await ask(port, "example.com.")
        assert [str(r) for r in outside.answer[0]] == [UPSTREAM_ANSWER]
        await client.delete(SERVICES, "db", namespace=namespace)

        async def gone() -> bool:
            return (await ask(port, name)).rcode() == dns.rcode.NXDOMAIN

        await eventually(gone)


async def test_metrics_and_health(server: Server, client: APIClient, namespace: str) -> None:
    with socket.socket() as s:  # run_dns does not tell the metrics port: pick a free one
        s.bind(("127.0.0.1", 0))
        metrics_port = s.getsockname()[1]
    options = DNSOptions(
        bind_address="127.0.0.1",
        port=0,
        upstreams=(),
        metrics_bind_address=f"127.0.0.1:{metrics_port}",
    )
    await client.create(SERVICES, service("web", namespace))
    async with running_dns(server, options) as port, aiohttp.ClientSession() as http:
        response = await ask(port, f"web.{namespace}.svc.cluster.local.")
        assert [str(r) for r in response.answer[0]] == ["10.43.0.20"]
        assert (await ask(port, "example.com.")).rcode() == dns.rcode.REFUSED
        base = f"http://127.0.0.1:{metrics_port}"

        async def healthy() -> bool:
            async with http.get(f"{base}/healthz") as r:
                return r.status == 200

        await eventually(healthy)
        async with http.get(f"{base}/metrics") as r:
            text = await r.text()
        samples = {
            (sample.name, sample.labels.get("type"), sample.labels.get("rcode")): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.labels.get("proto", "udp") == "udp"
        }
        assert samples[("coredns_dns_requests_total", "A", None)] >= 2
        assert samples[("coredns_dns_responses_total", None, "REFUSED")] == 1
        assert samples[("coredns_dns_request_duration_seconds_count", "A", None)] >= 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (DNSOptions(port=70000), "invalid port"),
        (DNSOptions(port=0, upstreams=("dns.google",)), "invalid upstream"),
    ],
)
async def test_bad_options_fail_before_serving(options: DNSOptions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await run_dns(RestConfig("https://127.0.0.1:1"), options)


async def test_upstreams_come_from_resolv_conf(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 192.0.2.1\n")
    assert DNSOptions(resolv_conf=str(conf)).upstream_servers() == [("192.0.2.1", 53)]
    assert DNSOptions(resolv_conf="").upstream_servers() == []
    assert DNSOptions(resolv_conf=str(conf), upstreams=()).upstream_servers() == []
