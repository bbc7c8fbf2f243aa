"""Pod startup latency and kubelet memory on one real node (the oci runtime).

Usage (root, runc, the CNI plugins, busybox-static):
    .venv/bin/python benchmarks/pod_startup.py [--rate 20] [--duration 120] [--pods 50]

It makes a scratch network namespace (`kybtest-<random>`), re-runs itself inside it
(nsenter), and there starts `kyb server --runtime oci` on a temporary data dir with the
busybox test image imported (image present: no pulls). Then:
1. churn: `--rate` pods/s are created for `--duration` seconds (through the scheduler);
   a watch records when each is first seen Running with Ready=True; each pod is deleted
   once seen Ready (its container exits on SIGTERM). Latency = create request sent →
   Running+Ready seen on the watch (the Kubernetes pod startup SLI, image present).
2. memory: `--pods` pods kept running at once; RSS/PSS of the server process (API
   server and kubelet), of its children (scheduler, controller-manager) and of the
   container shims.
Each phase prints its table when it ends.
Prints p50/p90/p99/max beside the anchors (Kubernetes SLO: p99 <= 5 s; runc starts a
container in ~30-50 ms; goal p99 < 1 s). Everything is deleted afterwards, the server
stopped, leftovers forced away and the namespace deleted, also on failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubernetes import client, config, watch
from tests.e2e.leftovers import force_clean, oci_leftovers
from tests.e2e.nodes import (
    Netns,
    NodeServer,
    busybox,
    busybox_archive,
    import_image,
    oci_available,
    pod_manifest,
    wait_for,
)

NAMESPACE = "bench"
NEVER = float("inf")
SCRIPT = "trap 'exit 0' TERM; busybox sleep 3600 & wait"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def memory_kib(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of `pid` in KiB (0, 0 when it is gone)."""
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def shim_pids(data_dir: Path) -> list[int]:
    """The container shims of the node (their command line names its data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"kybernetes.kubelet.runtime.shim" in cmdline and any(
            str(data_dir).encode() in arg for arg in cmdline
        ):
            found.append(int(entry.name))
    return found


class Recorder:
    """Watches the bench namespace; remembers when each pod was first Running+Ready."""

    def __init__(self, api: client.CoreV1Api) -> None:
        self.api = api
        self.ready: dict[str, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.lock = threading.Lock()

    def _run(self) -> None:
        resource_version = ""
        while not self.stop.is_set():
            w = watch.Watch()  # type: ignore[no-untyped-call]
            try:
                for event in w.stream(  # type: ignore[no-untyped-call]
                    self.api.list_namespaced_pod, NAMESPACE, resource_version=resource_version,
                    timeout_seconds=5, allow_watch_bookmarks=False,
                ):  # fmt: skip
                    pod: Any = event["object"]
                    resource_version = pod.metadata.resource_version
                    conditions = pod.status.conditions or []
                    is_ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
                    if pod.status.phase == "Running" and is_ready:
                        with self.lock:
                            self.ready.setdefault(pod.metadata.name, time.monotonic())
                    if self.stop.is_set():
                        break
            except client.ApiException as e:
                if e.status == 410:  # expired: start over from a fresh list
                    resource_version = ""
                else:
                    raise

    def seen(self, name: str) -> float | None:
        with self.lock:
            return self.ready.get(name)


def churn(
    api: client.CoreV1Api, recorder: Recorder, rate: float, duration: float, uids: list[str]
) -> list[float]:
    """Creates pods at `rate`/s for `duration` s (their uids appended to `uids`),
    deleting each once Ready; their startup latencies (s). Pods not Ready 60 s after
    the last creation count as 60 s."""
    sent: dict[str, float] = {}
    deleted: set[str] = set()
    count = int(rate * duration)
    body = client.V1DeleteOptions(grace_period_seconds=1)

    def create(name: str) -> None:
        manifest = pod_manifest(name, [busybox("main", SCRIPT)])
        manifest["metadata"]["namespace"] = NAMESPACE
        created = api.create_namespaced_pod(NAMESPACE, manifest)  # type: ignore[arg-type]
        uids.append(str(created.metadata.uid) if created.metadata else "")

    def reap() -> None:
        for name in list(sent):
            if name not in deleted and recorder.seen(name) is not None:
                deleted.add(name)
                pool.submit(api.delete_namespaced_pod, name, NAMESPACE, body=body)

    creations: list[Future[None]] = []
    with ThreadPoolExecutor(max_workers=16) as pool:
        start = time.monotonic()
        for i in range(count):
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            name = f"churn-{i}"
            sent[name] = time.monotonic()  # before the pool runs it: the wait below sees it
            creations.append(pool.submit(create, name))
            if i % int(max(rate, 1)) == 0:
                reap()
        for creation in creations:
            creation.result()  # a failed create fails the benchmark
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(recorder.seen(n) is None for n in sent):
            reap()
            time.sleep(0.2)
        reap()
    latencies = []
    unready: Counter[str] = Counter()
    for name, began in sent.items():
        ready_at = recorder.seen(name)
        latencies.append(ready_at - began if ready_at is not None else NEVER)
        if ready_at is None:
            status = api.read_namespaced_pod(name, NAMESPACE).status
            unready[str(status.phase if status else None)] += 1
    if unready:
        print(f"pod_startup: never Ready, by phase: {dict(unready)}", file=sys.stderr)
    return latencies


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (kyb server's scheduler and controllers)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_bytes() if entry.name.isdigit() else b""
        except OSError:
            continue
        if stat and int(stat[stat.rindex(b")") + 2 :].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def measure_memory(
    api: client.CoreV1Api, recorder: Recorder, server: NodeServer, pods: int
) -> tuple[tuple[int, int], tuple[int, int], list[tuple[int, int]]]:
    """Runs `pods` pods at once; (RSS, PSS) in KiB of the server process (API server and
    kubelet), of its child processes together, and of each shim."""
    names = [f"steady-{i}" for i in range(pods)]
    for name in names:
        manifest = pod_manifest(name, [busybox("main", SCRIPT)])
        manifest["metadata"]["namespace"] = NAMESPACE
        api.create_namespaced_pod(NAMESPACE, manifest)  # type: ignore[arg-type]
    wait_for(lambda: all(recorder.seen(n) for n in names), f"{pods} pods Ready", timeout=300)
    assert server.process is not None
    shims = [memory_kib(pid) for pid in shim_pids(server.data_dir)]
    kids = [memory_kib(pid) for pid in children(server.process.pid)]
    together = (sum(k[0] for k in kids), sum(k[1] for k in kids))
    return memory_kib(server.process.pid), together, shims


def table(rows: list[tuple[str, str, str]]) -> None:
    """Prints (metric, value, anchor) rows as aligned columns."""
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'metric':<{width}}  {'kybernetes':<{value_width}}  anchor")
    for metric, value, anchor in rows:
        print(f"{metric:<{width}}  {value:<{value_width}}  {anchor}", flush=True)


def latency_rows(latencies: list[float], rate: float, took: float) -> list[tuple[str, str, str]]:
    """The startup table; a percentile that falls on a pod never Ready says so."""

    def ms(p: float) -> str:
        value = percentile(latencies, p)
        return "never Ready" if value == NEVER else f"{value * 1000:.0f} ms"

    ready = [x for x in latencies if x != NEVER]
    return [
        ("pods created", f"{len(latencies)} at {rate:g}/s", ""),
        ("pods Ready per second", f"{len(ready) / took:.1f}", f"offered: {rate:g}/s"),
        ("startup p50", ms(0.50), "runc alone: ~30-50 ms"),
        ("startup p90", ms(0.90), ""),
        ("startup p99", ms(0.99), "SLO <= 5000 ms; goal < 1000 ms"),
        ("startup max", ms(1.0), ""),
        ("never Ready (60 s after the last)", str(len(latencies) - len(ready)), "0"),
    ]


def memory_rows(memory: Any, pods: int) -> list[tuple[str, str, str]]:
    (server_rss, server_pss), (kids_rss, kids_pss), shims = memory
    return [
        (f"API server + kubelet process, {pods} pods",
         f"{server_rss / 1024:.0f} / {server_pss / 1024:.0f} MiB RSS / PSS",
         "kubelet alone: ~50-100 MiB"),
        ("scheduler + controller-manager processes",
         f"{kids_rss / 1024:.0f} / {kids_pss / 1024:.0f} MiB RSS / PSS", ""),
        (f"shim RSS each ({len(shims)})", f"{_mean(s[0] for s in shims) / 1024:.1f} MiB",
         "conmon / containerd-shim: ~1-2 / ~10 MiB"),
        ("shims PSS total", f"{sum(s[1] for s in shims) / 1024:.0f} MiB", ""),
    ]  # fmt: skip


def _mean(values: Any) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def _terminate_on_sigterm() -> None:
    """SIGTERM raises SystemExit, so `finally` blocks clean up."""

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def inside(args: argparse.Namespace) -> None:
    """The benchmark proper, already in the scratch network namespace."""
    _terminate_on_sigterm()
    work = Path(tempfile.mkdtemp(prefix="kyb-bench-startup-"))
    data_dir = work / "data"
    server = NodeServer(data_dir, "oci")
    uids: list[str] = []
    try:
        import_image(data_dir, busybox_archive(work))
        server.start()
        api = client.CoreV1Api(
            config.new_client_from_config(config_file=str(server.kubeconfig))  # type: ignore[no-untyped-call]
        )
        api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))
        wait_for(lambda: _has_default_account(api), "the namespace's default service account")
        recorder = Recorder(api)
        recorder.thread.start()
        try:
            began = time.monotonic()
            latencies = churn(api, recorder, args.rate, args.duration, uids)
            table(latency_rows(latencies, args.rate, time.monotonic() - began))
            _delete_all(api, data_dir, uids)
            if args.pods:
                memory = measure_memory(api, recorder, server, args.pods)
                uids += [str(p.metadata.uid) for p in api.list_namespaced_pod(NAMESPACE).items
                         if p.metadata]  # fmt: skip
                table(memory_rows(memory, args.pods))
                _delete_all(api, data_dir, uids)
        finally:
            recorder.stop.set()
        server.stop()
    finally:
        server.kill()
        force_clean(data_dir, "oci", uids)
        shutil.rmtree(work, ignore_errors=True)


def _delete_all(api: client.CoreV1Api, data_dir: Path, uids: list[str]) -> None:
    """Deletes every pod of the namespace; waits until the node holds nothing of them."""
    api.delete_collection_namespaced_pod(NAMESPACE, grace_period_seconds=1)
    wait_for(lambda: not api.list_namespaced_pod(NAMESPACE).items, "every pod gone", 600)
    try:
        wait_for(lambda: not oci_leftovers(data_dir, uids), "the node to be clean", 120)
    except AssertionError:
        print("pod_startup: left behind:", oci_leftovers(data_dir, uids)[:20], file=sys.stderr)
        raise


def _has_default_account(api: client.CoreV1Api) -> bool:
    accounts = api.list_namespaced_service_account(NAMESPACE).items
    names = [a.metadata.name for a in accounts if a.metadata]
    return "default" in names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="pods created per second")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of churn")
    parser.add_argument("--pods", type=int, default=50, help="pods running for the memory figure")
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside:
        inside(args)
        return
    if not oci_available():
        sys.exit("pod_startup: needs root, runc, nsenter, ip and the CNI plugins")
    _terminate_on_sigterm()
    netns = Netns().create()
    command = [*netns.prefix(), sys.executable, os.path.abspath(__file__), "--inside"]
    command += ["--rate", str(args.rate), "--duration", str(args.duration)]
    command += ["--pods", str(args.pods)]
    inner = subprocess.Popen(command)
    try:
        code = inner.wait()
    finally:
        if inner.poll() is None:  # interrupted: the inner run cleans up on SIGTERM
            inner.terminate()
            inner.wait()
        netns.delete()
    sys.exit(code)


if __name__ == "__main__":
    main()
