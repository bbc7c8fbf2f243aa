"""`rules.compute`: Services and EndpointSlices to service ports, kube-proxy's semantics."""

from __future__ import annotations

from typing import Any

from kybernetes.proxy.rules import Endpoint, NodeConfig, RuleSet, ServicePort, compute

from .conftest import endpoint, endpointslice, service

NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")


def one(svc: dict[str, Any], slices: list[dict[str, Any]], node: NodeConfig = NODE) -> ServicePort:
    ports = list(compute([svc], slices, node).ports.values())
    assert len(ports) == 1
    return ports[0]


def test_cluster_ip_with_ready_endpoints_matched_by_port_name() -> None:
    svc = service("web", "10.43.0.10")
    slices = [
        endpointslice("web", [endpoint("10.42.0.3"), endpoint("10.42.0.2", node="n2")]),
        endpointslice(
            "web",
            [endpoint("10.42.0.9")],
            name="web-other",
            ports=[{"name": "metrics", "port": 9000}],
        ),
        endpointslice("other", [endpoint("10.42.0.7")]),
    ]
    sp = one(svc, slices)
    assert sp.name == "default/web/tcp/http"
    assert (sp.cluster_ip, sp.port, sp.protocol) == ("10.43.0.10", 80, "tcp")
    assert sp.endpoints == (Endpoint("10.42.0.2", 8080), Endpoint("10.42.0.3", 8080, local=True))
    assert sp.local_endpoints == (Endpoint("10.42.0.3", 8080, local=True),)
    assert sp.internal_endpoints == sp.endpoints
    assert not sp.has_external and sp.node_port == 0


def test_not_ready_endpoints_fall_back_to_serving_terminating() -> None:
    svc = service("web", "10.43.0.10")
    ready_and_not = [
        endpoint("10.42.0.2", ready=True),
        endpoint("10.42.0.3", ready=False, serving=True, terminating=True),
    ]
    assert [e.ip for e in one(svc, [endpointslice("web", ready_and_not)]).endpoints] == [
        "10.42.0.2"
    ]
    only_terminating = [
        endpoint("10.42.0.3", ready=False, serving=True, terminating=True),
        endpoint("10.42.0.4", ready=False, serving=False, terminating=True),
        endpoint("10.42.0.5", ready=False),  # not ready, not terminating: never used
    ]
    sp = one(svc, [endpointslice("web", only_terminating)])
    assert [e.ip for e in sp.endpoints] == ["10.42.0.3"]


def test_no_endpoints_rejects() -> None:
    sp = one(service("web", "10.43.0.10"), [])
    assert sp.endpoints == () and sp.internal_no_endpoints == "reject"


def test_duplicates_across_slices_and_ipv6_are_ignored() -> None:
    slices = [
        endpointslice("web", [endpoint("10.42.0.2")], name="a"),
        endpointslice("web", [endpoint("10.42.0.2")], name="b"),
        endpointslice("web", [endpoint("fd00::2")], name="c", address_type="IPv6"),
    ]
    assert len(one(service("web", "10.43.0.10"), slices).endpoints) == 1


def test_headless_external_name_and_unknown_protocols_are_skipped() -> None:
    services = [
        service("headless", "None"),
        service("empty", ""),
        service("ext", "", type="ExternalName", externalName="example.com"),
        service("v6", "fd00::10"),
        service("icmp", "10.43.0.3", ports=[{"name": "x", "port": 1, "protocol": "ICMP"}]),
    ]
    assert compute(services, [], NODE).ports == {}


def test_ports_by_protocol() -> None:
    ports = [
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
        {"name": "sctp", "port": 9, "protocol": "SCTP"},
    ]
    slice_ports = [{"name": p["name"], "port": 5353, "protocol": p["protocol"]} for p in ports]
    rules = compute(
        [service("dns", "10.43.0.10", ports=ports)],
        [endpointslice("dns", [endpoint("10.42.0.2")], ports=slice_ports)],
        NODE,
    )
    assert sorted(rules.ports) == [
        "default/dns/sctp/sctp",
        "default/dns/tcp/dns-tcp",
        "default/dns/udp/dns",
    ]
    assert all(sp.endpoints == (Endpoint("10.42.0.2", 5353, True),) for sp in rules.ports.values())


