"""The nftables applier: the script's structure, incremental transactions, and real
traffic through the table inside the test's network namespaces."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import pytest

from kybernetes.proxy.command import CommandError
from kybernetes.proxy.netlink import NetlinkRunner
from kybernetes.proxy.nftables import NftablesApplier
from kybernetes.proxy.rules import NodeConfig, RuleSet, compute

from .conftest import NODE_IP, POD_IPS, Net, endpoint, endpointslice, service

NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")


class Recorder:
    """A Runner that records scripts instead of running `nft`."""

    def __init__(self) -> None:
        self.scripts: list[str] = []
        self.fail = False

    async def __call__(self, argv: Sequence[str], stdin: bytes) -> str:
        if self.fail:
            raise CommandError(argv, 1, "Error: boom")
        self.scripts.append(stdin.decode())
        return ""


def web(n_endpoints: int = 2, **spec: Any) -> RuleSet:
    eps = [endpoint(f"10.42.0.{i + 2}") for i in range(n_endpoints)]
    ports = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]
    return compute(
        [service("web", "10.43.0.10", type="NodePort", ports=ports, **spec)],
        [endpointslice("web", eps)],
        NODE,
    )


async def test_full_script_structure() -> None:
    applier = NftablesApplier(Recorder())
    script = applier.plan(web(sessionAffinity="ClientIP"), full=True).script
    lines = script.splitlines()
    assert lines[:2] == ["add table ip kube-proxy", "delete table ip kube-proxy"]  # atomic rewrite
    for hook in (
        "nat-prerouting { type nat hook prerouting priority -100",
        "nat-output { type nat hook output priority -100",
        "nat-postrouting { type nat hook postrouting priority 100",
        "filter-output { type filter hook output priority -110",
    ):
        assert f"add chain ip kube-proxy {hook} ; }}" in lines
    assert (
        "add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips"
        in lines
    )
    assert (
        "add rule ip kube-proxy services fib daddr type local ip daddr != 127.0.0.0/8 "
        "meta l4proto . th dport vmap @service-nodeports"
    ) in lines
    svc = re.search(r"add chain ip kube-proxy (service-[A-Z2-7]{8}-default/web/tcp/http)\n", script)
    ext = re.search(
        r"add chain ip kube-proxy (external-[A-Z2-7]{8}-default/web/tcp/http)\n", script
    )
    assert svc and ext
    eps = re.findall(
        r"add chain ip kube-proxy "
        r"(endpoint-[A-Z2-7]{8}-default/web/tcp/http__10\.42\.0\.\d/8080)\n",
        script,
    )
    assert len(eps) == 2
    chain = svc.group(1)
    rules = [
        line.split(f"add rule ip kube-proxy {chain} ")[1]
        for line in lines
        if line.startswith(f"add rule ip kube-proxy {chain} ")
    ]
    assert (
        rules[0]
        == "ip daddr 10.43.0.10 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade"
    )
    assert rules[1].startswith("ip saddr @affinity-") and rules[1].endswith(f"goto {eps[0]}")
    assert rules[3] == f"numgen random mod 2 0 goto {eps[0]}" and rules[4] == f"goto {eps[1]}"
    assert f"add rule ip kube-proxy {eps[0]} ip saddr 10.42.0.2 jump mark-for-masquerade" in lines
    assert f"add rule ip kube-proxy {eps[0]} meta l4proto tcp dnat to 10.42.0.2:8080" in lines
    assert any(
        line.startswith("add set ip kube-proxy affinity-") and "timeout 10800s" in line
        for line in lines
    )
    assert (
        f"add element ip kube-proxy service-ips {{ 10.43.0.10 . tcp . 80 : goto {chain} }}" in lines
    )
    assert (
        f"add element ip kube-proxy service-nodeports {{ tcp . 30080 : goto {ext.group(1)} }}"
        in lines
    )
    assert "add element ip kube-proxy cluster-ips { 10.43.0.10 }" in lines
    assert f"add rule ip kube-proxy {ext.group(1)} jump mark-for-masquerade" in lines


async def test_no_endpoints_go_to_reject_chain_and_local_policy_drops() -> None:
    applier = NftablesApplier(Recorder())
    script = applier.plan(web(0), full=True).script
    assert (
        "add element ip kube-proxy no-endpoint-services "
        "{ 10.43.0.10 . tcp . 80 : goto reject-chain }" in script
    )
    assert (
        "add element ip kube-proxy no-endpoint-nodeports { tcp . 30080 : goto reject-chain }"
        in script
    )
    assert "service-ips {" not in script.split("add map")[-1]  # no element for it
    remote = compute(
        [
            service(
                "web",
                "10.43.0.10",
                type="NodePort",
                externalTrafficPolicy="Local",
                ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}],
            )
        ],
        [endpointslice("web", [endpoint("10.42.0.2", node="n2")])],
        NODE,
    )
    script = applier.plan(remote, full=True).script
    assert "add element ip kube-proxy no-endpoint-nodeports { tcp . 30080 : drop }" in script
    assert "add element ip kube-proxy service-ips { 10.43.0.10 . tcp . 80 : goto service-" in script


def chain_rules(script: str, prefix: str) -> list[str]:
    """The rules the script adds to the one chain whose name starts with `prefix`."""
    pattern = rf"^add chain ip kube-proxy ({re.escape(prefix)}[A-Z2-7]{{8}}-\S*)$"
    names = re.findall(pattern, script, re.M)
    assert len(names) == 1, names
    head = f"add rule ip kube-proxy {names[0]} "
    return [line[len(head) :] for line in script.splitlines() if line.startswith(head)]


def test_external_traffic_policy_local_chains() -> None:
    np = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]
    rules = compute(
        [
            service(
                "web",
                "10.43.0.10",
                type="LoadBalancer",
                externalTrafficPolicy="Local",
                externalIPs=["192.0.2.1"],
                ports=np,
            )
        ],
        [endpointslice("web", [endpoint("10.42.0.2"), endpoint("10.42.0.3", node="n2")])],
        NODE,
    )
    script = NftablesApplier(Recorder()).plan(rules, full=True).script
    external = chain_rules(script, "external-")
    cluster = re.search(r"add chain ip kube-proxy (service-[A-Z2-7]{8}-\S+)", script)
    local = re.search(r"add chain ip kube-proxy (local-[A-Z2-7]{8}-\S+)", script)
    assert cluster and local
    assert external == [
        f"ip saddr 10.42.0.0/16 goto {cluster.group(1)}",  # pods short-circuit to all endpoints
        "fib saddr type local jump mark-for-masquerade",
        f"fib saddr type local goto {cluster.group(1)}",
        f"goto {local.group(1)}",  # off-node clients: this node's endpoints, source kept
    ]
    assert len(chain_rules(script, "local-")) == 1  # the one local endpoint
    assert "192.0.2.1 . tcp . 80 : goto external-" in script
    assert "10.43.0.10 . tcp . 80 : goto service-" in script


def test_internal_traffic_policy_local_uses_only_the_local_chain() -> None:
    rules = compute(
        [service("web", "10.43.0.10", internalTrafficPolicy="Local")],
        [endpointslice("web", [endpoint("10.42.0.2"), endpoint("10.42.0.3", node="n2")])],
        NODE,
    )
    script = NftablesApplier(Recorder()).plan(rules, full=True).script
    assert not re.search(r"add chain ip kube-proxy service-[A-Z2-7]{8}-", script)
    assert "10.43.0.10 . tcp . 80 : goto local-" in script
    assert script.count("dnat to") == 1


def test_nodeport_addresses_and_masquerade_all() -> None:
    node = NodeConfig("n1", nodeport_addresses=("192.168.77.0/24",), masquerade_all=True)
    rules = compute(
        [service("web", "10.43.0.10")], [endpointslice("web", [endpoint("10.42.0.2")])], node
    )
    script = NftablesApplier(Recorder()).plan(rules, full=True).script
    assert "add element ip kube-proxy nodeport-ips { 192.168.77.0/24 }" in script
    assert (
        "services ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports" in script
    )
    assert "fib daddr type local" not in script
    assert (
        chain_rules(script, "service-")[0]
        == "ip daddr 10.43.0.10 tcp dport 80 jump mark-for-masquerade"
    )


def test_udp_and_sctp_ports() -> None:
    ports = [
        {"name": "dns", "port": 53, "protocol": "UDP"},
        {"name": "s", "port": 9, "protocol": "SCTP"},
    ]
    slice_ports = [
        {"name": "dns", "port": 5353, "protocol": "UDP"},
        {"name": "s", "port": 9, "protocol": "SCTP"},
    ]
    rules = compute(
        [service("dns", "10.43.0.10", ports=ports)],
        [endpointslice("dns", [endpoint("10.42.0.2")], ports=slice_ports)],
        NODE,
    )
    script = NftablesApplier(Recorder()).plan(rules, full=True).script
    assert "meta l4proto udp dnat to 10.42.0.2:5353" in script
    assert "meta l4proto sctp dnat to 10.42.0.2:9" in script
    assert "10.43.0.10 . udp . 53 : goto service-" in script


async def test_one_change_touches_only_that_service() -> None:
    recorder = Recorder()
    applier = NftablesApplier(recorder)
    services = [service(f"s{i}", f"10.43.1.{i + 1}") for i in range(50)]
    slices = [endpointslice(f"s{i}", [endpoint(f"10.42.1.{i + 1}")]) for i in range(50)]
    await applier.sync(compute(services, slices, NODE))
    assert len(recorder.scripts) == 1 and recorder.scripts[0].count("dnat to") == 50
    rules_before = applier.rule_count
    slices[7] = endpointslice("s7", [endpoint("10.42.1.8"), endpoint("10.42.2.8")])
    plan = await applier.sync(compute(services, slices, NODE))
    assert not plan.full and set(plan.objects) == {"default/s7/tcp/http"}
    script = recorder.scripts[-1]
    assert "delete table" not in script
    touched = set(re.findall(r"default/(s\d+)/", script))
    assert touched == {"s7"}
    assert script.count("dnat to") == 2
    lines = script.splitlines()
    first = {
        kind: next(i for i, line in enumerate(lines) if line.startswith(kind))
        for kind in ("delete element", "flush chain", "add chain", "add element")
    }
    assert (
        first["delete element"] < first["flush chain"] < first["add chain"] < first["add element"]
    )
    assert applier.rule_count == rules_before + 3  # an endpoint chain (2 rules), a pick rule
    # Nothing changed: nothing sent.
    plan = await applier.sync(compute(services, slices, NODE))
    assert plan.script == "" and len(recorder.scripts) == 2
    # Removing a Service deletes its chains, elements and ClusterIP.
    await applier.sync(compute(services[:-1], slices, NODE))
    script = recorder.scripts[-1]
    assert set(re.findall(r"default/(s\d+)/", script)) == {"s49"}
    assert "delete element ip kube-proxy cluster-ips { 10.43.1.50 }" in script
    assert re.search(r"delete chain ip kube-proxy service-\w+-default/s49/tcp/http", script)


async def test_cluster_ip_stays_while_another_port_uses_it() -> None:
    recorder = Recorder()
    applier = NftablesApplier(recorder)
    ports = [
        {"name": "a", "port": 80, "protocol": "TCP"},
        {"name": "b", "port": 81, "protocol": "TCP"},
    ]
    await applier.sync(compute([service("web", "10.43.0.10", ports=ports)], [], NODE))
    await applier.sync(compute([service("web", "10.43.0.10", ports=ports[:1])], [], NODE))
    assert "cluster-ips" not in recorder.scripts[-1]
    await applier.sync(compute([], [], NODE))
    assert "delete element ip kube-proxy cluster-ips { 10.43.0.10 }" in recorder.scripts[-1]


async def test_failure_makes_the_next_sync_full() -> None:
    recorder = Recorder()
    applier = NftablesApplier(recorder)
    await applier.sync(web(1))
    recorder.fail = True
    with pytest.raises(CommandError):
        await applier.sync(web(2))
    recorder.fail = False
    plan = await applier.sync(web(2))
    assert plan.full and recorder.scripts[-1].startswith("add table ip kube-proxy\ndelete table")


# --- real packets, inside the test's namespaces ---------------------------------------


@pytest.mark.root
@pytest.mark.parametrize("transport", ["nft", "netlink"])
async def test_traffic_through_the_table(net: Net, transport: str) -> None:
    runner = net.runner if transport == "nft" else NetlinkRunner(net.runner, net.node)
    applier = NftablesApplier(runner)
    node = NodeConfig("n1", cluster_cidr="10.42.0.0/16")
    np = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]
    services = [
        service("web", "10.43.0.10", type="NodePort", ports=np),
        service("empty", "10.43.0.11"),
        service("one", "10.43.0.12"),
        service("sticky", "10.43.0.13", sessionAffinity="ClientIP"),
    ]
    slices = [
        endpointslice("web", [endpoint(POD_IPS[0]), endpoint(POD_IPS[1])]),
        endpointslice("one", [endpoint(POD_IPS[0])]),
        endpointslice("sticky", [endpoint(POD_IPS[0]), endpoint(POD_IPS[1])]),
    ]
    await applier.sync(compute(services, slices, node))
    answers = set(net.connect_many("10.43.0.10", 80, 40))
    assert answers == {f"ok {POD_IPS[0]}", f"ok {POD_IPS[1]}"}  # both endpoints answer
    assert net.connect(NODE_IP, 30080).startswith("ok 10.42.0.")  # NodePort on the node IP
    assert net.connect("10.43.0.11", 80, timeout=2) == "refused"  # no endpoints: rejected
    assert net.connect("10.43.0.10", 81, timeout=2) == "refused"  # ClusterIP, wrong port
    assert net.connect("10.43.0.99", 80, timeout=1) == "timeout"  # unallocated: dropped
    assert len(set(net.connect_many("10.43.0.13", 80, 20))) == 1  # ClientIP affinity
    # NodePort from another host (the pod's second address): DNAT in prerouting, and
    # masqueraded, or the endpoint would answer that client directly.
    from_outside = net.connect_many(NODE_IP, 30080, 10, source=POD_IPS[1])
    assert set(from_outside) <= {f"ok {POD_IPS[0]}", f"ok {POD_IPS[1]}"}
    # Hairpin: the pod reaches itself through the Service (masqueraded).
    assert net.connect("10.43.0.12", 80, source=POD_IPS[0]) == f"ok {POD_IPS[0]}"

    # Incremental: move "web" to one endpoint; "empty" gets one.
    slices[0] = endpointslice("web", [endpoint(POD_IPS[1])])
    slices.append(endpointslice("empty", [endpoint(POD_IPS[0])]))
    plan = await applier.sync(compute(services, slices, node))
    assert not plan.full
    assert set(net.connect_many("10.43.0.10", 80, 10)) == {f"ok {POD_IPS[1]}"}
    assert net.connect("10.43.0.11", 80) == f"ok {POD_IPS[0]}"
    # A full resync repairs drift (a rule someone deleted).
    net.run(net.node, "nft", "flush", "chain", "ip", "kube-proxy", "services")
    assert net.connect("10.43.0.10", 80, timeout=1) != f"ok {POD_IPS[1]}"
    await applier.sync(compute(services, slices, node), full=True)
    assert net.connect("10.43.0.10", 80) == f"ok {POD_IPS[1]}"

    await applier.cleanup()
    assert "kube-proxy" not in net.run(net.node, "nft", "list", "tables")
    assert net.connect("10.43.0.10", 80, timeout=1) == "timeout"
