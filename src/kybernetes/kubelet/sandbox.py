"""A pod's sandbox configuration (pkg/kubelet/kuberuntime/kuberuntime_sandbox.go
generatePodSandboxConfig) and its termination (killPodWithSyncResult).

- `sandbox_config(pod, attempt, config)`: name, namespace, uid, attempt, hostname
  (spec.hostname, else the pod name), the pod's log directory, DNS (`dns.pod_dns_config`
  from the kubelet's cluster DNS and the node's resolv.conf), hostPorts of every
  container, host namespaces, sysctls, and the CRI pod labels. Pure but for reading
  the resolv.conf file.
- `ready_sandbox(...)`: the pod's sandbox if it is still ready, else a new one.
- `stop_pod(...)`: every running container of the sandbox gets its preStop hook and
  then SIGTERM → SIGKILL, concurrently, all within the grace period
  (deletionGracePeriodSeconds, else terminationGracePeriodSeconds); the stop itself
  gets at least 2 s, as in Kubernetes (minimumGracePeriodInSeconds). Then the sandbox
  is stopped. Idempotent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kybernetes.client import Clock

from .config import KubeletConfig
from .containers import container_reference, pod_labels
from .dns import pod_dns_config
from .hooks import run_hook
from .probes import ProbeManager
from .runtime.interface import (
    ContainerState,
    ContainerStatus,
    NotFound,
    PodSandboxConfig,
    PodSandboxStatus,
    PortMapping,
    RuntimeService,
    SandboxState,
)

Obj = dict[str, Any]
Event = Callable[[Obj, str, str, str], None]  # (reference, "N"/"W", reason, message)
MINIMUM_GRACE_PERIOD = 2.0


def sandbox_config(
    pod: Obj, attempt: int, config: KubeletConfig, *, warn: Callable[[str, str], None] | None = None
) -> PodSandboxConfig:
    """The CRI sandbox config of `pod` (see module docstring). ValueError for a
    malformed resolv.conf."""
    meta, spec = pod["metadata"], pod.get("spec") or {}
    resolv_conf = config.resolv_conf.read_text() if config.resolv_conf else None
    dns = pod_dns_config(
        pod, cluster_dns=config.cluster_dns, cluster_domain=config.cluster_domain,
        resolv_conf=resolv_conf, node_ips=(config.node_ip,), warn=warn,
    )  # fmt: skip
    ports = [
        PortMapping(
            p["containerPort"], p["hostPort"], p.get("protocol", "TCP"), p.get("hostIP", "")
        )
        for c in spec.get("containers") or []
        for p in c.get("ports") or []
        if p.get("hostPort")
    ]
    security = spec.get("securityContext") or {}
    return PodSandboxConfig(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        attempt=attempt,
        hostname=spec.get("hostname") or meta["name"],
        log_directory=str(config.log_directory(meta["namespace"], meta["name"], meta["uid"])),
        dns_config=dns,
        port_mappings=ports,
        labels=pod_labels(pod),
        host_network=bool(spec.get("hostNetwork")),
        host_pid=bool(spec.get("hostPID")),
        host_ipc=bool(spec.get("hostIPC")),
        sysctls={s["name"]: s.get("value", "") for s in security.get("sysctls") or []},
    )


async def ready_sandbox(
    runtime: RuntimeService,
    probes: ProbeManager,
    pod: Obj,
    current: PodSandboxStatus | None,
    config: KubeletConfig,
    warn: Callable[[str, str], None] | None = None,
) -> PodSandboxStatus:
    """The pod's ready sandbox: `current` if the runtime still has it ready, else a
    new one (attempt + 1) once the old one, not ready, is stopped and removed with its
    containers (they all start again). Raises ContainerRuntimeError, ValueError or
    OSError when the runtime cannot make one."""
    if current is not None:
        try:
            current = await runtime.pod_sandbox_status(current.id)
        except NotFound:
            current = None
        if current is not None and current.state is SandboxState.READY:
            return current
        if current is not None:
            for container in await runtime.list_containers(current.id):
                probes.remove(container.id)
            await runtime.stop_pod_sandbox(current.id)
            await runtime.remove_pod_sandbox(current.id)
    attempt = current.config.attempt + 1 if current else 0
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config(pod, attempt, config, warn=warn))
    return await runtime.pod_sandbox_status(sandbox_id)


def grace_period(pod: Obj | None) -> float:
    meta = (pod or {}).get("metadata") or {}
    spec = (pod or {}).get("spec") or {}
    grace = meta.get("deletionGracePeriodSeconds")
    if grace is None:
        grace = spec.get("terminationGracePeriodSeconds", 30)
    return float(grace)


async def stop_pod(
    runtime: RuntimeService,
    clock: Clock,
    probes: ProbeManager,
    pod: Obj | None,
    sandbox_id: str,
    pod_ip: str,
    event: Event,
    *,
    network: bool = True,
) -> None:
    """preStop and stop every running container, then the sandbox (module docstring).
    `pod` is None when the pod left the API: no hooks then, only the stop."""
    spec = (pod or {}).get("spec") or {}
    specs = {
        c["name"]: c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    }
    grace = grace_period(pod)
    deadline = clock.now() + grace
    live = (ContainerState.RUNNING, ContainerState.CREATED)
    running = [c for c in await runtime.list_containers(sandbox_id) if c.state in live]

    async def stop(container: ContainerStatus) -> None:
        probes.remove(container.id)
        if pod is not None:
            ref = container_reference(pod, container.name)
            event(ref, "N", "Killing", f"Stopping container {container.name}")
            failure = await run_hook(
                runtime, clock, container.id, specs.get(container.name, {}), "preStop", pod_ip,
                grace, network=network,
            )  # fmt: skip
            if failure:
                event(ref, "W", "FailedPreStopHook", failure)
        remaining = max(deadline - clock.now(), MINIMUM_GRACE_PERIOD)
        await runtime.stop_container(container.id, remaining)

    async with asyncio.TaskGroup() as group:
        for container in running:
            group.create_task(stop(container))
    await runtime.stop_pod_sandbox(sandbox_id)
