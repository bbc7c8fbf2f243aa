"""`kyb dns` against a real `kyb server`: Services and their EndpointSlices (made by the
EndpointSlice controller from a pod marked Ready, or written by the test) become
records, answered over UDP and TCP; unknown names are NXDOMAIN at once; names outside
the zone go to a fake upstream of the test's own on loopback. Also prints queries/s
and latency percentiles of a plain query loop (a measurement, not an assertion).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import dns.reversename
import dns.rrset
import pytest
from kubernetes import client

from .conftest import Cluster, free_port

UPSTREAM_ANSWER = "192.0.2.53"


@contextlib.contextmanager
def fake_upstream() -> Iterator[int]:
    """A UDP resolver on 127.0.0.1 answering every A query with UPSTREAM_ANSWER."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, addr = sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query, recursion_available=True)
            name = query.question[0].name
            response.answer.append(dns.rrset.from_text(name, 60, "IN", "A", UPSTREAM_ANSWER))
            sock.sendto(response.to_wire(), addr)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join()
        sock.close()


@contextlib.contextmanager
def running_dns(cluster: Cluster, upstream: int, tmp_path: Path) -> Iterator[tuple[int, int]]:
    """`kyb dns` on free loopback ports (DNS, metrics) until the block exits; it must
    then stop cleanly on SIGTERM."""
    port, metrics = free_port(), free_port()
    log_path = tmp_path / "dns.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "dns"),
                *("--kubeconfig", str(cluster.kubeconfig), "--bind-address", "127.0.0.1"),
                *("--port", str(port), "--upstream", f"127.0.0.1:{upstream}"),
                *("--metrics-bind-address", f"127.0.0.1:{metrics}"),
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(
            lambda: "serving cluster.local" in log_path.read_text(),
            proc,
            lambda: log_path.read_text()[-4000:],
        )
        yield port, metrics
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(
    check: Callable[[], bool],
    proc: subprocess.Popen[bytes] | None = None,
    describe: Callable[[], str] = lambda: "",
) -> None:
    """Polls `check` (bounded: 60 s); fails early if `proc` died. `describe()` is the
    failure's message."""
    deadline = time.monotonic() + 60
    while not check():
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            raise AssertionError(f"condition not met: {describe()}")
        time.sleep(0.05)


def ask(port: int, name: str, rdtype: str = "A", *, tcp: bool = False) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    if tcp:
        return dns.query.tcp(query, "127.0.0.1", timeout=2, port=port)
    return dns.query.udp(query, "127.0.0.1", timeout=2, port=port)


def addresses(response: dns.message.Message) -> list[str]:
    return sorted(str(r) for rrset in response.answer for r in rrset if rrset.rdtype in (1, 28))


def measure(port: int, name: str, count: int = 3000) -> dict[str, float]:
    """Sequential UDP queries from one socket: queries/s and latency percentiles (ms)."""
    wire = bytearray(dns.message.make_query(name, "A").to_wire())
    latencies: list[float] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))
        sock.settimeout(2)
        start = time.perf_counter()
        for i in range(count):
            wire[0:2] = (i & 0xFFFF).to_bytes(2, "big")
            sent = time.perf_counter()
            sock.send(wire)
            reply = sock.recv(4096)
            latencies.append(time.perf_counter() - sent)
            assert reply[0:2] == wire[0:2]
        total = time.perf_counter() - start
    cuts = statistics.quantiles(latencies, n=100)
    return {"qps": count / total, "p50_ms": cuts[49] * 1e3, "p99_ms": cuts[98] * 1e3}


