"""Controller manager benchmark, end to end: a real `kyb server` (API server only),
`kyb scheduler`, `kyb controller-manager --controllers deployment,replicaset` (the
controllers under test; no leader election, so a starved lease renewal on a busy
machine cannot stop them mid-run) and one
`kyb kubelet --runtime simulated --simulate-nodes N`, each its own process.

Workload: a Deployment of `--replicas` (1,000) pods; then a rollout of it to a new
image (maxSurge 25%, maxUnavailable 25%, the defaults). Measured from one pod watch
and one Deployment watch in this process:
- time until every replica is created (the ReplicaSet controller's slow-start
  batches; goal < 10 s), bound (scheduler), and the Deployment reports all of them
  available;
- pod startup latency (creation -> Ready seen on the watch; Kubernetes' SLO: p99 <= 5 s,
  image pulls excluded - the simulated runtime pulls nothing);
- the rollout's duration until the Deployment reports every replica updated and
  available and no old replica is left;
- work-queue latency, end to end: every 0.5 s during the rollout, a paused probe
  Deployment is scaled (its generation bumps) and the time until its status shows
  that observedGeneration is measured: watch delivery to the controller manager,
  its queue, one sync and the status write, while the controllers handle the
  rollout's thousands of pod and ReplicaSet events;
- the controller manager's and the API server's CPU time over the run (from /proc),
  against wall time: a process busy well under 100% is waiting, not the bottleneck.

For scale, the rate at which the API server alone accepts pod creations from 16
concurrent clients is measured first (the ceiling for any pod-creating controller).

Usage: .venv/bin/python benchmarks/controllers.py [--replicas 1000] [--nodes 20]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kybernetes.client import APIClient, load_kubeconfig
from kybernetes.client.resource import DEPLOYMENTS, NAMESPACES, NODES, PODS

Obj = dict[str, Any]
NAMESPACE = "bench"
BASELINE_PODS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while text not in (path.read_text() if path.exists() else ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"did not start: {path.read_text()[-2000:]}")
        time.sleep(0.1)


def deployment(name: str, replicas: int, image: str, paused: bool = False) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "replicas": replicas,
            "paused": paused,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            },
        },
    }


def is_ready(pod: Obj) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


class Observer:
    """Timestamps of what the pod and Deployment watches show (perf_counter)."""

    def __init__(self) -> None:
        self.created: dict[str, float] = {}
        self.bound: dict[str, float] = {}
        self.ready: dict[str, float] = {}
        self.deployments: dict[str, Obj] = {}
        self.changed = asyncio.Event()

    async def watch_pods(self, client: APIClient, rv: str) -> None:
        async for event in client.watch(PODS, NAMESPACE, resource_version=rv):
            pod, now = event.object, time.perf_counter()
            name = pod["metadata"]["name"]
            self.created.setdefault(name, now)
            if (pod.get("spec") or {}).get("nodeName"):
                self.bound.setdefault(name, now)
            if is_ready(pod):
                self.ready.setdefault(name, now)
            self.changed.set()

    async def watch_deployments(self, client: APIClient, rv: str) -> None:
        async for event in client.watch(DEPLOYMENTS, NAMESPACE, resource_version=rv):
            self.deployments[event.object["metadata"]["name"]] = event.object
            self.changed.set()

    async def until(self, check: Any, limit: float = 600) -> float:
        """Waits until `check()` holds; answers the perf_counter time it did."""
        async with asyncio.timeout(limit):
            while not check():
                self.changed.clear()
                await self.changed.wait()
        return time.perf_counter()

    def status(self, name: str) -> Obj:
        return dict((self.deployments.get(name) or {}).get("status") or {})


async def probe_latency(client: APIClient, seen: Observer, stop: asyncio.Event) -> list[float]:
    """Scales the paused probe Deployment every 0.5 s; answers the seconds each took to
    show up as observedGeneration."""
    samples: list[float] = []
    replicas = 0
    while not stop.is_set():
        replicas = 1 - replicas
        patched = await client.patch(
            DEPLOYMENTS, "probe", {"spec": {"replicas": replicas}}, namespace=NAMESPACE
        )
        generation = patched["metadata"]["generation"]
        start = time.perf_counter()
        end = await seen.until(
            lambda g=generation: seen.status("probe").get("observedGeneration", 0) >= g
        )
        samples.append(end - start)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.5)
    return samples


async def create_rate(client: APIClient, count: int) -> float:
    """Pods/s the API server accepts from 16 concurrent creators: the ceiling any
    controller creating pods through it can reach. The pods name a node that does
    not exist, so neither the scheduler nor the kubelet touches them."""
    await client.create(NAMESPACES, {"metadata": {"name": "baseline"}})
    limit = asyncio.Semaphore(16)

    async def one(i: int) -> None:
        pod = {
            "metadata": {"name": f"b-{i}", "namespace": "baseline"},
            "spec": {"nodeName": "nowhere", "containers": [{"name": "c", "image": "b"}]},
        }
        async with limit:
            await client.create(PODS, pod)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for i in range(count):
            tg.create_task(one(i))
    return count / (time.perf_counter() - start)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def quantile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def measure(kubeconfig: Path, replicas: int, nodes: int) -> dict[str, float]:
    async with APIClient(load_kubeconfig(kubeconfig), component="bench") as client:
        deadline = time.monotonic() + 120
        while len((await client.list(NODES))["items"]) < nodes:
            if time.monotonic() > deadline:
                raise SystemExit("the simulated nodes did not register")
            await asyncio.sleep(0.5)
        await client.create(NAMESPACES, {"metadata": {"name": NAMESPACE}})
        baseline = await create_rate(client, BASELINE_PODS)
        await client.create(DEPLOYMENTS, deployment("probe", 0, "probe", paused=True))
        seen = Observer()
        pods_rv = (await client.list(PODS, NAMESPACE))["metadata"]["resourceVersion"]
        deps_rv = (await client.list(DEPLOYMENTS, NAMESPACE))["metadata"]["resourceVersion"]
        result: dict[str, float] = {}
        async with asyncio.TaskGroup() as tg:
            watches = [
                tg.create_task(seen.watch_pods(client, pods_rv)),
                tg.create_task(seen.watch_deployments(client, deps_rv)),
            ]
            start = time.perf_counter()
            await client.create(DEPLOYMENTS, deployment("web", replicas, "v1"))
            created = await seen.until(lambda: len(seen.created) >= replicas)
            bound = await seen.until(lambda: len(seen.bound) >= replicas)
            available = await seen.until(
                lambda: seen.status("web").get("availableReplicas") == replicas
            )
            startup = [seen.ready[n] - seen.created[n] for n in seen.ready]
            result |= {
                "baseline": baseline,
                "created": created - start,
                "bound": bound - start,
                "available": available - start,
                "startup_p50": quantile(startup, 50),
                "startup_p99": quantile(startup, 99),
            }

            stop = asyncio.Event()
            prober = tg.create_task(probe_latency(client, seen, stop))
            rollout_start = time.perf_counter()
            web = await client.get(DEPLOYMENTS, "web", NAMESPACE)
            web["spec"]["template"]["spec"]["containers"][0]["image"] = "v2"
            generation = (await client.update(DEPLOYMENTS, web))["metadata"]["generation"]

            def rolled_out() -> bool:
                status = seen.status("web")
                return (
                    status.get("observedGeneration", 0) >= generation
                    and status.get("updatedReplicas") == replicas
                    and status.get("availableReplicas") == replicas
                    and status.get("replicas") == replicas
                )

            rolled = await seen.until(rolled_out)
            stop.set()
            samples = await prober
            result |= {
                "rollout": rolled - rollout_start,
                "queue_p50": quantile(samples, 50),
                "queue_p99": quantile(samples, 99),
                "queue_n": float(len(samples)),
            }
            for watch in watches:
                watch.cancel()
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=20)
    args = parser.parse_args()
    python = [sys.executable, "-m", "kybernetes.cli.main"]
    with tempfile.TemporaryDirectory(prefix="kyb-bench-") as tmp:
        data = Path(tmp)
        server_log = data / "server.log"
        server = subprocess.Popen(
            [*python, "server", "--data-dir", str(data), "--bind-address", "127.0.0.1",
             "--https-listen-port", str(free_port()), "--disable-agent",
             "--disable", "controller-manager,scheduler"],
            stdout=server_log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs: list[subprocess.Popen[bytes]] = [server]
        try:
            wait_for_text(server_log, "kubeconfig written", server)
            kubeconfig = str(data / "kubeconfig.yaml")
            for name, command in (
                ("scheduler", ["scheduler", "--leader-elect", "false"]),
                ("controller-manager", ["controller-manager", "--leader-elect", "false",
                                        "--controllers", "deployment,replicaset"]),
                ("kubelet", ["kubelet", "--runtime", "simulated", "--simulate-nodes",
                             str(args.nodes), "--node-name", "sim",
                             "--data-dir", str(data / "kubelet")]),
            ):  # fmt: skip
                procs.append(
                    subprocess.Popen(
                        [*python, *command, "--kubeconfig", kubeconfig],
                        stdout=(data / f"{name}.log").open("w"),
                        stderr=subprocess.STDOUT,
                    )
                )
            watched = {"controller-manager": procs[2].pid, "API server": server.pid}
            cpu_before = {name: cpu_seconds(pid) for name, pid in watched.items()}
            wall_before = time.perf_counter()
            r = asyncio.run(measure(Path(kubeconfig), args.replicas, args.nodes))
            wall = time.perf_counter() - wall_before
            busy = {n: (cpu_seconds(pid) - cpu_before[n]) / wall for n, pid in watched.items()}
        finally:
            for proc in reversed(procs):
                if proc.poll() is None:
                    os.kill(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
    n = args.replicas
    rows = [
        ("API server pod creates, 16 concurrent (pods/s)", f"{r['baseline']:.0f}", "-"),
        (f"{n:,} replicas created (s)", f"{r['created']:.1f}", "goal < 10 s"),
        (f"{n:,} replicas bound (s)", f"{r['bound']:.1f}", "-"),
        (f"{n:,} replicas available (s)", f"{r['available']:.1f}", "-"),
        ("pod startup p50 (s)", f"{r['startup_p50']:.2f}", "-"),
        ("pod startup p99 (s)", f"{r['startup_p99']:.2f}", "SLO p99 <= 5 s"),
        (f"rollout of {n:,} replicas (s)", f"{r['rollout']:.1f}", "-"),
        (
            f"work-queue latency p50 / p99 (ms, n={r['queue_n']:.0f})",
            f"{r['queue_p50'] * 1000:.0f} / {r['queue_p99'] * 1000:.0f}",
            "-",
        ),
        *(
            (f"{name} CPU busy over the run (%)", f"{share * 100:.0f}", "-")
            for name, share in busy.items()
        ),
    ]
    print(f"| metric ({args.nodes} simulated nodes) | kybernetes | anchor |")
    print("|---|---|---|")
    for metric, value, anchor in rows:
        print(f"| {metric} | {value} | {anchor} |")


if __name__ == "__main__":
    main()
