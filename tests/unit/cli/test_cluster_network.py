"""A cluster's network, forwarder and teardown on the real kernel (root only).

Everything lives in namespaces named after a random cluster name (`kt<hex>`); the
host's links and routes are compared before and after to prove nothing leaked there.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kybernetes.cli.cluster.forwarder import Forwarder
from kybernetes.cli.cluster.netns import NETNS_DIR, existing_namespaces, in_netns, setup_network
from kybernetes.cli.cluster.plan import ClusterPlan, plan
from kybernetes.cli.cluster.processes import in_namespaces, ref
from kybernetes.cli.cluster.teardown import mounts_under, teardown

pytestmark = pytest.mark.root

ECHO = """
import socket, sys
s = socket.socket(); s.bind((sys.argv[1], 0)); s.listen()
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    while data := c.recv(65536):
        c.sendall(data)
    c.shutdown(socket.SHUT_WR); c.close()
"""


def _host_state() -> tuple[str, str]:
    link = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    route = subprocess.run(["ip", "route", "show", "table", "all"], capture_output=True,
                           text=True).stdout  # fmt: skip
    names = "\n".join(sorted(line.split(":")[1].strip() for line in link.splitlines()))
    return names, route


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[ClusterPlan]:
    if os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("nsenter")):
        pytest.skip("needs root, iproute2 and nsenter")
    before = _host_state()
    p = plan(f"kt{secrets.token_hex(3)}", 2, tmp_path)
    p.directory.mkdir()
    try:
        setup_network(p)
        yield p
    finally:
        errors = teardown(p, None, [], None)
        assert errors == []
        assert not set(p.namespaces) & existing_namespaces()
        assert _host_state() == before


def test_nodes_reach_each_other_through_the_bridge(cluster: ClusterPlan) -> None:
    if shutil.which("busybox") is None:
        pytest.skip("needs busybox (ping)")
    for source in cluster.nodes:
        for target in [*cluster.nodes, cluster]:
            ip = target.ip if not isinstance(target, ClusterPlan) else target.gateway
            done = subprocess.run(
                in_netns(source.netns, ["busybox", "ping", "-c", "1", "-W", "2", ip]),
                capture_output=True, text=True,
            )  # fmt: skip
            assert done.returncode == 0, f"{source.netns} -> {ip}: {done.stdout}{done.stderr}"
    routes = subprocess.run(["ip", "-n", cluster.server.netns, "route"], capture_output=True,
                            text=True).stdout  # fmt: skip
    assert f"default via {cluster.gateway} dev eth0" in routes


@pytest.fixture
def echo(cluster: ClusterPlan) -> Iterator[tuple[int, int]]:
    """An echo server in the server node's namespace: (pid, port)."""
    server = cluster.server
    child = subprocess.Popen(in_netns(server.netns, [sys.executable, "-c", ECHO, server.ip]),
                             stdout=subprocess.PIPE, text=True, start_new_session=True)  # fmt: skip
    try:
        assert child.stdout is not None
        yield child.pid, int(child.stdout.readline())
    finally:
        child.kill()
        child.wait()


async def test_forwarder_reaches_into_the_namespace(
    cluster: ClusterPlan, echo: tuple[int, int]
) -> None:
    server = cluster.server
    pid, port = echo
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    forwarder = Forwarder(listener, NETNS_DIR / server.netns, (server.ip, port))
    stop = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        serving = tg.create_task(forwarder.serve(stop))
        for size in (5, 3_000_000):  # small, and larger than every buffer
            reader, writer = await asyncio.open_connection(*listener.getsockname())
            payload = os.urandom(size)
            writer.write(payload)
            writer.write_eof()  # the half-close reaches the echo server
            assert await asyncio.wait_for(reader.read(), 20) == payload
            writer.close()
            await writer.wait_closed()
        # a target that is not there: the connection is closed at once
        listener2 = socket.socket()
        listener2.bind(("127.0.0.1", 0))
        listener2.listen()
        bad = Forwarder(listener2, NETNS_DIR / server.netns, (server.ip, 1))
        stop_bad = asyncio.Event()
        serving_bad = tg.create_task(bad.serve(stop_bad))
        reader, writer = await asyncio.open_connection(*listener2.getsockname())
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
        stop_bad.set()
        stop.set()
    assert serving.done() and serving_bad.done()
    # the echo server lives in the node's namespace: the sweep finds it
    inode = os.stat(NETNS_DIR / server.netns).st_ino
    assert pid in {p.pid for p in in_namespaces([inode])}


def test_teardown_removes_processes_mounts_and_directory(tmp_path: Path) -> None:
    if os.geteuid() != 0 or not (shutil.which("ip") and shutil.which("nsenter")):
        pytest.skip("needs root, iproute2 and nsenter")
    p = plan(f"kt{secrets.token_hex(3)}", 1, tmp_path)
    mount = p.nodes[1].data_dir / "mnt"
    mount.mkdir(parents=True)
    try:
        setup_network(p)
        sleeper = subprocess.Popen(in_netns(p.nodes[1].netns, ["sleep", "300"]),
                                   start_new_session=True)  # fmt: skip
        subprocess.run(["mount", "-t", "tmpfs", "kybtest", str(mount)], check=True)
        (mount / "file").write_text("x")
        process = ref(sleeper.pid)
        assert process is not None
        assert teardown(p, None, [], None) == []
        assert sleeper.wait(10) is not None
        assert not p.directory.exists()
        assert not set(p.namespaces) & existing_namespaces()
    finally:
        for point in mounts_under(tmp_path):
            subprocess.run(["umount", "-l", point], check=False)
        teardown(p, None, [], None)
