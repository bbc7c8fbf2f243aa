"""Scheduler benchmark, end to end: a real `kyb server` (API server + scheduler +
controllers), N fake nodes registered through the API, pods created through the API,
throughput and latency measured from creation to the binding seen on a watch.

Usage: .venv/bin/python benchmarks/scheduler.py [--workload NAME ...] [--nodes N]
       [--pods N]

Workloads after kube-scheduler's scheduler_perf suite (same shapes, our sizes):
- SchedulingBasic: pods with small requests, no constraints;
- SchedulingNodeAffinity: half the nodes in zone1, pods require zone1;
- SchedulingPodAntiAffinity: pods with required anti-affinity to each other by
  hostname (one per node; --pods is capped at the node count);
- TopologySpreading: nodes over 3 zones, pods with a DoNotSchedule maxSkew 5 zone
  constraint;
- PreemptionBasic: every node filled by low-priority pods first (not measured), then
  high-priority pods that each need one victim evicted; the benchmark plays the
  kubelet and removes a victim as soon as it is marked for deletion.
Prints a table beside the published anchors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import orjson

from kybernetes.client import load_kubeconfig

HEADERS = {"Content-Type": "application/json"}
ZONE = "topology.kubernetes.io/zone"
HOSTNAME = "kubernetes.io/hostname"
PODS = "/api/v1/namespaces/default/pods"
ANCHOR = "kube-scheduler 680 pods/s (SchedulingBasic, 5,000 nodes); clusterloader2 100 pods/s"


def node(i: int, labels: dict[str, str], cpu: str = "32") -> dict[str, Any]:
    resources = {"cpu": cpu, "memory": "128Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": f"node-{i}", "labels": {HOSTNAME: f"node-{i}", **labels}},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(name: str, labels: dict[str, str] | None = None, cpu: str = "100m", **spec: Any) -> bytes:
    container = {
        "name": "c",
        "image": "registry.k8s.io/pause:3.10",
        "resources": {"requests": {"cpu": cpu, "memory": "500Mi"}},
    }
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": [container], **spec},
        }
    )


def zone_affinity() -> dict[str, Any]:
    term = {"matchExpressions": [{"key": ZONE, "operator": "In", "values": ["zone1"]}]}
    required = {"nodeSelectorTerms": [term]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}


def anti_affinity() -> dict[str, Any]:
    term = {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": HOSTNAME}
    return {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


SPREAD = {
    "maxSkew": 5,
    "topologyKey": ZONE,
    "whenUnsatisfiable": "DoNotSchedule",
    "labelSelector": {"matchLabels": {"app": "spread"}},
}


class Workload:
    """Nodes, optional unmeasured init pods, then the measured pods."""

    def __init__(
        self,
        name: str,
        node_of: Callable[[int], dict[str, Any]],
        pod_of: Callable[[int], bytes],
        init_pods_per_node: int = 0,
        init_pod_of: Callable[[int], bytes] | None = None,
        max_pods: Callable[[int], int] = lambda n: 10**9,
    ) -> None:
        self.name = name
        self.node_of = node_of
        self.pod_of = pod_of
        self.init_pods_per_node = init_pods_per_node
        self.init_pod_of = init_pod_of
        self.max_pods = max_pods


WORKLOADS = {
    "SchedulingBasic": Workload("SchedulingBasic", lambda i: node(i, {}), lambda i: pod(f"p{i}")),
    "SchedulingNodeAffinity": Workload(
        "SchedulingNodeAffinity",
        lambda i: node(i, {ZONE: f"zone{1 + i % 2}"}),
        lambda i: pod(f"p{i}", affinity=zone_affinity()),
    ),
    "SchedulingPodAntiAffinity": Workload(
        "SchedulingPodAntiAffinity",
        lambda i: node(i, {}),
        lambda i: pod(f"p{i}", {"color": "green"}, affinity=anti_affinity()),
        max_pods=lambda nodes: nodes,
    ),
    "TopologySpreading": Workload(
        "TopologySpreading",
        lambda i: node(i, {ZONE: f"moon-{i % 3}"}),
        lambda i: pod(f"p{i}", {"app": "spread"}, topologySpreadConstraints=[SPREAD]),
    ),
    "PreemptionBasic": Workload(
        "PreemptionBasic",
        lambda i: node(i, {}, cpu="4"),
        lambda i: pod(f"p{i}", cpu="3", priorityClassName="bench-high"),
        init_pods_per_node=1,
        init_pod_of=lambda i: pod(f"init{i}", cpu="3", priorityClassName="bench-low"),
        max_pods=lambda nodes: nodes,
    ),
}

PRIORITY_CLASSES = (
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
     "metadata": {"name": "bench-low"}, "value": 1},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
     "metadata": {"name": "bench-high"}, "value": 1000},
)  # fmt: skip


class Bench:
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session
        self.sem = asyncio.Semaphore(50)

    async def post(self, path: str, body: bytes) -> None:
        async with self.sem, self.session.post(self.url + path, data=body, headers=HEADERS) as r:
            assert r.status == 201, await r.text()

    async def delete_now(self, name: str) -> None:
        query = "gracePeriodSeconds=0"
        async with self.sem, self.session.delete(f"{self.url}{PODS}/{name}?{query}") as r:
            assert r.status in (200, 404), await r.text()

    async def create_all(self, path: str, bodies: list[bytes]) -> None:
        async with asyncio.TaskGroup() as tg:
            for body in bodies:
                tg.create_task(self.post(path, body))

    async def watch_bindings(
        self, names: set[str], bound: dict[str, float], done: asyncio.Event, reap: bool
    ) -> None:
        """Records when each pod in `names` is seen bound; with `reap`, deletes pods
        marked for deletion (the kubelet's part of preemption)."""
        listing = await (await self.session.get(self.url + PODS)).json()
        query = f"watch=1&resourceVersion={listing['metadata']['resourceVersion']}"
        watch = self.session.get(f"{self.url}{PODS}?{query}&timeoutSeconds=900")
        async with watch as r, asyncio.TaskGroup() as tg:
            async for line in r.content:
                obj = orjson.loads(line)["object"]
                name = obj["metadata"]["name"]
                if reap and obj["metadata"].get("deletionTimestamp"):
                    tg.create_task(self.delete_now(name))
                if name in names and obj["spec"].get("nodeName") and name not in bound:
                    bound[name] = time.perf_counter()
                    if len(bound) == len(names):
                        done.set()
                        return

    async def run(self, workload: Workload, nodes: int, pods: int) -> dict[str, float]:
        if workload.name == "PreemptionBasic":
            for pc in PRIORITY_CLASSES:
                await self.post("/apis/scheduling.k8s.io/v1/priorityclasses", orjson.dumps(pc))
        await self.create_all(
            "/api/v1/nodes", [orjson.dumps(workload.node_of(i)) for i in range(nodes)]
        )
        await asyncio.sleep(1)  # let the scheduler's node informer see every node
        if workload.init_pod_of is not None:
            count = nodes * workload.init_pods_per_node
            names = {f"init{i}" for i in range(count)}
            bound: dict[str, float] = {}
            done = asyncio.Event()
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.watch_bindings(names, bound, done, reap=False))
                await asyncio.sleep(0.2)
                await self.create_all(PODS, [workload.init_pod_of(i) for i in range(count)])
                await asyncio.wait_for(done.wait(), 900)
        return await self.measure(workload, pods)

    async def measure(self, workload: Workload, pods: int) -> dict[str, float]:
        names = {f"p{i}" for i in range(pods)}
        created: dict[str, float] = {}
        bound: dict[str, float] = {}
        done = asyncio.Event()
        reap = workload.name == "PreemptionBasic"
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.watch_bindings(names, bound, done, reap))
            await asyncio.sleep(0.2)
            start = time.perf_counter()

            async def create(i: int) -> None:
                created[f"p{i}"] = time.perf_counter()
                await self.post(PODS, workload.pod_of(i))

            for i in range(pods):
                tg.create_task(create(i))
            await asyncio.wait_for(done.wait(), 900)
        elapsed = max(bound.values()) - start
        latencies = [(bound[n] - created[n]) * 1000 for n in bound]
        quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
        return {"pods/s": pods / elapsed, "p50": quantiles[49], "p99": quantiles[98]}


