"""One container's lifecycle inside a running pod (the container half of
pkg/kubelet/kuberuntime computePodActions): start it, restart it by restart policy
with CrashLoopBackOff, kill it when a liveness/startup probe failed, and remove
attempts older than the previous one.

`ContainerLifecycle.advance(...)` looks at a container's newest attempt and acts:
- running: its probes run; nothing else;
- created: nothing (the runtime is starting it);
- absent: start attempt 0;
- exited: under the policy (the container's own `restartPolicy` for a sidecar, else
  the pod's) either leave it, or restart it as attempt N+1 — at once after the first
  failure, then after 10 s, 20 s, … 5 min of back-off (`backoff.Backoff` keyed by pod
  uid and container name, measured from the exit), the container waiting meanwhile
  with `CrashLoopBackOff` "back-off 20s restarting failed container=NAME
  pod=NAME_NAMESPACE(UID)" and a BackOff event.
What the container waits with is written into the caller's `waiting` map; the delay
after which the pod must be synced again is appended to `delays`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kybernetes.client import Clock

from .backoff import Backoff
from .containers import ContainerStarter, container_reference, go_duration
from .probes import ProbeManager
from .runtime.interface import ContainerState, ContainerStatus, PodSandboxStatus, RuntimeService

Obj = dict[str, Any]
Event = Callable[[Obj, str, str, str], None]  # (reference, "N"/"W", reason, message)
RETRY_CREATE = 10.0  # seconds before another try at a container that could not be created


def should_restart(policy: str, exit_code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and exit_code != 0)


class ContainerLifecycle:
    """Starts, restarts and kills the containers of one node's pods (module docstring)."""

    def __init__(
        self,
        runtime: RuntimeService,
        clock: Clock,
        starter: ContainerStarter,
        probes: ProbeManager,
        restart_backoff: Backoff,
        event: Event,
        node_ip: str,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.starter = starter
        self.probes = probes
        self.restart_backoff = restart_backoff
        self._event = event
        self._node_ip = node_ip

    async def advance(
        self, uid: str, waiting: dict[str, tuple[str, str]], pod: Obj, container: Obj,
        latest: ContainerStatus | None, sandbox: PodSandboxStatus | None,
        delays: list[float], *, init: bool = False,
    ) -> None:  # fmt: skip
        """Starts, restarts or leaves alone one container (see module docstring)."""
        assert sandbox is not None
        name = container["name"]
        if latest is not None and latest.state is ContainerState.RUNNING:
            self.probes.add(pod, container, latest.id, sandbox.ip or self._node_ip)
            waiting.pop(name, None)
            return
        if latest is not None and latest.state is ContainerState.CREATED:
            return
        attempt = 0
        if latest is not None:  # exited
            self.probes.remove(latest.id)
            policy = container.get("restartPolicy") or pod["spec"].get("restartPolicy", "Always")
            if not should_restart(policy, latest.exit_code):
                waiting.pop(name, None)
                return
            key = f"{uid}/{name}"
            finished = self.clock.now() - max(
                0.0, self.clock.wall().timestamp() - latest.finished_at / 1e9
            )
            if self.restart_backoff.in_backoff_since(key, finished):
                delay = self.restart_backoff.get(key)
                meta = pod["metadata"]
                message = (
                    f"back-off {go_duration(delay)} restarting failed container={name} "
                    f"pod={meta['name']}_{meta['namespace']}({meta['uid']})"
                )
                if waiting.get(name, ("",))[0] != "CrashLoopBackOff":
                    ref = container_reference(pod, name, init)
                    self._event(
                        ref,
                        "W",
                        "BackOff",
                        f"Back-off restarting failed container {name} in pod "
                        f"{meta['name']}_{meta['namespace']}({meta['uid']})",
                    )
                waiting[name] = ("CrashLoopBackOff", message)
                delays.append(self.restart_backoff.remaining(key, finished))
                return
            self.restart_backoff.next(key, finished)
            attempt = latest.attempt + 1
        outcome = await self.starter.start(
            pod, container, attempt, sandbox.id, sandbox.config, sandbox.ip, init=init
        )
        if outcome is None:
            waiting.pop(name, None)
        else:
            waiting[name] = outcome
            if outcome[0] in ("ErrImagePull", "ImagePullBackOff"):
                key = f"{container.get('image', '')}/{uid}"
                delays.append(max(0.1, self.starter.image_backoff.remaining_since_update(key)))
            else:
                delays.append(RETRY_CREATE)

    async def kill_unhealthy(self, pod: Obj, attempts: dict[str, list[ContainerStatus]]) -> None:
        grace = float(pod["spec"].get("terminationGracePeriodSeconds", 30))
        for tried in attempts.values():
            latest = tried[0]
            reason = self.probes.kill_reason(latest.id)
            if reason and latest.state is ContainerState.RUNNING:
                self._event(container_reference(pod, latest.name), "N", "Killing", reason)
                await self.runtime.stop_container(latest.id, grace)
                self.probes.remove(latest.id)

    async def collect_garbage(self, attempts: dict[str, list[ContainerStatus]]) -> None:
        """Keeps each container's newest two attempts (status needs the previous one)."""
        for tried in attempts.values():
            for old in tried[2:]:
                await self.runtime.remove_container(old.id)
            del tried[2:]
