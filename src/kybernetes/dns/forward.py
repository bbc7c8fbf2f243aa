"""`Forwarder`: names the cluster zone does not own, asked of upstream resolvers.

Like CoreDNS's `forward . /etc/resolv.conf`: the upstreams are tried in order, each
with `timeout` seconds, over the protocol the client used (a truncated UDP answer
goes back truncated, and the client retries over TCP, as it would with any
resolver). The first answer wins, whatever its rcode; when none answers the client
gets SERVFAIL. The query goes out unchanged (same ID, flags and EDNS), so the
upstream's response fits it as is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import dns.asyncquery
import dns.exception
import dns.message
import dns.rcode
import dns.resolver

from .records import is_address

Upstream = tuple[str, int]


def parse_upstream(text: str) -> Upstream:
    """`IP`, `IP:PORT`, `[IPv6]:PORT` or a bare IPv6 address -> (ip, port); ValueError."""
    host, port = text, 53
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"invalid upstream {text!r} (want IP[:PORT])")
            port = int(rest[1:])
    elif text.count(":") == 1:
        host, _, number = text.partition(":")
        if not number.isdigit():
            raise ValueError(f"invalid upstream {text!r} (want IP[:PORT])")
        port = int(number)
    if not is_address(host) or not 0 < port <= 65535:
        raise ValueError(f"invalid upstream {text!r} (want IP[:PORT])")
    return host, port


def resolv_conf_upstreams(path: Path) -> list[Upstream]:
    """The nameservers of a resolv.conf (port 53); [] when it names none; OSError if
    it cannot be read."""
    resolver = dns.resolver.Resolver(configure=False)
    with path.open() as f:
        try:
            resolver.read_resolv_conf(f)
        except dns.resolver.NoResolverConfiguration:
            return []
    return [(str(server), 53) for server in resolver.nameservers if is_address(str(server))]


class Forwarder:
    """Sends queries to `upstreams`; `on_result(upstream, rcode_text)` is told of
    each attempt ("timeout"/"error" when it failed), for metrics."""

    def __init__(
        self,
        upstreams: Sequence[Upstream],
        *,
        timeout: float = 2.0,
        on_result: Callable[[Upstream, str], None] | None = None,
    ) -> None:
        if not upstreams:
            raise ValueError("no upstream resolvers")
        self.upstreams = tuple(upstreams)
        self.timeout = timeout
        self._on_result = on_result

    async def forward(self, query: dns.message.Message, *, tcp: bool) -> dns.message.Message:
        """The first upstream answer to `query`, or a SERVFAIL response of ours."""
        for upstream in self.upstreams:
            host, port = upstream
            try:
                if tcp:
                    response = await dns.asyncquery.tcp(query, host, self.timeout, port)
                else:
                    response = await dns.asyncquery.udp(
                        query, host, self.timeout, port, ignore_unexpected=True
                    )
            except dns.exception.Timeout:
                self._report(upstream, "timeout")
                continue
            except (OSError, dns.exception.DNSException, EOFError):
                self._report(upstream, "error")
                continue
            self._report(upstream, dns.rcode.to_text(response.rcode()))
            return response
        failure = dns.message.make_response(query, recursion_available=True)
        failure.set_rcode(dns.rcode.SERVFAIL)
        return failure

    def _report(self, upstream: Upstream, result: str) -> None:
        if self._on_result is not None:
            self._on_result(upstream, result)
