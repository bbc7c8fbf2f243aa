"""Two `kyb scheduler` processes against one API server: one leads, the other takes
over when the leader is killed, and pods keep being scheduled."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, running_server

NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "failover-node"},
    "status": {
        "allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"},
        "conditions": [{"type": "Ready", "status": "True"}],
    },
}


def pod(name: str) -> str:
    container = {"name": "c", "image": "busybox"}
    return json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
         "spec": {"containers": [container]}}
    )  # fmt: skip


@pytest.fixture
def bare_cluster(tmp_path: Path) -> Iterator[Cluster]:
    with running_server(tmp_path / "server", "--disable", "scheduler") as cluster:
        yield cluster


def start_scheduler(cluster: Cluster, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as out:
        return subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "scheduler"),
                *("--kubeconfig", str(cluster.kubeconfig), "--metrics-bind-address", ""),
                *("--leader-elect-lease-duration", "2s", "--leader-elect-renew-deadline", "1500ms"),
                *("--leader-elect-retry-period", "200ms"),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def lease_holder(cluster: Cluster) -> str:
    lease = cluster.kubectl(
        "get", "lease", "kube-scheduler", "-n", "kube-system", "-o", "json", check=False
    )
    try:
        return str(json.loads(lease)["spec"].get("holderIdentity") or "")
    except (ValueError, KeyError):
        return ""


def wait_for(check: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_the_standby_scheduler_takes_over(bare_cluster: Cluster, tmp_path: Path) -> None:
    cluster = bare_cluster
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(NODE))
    first = start_scheduler(cluster, tmp_path / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        wait_for(lambda: lease_holder(cluster), "the first scheduler to lead")
        leader = lease_holder(cluster)
        second = start_scheduler(cluster, tmp_path / "second.log")
        cluster.kubectl("create", "-n", "default", "-f", "-", stdin=pod("before"))
        cluster.kubectl(
            "wait", "-n", "default", "pod/before", "--for=jsonpath={.spec.nodeName}",
            "--timeout=30s",
        )  # fmt: skip
        first.kill()
        first.wait()
        wait_for(lambda: lease_holder(cluster) not in ("", leader), "the standby to lead")
        cluster.kubectl("create", "-n", "default", "-f", "-", stdin=pod("after"))
        cluster.kubectl(
            "wait", "-n", "default", "pod/after", "--for=jsonpath={.spec.nodeName}",
            "--timeout=30s",
        )  # fmt: skip
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)
