"""The DNS server: its synchronous core, and UDP/TCP on loopback with a fake upstream."""

from __future__ import annotations

import asyncio

import dns.asyncquery
import dns.flags
import dns.message
import dns.rcode
import pytest
from prometheus_client import CollectorRegistry

from kybernetes.client import FakeClock
from kybernetes.dns.answer import Answerer
from kybernetes.dns.forward import Forwarder
from kybernetes.dns.metrics import DNSMetrics
from kybernetes.dns.records import RecordIndex
from kybernetes.dns.server import DNSServer, Pending

from .conftest import UPSTREAM_ANSWER, FakeUpstream, endpoint, endpoint_slice, service

Z = "cluster.local."


def make_server(
    upstream: FakeUpstream | None = None, *, clock: FakeClock | None = None, max_pending: int = 10
) -> DNSServer:
    index = RecordIndex()
    index.set_service(service("web"))
    index.set_service(service("big", cluster_ips=("None",)))
    addresses = [f"10.42.{i // 250}.{i % 250 + 1}" for i in range(100)]
    index.set_slice(endpoint_slice("big-1", "big", [endpoint(a) for a in addresses]))
    forwarder = Forwarder([("127.0.0.1", upstream.port)], timeout=1.0) if upstream else None
    return DNSServer(
        Answerer(index),
        DNSMetrics("dns://127.0.0.1:0"),
        forwarder=forwarder,
        clock=clock,
        max_pending=max_pending,
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


def test_receive_answers_the_zone_and_measures_it() -> None:
    clock = FakeClock()
    server = make_server(clock=clock)
    query = dns.message.make_query(f"web.default.svc.{Z}", "A")
    wire = server.receive(query.to_wire(), tcp=False, family="1")
    assert isinstance(wire, bytes)
    response = dns.message.from_wire(wire)
    assert response.id == query.id and [str(r) for r in response.answer[0]] == ["10.43.0.20"]
    registry = server.metrics.registry
    labels = {"server": "dns://127.0.0.1:0", "zone": ".", "view": ""}
    assert (
        sample(registry, "coredns_dns_requests_total", **labels, proto="udp", family="1", type="A")
        == 1
    )
    assert (
        sample(
            registry, "coredns_dns_responses_total", **labels, rcode="NOERROR", plugin="kubernetes"
        )
        == 1
    )
    assert sample(registry, "coredns_dns_request_duration_seconds_count", **labels, type="A") == 1


async def test_receive_bad_packets() -> None:
    server = make_server()
    assert server.receive(b"\x00\x01", tcp=False, family="1") is None  # shorter than a header
    garbage = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xff\xff"
    formerr = server.receive(garbage, tcp=False, family="1")
    assert isinstance(formerr, bytes)
    parsed = dns.message.from_wire(formerr)
    assert parsed.id == 0x1234 and parsed.rcode() == dns.rcode.FORMERR
    assert parsed.flags & dns.flags.QR
    response = dns.message.make_response(dns.message.make_query(f"web.default.svc.{Z}", "A"))
    assert server.receive(response.to_wire(), tcp=False, family="1") is None


async def test_big_udp_answers_are_truncated_unless_edns_or_tcp_allow_them() -> None:
    server = make_server()
    query = dns.message.make_query(f"big.default.svc.{Z}", "A")
    udp = server.receive(query.to_wire(), tcp=False, family="1")
    assert isinstance(udp, bytes) and len(udp) <= 512
    assert dns.message.from_wire(udp).flags & dns.flags.TC
    tcp = server.receive(query.to_wire(), tcp=True, family="1")
    assert isinstance(tcp, bytes)
    assert len(dns.message.from_wire(tcp).answer[0]) == 100
    edns = dns.message.make_query(f"big.default.svc.{Z}", "A", use_edns=0, payload=4096)
    big = server.receive(edns.to_wire(), tcp=False, family="1")
    assert isinstance(big, bytes) and len(big) > 512
    assert not dns.message.from_wire(big).flags & dns.flags.TC


async def test_outside_names_are_refused_without_an_upstream() -> None:
    server = make_server()
    wire = server.receive(
        dns.message.make_query("example.com.", "A").to_wire(), tcp=False, family="1"
    )
    assert isinstance(wire, bytes)
    assert dns.message.from_wire(wire).rcode() == dns.rcode.REFUSED


async def test_too_many_pending_forwards_get_servfail(upstream: FakeUpstream) -> None:
    server = make_server(upstream, max_pending=0)
    wire = server.receive(
        dns.message.make_query("example.com.", "A").to_wire(), tcp=False, family="1"
    )
    assert isinstance(wire, bytes)
    assert dns.message.from_wire(wire).rcode() == dns.rcode.SERVFAIL
    assert upstream.asked == []


async def test_forwarding_is_pending_then_answered(upstream: FakeUpstream) -> None:
    server = make_server(upstream)
    query = dns.message.make_query("example.com.", "A")
    pending = server.receive(query.to_wire(), tcp=False, family="1")
    assert isinstance(pending, Pending)
    reply = dns.message.from_wire(await server.forward(pending))
    assert reply.id == query.id and [str(r) for r in reply.answer[0]] == [UPSTREAM_ANSWER]
    assert (
        sample(
            server.metrics.registry,
            "coredns_dns_responses_total",
            server="dns://127.0.0.1:0",
            zone=".",
            view="",
            rcode="NOERROR",
            plugin="forward",
        )
        == 1
    )


async def test_udp_and_tcp_on_loopback(upstream: FakeUpstream) -> None:
    server = make_server(upstream)
    async with server.listening("127.0.0.1", 0) as port:
        name = f"web.default.svc.{Z}"
        for query_over in (dns.asyncquery.udp, dns.asyncquery.tcp):
            response = await query_over(dns.message.make_query(name, "A"), "127.0.0.1", 2, port)
            assert [str(r) for r in response.answer[0]] == ["10.43.0.20"]
            outside = await query_over(
                dns.message.make_query("example.com.", "A"), "127.0.0.1", 2, port
            )
            assert [str(r) for r in outside.answer[0]] == [UPSTREAM_ANSWER]
            missing = await query_over(dns.message.make_query(f"x.{Z}", "A"), "127.0.0.1", 2, port)
            assert missing.rcode() == dns.rcode.NXDOMAIN
        # several queries on one TCP connection, answered in order
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        queries = [dns.message.make_query(name, "A") for _ in range(3)]
        writer.write(b"".join(q.to_wire(prepend_length=True) for q in queries))
        for q in queries:
            size = int.from_bytes(await reader.readexactly(2), "big")
            assert dns.message.from_wire(await reader.readexactly(size)).id == q.id
        writer.close()
        await writer.wait_closed()
    assert upstream.asked == ["example.com.", "example.com."]


async def test_the_port_is_free_again_after_the_block() -> None:
    server = make_server()
    async with server.listening("127.0.0.1", 0) as port:
        pass
    async with server.listening("127.0.0.1", port) as again:
        assert again == port


async def test_a_taken_port_is_an_oserror() -> None:
    server = make_server()
    async with server.listening("127.0.0.1", 0) as port:
        with pytest.raises(OSError):
            async with make_server().listening("127.0.0.1", port):
                pass


async def test_repeated_queries_are_served_from_the_cache_until_the_index_changes() -> None:
    server = make_server()
    index = server.answerer.index

    def ask(name: str) -> dns.message.Message:
        query = dns.message.make_query(name, "A")
        wire = server.receive(query.to_wire(), tcp=False, family="1")
        assert isinstance(wire, bytes)
        response = dns.message.from_wire(wire)
        assert response.id == query.id  # each gets its own ID back
        return response

    name = f"web.default.svc.{Z}"
    assert [str(r) for r in ask(name).answer[0]] == ["10.43.0.20"]
    assert [str(r) for r in ask(name).answer[0]] == ["10.43.0.20"]
    assert str(ask(name.upper()).answer[0].name) == name.upper()  # its own entry
    index.set_service(service("web", cluster_ips=("10.43.0.21",)))
    assert [str(r) for r in ask(name).answer[0]] == ["10.43.0.21"]
    index.delete_service("default", "web")
    assert ask(name).rcode() == dns.rcode.NXDOMAIN
    labels = {"server": "dns://127.0.0.1:0", "zone": ".", "view": ""}
    registry = server.metrics.registry
    assert (
        sample(registry, "coredns_dns_requests_total", **labels, proto="udp", family="1", type="A")
        == 5
    )


async def test_a_full_cache_starts_over() -> None:
    index = RecordIndex()
    index.set_service(service("web"))
    server = DNSServer(Answerer(index), DNSMetrics("x"), cache_size=2)
    for name in ("web", "a", "b", "web"):
        query = dns.message.make_query(f"{name}.default.svc.{Z}", "A")
        wire = server.receive(query.to_wire(), tcp=False, family="1")
        assert isinstance(wire, bytes)
        expected = dns.rcode.NOERROR if name == "web" else dns.rcode.NXDOMAIN
        assert dns.message.from_wire(wire).rcode() == expected


async def test_an_external_name_is_resolved_upstream(upstream: FakeUpstream) -> None:
    server = make_server(upstream)
    ext = service("ext", cluster_ips=(), ports=(), type="ExternalName")
    ext["spec"]["externalName"] = "db.example.com"
    server.answerer.index.set_service(ext)
    query = dns.message.make_query(f"ext.default.svc.{Z}", "A")
    pending = server.receive(query.to_wire(), tcp=False, family="1")
    assert isinstance(pending, Pending)
    response = dns.message.from_wire(await server.forward(pending))
    assert response.id == query.id and response.rcode() == dns.rcode.NOERROR
    assert [(str(r.name), str(r[0])) for r in response.answer] == [
        (f"ext.default.svc.{Z}", "db.example.com."),
        ("db.example.com.", UPSTREAM_ANSWER),
    ]
    assert upstream.asked == ["db.example.com."]
    cname = dns.message.make_query(f"ext.default.svc.{Z}", "CNAME")
    assert isinstance(server.receive(cname.to_wire(), tcp=False, family="1"), bytes)
    alone = make_server()  # no upstream: the CNAME alone
    alone.answerer.index.set_service(ext)
    wire = alone.receive(query.to_wire(), tcp=False, family="1")
    assert isinstance(wire, bytes) and len(dns.message.from_wire(wire).answer) == 1
