"""The DNS server's Prometheus metrics, under CoreDNS's names and labels.

- `coredns_dns_requests_total{server,zone,view,proto,family,type}`
- `coredns_dns_responses_total{server,zone,view,rcode,plugin}` (`plugin`: `kubernetes`
  for the zone's own answers, `forward` for upstream ones, "" for errors of ours)
- `coredns_dns_request_duration_seconds{server,zone,view,type}` (CoreDNS's buckets:
  0.25 ms doubling 16 times)
- `coredns_forward_requests_total{to}`, `coredns_forward_responses_total{to,rcode}`
  (`rcode` is `timeout` or `error` when the upstream did not answer)

`zone` is always "." (CoreDNS's default Corefile has one server block, `.:53`);
`type` is the query type for the common ones and `other` otherwise, as CoreDNS does.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Histogram

BUCKETS: Final = tuple(0.00025 * 2**i for i in range(16))
KNOWN_TYPES: Final = frozenset(
    [
        "A",
        "AAAA",
        "ANY",
        "CNAME",
        "DNSKEY",
        "DS",
        "HTTPS",
        "IXFR",
        "AXFR",
        "MX",
        "NS",
        "NSEC",
        "NSEC3",
        "PTR",
        "RRSIG",
        "SOA",
        "SRV",
        "SVCB",
        "TXT",
    ]
)


class DNSMetrics:
    """The counters and histogram above, in their own registry."""

    def __init__(self, server: str, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.server = server
        self.requests = Counter(
            "coredns_dns_requests_total",
            "Counter of DNS requests made per zone, protocol and family.",
            ["server", "zone", "view", "proto", "family", "type"],
            registry=self.registry,
        )
        self.responses = Counter(
            "coredns_dns_responses_total",
            "Counter of response status codes.",
            ["server", "zone", "view", "rcode", "plugin"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "coredns_dns_request_duration_seconds",
            "Histogram of the time (in seconds) each request took per zone.",
            ["server", "zone", "view", "type"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        # the labelled series of each label combination seen, looked up once
        self._children: dict[tuple[str, ...], tuple[Counter, Counter, Histogram]] = {}
        self.forward_requests = Counter(
            "coredns_forward_requests_total",
            "Counter of requests made per upstream.",
            ["to"],
            registry=self.registry,
        )
        self.forward_responses = Counter(
            "coredns_forward_responses_total",
            "Counter of responses received per upstream.",
            ["to", "rcode"],
            registry=self.registry,
        )

    def observe(
        self, *, proto: str, family: str, qtype: str, rcode: str, plugin: str, seconds: float
    ) -> None:
        """One request answered: its type (see `type_label`), rcode text and duration."""
        key = (proto, family, qtype, rcode, plugin)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(self.server, ".", "", proto, family, qtype),
                self.responses.labels(self.server, ".", "", rcode, plugin),
                self.duration.labels(self.server, ".", "", qtype),
            )
        requests, responses, duration = children
        requests.inc()
        responses.inc()
        duration.observe(seconds)

    def forwarded(self, upstream: tuple[str, int], result: str) -> None:
        """One attempt at an upstream and its result (an rcode, `timeout` or `error`)."""
        to = f"{upstream[0]}:{upstream[1]}"
        self.forward_requests.labels(to).inc()
        self.forward_responses.labels(to, result).inc()


def type_label(qtype: str) -> str:
    return qtype if qtype in KNOWN_TYPES else "other"
