"""The scheduler's runtime: informers → queue → `schedule_one` → assume → bind.

`Scheduler(client, factory, ...)` wires, as kube-scheduler does:

- one pod informer (all namespaces, non-terminal pods): a pod without `spec.nodeName`
  whose `schedulerName` names one of the profiles goes to the `SchedulingQueue`; an
  assigned pod goes to the `SchedulerCache`; a pod that becomes assigned leaves the
  queue. A node informer feeds the cache. Node additions and relevant node changes
  (allocatable, labels, taints, unschedulable, conditions) and deletions of assigned
  pods move unschedulable pods back (`move_all_to_active_or_backoff`).
- one scheduling loop: pop, `schedule_one` against the cache's snapshot, Reserve, then
  *assume* the pod (it counts on its node at once) and bind it in a task of its own
  (PreBind, Bind plugins, else `client.bind` through pods/binding), so the next pod is
  scheduled while the binding is in flight. A bound pod gets a `Scheduled` event
  ("Successfully assigned ns/pod to node"); a failed binding forgets the assumed pod
  and requeues it with backoff.
- a pod that fits nowhere gets the `PodScheduled=False` condition with reason
  `Unschedulable` and the FailedScheduling message (status patch, skipped when the
  condition already says so), a `FailedScheduling` Warning event, and is parked in the
  queue; scheduler errors use reason `SchedulerError` and back the pod off.

`run()` runs the factory it was given (which must not be running yet), the event
recorder, waits for the caches to sync, then schedules until cancelled. API errors of
status writes and bindings are logged and retried through the queue, never raised.
- when DefaultPreemption nominates a node, the victims it chose are evicted
  (`preemptor.preempt`) and the pod waits in the queue for them to go.
- informers on namespaces, PodDisruptionBudgets and workloads keep the snapshot's side
  tables current (`sidetables`); assigned pods added or relabelled move only the parked
  pods with pod (anti-)affinity or topology spread constraints (a queueing hint).

Limits: Permit `Wait` is treated as a rejection; nominated pods are not counted on
their nominated node while their victims terminate (another pod may take the room).

`run_scheduler(client, ...)` builds all of that and runs it, by default only while
holding the `kube-system/kube-scheduler` Lease; it returns when leadership is lost.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
import uuid
from collections.abc import Coroutine, Mapping
from typing import Any, Final

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    LeaderElectionConfig,
    LeaderElector,
    SharedInformerFactory,
    SystemClock,
    TransportError,
)
from kybernetes.client.resource import NODES, PODS
from kybernetes.scheduler.cache import SchedulerCache
from kybernetes.scheduler.configuration import SchedulerConfiguration, load_configuration
from kybernetes.scheduler.framework import Code, CycleState, QueuedPodInfo, Status
from kybernetes.scheduler.metrics import SchedulerMetrics
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.plugins.defaultpreemption import VICTIMS_KEY
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.preemptor import involved, preempt
from kybernetes.scheduler.profile import Profile, build_profile
from kybernetes.scheduler.queue import SchedulingQueue
from kybernetes.scheduler.schedule import schedule_one
from kybernetes.scheduler.sidetables import watch_side_tables

log = logging.getLogger(__name__)

Obj = dict[str, Any]
COMPONENT: Final = "default-scheduler"
NON_TERMINAL_PODS: Final = "status.phase!=Succeeded,status.phase!=Failed"


class Scheduler:
    """One scheduler over one API server (see the module docstring)."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        configuration: SchedulerConfiguration | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        recorder: EventRecorder | None = None,
        metrics: SchedulerMetrics | None = None,
    ) -> None:
        self.client = client
        self.factory = factory
        self.clock = clock or SystemClock()
        self.rng = rng or random.Random()
        self.recorder = recorder or EventRecorder(client, COMPONENT, clock=self.clock)
        configuration = configuration or load_configuration(None)
        registry = in_tree_registry()
        self.profiles: dict[str, Profile] = {
            p.scheduler_name: build_profile(p, registry) for p in configuration.profiles
        }
        self.queue = SchedulingQueue(self.profiles, self.clock)
        self.metrics = metrics or SchedulerMetrics()
        self.metrics.queue_counts = self.queue.counts
        self.cache = SchedulerCache(self.clock)
        self._next_start_node = 0
        self._tasks: asyncio.TaskGroup | None = None
        pods = factory.informer(PODS, namespace="", field_selector=NON_TERMINAL_PODS)
        pods.add_handler(self._on_pod_add, self._on_pod_update, self._on_pod_delete)
        nodes = factory.informer(NODES)
        nodes.add_handler(self._on_node_add, self._on_node_update, self._on_node_delete)
        watch_side_tables(
            factory,
            self.cache.snapshot,
            lambda: self.queue.move_all_to_active_or_backoff("NamespaceUpdate", _has_pod_affinity),
        )

    async def run(self) -> None:
        """Runs informers, the event recorder and the scheduling loop until cancelled."""
        async with asyncio.TaskGroup() as tasks, self.factory.running():
            self._tasks = tasks
            tasks.create_task(self.recorder.run())
            await self.factory.wait_for_cache_sync()
            log.info("scheduler caches synced; scheduling")
            try:
                while True:
                    self._schedule_cycle(await self.queue.pop())
                    await asyncio.sleep(0)  # pop need not yield: let bindings and informers run
            finally:
                self._tasks = None

    # -- the scheduling cycle --------------------------------------------------------

    def _schedule_cycle(self, queued: QueuedPodInfo) -> None:
        """Decides one popped pod; the binding (or status write) runs as a task."""
        pod = queued.pod
        if (pod.pod.get("metadata") or {}).get("deletionTimestamp") or self.cache.is_assumed(
            pod.key
        ):
            self.queue.done(pod.key)
            return
        profile = self.profiles[pod.scheduler_name]
        snapshot = self.cache.snapshot
        started = time.perf_counter()
        result = schedule_one(snapshot, pod, profile, self.rng, start_index=self._next_start_node)
        outcome = "scheduled" if result.node else "error"
        if result.node is None and result.status.is_rejected:
            outcome = "unschedulable"
        self.metrics.attempt(outcome, profile.scheduler_name, time.perf_counter() - started)
        self._next_start_node = (self._next_start_node + result.evaluated_nodes) % max(
            snapshot.num_nodes, 1
        )
        if result.node is None:
            self._failed(queued, result.status, result.message)
            victims = result.state.get(VICTIMS_KEY, ()) if result.state is not None else ()
            if result.status.is_rejected and profile.post_filter:
                self.metrics.preemption_attempts.inc()
            if result.nominated_node and victims:
                assert isinstance(victims, tuple)
                self.metrics.preemption_victims.observe(len(victims))
                self._spawn(
                    preempt(
                        self.client,
                        self.recorder,
                        self.clock,
                        scheduler_name=profile.scheduler_name,
                        preemptor=pod,
                        node=result.nominated_node,
                        victims=victims,
                    )
                )
            return
        node, state = result.node, result.state or CycleState()
        status = self._reserve_and_permit(profile, state, pod, node)
        if not status.is_success:
            self._failed(queued, status, status.message)
            return
        self.cache.assume(pod, node)
        self._spawn(self._bind(profile, state, queued, node))

    def _reserve_and_permit(
        self, profile: Profile, state: CycleState, pod: PodInfo, node: str
    ) -> Status:
        for plugin in profile.reserve:
            status = plugin.reserve(state, pod, node)
            if not status.is_success:
                self._unreserve(profile, state, pod, node)
                return status
        for permit in profile.permit:
            status, _timeout = permit.permit(state, pod, node)
            if not status.is_success:
                self._unreserve(profile, state, pod, node)
                return status
        return Status()

    @staticmethod
    def _unreserve(profile: Profile, state: CycleState, pod: PodInfo, node: str) -> None:
        for plugin in reversed(profile.reserve):
            plugin.unreserve(state, pod, node)

    async def _bind(
        self, profile: Profile, state: CycleState, queued: QueuedPodInfo, node: str
    ) -> None:
        pod = queued.pod
        try:
            status = await self._run_bind_plugins(profile, state, pod, node)
        except (APIError, TransportError) as e:
            status = Status(Code.ERROR, (f"binding rejected: {e}",))
        if not status.is_success:
            self.cache.forget(pod.key)
            self._unreserve(profile, state, pod, node)
            self._failed(queued, status, status.message)
            return
        self.cache.finish_binding(pod.key)
        self.queue.done(pod.key)
        if queued.initial_timestamp:
            self.metrics.sli_duration.labels(str(queued.attempts)).observe(
                self.clock.now() - queued.initial_timestamp
            )
        for plugin in profile.post_bind:
            plugin.post_bind(state, pod, node)
        message = f"Successfully assigned {pod.namespace}/{pod.name} to {node}"
        self.recorder.event(involved(pod), "Normal", "Scheduled", message)

    async def _run_bind_plugins(
        self, profile: Profile, state: CycleState, pod: PodInfo, node: str
    ) -> Status:
        for pre_bind in profile.pre_bind:
            status = await pre_bind.pre_bind(state, pod, node)
            if not status.is_success:
                return status
        for binder in profile.bind:
            status = await binder.bind(state, pod, node)
            if status.code is not Code.SKIP:
                return status
        await self.client.bind(dict(pod.pod), node)  # DefaultBinder
        return Status()

    def _failed(self, queued: QueuedPodInfo, status: Status, message: str) -> None:
        """handleSchedulingFailure: requeue, event, PodScheduled=False condition."""
        pod = queued.pod
        unschedulable = status.is_rejected
        self.queue.requeue(queued, unschedulable=unschedulable)
        reason = "Unschedulable" if unschedulable else "SchedulerError"
        log.info("pod %s/%s: %s: %s", pod.namespace, pod.name, reason, message)
        self.recorder.event(involved(pod), "Warning", "FailedScheduling", message)
        self._spawn(self._set_condition(pod, reason, message))

    async def _set_condition(self, pod: PodInfo, reason: str, message: str) -> None:
        conditions = (pod.pod.get("status") or {}).get("conditions") or ()
        current = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
        wanted: dict[str, str | None] = {
            "type": "PodScheduled",
            "status": "False",
            "reason": reason,
            "message": message,
        }
        if current is not None and all(current.get(k) == v for k, v in wanted.items()):
            return
        wanted["lastProbeTime"] = None
        unchanged = current is not None and current.get("status") == "False"
        wanted["lastTransitionTime"] = (
            current.get("lastTransitionTime")
            if unchanged and current is not None
            else self.clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        # a strategic merge patch merges conditions by type: others' conditions stay
        patch = {"status": {"conditions": [wanted]}}
        try:
            await self.client.patch(
                PODS,
                pod.name,
                patch,
                namespace=pod.namespace,
                subresource="status",
                patch_type="strategic",
            )
        except (APIError, TransportError) as e:
            log.warning("pod %s/%s: could not set PodScheduled: %s", pod.namespace, pod.name, e)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        if self._tasks is None:
            work.close()
            raise RuntimeError("the scheduler is not running")
        self._tasks.create_task(work)

    # -- informer handlers (they only update the queue and the cache) ----------------

    def _responsible(self, pod: Obj) -> bool:
        return (pod.get("spec") or {}).get("schedulerName", COMPONENT) in self.profiles

    def _on_pod_add(self, pod: Obj) -> None:
        if _assigned(pod):
            self.cache.add_pod(pod)
            self.queue.move_all_to_active_or_backoff("AssignedPodAdd", _has_pod_affinity)
        elif self._responsible(pod):
            self.queue.add(pod_info(pod))

    def _on_pod_update(self, old: Obj, new: Obj) -> None:
        if _assigned(new):
            if not _assigned(old):
                self.queue.delete(pod_info(new).key)
            self.cache.update_pod(new)
            if (old.get("metadata") or {}).get("labels") != (new.get("metadata") or {}).get(
                "labels"
            ):
                self.queue.move_all_to_active_or_backoff("AssignedPodUpdate", _has_pod_affinity)
        elif self._responsible(new):
            self.queue.update(pod_info(new))
        else:
            self.queue.delete(pod_info(new).key)

    def _on_pod_delete(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        obj = pod.obj if isinstance(pod, DeletedFinalStateUnknown) else pod
        if _assigned(obj):
            self.cache.remove_pod(obj)
            self.queue.move_all_to_active_or_backoff("AssignedPodDelete")
        else:
            self.queue.delete(pod_info(obj).key)

    def _on_node_add(self, node: Obj) -> None:
        self.cache.add_node(node)
        self.queue.move_all_to_active_or_backoff("NodeAdd")

    def _on_node_update(self, old: Obj, new: Obj) -> None:
        self.cache.update_node(new)
        if _node_facts(old) != _node_facts(new):
            self.queue.move_all_to_active_or_backoff("NodeUpdate")

    def _on_node_delete(self, node: Obj | DeletedFinalStateUnknown) -> None:
        obj = node.obj if isinstance(node, DeletedFinalStateUnknown) else node
        self.cache.remove_node(obj["metadata"]["name"])


def _has_pod_affinity(pod: PodInfo) -> bool:
    """Queueing hint: only pods with pod (anti-)affinity or spread constraints can be
    helped by other pods appearing or changing labels."""
    return bool(pod.affinity.entries or pod.spread_constraints)


def _assigned(pod: Mapping[str, Any]) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _node_facts(node: Mapping[str, Any]) -> tuple[Any, ...]:
    """What a node update must change to possibly help unschedulable pods."""
    status = node.get("status") or {}
    conditions = sorted((c.get("type"), c.get("status")) for c in status.get("conditions") or ())
    return (
        (node.get("metadata") or {}).get("labels"),
        node.get("spec"),
        status.get("allocatable"),
        status.get("images"),
        conditions,
    )


async def run_scheduler(
    client: APIClient,
    *,
    configuration: SchedulerConfiguration | None = None,
    leader_elect: bool = True,
    identity: str = "",
    clock: Clock | None = None,
    metrics: SchedulerMetrics | None = None,
) -> None:
    """Runs a scheduler on `client` until cancelled or, with `leader_elect` (and the
    configuration's `leaderElection.leaderElect`), until its Lease (by default
    `kube-system/kube-scheduler`, timings from the configuration) is lost (then it
    returns; a fresh call starts over with fresh caches). `identity` defaults to
    "<hostname>_<uuid>" as in Kubernetes. `configuration` errors were raised by
    `load_configuration` already."""
    identity = identity or f"{socket.gethostname()}_{uuid.uuid4()}"

    async def schedule() -> None:
        factory = SharedInformerFactory(client, clock=clock)
        recorder = EventRecorder(client, COMPONENT, identity, clock=clock)
        scheduler = Scheduler(
            client,
            factory,
            configuration=configuration,
            clock=clock,
            recorder=recorder,
            metrics=metrics,
        )
        await scheduler.run()

    election = (configuration or load_configuration(None)).leader_election
    if not leader_elect or not election.leader_elect:
        await schedule()
        return
    config = LeaderElectionConfig(
        election.resource_name,
        election.resource_namespace,
        identity,
        lease_duration=election.lease_duration,
        renew_deadline=election.renew_deadline,
        retry_period=election.retry_period,
    )
    await LeaderElector(client, config, clock=clock).run(schedule)
