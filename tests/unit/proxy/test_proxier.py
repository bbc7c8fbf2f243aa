"""The proxier's loop: dirty tracking, sync pacing, full resyncs, health and metrics
(fake clock, recording applier), then the whole `run_proxy` against a real API server
programming nftables inside the test's network namespace."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from kybernetes.cli.proxy import ProxyOptions, cleanup, run_proxy
from kybernetes.client import APIClient, DeletedFinalStateUnknown, FakeClock
from kybernetes.client.resource import ENDPOINTSLICES, SERVICES
from kybernetes.proxy.iptables import IptablesApplier
from kybernetes.proxy.nftables import NftablesApplier
from kybernetes.proxy.proxier import Proxier
from kybernetes.proxy.rules import NodeConfig, RuleSet, compute
from tests.unit.client.conftest import Server

from .conftest import POD_IPS, Net, endpoint, endpointslice, service

NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")


class FakeApplier:
    def __init__(self) -> None:
        self.synced: list[tuple[RuleSet, bool]] = []
        self.changed = asyncio.Condition()
        self.fail = False
        self.rule_count = 0

    async def sync(self, rules: RuleSet, *, full: bool = False) -> None:
        if self.fail:
            raise RuntimeError("nft: boom")
        self.synced.append((rules, full))
        self.rule_count = len(rules.ports)
        async with self.changed:
            self.changed.notify_all()

    async def cleanup(self) -> None:
        pass

    async def wait_syncs(self, n: int) -> None:
        async with asyncio.timeout(5), self.changed:
            await self.changed.wait_for(lambda: len(self.synced) >= n)


def test_ruleset_tracks_events_like_compute() -> None:
    proxier = Proxier(FakeApplier(), NODE, clock=FakeClock())
    a, b = service("a", "10.43.0.1"), service("b", "10.43.0.2")
    sa = endpointslice("a", [endpoint("10.42.0.2")])
    proxier.on_service(a)
    proxier.on_service(b)
    proxier.on_slice(sa)
    assert proxier.ruleset() == compute([a, b], [sa], NODE)
    # The slice moves to "b" (label change): both recomputed.
    moved = endpointslice("b", [endpoint("10.42.0.2")], name=sa["metadata"]["name"])
    proxier.on_slice(moved)
    assert proxier.ruleset() == compute([a, b], [moved], NODE)
    proxier.on_slice_deleted(
        DeletedFinalStateUnknown("default/" + moved["metadata"]["name"], moved)
    )
    proxier.on_service_deleted(a)
    assert proxier.ruleset() == compute([b], [], NODE)


async def test_ruleset_hints_the_touched_ports() -> None:
    proxier = Proxier(FakeApplier(), NODE, clock=FakeClock())
    for i in range(50):
        proxier.on_service(service(f"s{i}", f"10.43.0.{i + 1}"))
    first = proxier.ruleset()
    proxier.on_slice(endpointslice("s7", [endpoint("10.42.0.2")]))
    proxier.on_service_deleted(service("s9", "10.43.0.10"))
    second = proxier.ruleset()
    assert second.base is first.ports
    assert second.changed == {"default/s7/tcp/http", "default/s9/tcp/http"}
    assert sorted(second.changed_since(first.ports)) == sorted(second.changed)


async def test_run_paces_syncs_and_resyncs() -> None:
    clock = FakeClock()
    applier = FakeApplier()
    registry = CollectorRegistry()
    proxier = Proxier(
        applier,
        NODE,
        clock=clock,
        registry=registry,
        min_sync_period=1.0,
        sync_period=30.0,
        full_sync_period=100.0,
    )
    assert proxier.healthy()  # pending since now, not yet for long
    proxier.on_service(service("a", "10.43.0.1"))
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(proxier.run())
        await applier.wait_syncs(1)
        assert applier.synced[0][1] is True  # the first sync is full
        assert list(applier.synced[0][0].ports) == ["default/a/tcp/http"]
        assert proxier.healthy()
        # A change right after a sync waits for min_sync_period.
        proxier.on_service(service("b", "10.43.0.2"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert len(applier.synced) == 1
        clock.advance(1.0)
        await applier.wait_syncs(2)
        assert applier.synced[1][1] is False and len(applier.synced[1][0].ports) == 2
        # Nothing happens: a periodic sync after sync_period, full after full_sync_period.
        clock.advance(30.0)
        await applier.wait_syncs(3)
        assert applier.synced[2][1] is False
        clock.advance(30.0)
        await applier.wait_syncs(4)
        clock.advance(30.0)
        await applier.wait_syncs(5)
        clock.advance(30.0)
        await applier.wait_syncs(6)
        assert applier.synced[5][1] is True  # 120 s after the first full one
        value = registry.get_sample_value
        assert value("kubeproxy_sync_proxy_rules_duration_seconds_count") == 6
        assert value("kubeproxy_sync_full_proxy_rules_duration_seconds_count") == 2
        assert value("kubeproxy_sync_proxy_rules_nftables_rules") == 2
        assert (
            value("kubeproxy_sync_proxy_rules_last_timestamp_seconds") == clock.wall().timestamp()
        )
        running.cancel()


async def test_failed_sync_retries_full_and_health_follows_pending_updates() -> None:
    clock = FakeClock()
    applier = FakeApplier()
    registry = CollectorRegistry()
    proxier = Proxier(applier, NODE, clock=clock, registry=registry, sync_period=10.0)
    assert proxier.health_timeout == 20.0
    applier.fail = True
    async with asyncio.TaskGroup() as tg:
        running = tg.create_task(proxier.run())
        proxier.on_service(service("a", "10.43.0.1"))
        for _ in range(5):
            await asyncio.sleep(0)
        assert registry.get_sample_value("kubeproxy_sync_proxy_rules_failures_total") == 1
        assert proxier.healthy()
        clock.advance(21.0)  # retries keep failing: pending for longer than 2 x sync_period
        for _ in range(5):
            await asyncio.sleep(0)
        assert not proxier.healthy()
        applier.fail = False
        clock.advance(1.0)
        await applier.wait_syncs(1)
        assert applier.synced[0][1] is True and "default/a/tcp/http" in applier.synced[0][0].ports
        assert proxier.healthy()
        running.cancel()


# --- the whole proxy against a real API server ----------------------------------------


@contextlib.asynccontextmanager
async def proxying(server: Server, net: Net, mode: str) -> AsyncIterator[None]:
    options = ProxyOptions(
        node_name="n1",
        mode=mode,
        cluster_cidr="10.42.0.0/16",
        metrics_bind_address="127.0.0.1:0",
        healthz_bind_address="127.0.0.1:0",
        min_sync_period=0.05,
    )
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(run_proxy(server.config, options, runner=net.runner))
        try:
            yield
        finally:
            task.cancel()


async def eventually(net: Net, address: str, port: int, want: set[str], count: int = 1) -> None:
    async with asyncio.timeout(10):
        while (
            set(await asyncio.to_thread(net.connect_many, address, port, count, timeout=1)) != want
        ):
            pass  # each check is a real connection attempt (bounded by its timeout)


@pytest.mark.root
@pytest.mark.parametrize("mode", ["nftables", "iptables"])
async def test_run_proxy_follows_the_api(
    server: Server, client: APIClient, namespace: str, net: Net, mode: str
) -> None:
    svc = await client.create(
        SERVICES,
        {
            "metadata": {"name": "web"},
            "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
        },
        namespace=namespace,
    )
    cluster_ip = svc["spec"]["clusterIP"]
    assert cluster_ip.startswith("10.43.")
    async with proxying(server, net, mode):
        await eventually(net, cluster_ip, 80, {"refused"})  # no endpoints yet: rejected
        eps = endpointslice("web", [endpoint(POD_IPS[0])], namespace=namespace)
        eps = await client.create(ENDPOINTSLICES, eps, namespace=namespace)
        await eventually(net, cluster_ip, 80, {f"ok {POD_IPS[0]}"})
        eps["endpoints"].append(endpoint(POD_IPS[1]))
        await client.update(ENDPOINTSLICES, eps, namespace=namespace)
        await eventually(net, cluster_ip, 80, {f"ok {ip}" for ip in POD_IPS}, count=30)
        await client.delete(ENDPOINTSLICES, eps["metadata"]["name"], namespace)
        await eventually(net, cluster_ip, 80, {"refused"})
    # Stopped, the proxy leaves its rules (as kube-proxy does); `cleanup` removes them.
    if mode == "nftables":
        assert "kube-proxy" in net.run(net.node, "nft", "list", "tables")
    else:
        assert "KUBE-SERVICES" in net.run(net.node, "iptables-save")
    assert await cleanup(net.runner) == []
    assert "kube-proxy" not in net.run(net.node, "nft", "list", "tables")
    assert "KUBE-" not in net.run(net.node, "iptables-save")


def test_kyb_proxy_needs_a_kubeconfig(capsys: pytest.CaptureFixture[str]) -> None:
    from kybernetes.cli.main import main

    assert main(["proxy"]) == 1
    assert capsys.readouterr().err == "kyb proxy: error: --kubeconfig is required\n"


@pytest.mark.root
async def test_kyb_proxy_cleanup_removes_both_modes(net: Net) -> None:
    rules = compute(
        [service("web", "10.43.0.10")], [endpointslice("web", [endpoint("10.42.0.2")])], NODE
    )
    await NftablesApplier(net.runner).sync(rules)
    await IptablesApplier(net.runner).sync(rules)
    command = [sys.executable, "-m", "kybernetes.cli.main", "proxy", "--cleanup"]
    done = await asyncio.to_thread(
        subprocess.run, ["ip", "netns", "exec", net.node, *command], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "kube-proxy" not in net.run(net.node, "nft", "list", "tables")
    assert "KUBE-" not in net.run(net.node, "iptables-save")