def test_node_port_load_balancer_and_external_ips() -> None:
    svc = service(
        "web",
        "10.43.0.10",
        type="LoadBalancer",
        ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
        externalIPs=["192.0.2.1"],
    )
    svc["status"] = {"loadBalancer": {"ingress": [{"ip": "192.0.2.9"}, {"hostname": "lb.example"}]}}
    sp = one(svc, [endpointslice("web", [endpoint("10.42.0.2")])])
    assert sp.node_port == 30080 and sp.external_ips == ("192.0.2.1", "192.0.2.9")
    assert sp.external_endpoints == sp.endpoints and not sp.external_local
    # A ClusterIP Service keeps no node port even if the field lingers.
    plain = service("web", "10.43.0.10", ports=[{"name": "http", "port": 80, "nodePort": 30080}])
    assert one(plain, []).node_port == 0


def test_external_traffic_policy_local() -> None:
    svc = service(
        "web",
        "10.43.0.10",
        type="NodePort",
        externalTrafficPolicy="Local",
        ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
    )
    remote_only = one(svc, [endpointslice("web", [endpoint("10.42.0.2", node="n2")])])
    assert remote_only.external_local and remote_only.external_endpoints == ()
    assert remote_only.external_no_endpoints == "drop"  # others have endpoints
    assert remote_only.internal_endpoints == remote_only.endpoints  # ClusterIP unaffected
    mixed = one(
        svc, [endpointslice("web", [endpoint("10.42.0.2", node="n2"), endpoint("10.42.0.3")])]
    )
    assert [e.ip for e in mixed.external_endpoints] == ["10.42.0.3"]
    assert one(svc, []).external_no_endpoints == "reject"


def test_internal_traffic_policy_local() -> None:
    svc = service("web", "10.43.0.10", internalTrafficPolicy="Local")
    sp = one(svc, [endpointslice("web", [endpoint("10.42.0.2", node="n2"), endpoint("10.42.0.3")])])
    assert [e.ip for e in sp.internal_endpoints] == ["10.42.0.3"]
    assert not sp.uses_cluster_endpoints and sp.uses_local_endpoints
    remote = one(svc, [endpointslice("web", [endpoint("10.42.0.2", node="n2")])])
    assert remote.internal_endpoints == () and remote.internal_no_endpoints == "drop"


def test_session_affinity_timeout() -> None:
    default = service("web", "10.43.0.10", sessionAffinity="ClientIP")
    assert one(default, []).affinity_seconds == 10800
    custom = service(
        "web",
        "10.43.0.10",
        sessionAffinity="ClientIP",
        sessionAffinityConfig={"clientIP": {"timeoutSeconds": 60}},
    )
    assert one(custom, []).affinity_seconds == 60
    assert one(service("web", "10.43.0.10"), []).affinity_seconds == 0


def test_compute_is_deterministic_and_pure() -> None:
    services = [service(f"s{i}", f"10.43.0.{i + 1}") for i in range(5)]
    slices = [endpointslice(f"s{i}", [endpoint(f"10.42.1.{i + 1}")]) for i in range(5)]
    first = compute(services, slices, NODE)
    assert compute(list(reversed(services)), list(reversed(slices)), NODE) == first
    assert services[0]["spec"]["clusterIP"] == "10.43.0.1"  # inputs untouched


def test_changed_since_uses_the_hint_only_against_its_base() -> None:
    services = [service(f"s{i}", f"10.43.0.{i + 1}") for i in range(3)]
    first = compute(services, [], NODE)
    second = compute(services[:2], [endpointslice("s0", [endpoint("10.42.0.2")])], NODE)
    assert sorted(second.changed_since(first.ports)) == [
        "default/s0/tcp/http",
        "default/s2/tcp/http",
    ]
    hinted = RuleSet(NODE, second.ports, first.ports, frozenset({"default/s0/tcp/http"}))
    assert hinted.changed_since(first.ports) == ["default/s0/tcp/http"]  # trusts the hint
    assert sorted(hinted.changed_since({})) == sorted(second.ports)  # other base: full diff
