"""The kubelet against a real in-process API server, with the simulated runtime:
node registration and status, lease, pods to Running with status written, graceful
deletion, admission rejection, and re-adoption after a kubelet restart."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from kybernetes.client import APIClient, SystemClock, is_not_found
from kybernetes.client.resource import LEASES, NODES, PODS
from kybernetes.kubelet.agent import NodeAgent
from kybernetes.kubelet.config import KubeletConfig
from kybernetes.kubelet.kubelet import Kubelet
from kybernetes.kubelet.nodestatus import Machine
from kybernetes.kubelet.runtime.simulated import SimulatedRuntime

Obj = dict[str, Any]


@contextlib.asynccontextmanager
async def running(client: APIClient, agents: list[NodeAgent]) -> AsyncIterator[Kubelet]:
    kubelet = Kubelet(client, agents)
    task = asyncio.create_task(kubelet.run())
    try:
        async with asyncio.timeout(10):
            await asyncio.wait(
                {task, asyncio.ensure_future(kubelet.ready.wait())},
                return_when=asyncio.FIRST_COMPLETED,
            )
        if task.done():
            task.result()
        yield kubelet
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def agent(
    client: APIClient,
    tmp_path: Path,
    name: str = "node-a",
    runtime: SimulatedRuntime | None = None,
    **config: Any,
) -> NodeAgent:
    settings = KubeletConfig(
        node_name=name, data_dir=tmp_path, capacity={"cpu": "4", "memory": "8Gi"},
        relist_period=0.05, node_status_update_frequency=0.2, **config,
    )  # fmt: skip
    runtime = runtime or SimulatedRuntime()
    return NodeAgent(
        settings, runtime, runtime, client, SystemClock(), Machine.simulated(name), network=False
    )


async def eventually(check: Callable[[], Any], limit: float = 10.0) -> Any:
    async with asyncio.timeout(limit):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(0.05)


def pod(name: str, node: str = "node-a", **spec: Any) -> Obj:
    containers = spec.pop("containers", [{"name": "app", "image": "busybox"}])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"nodeName": node, "containers": containers, **spec},
    }


async def test_node_registers_ready_with_lease(client: APIClient, tmp_path: Path) -> None:
    async with running(client, [agent(client, tmp_path)]):
        node = await client.get(NODES, "node-a")
        ready = {c["type"]: c for c in node["status"]["conditions"]}["Ready"]
        assert ready["status"] == "True" and ready["reason"] == "KubeletReady"
        assert ready["message"] == "kubelet is posting ready status"
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "node-a"
        assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("simulated://")
        assert node["status"]["allocatable"]["memory"] != node["status"]["capacity"]["memory"]
        lease = await eventually(lambda: _get(client, LEASES, "node-a", "kube-node-lease"))
        assert lease["spec"]["holderIdentity"] == "node-a"
        assert lease["metadata"]["ownerReferences"][0]["uid"] == node["metadata"]["uid"]


async def _get(client: APIClient, resource: Any, name: str, namespace: str = "") -> Obj | None:
    try:
        return await client.get(resource, name, namespace)
    except Exception as e:
        if is_not_found(e):
            return None
        raise


async def test_pod_runs_and_deletion_is_graceful(
    client: APIClient, namespace: str, tmp_path: Path
) -> None:
    async with running(client, [agent(client, tmp_path)]):
        await client.create(PODS, pod("web"), namespace=namespace)

        async def running_ready() -> Obj | None:
            found = await client.get(PODS, "web", namespace)
            status = found.get("status") or {}
            conditions = {c["type"]: c["status"] for c in status.get("conditions") or []}
            return (
                found
                if status.get("phase") == "Running" and conditions.get("Ready") == "True"
                else None
            )

        found = await eventually(running_ready)
        status = found["status"]
        assert status["podIP"].startswith("10.42.0.")
        assert status["hostIP"] == "127.0.0.1"
        container = status["containerStatuses"][0]
        assert container["ready"] and container["started"] and "running" in container["state"]
        assert container["containerID"].startswith("simulated://")
        await client.delete(PODS, "web", namespace)
        assert await eventually(lambda: _gone(client, "web", namespace))


async def _gone(client: APIClient, name: str, namespace: str) -> bool:
    return await _get(client, PODS, name, namespace) is None


async def test_admission_rejects_what_does_not_fit(
    client: APIClient, namespace: str, tmp_path: Path
) -> None:
    big = [{"name": "app", "image": "busybox", "resources": {"requests": {"cpu": "16"}}}]
    async with running(client, [agent(client, tmp_path)]):
        await client.create(PODS, pod("big", containers=big), namespace=namespace)

        async def failed() -> Obj | None:
            found = await client.get(PODS, "big", namespace)
            return found if (found.get("status") or {}).get("phase") == "Failed" else None

        status = (await eventually(failed))["status"]
        assert status["reason"] == "OutOfcpu"
        assert status["message"] == (
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 16000, "
            "used: 0, capacity: 4000"
        )


async def test_restart_readopts_running_pods(
    client: APIClient, namespace: str, tmp_path: Path
) -> None:
    runtime = SimulatedRuntime()
    async with running(client, [agent(client, tmp_path, runtime=runtime)]):
        await client.create(PODS, pod("keep"), namespace=namespace)
        await eventually(lambda: _phase(client, "keep", namespace, "Running"))
    before = [c.id for c in await runtime.list_containers()]
    sandboxes = await runtime.list_pod_sandboxes()
    assert len(before) == 1
    orphan = await runtime.run_pod_sandbox(
        dataclasses.replace(
            sandboxes[0].config, uid="gone", labels={"io.kubernetes.pod.uid": "gone"}
        )
    )
    async with running(client, [agent(client, tmp_path, runtime=runtime)]):
        await eventually(lambda: _orphan_removed(runtime, orphan))
        await asyncio.sleep(0.3)
        after = [c.id for c in await runtime.list_containers()]
        assert after == before
        found = await client.get(PODS, "keep", namespace)
        assert found["status"]["containerStatuses"][0]["restartCount"] == 0


async def _orphan_removed(runtime: SimulatedRuntime, sandbox_id: str) -> bool:
    return all(s.id != sandbox_id for s in await runtime.list_pod_sandboxes())


async def _phase(client: APIClient, name: str, namespace: str, phase: str) -> bool:
    found = await client.get(PODS, name, namespace)
    return (found.get("status") or {}).get("phase") == phase


STATIC_POD = """
apiVersion: v1
kind: Pod
metadata: {name: etcd, namespace: kube-system}
spec:
  containers: [{name: etcd, image: etcd}]
