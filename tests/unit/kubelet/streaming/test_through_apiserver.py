"""The real kubectl and the official Python client through the API server's pods/exec,
pods/attach, pods/log, pods/portforward and nodes/proxy to a kubelet server.

An in-process API server, a Node registered by the test pointing at a KubeletServer
on 127.0.0.1 (its HostRuntime runs commands on the host), and a pod bound to it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from kybernetes.apiserver.pki import PKI
from kybernetes.client import APIClient
from kybernetes.client.resource import NODES, PODS
from kybernetes.kubelet import logs
from kybernetes.kubelet.server import KubeletServer
from tests.unit.client.conftest import Server

from .support import HostRuntime

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="needs kubectl")


@dataclass
class Cluster:
    server: Server
    namespace: str
    runtime: HostRuntime

    async def kubectl(
        self, *args: str, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            *("kubectl", "--kubeconfig", str(self.server.kubeconfig), "-n", self.namespace),
            *args,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        async with asyncio.timeout(30):
            out, err = await proc.communicate(stdin)
        return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def cluster(
    client: APIClient,
    server: Server,
    namespace: str,
    runtime: HostRuntime,
    kubelet: KubeletServer,
) -> AsyncIterator[Cluster]:
    node = {
        "metadata": {"name": "node-1"},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": kubelet.port}},
        },
    }
    await client.create(NODES, node)
    runtime.add_pod(namespace, "web", ["app"])
    pod = {
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": "busybox"}]},
    }
    created = await client.create(PODS, pod, namespace=namespace)
    created["status"] = {"phase": "Running"}  # what the kubelet would report
    await client.update_status(PODS, created, namespace=namespace)
    try:
        yield Cluster(server, namespace, runtime)
    finally:
        await client.delete(NODES, "node-1")


@pytest.mark.parametrize("websockets", ["true", "false"])
async def test_kubectl_exec_propagates_output_and_exit_code(
    cluster: Cluster, websockets: str
) -> None:
    env = {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": websockets}
    code, out, err = await cluster.kubectl(
        "exec", "web", "--", "sh", "-c", "echo hello; exit 4", env=env
    )
    assert (code, out) == (4, "hello\n"), err
    code, out, err = await cluster.kubectl(
        "exec", "-i", "web", "--", "tr", "a-z", "A-Z", stdin=b"shout\n", env=env
    )
    assert (code, out) == (0, "SHOUT\n"), err


async def test_kubectl_logs(cluster: Cluster) -> None:
    directory = cluster.runtime.log_root / f"{cluster.namespace}_web_uid-web" / "app"
    writer = logs.CriLogWriter(str(directory / "0.log"))
    writer.write("stdout", b"first\nsecond\n", 1_700_000_000_000_000_000)
    writer.close()
    code, out, err = await cluster.kubectl("logs", "web", "--tail", "1")
    assert (code, out) == (0, "second\n"), err
    code, out, err = await cluster.kubectl("logs", "web", "-c", "nope")
    assert code == 1
    assert "container nope is not valid for pod web" in err


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\npong!\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("websockets", ["true", "false"])
async def test_kubectl_port_forward(cluster: Cluster, http_port: int, websockets: str) -> None:
    local = _free_port()
    proc = await asyncio.create_subprocess_exec(
        *("kubectl", "--kubeconfig", str(cluster.server.kubeconfig), "-n", cluster.namespace),
        *("port-forward", "pod/web", f"{local}:{http_port}"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KUBECTL_PORT_FORWARD_WEBSOCKETS": websockets},
    )
    try:
        assert proc.stdout is not None
        async with asyncio.timeout(20):
            line = await proc.stdout.readline()
        if b"Forwarding from" not in line:
            proc.terminate()
            assert proc.stderr is not None
            raise AssertionError((await proc.stderr.read()).decode())
        for _ in range(2):  # two connections over the same session
            reader, writer = await asyncio.open_connection("127.0.0.1", local)
            writer.write(b"GET / HTTP/1.0\r\n\r\n")
            async with asyncio.timeout(10):
                answer = await reader.read()
            writer.close()
            assert answer.endswith(b"pong!\n")
    finally:
        proc.terminate()
        await proc.wait()


async def test_nodes_proxy_reaches_the_kubelet(cluster: Cluster) -> None:
    code, out, err = await cluster.kubectl("get", "--raw", "/api/v1/nodes/node-1/proxy/healthz")
    assert (code, out) == (0, "ok"), err


def _python_exec(kubeconfig: str, namespace: str) -> tuple[str, str, int | None]:
    from kubernetes import client, config
    from kubernetes.stream import stream

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    session = stream(
        api.connect_get_namespaced_pod_exec,
        "web",
        namespace,
        command=["sh", "-c", "read x; echo got $x; echo oops >&2; exit 5"],
        stdin=True,
        stdout=True,
        stderr=True,
        tty=False,
        _preload_content=False,
    )
    session.write_stdin("it\n")
    session.run_forever(timeout=10)
    result = (session.read_stdout(), session.read_stderr(), session.returncode)
    session.close()
    return result


async def test_python_client_exec(cluster: Cluster) -> None:
    out, err, code = await asyncio.to_thread(
        _python_exec, str(cluster.server.kubeconfig), cluster.namespace
    )
    assert (out, err, code) == ("got it\n", "oops\n", 5)


def _python_port_forward(kubeconfig: str, namespace: str, port: int) -> bytes:
    from kubernetes import client, config
    from kubernetes.stream import portforward

    api = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
    forward = portforward(
        api.connect_get_namespaced_pod_portforward, "web", namespace, ports=str(port)
    )
    sock = forward.socket(port)
    sock.settimeout(10)
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    answer = b""
    while chunk := sock.recv(4096):
        answer += chunk
    sock.close()
    forward.close()
    return answer


async def test_python_client_port_forward(cluster: Cluster, http_port: int) -> None:
    answer = await asyncio.to_thread(
        _python_port_forward, str(cluster.server.kubeconfig), cluster.namespace, http_port
    )
    assert answer.endswith(b"pong!\n")


async def test_kubectl_attach(cluster: Cluster) -> None:
    code, out, err = await cluster.kubectl("attach", "-i", "web", stdin=b"to the container\n")
    assert (code, out) == (0, "to the container\n"), err


async def test_api_server_checks_before_proxying(cluster: Cluster, client: APIClient) -> None:
    namespace = cluster.namespace
    two = {
        "metadata": {"name": "two", "namespace": namespace},
        "spec": {
            "initContainers": [{"name": "init", "image": "busybox"}],
            "containers": [{"name": "a", "image": "busybox"}, {"name": "b", "image": "busybox"}],
        },
    }
    await client.create(PODS, two, namespace=namespace)
    code, out, err = await cluster.kubectl(
        "get", "--raw", f"/api/v1/namespaces/{namespace}/pods/two/log"
    )
    assert code == 1
    assert "a container name must be specified for pod two, choose one of: [init a b]" in err
    path = f"/api/v1/namespaces/{namespace}/pods/two/log?container=a"
    code, out, err = await cluster.kubectl("get", "--raw", path)
    assert (code, out) == (0, ""), err  # not scheduled yet: an empty log
    code, out, err = await cluster.kubectl("exec", "two", "-c", "a", "--", "true")
    assert code == 1
    assert "pod two does not have a host assigned" in err
    path = f"/api/v1/namespaces/{namespace}/pods/web/log?tailLines=-1&limitBytes=0"
    code, out, err = await cluster.kubectl("get", "--raw", path)
    assert code == 1
    assert 'PodLogOptions "web" is invalid' in err
    assert "tailLines: Invalid value: -1: must be greater than or equal to 0" in err


async def test_kubelet_refusals_and_unreachable_kubelets(
    cluster: Cluster, client: APIClient, pki: PKI
) -> None:
    base = f"{cluster.server.url}/api/v1/namespaces/{cluster.namespace}/pods"
    context = ssl.create_default_context(cafile=str(pki.ca.cert_path))
    context.load_cert_chain(pki.admin.cert_path, pki.admin.key_path)
    headers = {"Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": "v9"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session:
        path = f"{base}/web/exec?command=true&stdout=true"
        async with session.post(path, headers=headers) as response:
            assert response.status == 403  # the kubelet's answer, relayed
            assert "v4.channel.k8s.io" in response.headers["X-Accepted-Stream-Protocol-Versions"]
        await client.create(
            NODES,
            {
                "metadata": {"name": "node-gone"},
                "status": {
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                    "daemonEndpoints": {"kubeletEndpoint": {"Port": _free_port()}},
                },
            },
        )
        try:
            pod = {
                "metadata": {"name": "lost", "namespace": cluster.namespace},
                "spec": {"nodeName": "node-gone", "containers": [{"name": "c", "image": "x"}]},
            }
            await client.create(PODS, pod, namespace=cluster.namespace)
            async with session.get(f"{base}/lost/log") as response:
                assert response.status == 503
                body = await response.json()
            assert body["reason"] == "ServiceUnavailable"
            assert "error trying to reach service" in body["message"]
        finally:
            await client.delete(NODES, "node-gone")
