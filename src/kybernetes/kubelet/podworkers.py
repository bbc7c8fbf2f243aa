"""Pod workers: the per-pod state machine that drives a pod's sandbox and containers
toward its spec, and reports its status (pkg/kubelet/pod_workers.go, SyncPod,
SyncTerminatingPod, SyncTerminatedPod).

States (`PodState`) and transitions, all made by `PodWorkers.sync(uid)`:

    NEW ──admit──▶ SYNCING ──deleted, or phase Succeeded/Failed──▶ TERMINATING
     │                                                                 │ preStop, stop with grace,
     └─rejected──▶ REJECTED                                            ▼ stop the sandbox
                       │                                           TERMINATED
                       └────────── gone from the API ──────────────────┴──▶ FINISHED

- NEW: admission (`admission.admit`) against the node and the pods already admitted.
- SYNCING: sandbox (re-made if it is not ready), init containers one by one (a
  sidecar — restartPolicy Always — once started, keeps running and restarting), then
  every container, restarted per restartPolicy with CrashLoopBackOff; containers whose
  liveness/startup probe failed are stopped and so restarted; volume content is
  refreshed (at most every 10 s; the resync syncs every minute). When every container
  ended for good (restartPolicy Never/OnFailure), the pod is done: TERMINATING.
- TERMINATING: preStop hooks and SIGTERM→SIGKILL within the grace period
  (deletionGracePeriodSeconds, else terminationGracePeriodSeconds), then the sandbox.
- TERMINATED: the final status is written; a pod being deleted is then deleted
  for good (gracePeriodSeconds=0, uid precondition) like the kubelet's status manager.
- FINISHED: the pod left the API: sandbox, logs and volumes removed, the record dropped.

Each sync ends by computing the status (`podstatus.generate`) and handing it to
`write_status` (which writes only changes). `sync` answers when to sync again (a
back-off ending), or None. One sync per uid at a time (the caller's work queue
guarantees it); syncs of different pods run concurrently.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from kybernetes.client import Clock, EventRecorder

from . import admission
from .backoff import Backoff
from .config import KubeletConfig
from .containers import (
    ContainerStarter,
    pod_reference,
)
from .lifecycle import ContainerLifecycle, should_restart
from .podstatus import TERMINAL_PHASES, Observation, generate, is_sidecar, latest_attempts
from .probes import ProbeManager
from .runtime.interface import (
    ContainerRuntimeError,
    ContainerState,
    ContainerStatus,
    PodSandboxStatus,
    RuntimeService,
)
from .sandbox import ready_sandbox, stop_pod

log = logging.getLogger(__name__)
Obj = dict[str, Any]
VOLUME_REFRESH = 10.0  # seconds between two refreshes of a running pod's volumes


class PodState(enum.Enum):
    NEW = "New"
    REJECTED = "Rejected"
    SYNCING = "Syncing"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    FINISHED = "Finished"


@dataclass(slots=True)
class PodRecord:
    """What a worker remembers about one pod between syncs."""

    uid: str
    pod: Obj | None  # the latest object from the API; None once it is gone
    last: Obj = field(default_factory=dict)  # the latest object ever seen (for its grace)
    state: PodState = PodState.NEW
    sandbox: PodSandboxStatus | None = None
    start_time: datetime | None = None
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    rejected: tuple[str, str] | None = None
    failed: tuple[str, str] | None = None  # the kubelet ended it (activeDeadlineSeconds)
    finished: bool = False  # every container ended and none restarts
    volumes_at: float = float("-inf")  # when the volumes were last set up
    deleting: bool = False  # the final delete was sent
    messages: dict[str, str] = field(default_factory=dict)  # container id → termination message


@dataclass
class Hooks:
    """How the workers reach the world outside the runtime."""

    node: Callable[[], Obj | None]
    write_status: Callable[[Obj, Obj], Awaitable[None]]
    delete_pod: Callable[[Obj], Awaitable[None]]
    setup_volumes: Callable[[Obj], Awaitable[None]] | None = None
    teardown_volumes: Callable[[str], Awaitable[None]] | None = None
    # (pod, container spec, its exited runtime container, sandbox) → termination message
    termination_message: Callable[[Obj, Obj, ContainerStatus, PodSandboxStatus], str] | None = None


class PodWorkers:
    """The pods of one node and their state machines (see module docstring)."""

    def __init__(
        self,
        config: KubeletConfig,
        runtime: RuntimeService,
        clock: Clock,
        hooks: Hooks,
        starter: ContainerStarter,
        probes: ProbeManager,
        *,
        recorder: EventRecorder | None = None,
        network: bool = True,
    ) -> None:
        self.config = config
        self.runtime = runtime
        self.clock = clock
        self.hooks = hooks
        self.starter = starter
        self.probes = probes
        self.recorder = recorder
        self.network = network
        self.records: dict[str, PodRecord] = {}
        self.restart_backoff = Backoff(clock)
        self.lifecycle = ContainerLifecycle(
            runtime, clock, starter, probes, self.restart_backoff, self._event, config.node_ip
        )

    # --- bookkeeping -------------------------------------------------------------

    def update(self, pod: Obj) -> None:
        """Records the API's latest version of a pod of this node."""
        uid = pod["metadata"]["uid"]
        record = self.records.get(uid)
        if record is None:
            self.records[uid] = PodRecord(uid, pod, pod)
        else:
            record.pod = record.last = pod

    def forget(self, uid: str) -> None:
        """The pod left the API; the next sync cleans up."""
        record = self.records.get(uid)
        if record is not None:
            record.pod = None

    def adopt(self, uid: str, pod: Obj, sandbox: PodSandboxStatus) -> None:
        """A pod whose sandbox survived a kubelet restart: admitted already."""
        record = self.records[uid] = PodRecord(uid, pod, pod, PodState.SYNCING, sandbox)
        started = (pod.get("status") or {}).get("startTime")
        if started:
            record.start_time = datetime.fromisoformat(started.replace("Z", "+00:00"))

    def admitted(self) -> list[Obj]:
        return [r.pod for r in self.records.values() if r.state is PodState.SYNCING and r.pod]

    def _warner(self, pod: Obj) -> Callable[[str, str], None]:
        return lambda reason, message: self._event(pod_reference(pod), "W", reason, message)

    def _event(self, ref: Obj, kind: str, reason: str, message: str) -> None:
        if self.recorder is not None:
            self.recorder.event(ref, "Normal" if kind == "N" else "Warning", reason, message)

    # --- the state machine -------------------------------------------------------

    async def sync(self, uid: str) -> float | None:
        """Advances the pod's state machine; answers a delay to sync again, or None."""
        record = self.records.get(uid)
        if record is None:
            return None
        pod = record.pod
        if record.state is PodState.NEW:
            if pod is None:
                record.state = PodState.FINISHED
            elif self._is_deleted(pod):
                record.state = PodState.TERMINATED
            else:
                self._admit(record, pod)
        if record.state is PodState.SYNCING and pod is not None and record.failed is None:
            record.failed = self._deadline_exceeded(record, pod)
        if record.state is PodState.SYNCING and (
            pod is None or self._is_deleted(pod) or record.failed is not None
        ):
            record.state = PodState.TERMINATING
        again: float | None = None
        if record.state is PodState.SYNCING and pod is not None:
            again = await self._sync_running(record, pod)
            if record.finished:
                record.state = PodState.TERMINATING
            deadline = pod["spec"].get("activeDeadlineSeconds")
            if deadline is not None and record.start_time is not None:
                active = (self.clock.wall() - record.start_time).total_seconds()
                again = min(again if again is not None else deadline, deadline - active)
        if record.state is PodState.TERMINATING:
            await self._terminate(record)
            record.state = PodState.TERMINATED
        if record.state in (PodState.TERMINATED, PodState.REJECTED) and record.pod is None:
            record.state = PodState.FINISHED
        if record.state is PodState.FINISHED:
            await self._finish(record)
            return None
        if record.pod is not None:
            await self._report(record, record.pod)
            # The pod may have left the API while the status was written (record.pod None).
            pod = record.pod
            if record.state is PodState.TERMINATED and pod is not None and self._is_deleted(pod):
                await self._delete(record, pod)
        return again

    def _deadline_exceeded(self, record: PodRecord, pod: Obj) -> tuple[str, str] | None:
        """activeDeadlineSeconds: the pod has been active here longer than that."""
        deadline = (pod.get("spec") or {}).get("activeDeadlineSeconds")
        if deadline is None or record.start_time is None:
            return None
        active = (self.clock.wall() - record.start_time).total_seconds()
        if active < deadline:
            return None
        message = "Pod was active on the node longer than the specified deadline"
        self._event(pod_reference(pod), "N", "DeadlineExceeded", message)
        return "DeadlineExceeded", message

    @staticmethod
    def _is_deleted(pod: Obj) -> bool:
        return bool(pod["metadata"].get("deletionTimestamp"))

    def _admit(self, record: PodRecord, pod: Obj) -> None:
        status = pod.get("status") or {}
        if status.get("phase") in TERMINAL_PHASES:
            record.state = PodState.TERMINATED
            return
        node = self.hooks.node()
        others = [p for p in self.admitted() if p["metadata"]["uid"] != record.uid]
        rejected = admission.admit(pod, node, others) if node is not None else None
        record.start_time = self.clock.wall()
        if rejected is not None:
            record.rejected, record.state = rejected, PodState.REJECTED
            reason, message = rejected
            self._event(pod_reference(pod), "W", reason, message)
            return
        record.state = PodState.SYNCING

    async def _report(self, record: PodRecord, pod: Obj) -> None:
        containers = await self._containers(record)
        started: dict[str, bool] = {}
        ready: dict[str, bool] = {}
        spec = pod.get("spec") or {}
        every = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        self._read_messages(record, pod, containers, {c["name"]: c for c in every})
        specs = {c["name"]: c for c in spec.get("containers") or []}
        for c in containers:
            spec = specs.get(c.name) or {}
            if spec.get("startupProbe") and (value := self.probes.started(c.id)) is not None:
                started[c.id] = value
            if spec.get("readinessProbe"):
                ready[c.id] = bool(self.probes.ready(c.id))
        observation = Observation(
            runtime_name=self.runtime.name,
            host_ip=self.config.node_ip,
            sandbox=record.sandbox,
            containers=containers,
            waiting=record.waiting,
            started=started,
            ready=ready,
            start_time=record.start_time,
            rejected=record.rejected,
            messages=record.messages,
            failed=record.failed,
            terminal=record.state is PodState.TERMINATED,
        )
        status = generate(pod, observation, self.clock.wall())
        if record.state is PodState.SYNCING and status.get("phase") in TERMINAL_PHASES:
            # Every container ended for good: the sandbox goes, the status stays.
            await self._terminate(record)
            record.state = PodState.TERMINATED
            stopped = replace(observation, sandbox=record.sandbox, waiting={}, terminal=True)
            status = generate(pod, stopped, self.clock.wall())
        await self.hooks.write_status(pod, status)

    def _read_messages(
        self, record: PodRecord, pod: Obj, containers: list[ContainerStatus], specs: dict[str, Obj]
    ) -> None:
        """Reads the termination message of each newly exited container, once."""
        read = self.hooks.termination_message
        known = {c.id for c in containers}
        for container_id in [i for i in record.messages if i not in known]:
            del record.messages[container_id]
        if read is None or record.sandbox is None:
            return
        for c in containers:
            if c.state is ContainerState.EXITED and c.id not in record.messages:
                record.messages[c.id] = read(pod, specs.get(c.name, {}), c, record.sandbox)

    async def _containers(self, record: PodRecord) -> list[ContainerStatus]:
        if record.sandbox is None:
            return []
        return await self.runtime.list_containers(record.sandbox.id)

    # --- SYNCING -----------------------------------------------------------------

    async def _ensure_sandbox(self, record: PodRecord, pod: Obj) -> bool:
        """Volumes (first time), then a ready sandbox; False (and why, as an event and
        ContainerCreating) if either failed."""
        try:
            if self.hooks.setup_volumes is not None and record.volumes_at == float("-inf"):
                await self.hooks.setup_volumes(pod)
                record.volumes_at = self.clock.now()
        except (ValueError, OSError) as e:
            return self._not_created(record, pod, "FailedMount", str(e))
        try:
            warn = self._warner(pod)
            record.sandbox = await ready_sandbox(
                self.runtime, self.probes, pod, record.sandbox, self.config, warn
            )
        except (ContainerRuntimeError, ValueError, OSError) as e:
            message = f"Failed to create pod sandbox: {e}"
            return self._not_created(record, pod, "FailedCreatePodSandBox", message)
        return True

    def _not_created(self, record: PodRecord, pod: Obj, reason: str, message: str) -> bool:
        self._event(pod_reference(pod), "W", reason, message)
        for c in [*(pod["spec"].get("initContainers") or []), *pod["spec"]["containers"]]:
            record.waiting[c["name"]] = ("ContainerCreating", "")
        log.warning("pod %s: %s: %s", record.uid, reason, message)
        return False

    async def _sync_running(self, record: PodRecord, pod: Obj) -> float | None:
        if not await self._ensure_sandbox(record, pod):
            return 10.0
        assert record.sandbox is not None
        await self._refresh_volumes(record, pod)
        spec = pod["spec"]
        attempts = latest_attempts(await self.runtime.list_containers(record.sandbox.id))
        await self.lifecycle.kill_unhealthy(pod, attempts)
        await self.lifecycle.collect_garbage(attempts)
        delays: list[float] = []
        for container in spec.get("initContainers") or []:
            tried = attempts.get(container["name"]) or []
            latest = tried[0] if tried else None
            if is_sidecar(container):  # started, then kept running beside the others
                await self.lifecycle.advance(
                    record.uid,
                    record.waiting,
                    pod,
                    container,
                    latest,
                    record.sandbox,
                    delays,
                    init=True,
                )
                running = latest is not None and latest.state is ContainerState.RUNNING
                if running and latest and self.probes.started(latest.id) is not False:
                    continue
                return min(delays, default=None)
            if latest and latest.state is ContainerState.EXITED and latest.exit_code == 0:
                record.waiting.pop(container["name"], None)
                continue
            await self.lifecycle.advance(
                record.uid,
                record.waiting,
                pod,
                container,
                latest,
                record.sandbox,
                delays,
                init=True,
            )
            return min(delays, default=None)
        policy = spec.get("restartPolicy", "Always")
        finished = True
        for container in spec.get("containers") or []:
            tried = attempts.get(container["name"]) or []
            latest = tried[0] if tried else None
            if not (latest and latest.state is ContainerState.EXITED) or should_restart(
                policy, latest.exit_code
            ):
                finished = False
            await self.lifecycle.advance(
                record.uid, record.waiting, pod, container, latest, record.sandbox, delays
            )
        # Every container ended for good: the pod is done (its sidecars are stopped).
        record.finished = finished
        return min(delays, default=None)

    async def _refresh_volumes(self, record: PodRecord, pod: Obj) -> None:
        """Rewrites configMap/secret/downwardAPI/projected content that changed, at
        most every VOLUME_REFRESH seconds (the periodic resync guarantees a sync)."""
        setup = self.hooks.setup_volumes
        if setup is None or self.clock.now() - record.volumes_at < VOLUME_REFRESH:
            return
        record.volumes_at = self.clock.now()
        try:
            await setup(pod)
        except (ValueError, OSError) as e:
            self._event(pod_reference(pod), "W", "FailedMount", str(e))

    # --- TERMINATING / FINISHED --------------------------------------------------

    async def _terminate(self, record: PodRecord) -> None:
        """Stops the pod's containers and sandbox (`sandbox.stop_pod`). Idempotent."""
        if record.sandbox is None:
            return
        sandbox = record.sandbox
        await stop_pod(
            self.runtime, self.clock, self.probes, record.pod or record.last, sandbox.id,
            sandbox.ip, self._event, network=self.network,
        )  # fmt: skip
        record.sandbox = await self.runtime.pod_sandbox_status(sandbox.id)
        record.waiting.clear()

    async def _delete(self, record: PodRecord, pod: Obj) -> None:
        if not record.deleting:
            record.deleting = True
            await self.hooks.delete_pod(pod)

    async def _finish(self, record: PodRecord) -> None:
        await self._terminate(record)
        if record.sandbox is not None:
            await self.runtime.remove_pod_sandbox(record.sandbox.id)
            if record.sandbox.config.log_directory:  # the pod's logs go with it
                await asyncio.to_thread(
                    shutil.rmtree, record.sandbox.config.log_directory, ignore_errors=True
                )
        if self.hooks.teardown_volumes is not None:
            await self.hooks.teardown_volumes(record.uid)
        self.restart_backoff.forget_prefix(f"{record.uid}/")
        self.records.pop(record.uid, None)
