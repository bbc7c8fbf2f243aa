"""Simulated kubelet benchmark: one `kyb kubelet --runtime simulated --simulate-nodes N`
process against a real `kyb server` (no local node; scheduler disabled, pods are
created already bound with spec.nodeName so only the kubelet's work is measured).

Measures pods/s from creation to phase Running as seen by listing, the kubelet's RSS
(VmRSS from /proc) after all pods run, and its RSS per node and per pod.
Anchor: the issue's target of 1,000 nodes and 30k pods from one process (kwok's
own published scale).

Usage: .venv/bin/python benchmarks/kubelet_simulated.py [--nodes 100] [--pods 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kybernetes.client import APIClient, Informer, load_kubeconfig
from kybernetes.client.resource import NAMESPACES, NODES, PODS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(path: Path, text: str, proc: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while text not in (path.read_text() if path.exists() else ""):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"did not start: {path.read_text()[-2000:]}")
        time.sleep(0.1)


async def measure(
    kubeconfig: Path, nodes: int, pods: int, limit_seconds: float
) -> tuple[float, float, float, int]:
    """Seconds until all nodes are registered, until all pods are created, until all
    run (as a watch of the pods sees them) or `limit_seconds` pass; and how many run."""
    async with APIClient(load_kubeconfig(kubeconfig), component="bench", timeout=120) as client:
        start = time.monotonic()
        while len((await client.list(NODES, limit=nodes))["items"]) < nodes:  # noqa: ASYNC110 (another process)
            await asyncio.sleep(0.5)
        ready_after = time.monotonic() - start
        await client.create(NAMESPACES, {"metadata": {"name": "bench"}})
        running: set[str] = set()
        all_running = asyncio.Event()

        def seen(pod: dict[str, Any]) -> None:
            if (pod.get("status") or {}).get("phase") == "Running":
                running.add(pod["metadata"]["name"])
                if len(running) >= pods:
                    all_running.set()

        informer = Informer(client, PODS, "bench")
        informer.add_handler(seen, lambda old, new: seen(new))
        limit = asyncio.Semaphore(32)

        async def create(i: int) -> None:
            pod = {
                "metadata": {"name": f"p-{i}", "namespace": "bench"},
                "spec": {
                    "nodeName": f"sim-{i % nodes}",
                    "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
                },
            }
            async with limit:
                await client.create(PODS, pod)

        async with asyncio.TaskGroup() as group:
            watching = group.create_task(informer.run())
            await informer.has_synced.wait()
            start = time.monotonic()
            async with asyncio.TaskGroup() as creating:
                for i in range(pods):
                    creating.create_task(create(i))
            created_after = time.monotonic() - start
            left = max(0.0, limit_seconds - created_after)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_running.wait(), left)
            watching.cancel()
        return ready_after, created_after, time.monotonic() - start, len(running)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--pods", type=int, default=3000)
    parser.add_argument("--limit", type=float, default=600, help="seconds to wait for Running")
    args = parser.parse_args()
    python = [sys.executable, "-m", "kybernetes.cli.main"]
    with tempfile.TemporaryDirectory(prefix="kyb-bench-") as tmp:
        data = Path(tmp)
        server_log = data / "server.log"
        server = subprocess.Popen(
            [*python, "server", "--data-dir", str(data), "--bind-address", "127.0.0.1",
             "--https-listen-port", str(free_port()), "--disable-agent",
             "--disable", "scheduler"],
            stdout=server_log.open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        kubelet: subprocess.Popen[bytes] | None = None
        try:
            wait_for(server_log, "kubeconfig written", server)
            kubeconfig = data / "kubeconfig.yaml"
            kubelet = subprocess.Popen(
                [*python, "kubelet", "--kubeconfig", str(kubeconfig), "--runtime", "simulated",
                 "--simulate-nodes", str(args.nodes), "--node-name", "sim",
                 "--data-dir", str(data / "kubelet")],
                stdout=(data / "kubelet.log").open("w"), stderr=subprocess.STDOUT,
            )  # fmt: skip
            idle = 0.0
            ready_after, created_after, running_after, running = asyncio.run(
                measure(kubeconfig, args.nodes, args.pods, args.limit)
            )
            idle = rss_mib(kubelet.pid)
            kubelet_cpu, server_cpu = cpu_seconds(kubelet.pid), cpu_seconds(server.pid)
            print(f"{'metric':<40}{'kybernetes':>14}{'anchor':>22}")
            print(f"{'nodes registered (s)':<40}{ready_after:>14.1f}{'-':>22}")
            print(f"{'pods created (pods/s)':<40}{args.pods / created_after:>14.1f}{'-':>22}")
            print(f"{'pods Running at the end':<40}{running:>14}{args.pods:>22}")
            print(f"{'pods to Running (pods/s)':<40}{running / running_after:>14.1f}{'-':>22}")
            print(f"{'kubelet RSS (MiB)':<40}{idle:>14.1f}{'1,000 nodes/30k pods':>22}")
            print(f"{'RSS per node+pods (KiB/pod)':<40}{idle * 1024 / args.pods:>14.1f}{'-':>22}")
            print(f"{'kubelet CPU (s, whole run)':<40}{kubelet_cpu:>14.1f}{'-':>22}")
            print(f"{'API server CPU (s, whole run)':<40}{server_cpu:>14.1f}{'-':>22}")
        finally:
            for proc in (kubelet, server):
                if proc is not None and proc.poll() is None:
                    os.kill(proc.pid, signal.SIGTERM)
                    try:
                        proc.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()


if __name__ == "__main__":
    main()
