"""Store benchmark: the SQLite and etcd backends side by side, same machine, same run.

Usage: .venv/bin/python benchmarks/store.py [--writes N] [--keys N]

Both backends write to the same file system with the same durability (an
acknowledged write is on disk: SQLite in WAL mode with synchronous=FULL; etcd fsyncs
its WAL before answering). Prints one table with the published anchors beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.etcd import EtcdCluster, etcd_available

from kybernetes.store import Store, open_store

ANCHORS = {
    "writes/s, 1 writer": "etcd guide: ~583/s (1 client, 8 vCPU)",
    "writes/s, 100 writers": "etcd guide: ~44k/s (1,000 clients, 8 vCPU)",
    "reads/s, 100 readers": "",
    "list 10k keys (ms)": "",
    "watch latency p50 (ms)": "",
    "watch latency p99 (ms)": "",
}


async def writes_per_second(store: Store, prefix: str, writers: int, total: int) -> float:
    """`total` creates spread over `writers` concurrent tasks; returns creates/s."""
    per_writer = total // writers

    async def writer(w: int) -> None:
        for i in range(per_writer):
            await store.create(f"{prefix}{w:03d}/{i:06d}", b'{"kind":"ConfigMap"}' * 10)

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for w in range(writers):
            tg.create_task(writer(w))
    return per_writer * writers / (time.perf_counter() - start)


async def reads_per_second(store: Store, keys: list[str], readers: int, total: int) -> float:
    async def reader(r: int) -> None:
        for i in range(total // readers):
            await store.get(keys[(r * 7919 + i) % len(keys)])

    start = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for r in range(readers):
            tg.create_task(reader(r))
    return total / (time.perf_counter() - start)


async def list_ms(store: Store, prefix: str, expected: int) -> float:
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = await store.list(prefix)
        times.append((time.perf_counter() - start) * 1000)
        assert len(result.kvs) == expected, (len(result.kvs), expected)
    return min(times)


async def watch_latencies_ms(store: Store, prefix: str, writes: int) -> list[float]:
    """Creates `writes` keys from 10 writers; latency = event received - write issued."""
    issued: dict[str, float] = {}
    latencies: list[float] = []
    async with store.watch(prefix) as events:

        async def writer(w: int) -> None:
            for i in range(writes // 10):
                key = f"{prefix}{w}/{i}"
                issued[key] = time.perf_counter()
                await store.create(key, b"v")

        async def reader() -> None:
            async for event in events:
                latencies.append((time.perf_counter() - issued[event.kv.key]) * 1000)
                if len(latencies) == writes // 10 * 10:
                    return

        async with asyncio.TaskGroup() as tg:
            tg.create_task(reader())
            for w in range(10):
                tg.create_task(writer(w))
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def measure(endpoint: str, writes: int, keys: int) -> dict[str, float]:
    store = await open_store(endpoint)
    try:
        results = {
            "writes/s, 1 writer": await writes_per_second(store, "/bench/w1/", 1, writes // 4),
            "writes/s, 100 writers": await writes_per_second(store, "/bench/w100/", 100, writes),
        }
        list_keys = [f"/bench/list/{i:06d}" for i in range(keys)]
        await _fill(store, list_keys)
        results["reads/s, 100 readers"] = await reads_per_second(store, list_keys, 100, writes)
        results["list 10k keys (ms)"] = await list_ms(store, "/bench/list/", keys)
        latencies = await watch_latencies_ms(store, "/bench/watch/", 1000)
        results["watch latency p50 (ms)"] = percentile(latencies, 50)
        results["watch latency p99 (ms)"] = percentile(latencies, 99)
        return results
    finally:
        await store.close()


async def _fill(store: Store, keys: list[str]) -> None:
    queue = iter(keys)

    async def writer() -> None:
        for key in queue:
            await store.create(key, b'{"kind":"Pod","metadata":{}}' * 20)

    async with asyncio.TaskGroup() as tg:
        for _ in range(100):
            tg.create_task(writer())


def print_table(columns: dict[str, dict[str, float]]) -> None:
    names = list(columns)
    header = f"| metric | {' | '.join(names)} | anchor |"
    print(header)
    print("|" + "---|" * (len(names) + 2))
    for metric, anchor in ANCHORS.items():
        cells = " | ".join(f"{columns[n][metric]:,.1f}" for n in names)
        print(f"| {metric} | {cells} | {anchor} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=10_000, help="writes for the 100-writer run")
    parser.add_argument("--keys", type=int, default=10_000, help="keys for the list benchmark")
    args = parser.parse_args()
    if not etcd_available():
        sys.exit("etcd is not installed: run `make system-deps` as root")
    # The same file system for both, so both pay the same fsync.
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as tmp:
        columns = {
            "sqlite": asyncio.run(measure(f"sqlite://{tmp}/state.db", args.writes, args.keys))
        }
        (Path(tmp) / "etcd").mkdir()
        with EtcdCluster(size=1, base_dir=Path(tmp) / "etcd") as cluster:
            columns["etcd 3.4"] = asyncio.run(measure(cluster.endpoint_url, args.writes, args.keys))
    print(f"store benchmark — {platform.node()}, {platform.processor() or platform.machine()},")
    print(f"python {platform.python_version()}, writes={args.writes}, keys={args.keys}\n")
    print_table(columns)


if __name__ == "__main__":
    main()
