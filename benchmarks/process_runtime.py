"""Process-runtime benchmark: container start latency and the memory of a container shim.

Usage: .venv/bin/python benchmarks/process_runtime.py [--containers 50] [--no-forkserver]

Creates one sandbox and N containers (`sleep`), timing create+start until
container_status says RUNNING; prints p50/p90/p99, then each shim's RSS and PSS
(from /proc), and the time to stop them all. Anchors: runc starts a container in
~30-50 ms; a conmon process uses ~1-2 MiB (it is C; ours is a Python interpreter).
Everything it starts is stopped and removed before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from kybernetes.kubelet.runtime.interface import ContainerConfig, ContainerState, PodSandboxConfig
from kybernetes.kubelet.runtime.process import ProcessRuntime


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of `pid` in KiB."""
    rss = pss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


async def run(count: int, forkserver: bool) -> None:
    root = Path(tempfile.mkdtemp(prefix="kyb-bench-"))
    runtime = ProcessRuntime(root / "runtime", forkserver=forkserver)
    sandbox = PodSandboxConfig(name="bench", namespace="default", uid="bench",
                               log_directory=str(root / "logs"))  # fmt: skip
    sandbox_id = await runtime.run_pod_sandbox(sandbox)
    try:
        latencies, shims = [], []
        for i in range(count):
            config = ContainerConfig(name=f"c{i}", image="busybox", command=["sleep", "3600"],
                                     log_path=f"c{i}/0.log")  # fmt: skip
            began = time.perf_counter()
            container_id = await runtime.create_container(sandbox_id, config, sandbox)
            await runtime.start_container(container_id)
            status = await runtime.container_status(container_id)
            latencies.append(time.perf_counter() - began)
            assert status.state == ContainerState.RUNNING
            shim_pid = (root / "runtime/containers" / container_id / "shim.pid").read_text()
            shims.append(int(shim_pid.split()[0]))
        ms = [1000 * x for x in latencies]
        print(f"start latency over {count} containers: p50 {percentile(ms, 0.5):.1f} ms, "
              f"p90 {percentile(ms, 0.9):.1f} ms, p99 {percentile(ms, 0.99):.1f} ms")  # fmt: skip
        memory = [memory_kib(pid) for pid in shims]
        rss = statistics.median(m[0] for m in memory) / 1024
        pss = statistics.median(m[1] for m in memory) / 1024
        print(f"per shim: RSS {rss:.1f} MiB, PSS {pss:.1f} MiB (median)")
        began = time.perf_counter()
        await runtime.stop_pod_sandbox(sandbox_id)
        print(f"stop all (SIGKILL): {time.perf_counter() - began:.2f} s")
    finally:
        await runtime.remove_pod_sandbox(sandbox_id)
        await runtime.close()
        shutil.rmtree(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--containers", type=int, default=50)
    parser.add_argument("--no-forkserver", action="store_true", help="a python start per shim")
    args = parser.parse_args()
    asyncio.run(run(args.containers, not args.no_forkserver))


if __name__ == "__main__":
    main()
