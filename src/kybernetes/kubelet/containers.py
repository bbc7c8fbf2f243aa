"""Starting one container of a pod: image pull by policy, the CRI config, create,
start, postStart (pkg/kubelet/kuberuntime/kuberuntime_container.go startContainer,
pkg/kubelet/images/image_manager.go EnsureImageExists).

`ContainerStarter.start(...)` answers None once the container runs, or the
(reason, message) the container waits with:
- imagePullPolicy Never and no image: `ErrImageNeverPull`; a pull that fails:
  `ErrImagePull` with the registry's words (and a back-off on image+pod, 10 s doubling
  to 5 min); while backing off: `ImagePullBackOff` "Back-off pulling image "X"".
- the environment cannot be built: `CreateContainerConfigError`; the runtime refuses:
  its reason (`CreateContainerError`, `RunContainerError`...); a start failure the
  runtime records as an exit (`StartError`, code 128) is reported as that
  termination (None here), and the restart policy applies.
- a failed postStart hook kills the container (`FailedPostStartHook` event); the
  restart policy then applies.
Events are those of Kubernetes (Pulling, Pulled, Failed, BackOff, Created, Started).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kybernetes.api.quantity import QuantityError, quantity_from_json
from kybernetes.client import Clock, EventRecorder

from .backoff import Backoff
from .config import (
    CONTAINER_NAME_LABEL,
    POD_NAME_LABEL,
    POD_NAMESPACE_LABEL,
    POD_UID_LABEL,
    RESTART_COUNT_ANNOTATION,
)
from .envvars import expand
from .hooks import run_hook
from .runtime.interface import (
    ContainerConfig,
    ContainerRuntimeError,
    ContainerState,
    ImageService,
    LinuxResources,
    Mount,
    PodSandboxConfig,
    RuntimeService,
    SecurityContext,
)

Obj = dict[str, Any]
Waiting = tuple[str, str]
EnvBuilder = Callable[[Obj, Obj, str], Awaitable[list[tuple[str, str]]]]
MountBuilder = Callable[[Obj, Obj, Sequence[tuple[str, str]], str, int], Awaitable[list[Mount]]]


def container_reference(pod: Obj, name: str, init: bool = False) -> Obj:
    meta = pod["metadata"]
    field = "spec.initContainers" if init else "spec.containers"
    return {
        "apiVersion": "v1", "kind": "Pod", "namespace": meta["namespace"], "name": meta["name"],
        "uid": meta["uid"], "fieldPath": f"{field}{{{name}}}",
    }  # fmt: skip


def pod_reference(pod: Obj) -> Obj:
    meta = pod["metadata"]
    return {"apiVersion": "v1", "kind": "Pod", "namespace": meta["namespace"],
            "name": meta["name"], "uid": meta["uid"]}  # fmt: skip


def pod_labels(pod: Obj) -> dict[str, str]:
    meta = pod["metadata"]
    return {
        POD_NAME_LABEL: meta["name"],
        POD_NAMESPACE_LABEL: meta["namespace"],
        POD_UID_LABEL: meta["uid"],
    }


def _resources(container: Mapping[str, Any]) -> LinuxResources:
    resources = container.get("resources") or {}
    limits, requests = resources.get("limits") or {}, resources.get("requests") or {}

    def amount(values: Mapping[str, Any], name: str, milli: bool) -> int:
        try:
            q = quantity_from_json(values[name]) if name in values else None
        except QuantityError:
            return 0
        return 0 if q is None else (q.milli_value() if milli else q.value())

    cpu_request = amount(requests, "cpu", True) or amount(limits, "cpu", True)
    cpu_limit = amount(limits, "cpu", True)
    return LinuxResources(
        cpu_period=100_000 if cpu_limit else 0,
        cpu_quota=cpu_limit * 100 if cpu_limit else 0,
        cpu_shares=max(2, cpu_request * 1024 // 1000) if cpu_request else 2,
        memory_limit_in_bytes=amount(limits, "memory", False),
    )


def _security(pod: Obj, container: Mapping[str, Any]) -> SecurityContext:
    pod_context = (pod.get("spec") or {}).get("securityContext") or {}
    context = container.get("securityContext") or {}
    capabilities = context.get("capabilities") or {}
    return SecurityContext(
        run_as_user=context.get("runAsUser", pod_context.get("runAsUser")),
        run_as_group=context.get("runAsGroup", pod_context.get("runAsGroup")),
        supplemental_groups=tuple(pod_context.get("supplementalGroups") or ()),
        privileged=bool(context.get("privileged")),
        readonly_rootfs=bool(context.get("readOnlyRootFilesystem")),
        add_capabilities=tuple(capabilities.get("add") or ()),
        drop_capabilities=tuple(capabilities.get("drop") or ()),
        no_new_privs=context.get("allowPrivilegeEscalation") is False,
    )


def go_duration(seconds: float) -> str:
    """A duration as Go prints it (10s, 1m20s, 5m0s)."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:g}s"
    minutes, rest = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes}m{rest}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m{rest}s"


