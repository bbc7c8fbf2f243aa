"""Streaming end to end: `kyb server` with its local node on the process runtime, the
real kubectl (exec over WebSocket and SPDY, exec -i, logs, port-forward over SPDY in a
WebSocket and plain SPDY) and the official Python client (`stream()` exec and
`portforward`), through the API server's proxy to the kubelet's HTTPS server.

The process runtime runs host binaries (a pod's sandbox is the host's loopback), so
the pods here run /usr/bin/busybox from the imported test image's config.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.stream import portforward, stream

from tests.support.images import BUSYBOX_REF, build_image, busybox_available, write_docker_archive
from tests.support.images import busybox_rootfs_layer as busybox_layer

from .conftest import Cluster, free_port, running_server

pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None or not busybox_available(),
    reason="needs kubectl and Debian's busybox-static",
)


def _wait(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("kyb-streaming")
    archive = write_docker_archive(
        data_dir / "busybox.tar", build_image(BUSYBOX_REF, [busybox_layer()])
    )
    flags = ("--runtime", "process", "--kubelet-port", str(free_port()))
    with running_server(data_dir, *flags, "--disable", "proxy,dns", agent=True) as cluster:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "kybernetes.cli.main",
                "images",
                "import",
                "--data-dir",
                str(data_dir),
                str(archive),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        ready = "jsonpath={.items[*].status.conditions[?(@.type=='Ready')].status}"
        _wait(
            lambda: "True" in cluster.kubectl("get", "nodes", "-o", ready, check=False),
            "the local node to be Ready",
        )
        yield cluster


@pytest.fixture(scope="module")
def http_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def pod(node_cluster: Cluster, http_port: int) -> Iterator[str]:
    """A running pod printing numbered lines and serving HTTP on 127.0.0.1:http_port
    (httpd in the foreground, in the container's process group, so it ends with it)."""
    www = Path(node_cluster.data_dir) / "www"
    www.mkdir(exist_ok=True)
    (www / "index.html").write_text("served by the pod\n")
    script = (
        f"busybox httpd -f -p 127.0.0.1:{http_port} -h {www} & "
        "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"
    )
    manifest = f"""
apiVersion: v1
kind: Pod
metadata: {{name: streamer, namespace: default}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: {BUSYBOX_REF}
    command: ["/usr/bin/busybox", "sh", "-c", "{script}"]
"""
    node_cluster.kubectl("apply", "-f", "-", stdin=manifest)
    _wait(
        lambda: (
            node_cluster.kubectl(
                "get", "pod", "streamer", "-o", "jsonpath={.status.phase}", check=False
            )
            == "Running"
        ),
        "the pod to run",
    )
    yield "streamer"
    # Waits for the containers to be gone: they would outlive the server otherwise.
    node_cluster.kubectl("delete", "pod", "streamer", "--timeout=60s")


def _kubectl(
    cluster: Cluster, *args: str, stdin: str | None = None, **env: str
) -> tuple[int, str, str]:
    result = subprocess.run(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_exec(node_cluster: Cluster, pod: str, websockets: str) -> None:
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    code, out, err = _kubectl(node_cluster, "exec", pod, "--", "busybox", "sh", "-c",
                              "echo out; echo err >&2; exit 3", **env)  # fmt: skip
    assert (code, out) == (3, "out\n"), err
    assert "err\n" in err
    assert "command terminated with exit code 3" in err
    code, out, err = _kubectl(
        node_cluster, "exec", "-i", pod, "--", "busybox", "tr", "a-z", "A-Z", stdin="up\n", **env
    )
    assert (code, out) == (0, "UP\n"), err


def test_kubectl_logs(node_cluster: Cluster, pod: str) -> None:
    _wait(lambda: "line 3" in _kubectl(node_cluster, "logs", pod)[1], "three lines of output")
    code, out, err = _kubectl(node_cluster, "logs", pod, "--tail", "1", "--timestamps")
    assert code == 0, err
    timestamp, _, line = out.strip().partition(" ")
    assert timestamp.endswith("Z") and line.startswith("line ")
    follow = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(node_cluster.kubeconfig), "logs", "-f", pod],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert follow.stdout is not None
        seen = [follow.stdout.readline() for _ in range(3)]
        assert all(line.startswith("line ") for line in seen)
        last = int(seen[-1].split()[1])
        assert follow.stdout.readline() == f"line {last + 1}\n"  # still following
    finally:
        follow.kill()
        follow.wait()


@contextlib.contextmanager
def _port_forward(cluster: Cluster, pod: str, remote: int, websockets: str) -> Iterator[int]:
    local = free_port()
    proc = subprocess.Popen(
        ["kubectl", "--kubeconfig", str(cluster.kubeconfig), "port-forward", f"pod/{pod}",
         f"{local}:{remote}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": websockets},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "Forwarding from" in line, proc.stderr.read() if proc.stderr else line
        yield local
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("websockets", ["true", "false"])
def test_kubectl_port_forward(
    node_cluster: Cluster, pod: str, http_port: int, websockets: str
) -> None:
    with _port_forward(node_cluster, pod, http_port, websockets) as local:
        for _ in range(3):  # several connections over one session
            with urllib.request.urlopen(f"http://127.0.0.1:{local}/index.html", timeout=10) as r:
                assert r.read() == b"served by the pod\n"


def test_python_client_exec(node_cluster: Cluster, pod: str) -> None:
    api = client.CoreV1Api(node_cluster.api_client())
    session = stream(
        api.connect_get_namespaced_pod_exec,
        pod,
        "default",
        command=["busybox", "sh", "-c", "read x; echo got $x; exit 7"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    session.write_stdin("input\n")
    session.run_forever(timeout=20)
    assert session.read_stdout() == "got input\n"
    assert session.returncode == 7
    session.close()
    plain = stream(
        api.connect_get_namespaced_pod_exec, pod, "default", command=["busybox", "echo", "hi"],
        stderr=True, stdin=False, stdout=True, tty=False,
    )  # fmt: skip
    assert plain == "hi\n"


def test_python_client_port_forward(node_cluster: Cluster, pod: str, http_port: int) -> None:
    api = client.CoreV1Api(node_cluster.api_client())
    forward = portforward(
        api.connect_get_namespaced_pod_portforward, pod, "default", ports=str(http_port)
    )
    sock: socket.socket = forward.socket(http_port)
    sock.settimeout(10)
    sock.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    forward.close()
    assert answer.startswith(b"HTTP/1.") and answer.endswith(b"served by the pod\n")