def test_dns_serves_the_cluster(cluster: Cluster, namespace: str, tmp_path: Path) -> None:
    core = client.CoreV1Api(cluster.api_client())
    discovery = client.DiscoveryV1Api(cluster.api_client())
    web: Any = core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "web"},
            "spec": {"selector": {"app": "nothing"}, "ports": [{"name": "http", "port": 80}]},
        },
    )
    cluster_ip = web.spec.cluster_ip
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "db"},
            "spec": {
                "clusterIP": "None",
                "selector": {"app": "db"},
                "ports": [{"name": "pg", "port": 5432}],
            },
        },
    )
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": "db-0", "labels": {"app": "db"}},
            "spec": {
                "hostname": "db-0",
                "subdomain": "db",
                # No scheduler of ours takes it (no node to run on here): its status
                # stays what the test writes.
                "schedulerName": "kyb-test-nobody",
                "containers": [
                    {
                        "name": "pg",
                        "image": "busybox",
                        "ports": [{"name": "pg", "containerPort": 5432}],
                    }
                ],
            },
        },
    )
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    core.patch_namespaced_pod_status(
        "db-0",
        namespace,
        {
            "status": {
                "phase": "Running",
                "podIP": "10.42.7.5",
                "podIPs": [{"ip": "10.42.7.5"}],
                "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": now}],
            }
        },
    )
    discovery.create_namespaced_endpoint_slice(
        namespace,
        {
            "metadata": {"name": "manual", "labels": {"kubernetes.io/service-name": "manual"}},
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.42.9.1"], "conditions": {"ready": True}}],
            "ports": [{"name": "x", "port": 9, "protocol": "UDP"}],
        },
    )
    core.create_namespaced_service(
        namespace, {"metadata": {"name": "manual"}, "spec": {"clusterIP": "None"}}
    )

    zone = f"{namespace}.svc.cluster.local."
    with fake_upstream() as upstream, running_dns(cluster, upstream, tmp_path) as (port, metrics):
        wait_for(
            lambda: addresses(ask(port, f"db.{zone}")) == ["10.42.7.5"],
            describe=lambda: (
                cluster.kubectl("-n", namespace, "get", "endpointslices,pods", "-o", "yaml")
                + (tmp_path / "dns.log").read_text()
            ),
        )
        for tcp in (False, True):
            assert addresses(ask(port, f"web.{zone}", tcp=tcp)) == [cluster_ip]
            assert addresses(ask(port, f"db-0.db.{zone}", tcp=tcp)) == ["10.42.7.5"]
            assert addresses(ask(port, f"manual.{zone}", tcp=tcp)) == ["10.42.9.1"]
        srv = ask(port, f"_pg._tcp.db.{zone}", "SRV")
        assert [str(r) for r in srv.answer[0]] == [f"0 100 5432 db-0.db.{zone}"]
        ptr = ask(port, dns.reversename.from_address(cluster_ip).to_text(), "PTR")
        assert [str(r) for r in ptr.answer[0]] == [f"web.{zone}"]
        assert addresses(ask(port, "example.com.")) == [UPSTREAM_ANSWER]

        started = time.perf_counter()
        missing = ask(port, f"nothing-here.{zone}")
        elapsed = time.perf_counter() - started
        assert missing.rcode() == dns.rcode.NXDOMAIN
        assert elapsed < 0.5, elapsed

        core.delete_namespaced_service("web", namespace)
        wait_for(lambda: ask(port, f"web.{zone}").rcode() == dns.rcode.NXDOMAIN)

        found = measure(port, f"db.{zone}")
        unknown = measure(port, f"nothing-here.{zone}", count=1000)
        print(
            f"\nkyb dns, sequential UDP from one client: "
            f"{found['qps']:.0f} queries/s, p50 {found['p50_ms']:.3f} ms, "
            f"p99 {found['p99_ms']:.3f} ms; NXDOMAIN: {unknown['qps']:.0f} queries/s, "
            f"p99 {unknown['p99_ms']:.3f} ms"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics}/metrics", timeout=5) as r:
            text = r.read().decode()
        assert "coredns_dns_requests_total" in text
        assert 'rcode="NXDOMAIN"' in text


@pytest.mark.parametrize("flag", [["--upstream", "not-an-ip"], ["--port", "x"]])
def test_bad_flags_fail(cluster: Cluster, flag: list[str]) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "kybernetes.cli.main",
            "dns",
            "--kubeconfig",
            str(cluster.kubeconfig),
            *flag,
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode in (1, 2), result
    assert "error" in result.stderr
