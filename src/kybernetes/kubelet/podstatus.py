"""Pod status as the kubelet reports it: a pure function of the pod (its spec and the
status the API holds), what the runtime says about its sandbox and containers, the
pod worker's waiting reasons, the probes' results, and the time.

Follows pkg/kubelet/kubelet_pods.go (generateAPIPodStatus, getPhase,
convertToAPIContainerStatuses) and pkg/kubelet/status/generate.go of Kubernetes 1.32:
- phase: Pending while an init container is pending or a container waits for its
  first start; Running while one runs (or all stopped and restartPolicy Always /
  OnFailure with a failure); Succeeded when all exited 0 (policy not Always); Failed
  when one failed under Never, or an init container failed under Never; once the
  kubelet ended the pod (`terminal`), Succeeded or Failed by the exit codes.
  Sidecars (init containers with restartPolicy Always) count as running containers
  and never make a pod fail. A terminal phase in the API is never left; the API's
  reason and message stay while the phase does.
- conditions, in Kubernetes' order: PodReadyToStartContainers, Initialized, Ready,
  ContainersReady, then PodScheduled and any other condition kept from the API;
  `lastTransitionTime` kept while a condition's status is unchanged.
- container statuses in spec order: waiting (ContainerCreating / PodInitializing, or
  the worker's reason: ErrImagePull, ImagePullBackOff, CrashLoopBackOff,
  CreateContainerError, ...), running or terminated; lastState is the previous
  attempt's termination; restartCount the latest attempt; containerID NAME://ID.
- podIP(s) from the sandbox (the node's for hostNetwork), kept once the sandbox is gone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kybernetes.api.qos import qos_class

from .runtime.interface import (
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    SandboxState,
)

Obj = dict[str, Any]
KUBELET_CONDITIONS = ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady")
TERMINAL_PHASES = ("Succeeded", "Failed")


@dataclass(frozen=True)
class Observation:
    """What the pod worker knows about one pod beyond its spec.

    `containers`: every runtime container of the pod's current sandbox, all attempts.
    `waiting`: container name → (reason, message) the worker reports while that
    container is not running (image pulls, back-off, creation errors).
    `started` / `ready`: container id → the startup / readiness probe's result
    (absent: no result yet). `rejected`: (reason, message) if admission refused it.
    `messages`: container id → the termination message the kubelet read.
    `failed`: (reason, message) when the kubelet ended the pod (DeadlineExceeded).
    `terminal`: the kubelet stopped the pod for good (deleted, finished, failed): a pod
    whose containers all stopped is then Succeeded or Failed whatever its policy.
    """

    runtime_name: str
    host_ip: str
    sandbox: PodSandboxStatus | None = None
    containers: Sequence[ContainerStatus] = ()
    waiting: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    started: Mapping[str, bool] = field(default_factory=dict)
    ready: Mapping[str, bool] = field(default_factory=dict)
    start_time: datetime | None = None
    rejected: tuple[str, str] | None = None
    messages: Mapping[str, str] = field(default_factory=dict)
    failed: tuple[str, str] | None = None
    terminal: bool = False


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ns_time(ns: int) -> str:
    return rfc3339(datetime.fromtimestamp(ns / 1e9, UTC))


def latest_attempts(
    containers: Sequence[ContainerStatus],
) -> dict[str, list[ContainerStatus]]:
    """Container name → its runtime containers, newest attempt first."""
    by_name: dict[str, list[ContainerStatus]] = {}
    for container in containers:
        by_name.setdefault(container.name, []).append(container)
    for attempts in by_name.values():
        attempts.sort(key=lambda c: (c.attempt, c.created_at), reverse=True)
    return by_name


def _terminated(c: ContainerStatus, runtime_name: str, message: str = "") -> Obj:
    state: Obj = {
        "exitCode": c.exit_code,
        "reason": c.reason or ("Completed" if c.exit_code == 0 else "Error"),
        "startedAt": _ns_time(c.started_at) if c.started_at else None,
        "finishedAt": _ns_time(c.finished_at) if c.finished_at else None,
        "containerID": f"{runtime_name}://{c.id}",
    }
    if message or c.message:
        state["message"] = message or c.message
    return state


def _container_status(
    spec: Mapping[str, Any],
    attempts: list[ContainerStatus],
    obs: Observation,
    default_reason: str,
    *,
    init: bool,
) -> Obj:
    name = spec["name"]
    status: Obj = {
        "name": name,
        "image": spec.get("image", ""),
        "imageID": "",
        "ready": False,
        "restartCount": 0,
        "started": False,
        "state": {"waiting": {"reason": default_reason}},
        "lastState": {},
    }
    waiting = obs.waiting.get(name)
    if not attempts:
        if waiting:
            status["state"] = {"waiting": _waiting(*waiting)}
        return status
    latest = attempts[0]
    status["image"] = latest.image or status["image"]
    status["imageID"] = latest.image_ref
    status["containerID"] = f"{obs.runtime_name}://{latest.id}"
    status["restartCount"] = latest.attempt
    previous = next((c for c in attempts[1:] if c.state is ContainerState.EXITED), None)
    if previous is not None:
        message = obs.messages.get(previous.id, "")
        status["lastState"] = {"terminated": _terminated(previous, obs.runtime_name, message)}
    if latest.state is ContainerState.RUNNING:
        started = obs.started.get(latest.id, not spec.get("startupProbe"))
        status["state"] = {"running": {"startedAt": _ns_time(latest.started_at)}}
        status["started"] = started
        if init and not is_sidecar(spec):
            status["ready"] = False
        else:
            default_ready = not spec.get("readinessProbe")
            status["ready"] = bool(started and obs.ready.get(latest.id, default_ready))
    elif latest.state is ContainerState.EXITED:
        terminated = _terminated(latest, obs.runtime_name, obs.messages.get(latest.id, ""))
        if waiting:  # exited, and about to restart (or backing off)
            status["state"] = {"waiting": _waiting(*waiting)}
            status["lastState"] = {"terminated": terminated}
        else:
            status["state"] = {"terminated": terminated}
            status["ready"] = init and latest.exit_code == 0
    elif latest.state is ContainerState.UNKNOWN:
        status["state"] = {
            "terminated": {
                "exitCode": 137,
                "reason": "ContainerStatusUnknown",
                "message": "The container could not be located when the pod was terminated",
            }
        }
    else:  # created, not started yet
        status["state"] = {"waiting": _waiting(*(waiting or ("ContainerCreating", "")))}
    return status


def _waiting(reason: str, message: str) -> Obj:
    return {"reason": reason, "message": message} if message else {"reason": reason}


def is_sidecar(container: Mapping[str, Any]) -> bool:
    """A restartable init container (`restartPolicy: Always`): a sidecar."""
    return container.get("restartPolicy") == "Always"


def phase(
    spec: Mapping[str, Any], init: list[Obj], regular: list[Obj], terminal: bool = False
) -> str:
    """getPhase: the phase these container statuses add up to. `init` is in spec
    order (sidecars among them); `terminal` says the kubelet ended the pod."""
    sidecars = {c["name"] for c in spec.get("initContainers") or [] if is_sidecar(c)}
    pending_init = failed_init = 0
    running = waiting = stopped = succeeded = 0
    for status in init:
        state, last = status["state"], status["lastState"]
        if status["name"] in sidecars:  # terminated sidecars do not count
            if "running" in state:
                pending_init += not status["started"]
                running += 1
            elif "terminated" not in state and "terminated" not in last:
                pending_init += 1
                waiting += 1
        elif "running" in state:
            pending_init += 1
        elif "terminated" in state:
            failed_init += state["terminated"]["exitCode"] != 0
        elif "terminated" in last:
            failed_init += last["terminated"]["exitCode"] != 0
        else:
            pending_init += 1
    for status in regular:
        state, last = status["state"], status["lastState"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif "terminated" in last:
            stopped += 1
        else:
            waiting += 1
    policy = spec.get("restartPolicy", "Always")
    regular_started = any("running" in s["state"] or "terminated" in s["state"] for s in regular)
    if failed_init and policy == "Never":
        return "Failed"
    if (pending_init and not regular_started) or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if policy == "Never" else "Running"
    return "Pending"


def _condition(type_: str, ok: bool, reason: str = "", message: str = "") -> Obj:
    condition: Obj = {"type": type_, "status": "True" if ok else "False"}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def _not_ready(kind: str, names: list[str]) -> str:
    return f"containers with {kind} status: [{' '.join(names)}]"


def _conditions(
    pod: Obj, obs: Observation, init: list[Obj], regular: list[Obj], phase_: str
) -> list[Obj]:
    spec = pod.get("spec") or {}
    sandbox = obs.sandbox
    sandbox_ready = sandbox is not None and sandbox.state is SandboxState.READY
    conditions = [_condition("PodReadyToStartContainers", sandbox_ready)]
    sidecars = {c["name"] for c in spec.get("initContainers") or [] if is_sidecar(c)}
    incomplete = [
        s["name"] for s in init if not (s["started"] if s["name"] in sidecars else s["ready"])
    ]
    if phase_ == "Succeeded" and incomplete:
        conditions.append(_condition("Initialized", False, "PodCompleted"))
    elif incomplete:
        message = _not_ready("incomplete", incomplete)
        conditions.append(_condition("Initialized", False, "ContainersNotInitialized", message))
    else:
        conditions.append(_condition("Initialized", True))
    if phase_ == "Succeeded":
        ready = _condition("ContainersReady", False, "PodCompleted")
    else:
        containers = [s for s in init if s["name"] in sidecars] + regular
        unready = [s["name"] for s in containers if not s["ready"]]
        if unready:
            message = _not_ready("unready", unready)
            ready = _condition("ContainersReady", False, "ContainersNotReady", message)
        else:
            ready = _condition("ContainersReady", True)
    conditions.append(_pod_ready(ready, spec, pod.get("status") or {}))
    conditions.append(ready)
    return conditions


def _pod_ready(containers_ready: Obj, spec: Mapping[str, Any], status: Mapping[str, Any]) -> Obj:
    """Ready: ContainersReady and every readiness gate's condition True."""
    if containers_ready["status"] != "True":
        return {**containers_ready, "type": "Ready"}
    existing = {c.get("type"): c for c in status.get("conditions") or []}
    messages = []
    for gate in spec.get("readinessGates") or []:
        kind = gate.get("conditionType", "")
        condition = existing.get(kind)
        if condition is None:
            messages.append(
                f'corresponding condition of pod readiness gate "{kind}" does not exist.'
            )
        elif condition.get("status") != "True":
            messages.append(
                f'the status of pod readiness gate "{kind}" is not "True", '
                f"but {condition.get('status')}"
            )
    if messages:
        return _condition("Ready", False, "ReadinessGatesNotReady", ", ".join(messages))
    return _condition("Ready", True)


