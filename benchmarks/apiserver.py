"""API server benchmark: a real `kyb server` (SQLite) driven over HTTPS from this process.

Usage: .venv/bin/python benchmarks/apiserver.py [--clients 50] [--requests 4000]
                                                [--watchers 1000] [--pods 10000]

Measures, on this machine: create/get/update/list requests per second with p50/p99
latency at `--clients` concurrent clients; p50/p99 of a mixed open-loop load at
`--rate` requests/s over 64 connections (the issue's goal: p99 < 50 ms at 1,000/s);
watch delivery latency to `--watchers` concurrent watches; a LIST of `--pods` pods;
the server's resident memory holding them. Prints one table beside Kubernetes'
published SLOs.
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
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import orjson

from kybernetes.client import load_kubeconfig

NS = "/api/v1/namespaces/default"


def pod(name: str) -> bytes:
    return orjson.dumps(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "bench"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


async def timed_phase(
    clients: int, total: int, call: Callable[[int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Runs `call(i)` for i in range(total) from `clients` tasks; (req/s, latencies ms)."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            start = time.perf_counter()
            await call(i)
            latencies.append((time.perf_counter() - start) * 1000)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(clients):
            tg.create_task(worker())
    return total / (time.perf_counter() - start), latencies


async def crud(session: aiohttp.ClientSession, url: str, args: argparse.Namespace) -> list[tuple]:
    headers = {"Content-Type": "application/json"}
    rows = []

    async def create(i: int) -> None:
        async with session.post(f"{url}{NS}/pods", data=pod(f"p{i}"), headers=headers) as r:
            assert r.status == 201, await r.text()

    async def get(i: int) -> None:
        async with session.get(f"{url}{NS}/pods/p{i}") as r:
            assert r.status == 200

    async def update(i: int) -> None:
        patch = b'{"metadata":{"labels":{"round":"2"}}}'
        merge = {"Content-Type": "application/merge-patch+json"}
        async with session.patch(f"{url}{NS}/pods/p{i}", data=patch, headers=merge) as r:
            assert r.status == 200, await r.text()

    async def list_some(i: int) -> None:
        async with session.get(f"{url}{NS}/pods?limit=50") as r:
            assert r.status == 200

    for name, call in (
        ("create", create),
        ("get", get),
        ("update", update),
        ("list 50", list_some),
    ):
        rate, latencies = await timed_phase(args.clients, args.requests, call)
        rows.append((name, rate, percentile(latencies, 50), percentile(latencies, 99)))
    return rows


async def mixed_at_rate(
    session: aiohttp.ClientSession, url: str, rate: int, seconds: float
) -> tuple[float, list[float]]:
    """Open-loop load: `rate` requests/s for `seconds` (60% get, 20% merge patch,
    10% create, 10% list of 50), each started on schedule whatever the others do.
    Returns (achieved req/s, latencies ms)."""
    headers = {"Content-Type": "application/json"}
    merge = {"Content-Type": "application/merge-patch+json"}
    latencies: list[float] = []

    async def one(i: int) -> None:
        start = time.perf_counter()
        kind = i % 10
        if kind < 6:
            response = session.get(f"{url}{NS}/pods/p{i % 1000}")
        elif kind < 8:
            body = orjson.dumps({"metadata": {"labels": {"mixed": str(i)}}})
            response = session.patch(f"{url}{NS}/pods/p{i % 1000}", data=body, headers=merge)
        elif kind == 8:
            response = session.post(f"{url}{NS}/pods", data=pod(f"m{i}"), headers=headers)
        else:
            response = session.get(f"{url}{NS}/pods?limit=50")
        async with response as r:
            await r.read()
            assert r.status < 300, r.status
        latencies.append((time.perf_counter() - start) * 1000)

    total = int(rate * seconds)
    begin = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tg.create_task(one(i))
    return total / (time.perf_counter() - begin), latencies


async def watch_latency(session: aiohttp.ClientSession, url: str, watchers: int) -> list[float]:
    """Opens `watchers` watches, writes 20 objects, measures write→delivery per watcher."""
    rv = (await (await session.get(f"{url}/api/v1/namespaces/default/configmaps")).json())[
        "metadata"
    ]["resourceVersion"]
    sent: dict[str, float] = {}
    latencies: list[float] = []
    ready = 0
    all_ready = asyncio.Event()

    async def watcher() -> None:
        nonlocal ready
        query = f"watch=1&resourceVersion={rv}&timeoutSeconds=120"
        async with session.get(f"{url}{NS}/configmaps?{query}") as r:
            ready += 1
            if ready == watchers:
                all_ready.set()
            seen = 0
            async for line in r.content:
                event = orjson.loads(line)
                latencies.append(
                    (time.perf_counter() - sent[event["object"]["metadata"]["name"]]) * 1000
                )
                seen += 1
                if seen == 20:
                    return

    async def writer() -> None:
        await all_ready.wait()
        for i in range(20):
            name = f"w{i}"
            sent[name] = time.perf_counter()
            body = orjson.dumps({"metadata": {"name": name}, "data": {"k": "v"}})
            headers = {"Content-Type": "application/json"}
            async with session.post(f"{url}{NS}/configmaps", data=body, headers=headers) as r:
                assert r.status == 201
            await asyncio.sleep(0.05)

    async with asyncio.TaskGroup() as tg:
        for _ in range(watchers):
            tg.create_task(watcher())
        tg.create_task(writer())
    return latencies


async def big_list(session: aiohttp.ClientSession, url: str, pods: int) -> float:
    existing = (await (await session.get(f"{url}{NS}/pods?limit=1")).json())["items"]
    start_index = 10**6 if existing else 0
    headers = {"Content-Type": "application/json"}

    async def create(i: int) -> None:
        async with session.post(
            f"{url}{NS}/pods", data=pod(f"l{start_index + i}"), headers=headers
        ) as r:
            assert r.status == 201

    await timed_phase(50, pods, create)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        async with session.get(f"{url}/api/v1/pods") as r:
            body = await r.read()
        times.append(time.perf_counter() - start)
        assert len(orjson.loads(body)["items"]) >= pods
    return min(times)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run(args: argparse.Namespace, kubeconfig: Path, pid: int) -> None:
    config = load_kubeconfig(kubeconfig)
    connector = aiohttp.TCPConnector(ssl=config.ssl_context(), limit=0)
    timeout = aiohttp.ClientTimeout(total=None)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        url = config.server
        rows = await crud(session, url, args)
        pooled = aiohttp.TCPConnector(ssl=config.ssl_context(), limit=64)
        async with aiohttp.ClientSession(connector=pooled, timeout=timeout) as mixed_session:
            achieved, mixed = await mixed_at_rate(mixed_session, url, args.rate, 10)
        latencies = await watch_latency(session, url, args.watchers)
        list_seconds = await big_list(session, url, args.pods)
    print(f"| operation ({args.clients} clients) | req/s | p50 ms | p99 ms |")
    print("|---|---|---|---|")
    for name, rate, p50, p99 in rows:
        print(f"| {name} | {rate:,.0f} | {p50:.1f} | {p99:.1f} |")
    print(
        f"| mixed at {args.rate}/s (achieved {achieved:,.0f}/s) | — | "
        f"{percentile(mixed, 50):.1f} | {percentile(mixed, 99):.1f} |"
    )
    print()
    print("| measure | value | anchor (Kubernetes SLO) |")
    print("|---|---|---|")
    print(
        f"| watch delivery, {args.watchers} watchers, p50 / p99 | "
        f"{percentile(latencies, 50):.0f} / {percentile(latencies, 99):.0f} ms | — |"
    )
    print(
        f"| LIST all pods ({args.pods:,} + CRUD ones) | {list_seconds * 1000:.0f} ms "
        "| <= 30 s cluster-wide |"
    )
    print(f"| server RSS holding them | {rss_mib(pid):.0f} MiB | — |")
    print("| single-object p99 goal | < 50 ms | <= 1 s |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=1000, help="mixed requests/s (open loop)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as tmp:
        port = free_port()
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "server", "--data-dir", tmp),
                *("--bind-address", "127.0.0.1", "--https-listen-port", str(port)),
                "--disable-agent",
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            for line in server.stdout:
                if "kubeconfig written" in line:
                    break
            asyncio.run(run(args, Path(tmp) / "kubeconfig.yaml", server.pid))
        finally:
            os.kill(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
