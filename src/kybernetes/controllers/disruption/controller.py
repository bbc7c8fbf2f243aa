"""`DisruptionController`: the status of every PodDisruptionBudget — Kubernetes'
`pkg/controller/disruption` (the eviction API that consumes it is the API server's).

`sync(key)` takes the namespace's pods the budget's selector matches (a null selector
matches none, `{}` all), works out the expected pods and the desired healthy count
(`status.desired_healthy`) — from the pods' controllers' scale when the budget uses
`maxUnavailable` or a percentage — counts the healthy pods, prunes
`disruptedPods`, and writes the status (`status.pdb_status`) when it changed. The
scale of a pod's controller comes from the caches for ReplicationControllers,
ReplicaSets (their Deployment's, when one owns them) and StatefulSets, and from a live
GET of the owner's `/scale` subresource for any other built-in kind. Pods without a
controller are left out of the scale (a Warning `UnmanagedPods` Event says the
status cannot be right); a pod whose controller cannot be found fails the sync
safe: no disruptions allowed, condition reason `SyncFailed`, a Warning
`CalculateExpectedPodCountFailed` Event. A budget matching no pods gets a `NoPods`
Event. The key is requeued when a `disruptedPods` entry expires; an expired entry
gives its pod a `NotDeleted` Warning.

A second loop (`sync_stale_pod`) resets to False a pod's `DisruptionTarget` condition
that has been True for `stale_pod_disruption_timeout` (2 min) while the pod is neither
being deleted nor terminal (the disruption it announced never happened); conditions
set by the kubelet (reason `TerminationByKubelet`) are left alone.

Handlers enqueue a budget on its own changes, on changes of pods it selects (old or
new labels) and when a workload controller of its namespace changes `spec.replicas`.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.api.resources import ResourceTable
from kybernetes.api.selectors import Selector, SelectorError, label_selector_as_selector
from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    APIError,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    Informer,
    Resource,
    SharedInformerFactory,
    WorkQueue,
    is_not_found,
    object_key,
)
from kybernetes.client.events import event_time
from kybernetes.client.resource import (
    DEPLOYMENTS,
    PODDISRUPTIONBUDGETS,
    PODS,
    REPLICASETS,
    REPLICATIONCONTROLLERS,
    STATEFULSETS,
)

from ..base import (
    Workers,
    controller_ref,
    enqueue_keys,
    enqueue_selecting,
    event_object,
    run_queues,
)
from ..replicaset.pods import parse_time
from .status import (
    current_healthy,
    desired_healthy,
    disrupted_pods,
    needs_scale,
    pdb_status,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class _NoController(Exception):
    """A pod whose controller (and so whose scale) cannot be found."""


def _selector(pdb: Obj) -> Selector:
    return label_selector_as_selector((pdb.get("spec") or {}).get("selector"))


class DisruptionController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        workers: int = 5,
        stale_pod_disruption_timeout: float = 120.0,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.stale_pod_disruption_timeout = stale_pod_disruption_timeout
        self.workers = workers
        self._clock = clock
        self._table = ResourceTable.builtin()
        self.pdbs = factory.informer(PODDISRUPTIONBUDGETS)
        self.pods = factory.informer(PODS)
        self.workloads: dict[str, Informer] = {
            "ReplicationController": factory.informer(REPLICATIONCONTROLLERS),
            "ReplicaSet": factory.informer(REPLICASETS),
            "Deployment": factory.informer(DEPLOYMENTS),
            "StatefulSet": factory.informer(STATEFULSETS),
        }
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.stale_queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.pdbs, self.queue, deletes=False)
        self.pods.add_handler(self._pod_changed, self._pod_updated, self._pod_changed)
        for informer in self.workloads.values():
            informer.add_handler(on_update=self._workload_updated)

    async def run(self) -> None:
        await run_queues(
            [self.pdbs, self.pods, *self.workloads.values()],
            Workers(self.queue, self.sync, self.workers),
            Workers(self.stale_queue, self.sync_stale_pod, 1),
        )

    # --- handlers: enqueue only -------------------------------------------------------

    def _enqueue_selecting(self, pod: Obj) -> None:
        enqueue_selecting(self.queue, self.pdbs, pod, _selector)

    def _pod_changed(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        self._enqueue_selecting(event_object(pod))
        if not isinstance(pod, DeletedFinalStateUnknown):
            self._enqueue_stale(pod)

    def _enqueue_stale(self, pod: Obj) -> None:
        clean_after = self._stale_disruption(pod)
        if clean_after is not None:
            self.stale_queue.add_after(object_key(pod), clean_after)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        self._enqueue_stale(new)
        self._enqueue_selecting(new)
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            self._enqueue_selecting(old)

    def _workload_updated(self, old: Obj, new: Obj) -> None:
        if (old.get("spec") or {}).get("replicas") != (new.get("spec") or {}).get("replicas"):
            namespace = new["metadata"].get("namespace") or ""
            for key in self.pdbs.indexer.index_keys(BY_NAMESPACE, namespace):
                self.queue.add(key)

    # --- stale DisruptionTarget conditions ------------------------------------------

    def _stale_disruption(self, pod: Obj) -> float | None:
        """Seconds until the pod's DisruptionTarget condition is stale (0: it is);
        None when it has none that can go stale."""
        if pod["metadata"].get("deletionTimestamp"):
            return None
        status = pod.get("status") or {}
        condition = next(
            (c for c in status.get("conditions") or [] if c.get("type") == "DisruptionTarget"), None
        )
        if (
            condition is None
            or condition.get("status") != "True"
            or condition.get("reason") == "TerminationByKubelet"
            or status.get("phase") in ("Succeeded", "Failed")
        ):
            return None
        since = parse_time(condition.get("lastTransitionTime"))
        age = (self._clock.wall() - since).total_seconds() if since else 0.0
        return max(self.stale_pod_disruption_timeout - age, 0.0)

    async def sync_stale_pod(self, key: str) -> None:
        """Sets a stale DisruptionTarget condition of pod `key` to False."""
        pod = self.pods.indexer.get(key)
        if pod is None:
            return
        clean_after = self._stale_disruption(pod)
        if clean_after is None:
            return
        if clean_after > 0:
            self.stale_queue.add_after(key, clean_after)
            return
        status = pod.get("status") or {}
        reset = {
            "type": "DisruptionTarget",
            "status": "False",
            "lastTransitionTime": event_time(self._clock.wall()),
        }
        conditions = [
            reset if c.get("type") == "DisruptionTarget" else c
            for c in status.get("conditions") or []
        ]
        try:
            await self.client.update_status(
                PODS, {**pod, "status": {**status, "conditions": conditions}}
            )
        except APIError as e:
            if not is_not_found(e):
                raise

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Recomputes and writes one budget's status (module docstring)."""
        pdb = self.pdbs.indexer.get(key)
        if pdb is None:
            return
        namespace = pdb["metadata"].get("namespace") or ""
        spec = pdb.get("spec") or {}
        now = self._clock.wall()
        try:
            selector = label_selector_as_selector(spec.get("selector"))
        except SelectorError as e:
            self.recorder.event(pdb, "Warning", "NoPods", f"Failed to get pods: {e}")
            await self._write(pdb, pdb_status(pdb, now, error=str(e)))
            return
        pods = [
            p
            for p in self.pods.indexer.by_index(BY_NAMESPACE, namespace)
            if selector.matches(p["metadata"].get("labels") or {})
        ]
        if not pods:
            self.recorder.event(pdb, "Normal", "NoPods", "No matching pods found")
        try:
            scale = await self._expected_scale(pdb, pods) if needs_scale(spec) else 0
            expected, desired = desired_healthy(spec, pods, scale)
        except (ValueError, _NoController) as e:
            self.recorder.event(
                pdb,
                "Warning",
                "CalculateExpectedPodCountFailed",
                f"Failed to calculate the number of expected pods: {e}",
            )
            status = pdb_status(pdb, now, error=str(e))
        else:
            disrupted, recheck = disrupted_pods(pdb.get("status") or {}, pods, now)
            for name in (pdb.get("status") or {}).get("disruptedPods") or {}:
                pod = next((p for p in pods if p["metadata"]["name"] == name), None)
                if name not in disrupted and pod and not pod["metadata"].get("deletionTimestamp"):
                    self.recorder.event(
                        pod,
                        "Warning",
                        "NotDeleted",
                        f"Pod was expected by PDB {key} to be deleted but it wasn't",
                    )
            healthy = current_healthy(pods, disrupted)
            status = pdb_status(
                pdb, now, expected=expected, desired=desired, healthy=healthy, disrupted=disrupted
            )
            if recheck is not None:
                self.queue.add_after(key, (recheck - now).total_seconds())
        await self._write(pdb, status)

    async def _write(self, pdb: Obj, status: Obj) -> None:
        if status != (pdb.get("status") or {}):
            await self.client.update_status(PODDISRUPTIONBUDGETS, {**pdb, "status": status})

    async def _expected_scale(self, pdb: Obj, pods: list[Obj]) -> int:
        """The summed replicas of the pods' controllers, each counted once."""
        scales: dict[str, int] = {}
        unmanaged = False
        for pod in pods:
            name, namespace = pod["metadata"]["name"], pod["metadata"]["namespace"]
            ref = controller_ref(pod)
            if ref is None:
                unmanaged = True
                continue
            if ref.get("uid") in scales:
                continue
            found = self._cached_scale(namespace, ref) or await self._live_scale(namespace, ref)
            if found is None:
                raise _NoController(f'found no controllers for pod "{name}"')
            uid, replicas = found
            scales[uid] = replicas
        if unmanaged:
            selector = (pdb.get("spec") or {}).get("selector")
            self.recorder.event(
                pdb,
                "Warning",
                "UnmanagedPods",
                f"Pods selected by this PodDisruptionBudget (selector: {selector}) were found "
                "to be unmanaged. As a result, the status of the PDB cannot be calculated "
                "correctly, which may result in undefined behavior. To account for these pods "
                'please set ".spec.minAvailable" field of the PDB to an integer value.',
            )
        return sum(scales.values())

    def _cached_scale(self, namespace: str, ref: Obj) -> tuple[str, int] | None:
        """(uid, replicas) of a ReplicationController, ReplicaSet (or its Deployment)
        or StatefulSet from the caches."""
        informer = self.workloads.get(str(ref.get("kind")))
        owner = informer.indexer.get_by_name(namespace, ref.get("name") or "") if informer else None
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        if ref.get("kind") == "ReplicaSet":
            parent = controller_ref(owner)
            if parent is not None and parent.get("kind") == "Deployment":
                return self._cached_scale(namespace, parent)
        return owner["metadata"]["uid"], int((owner.get("spec") or {}).get("replicas", 1))

    async def _live_scale(self, namespace: str, ref: Obj) -> tuple[str, int] | None:
        """(uid, replicas) from the owner's /scale subresource, for other kinds."""
        group, _, version = str(ref.get("apiVersion") or "").rpartition("/")
        info = self._table.by_kind(group, version, str(ref.get("kind") or ""))
        if info is None or info.subresource("scale") is None:
            return None
        try:
            scale = await self.client.get(
                Resource.of(info), ref.get("name") or "", namespace, subresource="scale"
            )
        except APIError as e:
            if is_not_found(e):
                return None
            raise
        if (scale.get("metadata") or {}).get("uid") != ref.get("uid"):
            return None
        return str(ref.get("uid")), int((scale.get("spec") or {}).get("replicas") or 0)
