"""Proxy benchmark: rule sync times at 10k Services and first-packet latency.

Usage (root; everything happens in two scratch network namespaces it creates and
deletes, `kybtest-bench-<random>-node` and `-pod`):

    .venv/bin/python benchmarks/proxy.py [--services 10000] [--iptables-services 2000]
        [--connections 300] [--changes 5]

1. full sync: `compute` + the whole `ip kube-proxy` table through one `nft -f`, for N
   Services x 2 endpoints (and through `iptables-restore` at `--iptables-services`:
   iptables-nft's restore grows worse than linearly, minutes at 10k);
2. one change at N Services: one EndpointSlice changes, the proxier recomputes that
   Service and sends the incremental transaction (median of several), through `nft -f`
   and as a netlink batch (`netlink.NetlinkRunner`, what `kyb proxy` uses);
3. first-packet latency (TCP connect + first byte) from the node namespace to a pod:
   directly, and through a ClusterIP with N Services programmed (nftables: verdict-map
   lookup, O(1) in N; iptables: KUBE-SERVICES is a list, O(N)).

Prints a table beside the anchors: kube-proxy nftables ~141 ms for one change at 10k
Services (kind), 9 minutes to create 10k Services x 2 endpoints end to end; goal
< 50 ms per change and < 10 s full sync. Timings are wall clock on a shared machine;
the CPU seconds of the `nft` processes are shown beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from kybernetes.proxy.command import Runner, command_runner
from kybernetes.proxy.iptables import IptablesApplier
from kybernetes.proxy.netlink import NetlinkRunner
from kybernetes.proxy.nftables import NftablesApplier
from kybernetes.proxy.proxier import Proxier
from kybernetes.proxy.rules import NodeConfig, compute

POD_IP = "10.42.0.2"
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(128)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(b"x"); c.close()
"""
CLIENT = """
import socket, sys, time
address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for _ in range(count):
    start = time.perf_counter()
    s = socket.create_connection((address, port), timeout=5); s.recv(1)
    print(time.perf_counter() - start); s.close()
"""
NODE = NodeConfig("n1", cluster_cidr="10.42.0.0/16")


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


@contextmanager
def network() -> Iterator[tuple[str, str]]:
    """(node netns, pod netns) joined by a veth; a one-byte TCP server in the pod."""
    base = f"kybtest-bench-{secrets.token_hex(3)}"
    node, pod = f"{base}-node", f"{base}-pod"
    server: subprocess.Popen[bytes] | None = None
    try:
        for netns in (node, pod):
            ip("netns", "add", netns)
            ip("-n", netns, "link", "set", "lo", "up")
        ip("-n", node, "link", "add", "veth0", "type", "veth", "peer", "name", "eth0", "netns", pod)
        ip("-n", node, "addr", "add", "10.42.0.1/24", "dev", "veth0")
        ip("-n", node, "link", "set", "veth0", "up")
        ip("-n", node, "route", "add", "default", "dev", "veth0")
        ip("-n", pod, "addr", "add", f"{POD_IP}/24", "dev", "eth0")
        ip("-n", pod, "link", "set", "eth0", "up")
        ip("-n", pod, "route", "add", "default", "via", "10.42.0.1")
        server = subprocess.Popen(
            ["ip", "netns", "exec", pod, sys.executable, "-c", SERVER, POD_IP],
            stdout=subprocess.PIPE,
        )
        assert server.stdout is not None and server.stdout.readline() == b"ready\n"
        yield node, pod
    finally:
        if server is not None:
            server.kill()
            server.wait()
        for netns in (node, pod):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)


