"""`kyb kubelet --runtime simulated --simulate-nodes 2` against a real `kyb server` (its
own, so the session cluster keeps having no nodes): the nodes register Ready, a
Deployment's pods are scheduled onto them and reported Running and Ready through
kubectl, and a deleted pod goes away once its containers have stopped."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Cluster, free_port, running_server

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: busybox
        readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
"""


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("kyb-kubelet-sim")
    with running_server(data_dir) as cluster:
        log = (data_dir / "kubelet.log").open("w")
        kubelet = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "kubelet"),
                *("--kubeconfig", str(cluster.kubeconfig), "--runtime", "simulated"),
                *("--simulate-nodes", "2", "--node-name", "sim", "--data-dir", str(data_dir)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield cluster
        finally:
            kubelet.terminate()
            try:
                assert kubelet.wait(timeout=30) == 0, (data_dir / "kubelet.log").read_text()[-3000:]
            finally:
                if kubelet.poll() is None:
                    kubelet.kill()
                    kubelet.wait()
                log.close()


def wait_until(check: Callable[[], bool], what: str, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_nodes_ready_and_deployment_runs(simulated: Cluster) -> None:
    def nodes_ready() -> bool:
        out = simulated.kubectl("get", "nodes", "-o", "json")
        nodes = json.loads(out)["items"]
        ready = [n["metadata"]["name"] for n in nodes if _ready(n["status"]["conditions"])]
        return sorted(ready) == ["sim-0", "sim-1"]

    wait_until(nodes_ready, "two Ready nodes")
    lease = json.loads(
        simulated.kubectl("get", "lease", "-n", "kube-node-lease", "sim-0", "-o", "json")
    )
    assert lease["spec"]["holderIdentity"] == "sim-0"

    simulated.kubectl("create", "namespace", "sim")
    simulated.kubectl("apply", "-n", "sim", "-f", "-", stdin=DEPLOYMENT)

    def created() -> bool:  # kubectl wait needs the pods to exist
        return len(simulated.kubectl("get", "pods", "-n", "sim", "-o", "name").split()) == 3

    wait_until(created, "the Deployment's 3 pods")
    simulated.kubectl(
        "wait", "-n", "sim", "--for=condition=Ready", "pod", "-l", "app=web", "--timeout=60s"
    )

    def all_running() -> bool:
        rows = simulated.kubectl("get", "pods", "-n", "sim", "--no-headers").splitlines()
        return len(rows) == 3 and all(r.split()[1:3] == ["1/1", "Running"] for r in rows)

    wait_until(all_running, "3 pods 1/1 Running")
    pods = json.loads(simulated.kubectl("get", "pods", "-n", "sim", "-o", "json"))["items"]
    assert {p["spec"]["nodeName"] for p in pods} <= {"sim-0", "sim-1"}
    for pod in pods:
        assert pod["status"]["podIP"].startswith("10.64.")
        status = pod["status"]["containerStatuses"][0]
        assert status["ready"] and status["containerID"].startswith("simulated://")

    victim = pods[0]["metadata"]["name"]
    simulated.kubectl("delete", "pod", "-n", "sim", victim, "--wait=true", "--timeout=60s")
    out = simulated.kubectl("get", "pod", "-n", "sim", victim, check=False)
    assert "NotFound" in out
    wait_until(all_running, "the ReplicaSet's replacement pod Running")


def _ready(conditions: list[dict[str, str]]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def test_server_runs_its_local_node(tmp_path: Path) -> None:
    port = free_port()
    flags = ("--node-name", "local", "--runtime", "simulated", "--kubelet-port", str(port))
    with running_server(tmp_path / "server", *flags, agent=True) as cluster:

        def ready() -> bool:
            out = cluster.kubectl("get", "node", "local", "-o", "json", check=False)
            conditions = (
                json.loads(out).get("status", {}).get("conditions", [])
                if out.startswith("{")
                else []
            )
            return _ready(conditions)

        wait_until(ready, "the local node Ready")
        node = json.loads(cluster.kubectl("get", "node", "local", "-o", "json"))
        assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == port
        assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "127.0.0.1"}
        assert node["status"]["nodeInfo"]["kubeletVersion"].startswith("v1.32.0")
        cluster.kubectl("run", "one", "--image=busybox", "--restart=Never")
        cluster.kubectl("wait", "--for=condition=Ready", "pod/one", "--timeout=60s")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # the kubelet's HTTPS API listens