"""


async def test_static_pod_runs_with_a_mirror(client: APIClient, tmp_path: Path) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "etcd.yaml").write_text(STATIC_POD)
    (manifests / ".hidden.yaml").write_text("not: a pod")
    runtime = SimulatedRuntime()
    async with running(
        client,
        [
            agent(
                client,
                tmp_path,
                runtime=runtime,
                pod_manifest_path=manifests,
                file_check_frequency=0.2,
            )
        ],
    ):

        async def mirror_running() -> Obj | None:
            found = await _get(client, PODS, "etcd-node-a", "kube-system")
            return (
                found if found and (found.get("status") or {}).get("phase") == "Running" else None
            )

        mirror = await eventually(mirror_running)
        meta = mirror["metadata"]
        assert meta["annotations"]["kubernetes.io/config.source"] == "file"
        assert (
            meta["annotations"]["kubernetes.io/config.mirror"]
            == meta["annotations"]["kubernetes.io/config.hash"]
        )
        assert meta["ownerReferences"][0]["kind"] == "Node"
        assert meta["uid"] != meta["annotations"]["kubernetes.io/config.hash"]
        first = [c.id for c in await runtime.list_containers()]

        await client.delete(PODS, "etcd-node-a", "kube-system")  # the kubelet makes it again

        async def recreated() -> Obj | None:
            found = await _get(client, PODS, "etcd-node-a", "kube-system")
            fresh = found and found["metadata"]["uid"] != meta["uid"]
            return found if fresh and not found["metadata"].get("deletionTimestamp") else None

        await eventually(recreated)
        assert [c.id for c in await runtime.list_containers()] == first  # never restarted

        (manifests / "etcd.yaml").unlink()
        await eventually(lambda: _gone(client, "etcd-node-a", "kube-system"))
        await eventually(lambda: _no_sandboxes(runtime))


async def _no_sandboxes(runtime: SimulatedRuntime) -> bool:
    return not await runtime.list_pod_sandboxes()
