"""podstatus.generate and friends as pure functions: QoS classes, phases from
container states, readiness gates, kept transition times."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kybernetes.api.qos import qos_class
from kybernetes.kubelet.podstatus import Observation, generate, phase
from kybernetes.kubelet.runtime.interface import (
    ContainerState,
    ContainerStatus,
    PodSandboxConfig,
    PodSandboxStatus,
    SandboxState,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)
SANDBOX = PodSandboxStatus(
    "sb", PodSandboxConfig("p", "ns", "u"), SandboxState.READY, 0, "10.0.0.5"
)


def spec(**resources: Any) -> dict[str, Any]:
    return {"containers": [{"name": "a", "image": "x", "resources": resources}]}


def test_qos_classes() -> None:
    assert qos_class(spec()) == "BestEffort"
    assert qos_class(spec(requests={"cpu": "100m"})) == "Burstable"
    limits = {"cpu": "1", "memory": "1Gi"}
    assert qos_class(spec(limits=limits)) == "Guaranteed"
    assert qos_class(spec(limits=limits, requests={"cpu": "500m"})) == "Burstable"


def status(
    state: dict[str, Any], last: dict[str, Any] | None = None, name: str = "c"
) -> dict[str, Any]:
    return {"name": name, "state": state, "lastState": last or {}, "started": "running" in state}


def test_phases() -> None:
    done = {"terminated": {"exitCode": 0}}
    failed = {"terminated": {"exitCode": 1}}
    waiting = {"waiting": {"reason": "ContainerCreating"}}
    running = {"running": {}}
    always, never = {"restartPolicy": "Always"}, {"restartPolicy": "Never"}
    assert phase(always, [], [status(waiting)]) == "Pending"
    assert phase(always, [], [status(running)]) == "Running"
    assert phase(never, [], [status(done)]) == "Succeeded"
    assert phase(never, [], [status(done), status(failed)]) == "Failed"
    assert phase(always, [], [status(done)]) == "Running"
    assert phase({"restartPolicy": "OnFailure"}, [], [status(waiting, failed)]) == "Running"
    assert phase(never, [status(failed)], [status(waiting)]) == "Failed"
    assert phase(always, [status(running)], [status(waiting)]) == "Pending"
    # a pod the kubelet ended is terminal whatever its policy
    assert phase(always, [], [status(failed)], terminal=True) == "Failed"
    assert phase(always, [], [status(done)], terminal=True) == "Succeeded"


def test_sidecars_in_the_phase() -> None:
    spec = {
        "restartPolicy": "Never",
        "initContainers": [{"name": "side", "restartPolicy": "Always"}],
    }
    side_running = status({"running": {}}, name="side")
    side_crashed = status({"waiting": {}}, {"terminated": {"exitCode": 1}}, name="side")
    assert phase(spec, [side_running], [status({"waiting": {}})]) == "Pending"
    assert phase(spec, [side_running], [status({"running": {}})]) == "Running"
    # a crashed sidecar never fails the pod; the regular containers decide
    assert phase(spec, [side_crashed], [status({"terminated": {"exitCode": 0}})]) == "Succeeded"


def container(state: ContainerState, **fields: Any) -> ContainerStatus:
    return ContainerStatus("c1", "sb", "a", 0, state, 1, "docker.io/library/x:latest", "sha256:1",
                           started_at=1_700_000_000_000_000_000, **fields)  # fmt: skip


def test_ready_gate_and_transition_time_kept() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {**spec(), "readinessGates": [{"conditionType": "example.com/gate"}]},
        "status": {
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "ContainersReady", "status": "True", "lastTransitionTime": "then"},
            ]
        },
    }
    obs = Observation("simulated", "127.0.0.1", SANDBOX, [container(ContainerState.RUNNING)])
    result = generate(pod, obs, NOW)
    conditions = {c["type"]: c for c in result["conditions"]}
    assert [c["type"] for c in result["conditions"]] == [
        "PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled",
    ]  # fmt: skip
    assert conditions["ContainersReady"]["lastTransitionTime"] == "then"
    assert conditions["Ready"]["reason"] == "ReadinessGatesNotReady"
    assert conditions["Ready"]["message"] == (
        'corresponding condition of pod readiness gate "example.com/gate" does not exist.'
    )
    assert result["podIP"] == "10.0.0.5" and result["phase"] == "Running"
    assert result["containerStatuses"][0]["containerID"] == "simulated://c1"


def test_unready_message_lists_containers() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {"containers": [{"name": "a", "image": "x", "readinessProbe": {}},
                                {"name": "b", "image": "x"}]},
    }  # fmt: skip
    obs = Observation("oci", "127.0.0.1", SANDBOX, [], waiting={"b": ("ErrImagePull", "nope")})
    result = generate(pod, obs, NOW)
    ready = {c["type"]: c for c in result["conditions"]}["Ready"]
    assert ready["reason"] == "ContainersNotReady"
    assert ready["message"] == "containers with unready status: [a b]"
    assert result["containerStatuses"][1]["state"] == {
        "waiting": {"reason": "ErrImagePull", "message": "nope"}
    }
    assert result["phase"] == "Pending"
