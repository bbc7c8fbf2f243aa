"""A real `kyb server` for the end-to-end tests, driven by kubectl and the official client.

One server per test session (a fresh data dir, a free loopback port, no local node);
tests isolate themselves by namespace. The server is stopped with SIGTERM at the end
and must exit 0.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config


@dataclass(frozen=True)
class Cluster:
    data_dir: Path
    kubeconfig: Path
    port: int

    def kubectl(self, *args: str, check: bool = True, stdin: str | None = None) -> str:
        result = subprocess.run(
            [
                *("kubectl", "--kubeconfig", str(self.kubeconfig)),
                *("--cache-dir", str(self.data_dir / "kubectl-cache")),
                *args,
            ],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result.stdout if check else result.stdout + result.stderr

    def api_client(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig))


WATCH_CACHE_SIZE = 200
"""Small, so that a test can make a resourceVersion fall out of the watch cache."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(data_dir: Path, *flags: str, agent: bool = False) -> Iterator[Cluster]:
    """A `kyb server` on a free loopback port until the block exits; it must then stop
    cleanly on SIGTERM (exit status 0). No local node unless `agent`; a local node runs
    no proxy and no DNS (they would change the host's firewall and listen on its port 53)
    unless `flags` name their own `--disable` list."""
    port = free_port()
    log_path = data_dir / "server.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    # The server's output goes to a file: a pipe nobody reads would fill and block it.
    with log_path.open("w") as log_file:
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "kybernetes.cli.main", "server"),
                *("--data-dir", str(data_dir), "--bind-address", "127.0.0.1"),
                *("--https-listen-port", str(port), *(() if agent else ("--disable-agent",))),
                *(("--disable", "proxy,dns") if agent and "--disable" not in flags else ()),
                *flags,
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_for_kubeconfig(proc, log_path)
        yield Cluster(data_dir, data_dir / "kubeconfig.yaml", port)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, log_path.read_text()[-4000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _wait_for_kubeconfig(proc: subprocess.Popen[bytes], log_path: Path) -> None:
    """Waits (bounded) until the server says it wrote the kubeconfig."""
    deadline = time.monotonic() + 60
    while "kubeconfig written" not in log_path.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"kyb server did not start: {log_path.read_text()[-4000:]}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("kyb-server")
    with running_server(data_dir, "--default-watch-cache-size", str(WATCH_CACHE_SIZE)) as c:
        yield c


@pytest.fixture
def namespace(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own."""
    readable = re.sub(r"[^a-z0-9]+", "-", request.node.originalname.lower())[:40].strip("-")
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:8]
    name = f"t-{readable}-{digest}"
    api = client.CoreV1Api(cluster.api_client())
    api.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
