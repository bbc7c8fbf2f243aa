"""The pod worker state machine on the simulated runtime and a FakeClock, without an
API server: container start, CrashLoopBackOff delays (10 s doubling, the message),
ErrImagePull then ImagePullBackOff, init containers in order, restartPolicy Never,
liveness-probe restarts, graceful termination and final deletion."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from kybernetes.client import FakeClock
from kybernetes.kubelet.backoff import Backoff
from kybernetes.kubelet.config import KubeletConfig
from kybernetes.kubelet.containers import ContainerStarter
from kybernetes.kubelet.podworkers import Hooks, PodState, PodWorkers
from kybernetes.kubelet.probes import ProbeManager
from kybernetes.kubelet.runtime.interface import ContainerState, ExecResult
from kybernetes.kubelet.runtime.simulated import SimulatedRuntime

Obj = dict[str, Any]
NODE: Obj = {
    "metadata": {"name": "n", "labels": {"kubernetes.io/hostname": "n"}},
    "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}},
}


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.clock = FakeClock()
        self.runtime = SimulatedRuntime(clock=self.clock)
        self.statuses: dict[str, Obj] = {}
        self.deleted: list[str] = []
        self.pods: dict[str, Obj] = {}
        config = KubeletConfig(node_name="n", data_dir=tmp_path)
        probes = ProbeManager(self.runtime, self.clock, lambda uid: None, network=False)
        starter = ContainerStarter(self.runtime, self.runtime, self.clock, Backoff(self.clock))
        hooks = Hooks(lambda: NODE, self._write, self._delete)
        hooks.termination_message = lambda pod, spec, exited, sandbox: f"exit {exited.exit_code}"
        self.workers = PodWorkers(config, self.runtime, self.clock, hooks, starter, probes)
        self.probes = probes

    async def _write(self, pod: Obj, status: Obj) -> None:
        self.statuses[pod["metadata"]["uid"]] = status
        pod["status"] = status

    async def _delete(self, pod: Obj) -> None:
        self.deleted.append(pod["metadata"]["uid"])

    def add(self, name: str, **spec: Any) -> Obj:
        containers = spec.pop("containers", [{"name": "app", "image": "busybox"}])
        pod: Obj = {
            "metadata": {"name": name, "namespace": "ns", "uid": f"uid-{name}"},
            "spec": {"nodeName": "n", "restartPolicy": "Always", "containers": containers, **spec},
        }
        self.pods[name] = pod
        self.workers.update(pod)
        return pod

    async def sync(self, name: str) -> float | None:
        return await self.workers.sync(f"uid-{name}")

    def status(self, name: str) -> Obj:
        return self.statuses[f"uid-{name}"]

    def container(self, name: str, index: int = 0) -> Obj:
        status: Obj = self.status(name)["containerStatuses"][index]
        return status

    async def running_id(self, name: str, container: str = "app") -> str:
        for c in await self.runtime.list_containers():
            ours = c.labels["io.kubernetes.pod.uid"] == f"uid-{name}"
            if ours and c.name == container and c.state is ContainerState.RUNNING:
                return c.id
        raise AssertionError("no running container")


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


async def test_pod_runs_and_reports_ready(world: World) -> None:
    world.add("a")
    assert await world.sync("a") is None
    status = world.status("a")
    assert status["phase"] == "Running"
    conditions = {c["type"]: c["status"] for c in status["conditions"]}
    assert conditions == {
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
    }
    assert world.container("a")["ready"] is True
    assert world.container("a")["image"] == "docker.io/library/busybox:latest"


async def test_crash_loop_backoff_doubles(world: World) -> None:
    world.add("crash")
    await world.sync("crash")
    delays = []
    for restart in range(4):
        world.runtime.exit_container(await world.running_id("crash"), 1)
        again = await world.sync("crash")
        if restart == 0:  # the first failure restarts at once
            assert again is None
            assert world.container("crash")["restartCount"] == 1
            world.runtime.exit_container(await world.running_id("crash"), 1)
            again = await world.sync("crash")
        container = world.container("crash")
        waiting = container["state"]["waiting"]
        assert waiting["reason"] == "CrashLoopBackOff"
        assert container["lastState"]["terminated"]["exitCode"] == 1
        assert again is not None
        delays.append(waiting["message"].split()[1])
        world.clock.advance(again)
        assert await world.sync("crash") is None
        assert "running" in world.container("crash")["state"]
    assert delays == ["10s", "20s", "40s", "1m20s"]
    assert waiting["message"] == (
        "back-off 1m20s restarting failed container=app pod=crash_ns(uid-crash)"
    )
    assert world.status("crash")["phase"] == "Running"


async def test_image_pull_failure_then_backoff(world: World) -> None:
    world.runtime.failing_pulls["nope"] = "manifest unknown"
    world.add("img", containers=[{"name": "app", "image": "nope", "imagePullPolicy": "Always"}])
    await world.sync("img")
    assert world.container("img")["state"]["waiting"] == {
        "reason": "ErrImagePull",
        "message": "manifest unknown",
    }
    await world.sync("img")
    assert world.container("img")["state"]["waiting"] == {
        "reason": "ImagePullBackOff",
        "message": 'Back-off pulling image "nope"',
    }
    assert world.status("img")["phase"] == "Pending"
    del world.runtime.failing_pulls["nope"]
    world.clock.advance(10)
    await world.sync("img")
    assert "running" in world.container("img")["state"]


async def test_init_containers_run_in_order(world: World) -> None:
    init = [{"name": "one", "image": "busybox"}, {"name": "two", "image": "busybox"}]
    world.add("init", initContainers=init)
    await world.sync("init")
    status = world.status("init")
    assert status["phase"] == "Pending"
    assert status["containerStatuses"][0]["state"]["waiting"]["reason"] == "PodInitializing"
    initialized = {c["type"]: c for c in status["conditions"]}["Initialized"]
    assert initialized["message"] == "containers with incomplete status: [one two]"
    world.runtime.exit_container(await world.running_id("init", "one"), 0)
    await world.sync("init")
    assert "running" in world.status("init")["initContainerStatuses"][1]["state"]
    world.runtime.exit_container(await world.running_id("init", "two"), 0)
    await world.sync("init")
    status = world.status("init")
    assert status["phase"] == "Running"
    assert status["initContainerStatuses"][0]["state"]["terminated"]["reason"] == "Completed"


async def test_restart_never_fails_and_stops_sandbox(world: World) -> None:
    world.add("once", restartPolicy="Never")
    await world.sync("once")
    world.runtime.exit_container(await world.running_id("once"), 2)
    await world.sync("once")
    status = world.status("once")
    assert status["phase"] == "Failed"
    terminated = status["containerStatuses"][0]["state"]["terminated"]
    assert terminated["reason"] == "Error" and terminated["message"] == "exit 2"
    record = world.workers.records["uid-once"]
    assert record.state is PodState.TERMINATED
    assert status["conditions"][0] == {
        "type": "PodReadyToStartContainers",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": status["conditions"][0]["lastTransitionTime"],
    }


async def test_liveness_failure_restarts(world: World) -> None:
    probe = {"exec": {"command": ["check"]}, "periodSeconds": 5, "failureThreshold": 2}
    world.add("live", containers=[{"name": "app", "image": "busybox", "livenessProbe": probe}])
    world.runtime.exec_handler = lambda container, cmd: ExecResult(1, b"", b"unhealthy")

    async with asyncio.TaskGroup() as group:
        running = group.create_task(world.probes.run())
        await asyncio.sleep(0)
        await world.sync("live")  # starts it
        await world.sync("live")  # sees it running (the PLEG's relist): probes start
        first = await world.running_id("live")
        for _ in range(3):
            world.clock.advance(5)
            for _ in range(5):
                await asyncio.sleep(0)
        assert world.probes.kill_reason(first) == (
            "Container app failed liveness probe, will be restarted"
        )
        await world.sync("live")  # kills it
        await world.sync("live")  # restarts it (first restart: no back-off)
        assert await world.running_id("live") != first
        assert world.container("live")["restartCount"] == 1
        running.cancel()


async def test_deletion_stops_then_deletes(world: World) -> None:
    pod = world.add("bye")
    await world.sync("bye")
    pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:30Z"
    pod["metadata"]["deletionGracePeriodSeconds"] = 30
    await world.sync("bye")
    assert world.deleted == ["uid-bye"]
    assert world.container("bye")["state"]["terminated"]["exitCode"] == 143
    world.workers.forget("uid-bye")
    await world.sync("bye")
    assert await world.runtime.list_pod_sandboxes() == []
    assert "uid-bye" not in world.workers.records


async def test_admission_rejects_node_selector(world: World) -> None:
    world.add("picky", nodeSelector={"disk": "ssd"})
    await world.sync("picky")
    status = world.status("picky")
    assert status["phase"] == "Failed"
    assert status["reason"] == "NodeAffinity"
    assert status["message"].startswith("Pod was rejected: Predicate NodeAffinity failed")
    assert await world.runtime.list_pod_sandboxes() == []


async def test_active_deadline_fails_the_pod(world: World) -> None:
    world.add("late", activeDeadlineSeconds=30, restartPolicy="OnFailure")
    again = await world.sync("late")
    assert again == 30
    world.clock.advance(30)
    await world.sync("late")
    status = world.status("late")
    assert status["phase"] == "Failed"
    assert status["reason"] == "DeadlineExceeded"
    assert status["message"] == "Pod was active on the node longer than the specified deadline"
    assert "terminated" in status["containerStatuses"][0]["state"]
    assert world.deleted == []  # failed, not deleted


async def test_sidecar_runs_beside_and_stops_when_the_pod_is_done(world: World) -> None:
    sidecar = {"name": "proxy", "image": "busybox", "restartPolicy": "Always"}
    world.add("job", restartPolicy="Never", initContainers=[sidecar])
    await world.sync("job")  # starts the sidecar
    await world.sync("job")  # sees it started: the main container starts
    status = world.status("job")
    assert status["phase"] == "Running"
    assert status["initContainerStatuses"][0]["ready"] is True
    initialized = {c["type"]: c["status"] for c in status["conditions"]}["Initialized"]
    assert initialized == "True"
    world.runtime.exit_container(await world.running_id("job", "proxy"), 1)
    await world.sync("job")  # a sidecar always restarts (first time: at once)
    assert world.status("job")["initContainerStatuses"][0]["restartCount"] == 1
    world.runtime.exit_container(await world.running_id("job", "app"), 0)
    await world.sync("job")
    status = world.status("job")
    assert status["phase"] == "Succeeded"
    assert "terminated" in status["initContainerStatuses"][0]["state"]
    assert world.workers.records["uid-job"].state is PodState.TERMINATED