@dataclass
class ContainerStarter:
    """Starts containers of one node's pods (see module docstring)."""

    runtime: RuntimeService
    images: ImageService
    clock: Clock
    image_backoff: Backoff
    recorder: EventRecorder | None = None
    env: EnvBuilder | None = None
    mounts: MountBuilder | None = None
    network: bool = True

    def _event(self, ref: Obj, kind: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(ref, "Normal" if kind == "N" else "Warning", reason, message)

    async def ensure_image(self, pod: Obj, container: Obj, ref: Obj) -> Waiting | None:
        image = container.get("image", "")
        policy = container.get("imagePullPolicy") or "IfNotPresent"
        present = await self.images.image_status(image)
        if present is not None and policy != "Always":
            self._event(ref, "N", "Pulled", f'Container image "{image}" already present on machine')
            return None
        if policy == "Never":
            message = f'Container image "{image}" is not present with pull policy of Never'
            self._event(ref, "W", "ErrImageNeverPull", message)
            return "ErrImageNeverPull", message
        key = f"{image}/{pod['metadata']['uid']}"
        now = self.clock.now()
        if self.image_backoff.in_backoff_since_update(key, now):
            message = f'Back-off pulling image "{image}"'
            self._event(ref, "N", "BackOff", message)
            return "ImagePullBackOff", message
        self._event(ref, "N", "Pulling", f'Pulling image "{image}"')
        began = time.monotonic()
        try:
            await self.images.pull_image(image)
        except ContainerRuntimeError as e:
            self.image_backoff.next(key, now)
            self._event(ref, "W", "Failed", f'Failed to pull image "{image}": {e}')
            self._event(ref, "W", "Failed", "Error: ErrImagePull")
            return "ErrImagePull", str(e)
        took = time.monotonic() - began
        self._event(ref, "N", "Pulled", f'Successfully pulled image "{image}" in {took:.3f}s')
        return None

    async def start(
        self,
        pod: Obj,
        container: Obj,
        attempt: int,
        sandbox_id: str,
        sandbox_config: PodSandboxConfig,
        pod_ip: str,
        *,
        init: bool = False,
    ) -> Waiting | None:
        """Pulls, creates and starts the container's attempt `attempt` (see module doc)."""
        ref = container_reference(pod, container["name"], init)
        waiting = await self.ensure_image(pod, container, ref)
        if waiting is not None:
            return waiting
        try:
            config = await self._config(pod, container, attempt, pod_ip)
            container_id = await self.runtime.create_container(sandbox_id, config, sandbox_config)
        except ValueError as e:  # EnvVarError and mount errors are ValueErrors
            reason = str(getattr(e, "reason", "CreateContainerConfigError"))
            self._event(ref, "W", "Failed", f"Error: {e}")
            return reason, str(e)
        except ContainerRuntimeError as e:
            self._event(ref, "W", "Failed", f"Error: {e}")
            return e.reason or "CreateContainerError", str(e)
        self._event(ref, "N", "Created", f"Created container: {container['name']}")
        try:
            await self.runtime.start_container(container_id)
        except ContainerRuntimeError as e:
            self._event(ref, "W", "Failed", f"Error: {e}")
            status = await self.runtime.container_status(container_id)
            if status.state is ContainerState.EXITED:
                return None  # recorded as terminated (StartError, 128): restarts apply
            return e.reason or "RunContainerError", str(e)
        self._event(ref, "N", "Started", f"Started container {container['name']}")
        grace = float((pod.get("spec") or {}).get("terminationGracePeriodSeconds") or 30)
        failure = await run_hook(
            self.runtime, self.clock, container_id, container, "postStart", pod_ip, grace,
            network=self.network,
        )  # fmt: skip
        if failure:
            self._event(ref, "W", "FailedPostStartHook", failure)
            self._event(
                ref, "N", "Killing", f"FailedPostStartHook: stopping container {container['name']}"
            )
            await self.runtime.stop_container(container_id, grace)
        return None

    async def _config(self, pod: Obj, container: Obj, attempt: int, pod_ip: str) -> ContainerConfig:
        envs: Sequence[tuple[str, str]] = ()
        if self.env is not None:
            envs = await self.env(pod, container, pod_ip)
        mounts: Sequence[Mount] = ()
        if self.mounts is not None:
            mounts = await self.mounts(pod, container, envs, pod_ip, attempt)
        variables = dict(envs)
        name = container["name"]
        return ContainerConfig(
            name=name,
            image=container.get("image", ""),
            attempt=attempt,
            command=[expand(a, variables) for a in container.get("command") or ()],
            args=[expand(a, variables) for a in container.get("args") or ()],
            working_dir=container.get("workingDir") or "",
            envs=envs,
            mounts=mounts,
            log_path=f"{name}/{attempt}.log",
            stdin=bool(container.get("stdin")),
            stdin_once=bool(container.get("stdinOnce")),
            tty=bool(container.get("tty")),
            labels={**pod_labels(pod), CONTAINER_NAME_LABEL: name},
            annotations={RESTART_COUNT_ANNOTATION: str(attempt)},
            resources=_resources(container),
            security_context=_security(pod, container),
        )