def _stamp(conditions: list[Obj], old: Sequence[Obj], now: str) -> list[Obj]:
    """Sets lastProbeTime (null) and lastTransitionTime, keeping the old time while
    the status is unchanged; appends the API's other conditions (PodScheduled...)."""
    previous = {c.get("type"): c for c in old}
    stamped = []
    for condition in conditions:
        before = previous.get(condition["type"])
        same = before is not None and before.get("status") == condition["status"]
        transition = before.get("lastTransitionTime") if same and before else now
        stamped.append({**condition, "lastProbeTime": None, "lastTransitionTime": transition})
    stamped.extend(c for c in old if c.get("type") not in KUBELET_CONDITIONS)
    return stamped


def generate(pod: Obj, obs: Observation, now: datetime) -> Obj:
    """The pod's complete status (see the module docstring). `pod` is not modified."""
    spec = pod.get("spec") or {}
    old = pod.get("status") or {}
    stamp = rfc3339(now)
    status: Obj = {}
    if obs.start_time is not None:
        status["startTime"] = old.get("startTime") or rfc3339(obs.start_time)
    if obs.host_ip:
        status["hostIP"] = obs.host_ip
        status["hostIPs"] = [{"ip": obs.host_ip}]
    if old.get("qosClass"):  # set by the API server at creation; immutable after
        status["qosClass"] = qos_class(spec)
    if obs.rejected is not None:
        reason, message = obs.rejected
        status.update(phase="Failed", reason=reason, message=message)
        status["conditions"] = [
            c for c in old.get("conditions") or [] if c.get("type") not in KUBELET_CONDITIONS
        ]
        return status
    attempts = latest_attempts(obs.containers)
    default = "PodInitializing" if spec.get("initContainers") else "ContainerCreating"
    init = [
        _container_status(c, attempts.get(c["name"], []), obs, default, init=True)
        for c in spec.get("initContainers") or []
    ]
    regular = [
        _container_status(c, attempts.get(c["name"], []), obs, default, init=False)
        for c in spec.get("containers") or []
    ]
    phase_ = phase(spec, init, regular, obs.terminal)
    if old.get("phase") in TERMINAL_PHASES:
        phase_ = old["phase"]
    status["phase"] = phase_
    if phase_ == old.get("phase"):  # the reason and message of the phase stay
        status.update({k: old[k] for k in ("reason", "message") if old.get(k)})
    status["conditions"] = _stamp(
        _conditions(pod, obs, init, regular, phase_), old.get("conditions") or [], stamp
    )
    sandbox = obs.sandbox
    pod_ip = obs.host_ip if spec.get("hostNetwork") else (sandbox.ip if sandbox else "")
    if pod_ip:
        status["podIP"] = pod_ip
        extra = list(sandbox.additional_ips) if sandbox and not spec.get("hostNetwork") else []
        status["podIPs"] = [{"ip": ip} for ip in (pod_ip, *extra)]
    elif old.get("podIP"):  # the sandbox is gone (a finished pod): its address stays
        status["podIP"], status["podIPs"] = old["podIP"], old.get("podIPs") or []
    if init:
        status["initContainerStatuses"] = init
    status["containerStatuses"] = regular
    if obs.failed is not None:
        status["phase"] = "Failed"
        status["reason"], status["message"] = obs.failed
    return status
