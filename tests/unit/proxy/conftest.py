"""Fixtures of the proxy's tests: API objects, and a test network for the real ones.

`net` (root, `ip`, `nft`, `iptables` needed; else the test skips) builds two network
namespaces of the test's own, `kybtest-<random>-node` and `-pod`, joined by a veth
pair: the node has 10.42.0.1/24 on its veth and 192.168.77.10/32 on its loopback
device (its "node IP", where NodePorts answer); the pod has 10.42.0.2 and
10.42.0.3 (two endpoints), a default route through the node, and one tiny TCP server
per address on port 8080 that answers its own address and closes. Every rule the
tests program goes into the node namespace through `net.runner`; the finalizer kills
the servers and deletes both namespaces (and with them the veths and all rules), also
on failure. Nothing is done in the host's namespace.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kybernetes.proxy.command import Runner, command_runner
from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]

POD_IPS = ("10.42.0.2", "10.42.0.3")
NODE_IP = "192.168.77.10"
SERVER = """
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 8080)); s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept(); c.sendall(sys.argv[1].encode()); c.close()
"""
CLIENT = """
import socket, sys
address, source = sys.argv[1], sys.argv[5]
port, timeout, count = int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
for _ in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source: s.bind((source, 0))
    try:
        s.connect((address, port)); print("ok", s.recv(100).decode())
    except ConnectionRefusedError: print("refused")
    except TimeoutError: print("timeout")
    except OSError as e: print("error", e)
    s.close()
"""


def ip(*argv: str) -> None:
    subprocess.run(["ip", *argv], check=True, capture_output=True)


@dataclass
class Net:
    node: str
    pod: str
    servers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def runner(self) -> Runner:
        return command_runner(("ip", "netns", "exec", self.node))

    def run(self, netns: str, *argv: str) -> str:
        done = subprocess.run(
            ["ip", "netns", "exec", netns, *argv], check=True, capture_output=True, text=True
        )
        return done.stdout

    def connect(self, address: str, port: int, *, timeout: float = 3.0, source: str = "") -> str:
        """From the node namespace (or, with `source`, from the pod bound to it):
        "ok <answer>", "refused", "timeout" or "error ..."."""
        return self.connect_many(address, port, 1, timeout=timeout, source=source)[0]

    def connect_many(
        self, address: str, port: int, count: int, *, timeout: float = 3.0, source: str = ""
    ) -> list[str]:
        """`count` connections in a row, as `connect` does one."""
        netns = self.pod if source else self.node
        args = [sys.executable, "-c", CLIENT, address, str(port), str(timeout), str(count), source]
        return self.run(netns, *args).splitlines()


def _requirements() -> str:
    if os.geteuid() != 0:
        return "needs root"
    for program in ("ip", "nft", "iptables-restore", "iptables-save"):
        if shutil.which(program) is None:
            return f"needs {program}"
    return ""


@pytest.fixture
def net() -> Iterator[Net]:
    missing = _requirements()
    if missing:
        pytest.skip(missing)
    base = f"kybtest-{secrets.token_hex(3)}"
    net = Net(f"{base}-node", f"{base}-pod")
    try:
        ip("netns", "add", net.node)
        ip("netns", "add", net.pod)
        ip("-n", net.node, "link", "set", "lo", "up")
        ip("-n", net.pod, "link", "set", "lo", "up")
        ip(
            "-n",
            net.node,
            "link",
            "add",
            "veth0",
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            net.pod,
        )
        ip("-n", net.node, "addr", "add", "10.42.0.1/24", "dev", "veth0")
        ip("-n", net.node, "link", "set", "veth0", "up")
        ip("-n", net.node, "addr", "add", f"{NODE_IP}/32", "dev", "lo")
        # The node's "uplink": ClusterIPs need a route before the NAT hook rewrites them.
        ip("-n", net.node, "route", "add", "default", "dev", "veth0")
        for address in POD_IPS:
            ip("-n", net.pod, "addr", "add", f"{address}/24", "dev", "eth0")
        ip("-n", net.pod, "link", "set", "eth0", "up")
        ip("-n", net.pod, "route", "add", "default", "via", "10.42.0.1")
        # Per-namespace sysctl, in the test's node namespace only: forward (hairpin).
        net.run(net.node, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        for address in POD_IPS:
            process = subprocess.Popen(
                ["ip", "netns", "exec", net.pod, sys.executable, "-c", SERVER, address],
                stdout=subprocess.PIPE,
            )
            net.servers.append(process)
            assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        yield net
    finally:
        for process in net.servers:
            process.kill()
            process.wait()
        for netns in (net.node, net.pod):
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)


def service(
    name: str,
    cluster_ip: str,
    *,
    namespace: str = "default",
    ports: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    """A Service object as the API returns it (one TCP port 80 "http" by default)."""
    return {
        "kind": "Service",
        "metadata": {"namespace": namespace, "name": name},
        "spec": {
            "clusterIP": cluster_ip,
            "ports": ports or [{"name": "http", "port": 80, "protocol": "TCP"}],
            **spec,
        },
    }


def endpoint(address: str, node: str = "n1", **conditions: bool) -> dict[str, Any]:
    return {"addresses": [address], "nodeName": node, "conditions": conditions}


def endpointslice(
    service_name: str,
    endpoints: list[dict[str, Any]],
    *,
    namespace: str = "default",
    name: str = "",
    ports: list[dict[str, Any]] | None = None,
    address_type: str = "IPv4",
) -> dict[str, Any]:
    return {
        "kind": "EndpointSlice",
        "apiVersion": "discovery.k8s.io/v1",
        "metadata": {
            "namespace": namespace,
            "name": name or f"{service_name}-abcde",
            "labels": {"kubernetes.io/service-name": service_name},
        },
        "addressType": address_type,
        "ports": ports or [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints,
    }
