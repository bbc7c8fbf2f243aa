"""Pod DNS: resolv.conf parsing (Kubernetes' TestParseResolvConf table), each dnsPolicy,
dnsConfig merging and the search/nameserver limits with their warnings."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.kubelet.dns import parse_resolv_conf, pod_dns_config
from kybernetes.kubelet.runtime.interface import DNSConfig

PARSES = [
    ("", [], [], []),
    (" ", [], [], []),
    ("\n", [], [], []),
    ("\t\n\t", [], [], []),
    ("#comment\n", [], [], []),
    (" #comment\n", [], [], []),
    ("#comment\n#comment", [], [], []),
    ("nameserver 1.2.3.4", ["1.2.3.4"], [], []),
    (" nameserver 1.2.3.4", ["1.2.3.4"], [], []),
    ("\tnameserver 1.2.3.4", ["1.2.3.4"], [], []),
    ("nameserver\t1.2.3.4", ["1.2.3.4"], [], []),
    ("nameserver \t 1.2.3.4", ["1.2.3.4"], [], []),
    ("nameserver 1.2.3.4\nnameserver 5.6.7.8", ["1.2.3.4", "5.6.7.8"], [], []),
    ("nameserver 1.2.3.4 #comment", ["1.2.3.4"], [], []),
    ("search ", [], [], []),
    ("search .", [], [], []),
    ("search foo", [], ["foo"], []),
    ("search foo bar", [], ["foo", "bar"], []),
    ("search foo. bar", [], ["foo", "bar"], []),
    ("search foo bar bat\n", [], ["foo", "bar", "bat"], []),
    ("search foo\nsearch bar", [], ["bar"], []),
    ("nameserver 1.2.3.4\nsearch foo bar", ["1.2.3.4"], ["foo", "bar"], []),
    (
        "nameserver 1.2.3.4\nsearch foo\nnameserver 5.6.7.8\nsearch bar",
        ["1.2.3.4", "5.6.7.8"],
        ["bar"],
        [],
    ),
    ("#comment\nnameserver 1.2.3.4\n#comment\nsearch foo\ncomment", ["1.2.3.4"], ["foo"], []),
    ("options ndots:5 attempts:2", [], [], ["ndots:5", "attempts:2"]),
    ("options ndots:1\noptions ndots:5 attempts:3", [], [], ["ndots:5", "attempts:3"]),
    (
        "nameserver 1.2.3.4\nsearch foo\nnameserver 5.6.7.8\nsearch bar\n"
        "options ndots:5 attempts:4",
        ["1.2.3.4", "5.6.7.8"],
        ["bar"],
        ["ndots:5", "attempts:4"],
    ),
]


@pytest.mark.parametrize(("text", "servers", "searches", "options"), PARSES)
def test_parse_resolv_conf(
    text: str, servers: list[str], searches: list[str], options: list[str]
) -> None:
    assert parse_resolv_conf(text) == (servers, searches, options)


@pytest.mark.parametrize("text", ["#comment\nnameserver", "#comment\nnameserver\nsearch"])
def test_bare_nameserver_is_an_error(text: str) -> None:
    with pytest.raises(ValueError, match="nameserver list is empty"):
        parse_resolv_conf(text)


HOST = "nameserver 192.168.1.1\nsearch corp.example\noptions ndots:2 timeout:1\n"


def _pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", "namespace": "ns", "uid": "u1"}, "spec": spec}


def test_cluster_first() -> None:
    config = pod_dns_config(_pod(), cluster_dns=["10.43.0.10"], resolv_conf=HOST)
    assert config == DNSConfig(
        servers=("10.43.0.10",),
        searches=("ns.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"),
        options=("ndots:5",),
    )


def test_host_network_cluster_first_uses_the_host() -> None:
    host = DNSConfig(("192.168.1.1",), ("corp.example",), ("ndots:2", "timeout:1"))
    for policy in ("ClusterFirst", "Default"):
        pod = _pod(dnsPolicy=policy, hostNetwork=True)
        assert pod_dns_config(pod, cluster_dns=["10.43.0.10"], resolv_conf=HOST) == host
    pod = _pod(dnsPolicy="ClusterFirstWithHostNet", hostNetwork=True)
    assert pod_dns_config(pod, cluster_dns=["10.43.0.10"], resolv_conf=HOST).servers == (
        "10.43.0.10",
    )


def test_missing_cluster_dns_falls_back_to_default() -> None:
    warnings: list[tuple[str, str]] = []
    config = pod_dns_config(
        _pod(), cluster_dns=[], resolv_conf=HOST, warn=lambda *w: warnings.append(w)
    )
    assert config.servers == ("192.168.1.1",)
    assert warnings == [
        (
            "MissingClusterDNS",
            'pod: "p_ns(u1)". kubelet does not have ClusterDNS IP configured and cannot create '
            'Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
        )
    ]


def test_no_resolv_conf_means_localhost() -> None:
    pod = _pod(dnsPolicy="Default")
    config = pod_dns_config(pod, cluster_dns=[], resolv_conf=None, node_ips=["10.0.0.1", "fd00::1"])
    assert config == DNSConfig(servers=("127.0.0.1", "::1"), searches=(".",), options=())
    assert pod_dns_config(pod, cluster_dns=[], resolv_conf=None).servers == ("127.0.0.1",)


def test_none_with_dns_config_and_merging() -> None:
    dns_config = {
        "nameservers": ["1.1.1.1", "1.1.1.1"],
        "searches": ["a.example"],
        "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}],
    }
    assert pod_dns_config(
        _pod(dnsPolicy="None", dnsConfig=dns_config), cluster_dns=["10.43.0.10"], resolv_conf=HOST
    ) == DNSConfig(("1.1.1.1",), ("a.example",), ("ndots:2", "edns0"))
    merged = pod_dns_config(
        _pod(dnsConfig={**dns_config, "searches": ["svc.cluster.local", "b"]}),
        cluster_dns=["10.43.0.10"],
        resolv_conf=HOST,
    )
    assert merged.servers == ("10.43.0.10", "1.1.1.1")
    assert merged.searches[-2:] == ("corp.example", "b")
    assert merged.options == ("ndots:2", "edns0")


def test_limits_are_applied_with_warnings() -> None:
    warnings: list[tuple[str, str]] = []
    dns_config = {
        "nameservers": ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"],
        "searches": [f"s{i}.example" for i in range(40)],
    }
    config = pod_dns_config(
        _pod(dnsPolicy="None", dnsConfig=dns_config),
        cluster_dns=[],
        warn=lambda *w: warnings.append(w),
    )
    assert config.servers == ("1.1.1.1", "2.2.2.2", "3.3.3.3")
    assert config.searches == tuple(f"s{i}.example" for i in range(32))
    assert [reason for reason, _ in warnings] == ["DNSConfigForming", "DNSConfigForming"]
    assert warnings[0][1] == (
        "Nameserver limits were exceeded, some nameservers have been omitted, the applied "
        "nameserver line is: 1.1.1.1 2.2.2.2 3.3.3.3"
    )
    assert warnings[1][1].startswith(
        "Search Line limits were exceeded, some search paths have been omitted, the applied "
        "search line is: s0.example s1.example"
    )
    long_names = {"searches": ["x" * 254, *("y" * 250 + str(i) for i in range(10))]}
    config = pod_dns_config(_pod(dnsPolicy="None", dnsConfig=long_names), cluster_dns=[])
    assert len(" ".join(config.searches)) <= 2048
    assert config.searches == tuple("y" * 250 + str(i) for i in range(8))