def run_workload(workload: Workload, nodes: int, pods: int) -> dict[str, float]:
    """One fresh `kyb server` per workload."""
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as tmp:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        log = (Path(tmp) / "server.log").open("w")
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "server", "--data-dir", tmp),
                *("--bind-address", "127.0.0.1", "--https-listen-port", str(port)),
                "--disable-agent",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            while "kubeconfig written" not in (Path(tmp) / "server.log").read_text():
                time.sleep(0.1)
            config = load_kubeconfig(Path(tmp) / "kubeconfig.yaml")

            async def go() -> dict[str, float]:
                connector = aiohttp.TCPConnector(ssl=config.ssl_context(), limit=64)
                timeout = aiohttp.ClientTimeout(total=None)
                async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
                    return await Bench(config.server, session).run(workload, nodes, pods)

            return asyncio.run(go())
        finally:
            os.kill(server.pid, signal.SIGTERM)
            server.wait(timeout=60)
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", action="append", choices=sorted(WORKLOADS))
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods", type=int, default=2000)
    args = parser.parse_args()
    print("| workload | nodes | pods | pods/s | p50 ms | p99 ms | anchor |")
    print("|---|---|---|---|---|---|---|")
    for name in args.workload or list(WORKLOADS):
        workload = WORKLOADS[name]
        pods = min(args.pods, workload.max_pods(args.nodes))
        result = run_workload(workload, args.nodes, pods)
        print(
            f"| {name} | {args.nodes:,} | {pods:,} | {result['pods/s']:,.0f} | "
            f"{result['p50']:,.0f} | {result['p99']:,.0f} | {ANCHOR} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
