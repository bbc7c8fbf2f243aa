"""Upstream resolvers: parsing them, reading resolv.conf, forwarding to a fake one."""

from __future__ import annotations

from pathlib import Path

import dns.message
import dns.rcode
import pytest

from kybernetes.dns.forward import Forwarder, parse_upstream, resolv_conf_upstreams

from .conftest import UPSTREAM_ANSWER, FakeUpstream


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10.0.0.1", ("10.0.0.1", 53)),
        ("10.0.0.1:5353", ("10.0.0.1", 5353)),
        ("fd00::1", ("fd00::1", 53)),
        ("[fd00::1]", ("fd00::1", 53)),
        ("[fd00::1]:5353", ("fd00::1", 5353)),
    ],
)
def test_parse_upstream(text: str, expected: tuple[str, int]) -> None:
    assert parse_upstream(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "10.0.0.1:x", "10.0.0.1:0", "[fd00::1]x", ""])
def test_parse_upstream_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid upstream"):
        parse_upstream(text)


def test_resolv_conf_upstreams(tmp_path: Path) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("# comment\nsearch example.org\nnameserver 192.0.2.1\nnameserver fd00::53\n")
    assert resolv_conf_upstreams(conf) == [("192.0.2.1", 53), ("fd00::53", 53)]
    conf.write_text("search example.org\n")
    assert resolv_conf_upstreams(conf) == []
    with pytest.raises(OSError):
        resolv_conf_upstreams(tmp_path / "missing")


def test_a_forwarder_needs_an_upstream() -> None:
    with pytest.raises(ValueError):
        Forwarder([])


@pytest.mark.parametrize("tcp", [False, True])
async def test_forwards_over_the_clients_protocol(upstream: FakeUpstream, tcp: bool) -> None:
    results: list[tuple[tuple[str, int], str]] = []
    forwarder = Forwarder(
        [("127.0.0.1", upstream.port)], on_result=lambda u, r: results.append((u, r))
    )
    query = dns.message.make_query("example.com.", "A")
    response = await forwarder.forward(query, tcp=tcp)
    assert response.id == query.id
    assert [str(r) for r in response.answer[0]] == [UPSTREAM_ANSWER]
    assert upstream.asked == ["example.com."]
    assert results == [(("127.0.0.1", upstream.port), "NOERROR")]


async def test_a_dead_upstream_is_skipped_and_none_alive_is_servfail(
    upstream: FakeUpstream,
) -> None:
    results: list[str] = []
    dead = ("127.0.0.1", 1)  # nothing listens on port 1 of loopback: refused at once
    forwarder = Forwarder(
        [dead, ("127.0.0.1", upstream.port)], timeout=0.5, on_result=lambda u, r: results.append(r)
    )
    query = dns.message.make_query("example.com.", "A")
    response = await forwarder.forward(query, tcp=True)
    assert response.rcode() == dns.rcode.NOERROR and response.answer
    assert results == ["error", "NOERROR"]
    alone = Forwarder([dead], timeout=0.5)
    failed = await alone.forward(query, tcp=True)
    assert failed.rcode() == dns.rcode.SERVFAIL and failed.id == query.id