def objects(n: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """N Services (ClusterIPs in 10.43.0.0/16, port 80) with 2 endpoints each; Service
    0's endpoints are the real pod."""
    services, slices = [], []
    for i in range(n):
        name = f"s{i}"
        services.append(
            {
                "kind": "Service",
                "metadata": {"namespace": "bench", "name": name},
                "spec": {
                    "clusterIP": f"10.43.{i // 250}.{i % 250 + 1}",
                    "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
                },
            }
        )
        eps = (
            [POD_IP, POD_IP]
            if i == 0
            else [f"10.44.{(2 * i + k) // 250}.{(2 * i + k) % 250 + 1}" for k in (0, 1)]
        )
        slices.append(
            {
                "kind": "EndpointSlice",
                "metadata": {
                    "namespace": "bench",
                    "name": f"{name}-x",
                    "labels": {"kubernetes.io/service-name": name},
                },
                "addressType": "IPv4",
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
                "endpoints": [
                    {"addresses": [a], "conditions": {"ready": True}} for a in dict.fromkeys(eps)
                ],
            }
        )
    return services, slices


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    """(wall seconds, child-process CPU seconds) of awaiting fn()."""
    cpu, start = children_cpu(), time.perf_counter()
    await fn()
    return time.perf_counter() - start, children_cpu() - cpu


def latencies(netns: str, address: str, port: int, count: int) -> list[float]:
    out = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            netns,
            sys.executable,
            "-c",
            CLIENT,
            address,
            str(port),
            str(count),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [float(line) for line in out.split()]


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def row(label: str, value: str, anchor: str = "") -> None:
    print(f"{label:<58}  {value:<42}  {anchor}", flush=True)


def latency_row(label: str, values: Sequence[float]) -> None:
    p50, p99 = pct(values, 0.5) * 1e6, pct(values, 0.99) * 1e6
    row(label, f"p50 {p50:.0f} us, p99 {p99:.0f} us")


async def one_changes(proxier: Proxier, slices: list[dict[str, Any]], changes: int) -> str:
    """Median wall and child-CPU time of `changes` single-Service changes."""
    walls, cpus = [], []
    for k in range(changes):
        changed = dict(slices[1 + k])
        changed["endpoints"] = [*changed["endpoints"], {"addresses": [f"10.45.0.{k + 1}"]}]
        proxier.on_slice(changed)
        wall, cpu = await timed(proxier.sync)
        walls.append(wall)
        cpus.append(cpu)
    return (
        f"{statistics.median(walls) * 1000:.0f} ms median "
        f"(child cpu {statistics.median(cpus) * 1000:.0f} ms)"
    )


def loaded(proxier: Proxier, services: list[dict[str, Any]], slices: list[dict[str, Any]]) -> None:
    for obj in services:
        proxier.on_service(obj)
    for obj in slices:
        proxier.on_slice(obj)


async def main(n: int, n_iptables: int, connections: int, changes: int) -> None:
    services, slices = objects(n)
    row("measurement", "kybernetes", "anchor / goal")
    with network() as (node, _pod):
        runner: Runner = command_runner(("ip", "netns", "exec", node))
        start = time.perf_counter()
        compute(services, slices, NODE)
        row(f"compute() {n} Services (pure)", f"{(time.perf_counter() - start) * 1000:.0f} ms")

        nft = NftablesApplier(runner)
        proxier = Proxier(nft, NODE)
        loaded(proxier, services, slices)
        wall, cpu = await timed(proxier.sync)
        row(
            f"nftables full sync, {n} x 2 endpoints",
            f"{wall:.2f} s (nft cpu {cpu:.2f} s)",
            "goal < 10 s; kube-proxy: 9 min to create 10k x 2",
        )
        row("nftables rules programmed", str(nft.rule_count))
        latency_row("first packet, direct to the pod", latencies(node, POD_IP, 8080, connections))
        latency_row(
            f"first packet, ClusterIP (nftables, {n} Services)",
            latencies(node, "10.43.0.1", 80, connections),
        )
        row(
            f"nftables one change at {n} Services (nft -f)",
            await one_changes(proxier, slices, changes),
            "kube-proxy ~141 ms",
        )
        proxier.applier = NftablesApplier(NetlinkRunner(runner, node))
        await proxier.sync()  # the new applier starts with a full sync (through nft -f)
        row(
            f"nftables one change at {n} Services (netlink)",
            await one_changes(proxier, slices[changes:], changes),
            "goal < 50 ms; kube-proxy ~141 ms",
        )
        await nft.cleanup()

        # iptables-nft: KUBE-SERVICES is a list, so the last Service is the slow one.
        services, slices = objects(n_iptables)
        slices[-1]["endpoints"] = [{"addresses": [POD_IP], "conditions": {"ready": True}}]
        ipt = IptablesApplier(runner)
        proxier = Proxier(ipt, NODE, mode="iptables")
        loaded(proxier, services, slices)
        wall, cpu = await timed(proxier.sync)
        row(f"iptables full sync, {n_iptables} x 2 endpoints", f"{wall:.2f} s (cpu {cpu:.2f} s)")
        latency_row(
            f"first packet, last ClusterIP (iptables, {n_iptables} Services)",
            latencies(node, services[-1]["spec"]["clusterIP"], 80, connections),
        )
        row(
            f"iptables one change at {n_iptables} Services",
            await one_changes(proxier, slices, changes),
        )
        await ipt.cleanup()
    print(f"(load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=10_000)
    parser.add_argument("--iptables-services", type=int, default=2_000)
    parser.add_argument("--connections", type=int, default=300)
    parser.add_argument("--changes", type=int, default=5)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("benchmarks/proxy.py: needs root (network namespaces)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # clean up the namespaces
    asyncio.run(main(args.services, args.iptables_services, args.connections, args.changes))
