"""Netlink transactions: what compiles, that the kernel ends up with exactly what
`nft -f` would have made, atomicity on errors, and the fallback to `nft`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from kybernetes.proxy.command import CommandError
from kybernetes.proxy.netlink import NetlinkRunner, Unsupported, compile_rule, compile_script
from kybernetes.proxy.nftables import NftablesApplier, base_commands
from kybernetes.proxy.rules import NodeConfig, RuleSet, compute

from .conftest import Net, endpoint, endpointslice, service

NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")
NP = [{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30080}]


def version(v: int) -> RuleSet:
    """Two versions of a cluster using every statement the applier writes."""
    services = [
        service("a", "10.43.0.5", type="NodePort", ports=NP, sessionAffinity="ClientIP"),
        service(
            "c",
            "10.43.0.7",
            type="LoadBalancer",
            externalTrafficPolicy="Local",
            externalIPs=["192.0.2.1"],
            ports=[{"name": "http", "port": 80, "protocol": "TCP", "nodePort": 30081}],
        ),
        service("u", "10.43.0.8", ports=[{"name": "dns", "port": 53, "protocol": "UDP"}]),
        service("i", "10.43.0.9", internalTrafficPolicy="Local"),
    ]
    slices = [
        endpointslice("a", [endpoint("10.42.0.2"), endpoint("10.42.0.3")][: v + 1]),
        endpointslice("c", [endpoint("10.42.0.9"), endpoint("10.42.0.10", node="n2")][: v + 1]),
        endpointslice(
            "u",
            [endpoint("10.42.0.4")][:v],
            ports=[{"name": "dns", "port": 5353, "protocol": "UDP"}],
        ),
        endpointslice("i", [endpoint("10.42.0.11", node="n2")]),
    ]
    if v:
        services.append(service("b", "10.43.0.6"))
        slices.append(endpointslice("b", [endpoint("10.42.0.12")]))
    return compute(services, slices, NODE)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __call__(self, argv: Sequence[str], stdin: bytes) -> str:
        self.calls.append(" ".join(argv))
        return ""


async def test_incremental_scripts_compile_and_full_ones_do_not() -> None:
    applier = NftablesApplier(Recorder())
    with pytest.raises(Unsupported):
        compile_script(applier.plan(version(0)).script)
    with pytest.raises(Unsupported):
        compile_script("\n".join(base_commands(NODE)))
    await applier.sync(version(0))
    script = applier.plan(version(1)).script
    assert len(compile_script(script)) == len(script.splitlines())
    unsupported = [
        "reject",
        "masquerade fully-random",
        "ip daddr . meta l4proto . th dport vmap @x",
        "ip saddr != @s goto x",
        "ip saddr 300.1.1.1 drop",
    ]
    for rule in unsupported:
        with pytest.raises(Unsupported):
            compile_rule(rule)


async def test_other_commands_go_to_the_fallback() -> None:
    recorder = Recorder()
    runner = NetlinkRunner(recorder)
    await runner(["iptables-save"], b"")
    await runner(["nft", "-f", "/dev/stdin"], b"add table ip kube-proxy\n")
    assert recorder.calls == ["iptables-save", "nft -f /dev/stdin"]


def listing(net: Net) -> str:
    return net.run(net.node, "nft", "list", "table", "ip", "kube-proxy")


@pytest.mark.root
async def test_netlink_transactions_equal_nft_ones(net: Net) -> None:
    versions = [version(v) for v in (0, 1, 0, 1)]
    by_nft: list[str] = []
    applier = NftablesApplier(net.runner)
    for rules in versions:
        await applier.sync(rules)
        by_nft.append(listing(net))
    await applier.cleanup()
    recorder_calls: list[Any] = []

    async def counting(argv: Sequence[str], stdin: bytes) -> str:
        recorder_calls.append(argv)
        return await net.runner(argv, stdin)

    runner = NetlinkRunner(counting, net.node)
    applier = NftablesApplier(runner)
    for rules, expected in zip(versions, by_nft, strict=True):
        plan = await applier.sync(rules)
        assert listing(net) == expected, (
            f"differs after a {'full' if plan.full else 'partial'} sync"
        )
    assert len(recorder_calls) == 1  # only the first, full sync went through nft

    # A failing batch changes nothing (atomic) and the runner recovers.
    before = listing(net)
    bad = b"add chain ip kube-proxy kyb-new\ndelete chain ip kube-proxy no-such-chain\n"
    with pytest.raises(CommandError, match="no-such-chain"):
        await runner(["nft", "-f", "/dev/stdin"], bad)
    assert listing(net) == before
    await runner(["nft", "-f", "/dev/stdin"], b"add chain ip kube-proxy kyb-new\n")
    assert "chain kyb-new" in listing(net)
    runner.close()
