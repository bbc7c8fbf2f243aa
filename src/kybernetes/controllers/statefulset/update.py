"""One step of a StatefulSet toward its spec (Kubernetes' `updateStatefulSet`, 1.32).

`update(ctl, sts, pods, current, update_rev)` answers the new status after at most
one step (OrderedReady) or a burst of independent steps (Parallel):

1. Pods are split into replicas (ordinal in [start, start + replicas)) and condemned
   ones (valid ordinals outside it); missing replicas are planned at the update
   revision, or at the current one below a RollingUpdate `partition`.
2. Per replica in ordinal order: a Failed/Succeeded pod is deleted to be recreated
   (`RecreatingFailedPod` / `RecreatingTerminatedPod`); a missing one is created, its
   PersistentVolumeClaims first (`SuccessfulCreate`); OrderedReady stops after a
   creation, at a terminating pod, or at one not Running and Ready (and available
   for `minReadySeconds`); a pod whose identity labels, hostname or subdomain drifted
   is updated back.
3. Condemned pods are deleted from the highest ordinal down (`SuccessfulDelete`),
   owning their claims first when `whenScaled` is Delete;
   OrderedReady deletes one at a time, only once all others are healthy (the first
   unhealthy pod may always go).
4. RollingUpdate: the highest-ordinal replica at or above `partition` not at the
   update revision is deleted (it comes back at the update revision), one at a time,
   waiting for unhealthy ones. OnDelete: nothing.
5. When every replica runs the update revision and is ready, the update revision
   becomes the current one.

A set being deleted only gets its status. A failed write raises (with a
`FailedCreate` / `FailedDelete` warning); the sync is retried with backoff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kybernetes.client import APIError, is_already_exists, is_not_found
from kybernetes.client.resource import PERSISTENTVOLUMECLAIMS, PODS

from ..history import template_of
from .identity import (
    claim_for,
    claim_name,
    identity_fix,
    is_healthy,
    is_running_and_available,
    is_running_and_ready,
    is_terminating,
    new_pod,
    ordinal_of,
    phase,
    replicas,
    retention,
    revision_of,
    start_ordinal,
    with_owner,
)

if TYPE_CHECKING:
    from .controller import StatefulSetController

Obj = dict[str, Any]


def _applied(sts: Obj, revision: Obj) -> Obj:
    """The set with the revision's template."""
    return {**sts, "spec": {**(sts.get("spec") or {}), "template": template_of(revision)}}


def _partition(sts: Obj) -> int:
    strategy = (sts.get("spec") or {}).get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return 0
    return int((strategy.get("rollingUpdate") or {}).get("partition") or 0)


class Step:
    """The state of one update step (see module docstring)."""

    def __init__(
        self, ctl: StatefulSetController, sts: Obj, pods: list[Obj], current: Obj, update: Obj
    ) -> None:
        self.ctl = ctl
        self.sts = sts
        self.spec: Obj = sts.get("spec") or {}
        self.now = ctl.clock.wall()
        self.min_ready = int(self.spec.get("minReadySeconds") or 0)
        self.current, self.update = current, update
        self.current_name = current["metadata"]["name"]
        self.update_name = update["metadata"]["name"]
        self.monotonic = self.spec.get("podManagementPolicy") != "Parallel"
        self.pods = pods
        self.created = {p["metadata"]["name"] for p in pods}
        self.status: Obj = {
            "observedGeneration": sts["metadata"].get("generation") or 0,
            "replicas": 0,
            "readyReplicas": 0,
            "currentReplicas": 0,
            "updatedReplicas": 0,
            "availableReplicas": 0,
            "currentRevision": self.current_name,
            "updateRevision": self.update_name,
        }
        collisions = (sts.get("status") or {}).get("collisionCount")
        if collisions is not None:
            self.status["collisionCount"] = collisions

    def _count(self, pod: Obj, delta: int) -> None:
        if pod["metadata"]["name"] not in self.created or is_terminating(pod):
            return
        revision = revision_of(pod)
        if revision == self.current_name:
            self.status["currentReplicas"] += delta
        if revision == self.update_name:
            self.status["updatedReplicas"] += delta

    def _planned(self, ordinal: int) -> Obj:
        start = start_ordinal(self.sts)
        if ordinal < start + _partition(self.sts):
            return new_pod(self.sts, _applied(self.sts, self.current), ordinal, self.current_name)
        return new_pod(self.sts, _applied(self.sts, self.update), ordinal, self.update_name)

    async def run(self) -> Obj:
        start, count = start_ordinal(self.sts), replicas(self.sts)
        slots: list[Obj | None] = [None] * count
        condemned: list[Obj] = []
        for pod in self.pods:
            self.status["replicas"] += 1
            if is_running_and_ready(pod):
                self.status["readyReplicas"] += 1
                if is_running_and_available(pod, self.min_ready, self.now):
                    self.status["availableReplicas"] += 1
            self._count(pod, 1)
            ordinal = ordinal_of(self.sts, pod)
            if start <= ordinal < start + count:
                slots[ordinal - start] = pod
            elif ordinal >= 0:
                condemned.append(pod)
        replicas_ = [pod or self._planned(start + i) for i, pod in enumerate(slots)]
        condemned.sort(key=lambda p: ordinal_of(self.sts, p), reverse=True)
        unhealthy = [p for p in replicas_ if not is_healthy(p)]
        unhealthy += [p for p in reversed(condemned) if not is_healthy(p)]
        first_unhealthy = unhealthy[0] if unhealthy else None
        if self.sts["metadata"].get("deletionTimestamp"):
            return self.status
        if await self._replicas(replicas_, start):
            return self.status
        if await self._condemned(condemned, first_unhealthy):
            return self.status
        await self._rolling(replicas_)
        return self.status

    async def _replicas(self, replicas_: list[Obj], start: int) -> bool:
        """Creates, recreates and repairs replicas; True if the step must end here."""
        for i, pod in enumerate(replicas_):
            name = pod["metadata"]["name"]
            if name in self.created and phase(pod) in ("Failed", "Succeeded"):
                failed = phase(pod) == "Failed"
                reason = "RecreatingFailedPod" if failed else "RecreatingTerminatedPod"
                word = "failed" if failed else "terminated"
                message = f"StatefulSet {self._key()} is recreating {word} Pod {name}"
                if failed:
                    self.ctl.recorder.event(self.sts, "Warning", reason, message)
                else:
                    self.ctl.recorder.event(self.sts, "Normal", reason, message)
                await self._delete(pod)
                self.status["replicas"] -= 1
                self.created.discard(name)
                pod = replicas_[i] = self._planned(start + i)
            if name not in self.created:
                if not await self._create(pod):
                    return True
                self.status["replicas"] += 1
                self.created.add(name)
                self._count(pod, 1)
                if self.monotonic:
                    return True
                continue
            if is_terminating(pod) and self.monotonic:
                return True
            if self.monotonic and not (
                is_running_and_ready(pod)
                and is_running_and_available(pod, self.min_ready, self.now)
            ):
                return True
            fixed = identity_fix(self.sts, pod, start + i)
            if fixed is not None and not is_terminating(pod):
                await self.ctl.client.update(PODS, fixed)
        return False

    async def _condemned(self, condemned: list[Obj], first_unhealthy: Obj | None) -> bool:
        """Deletes pods beyond the replicas, highest first; True if the step ends."""
        for pod in condemned:  # highest ordinal first
            if is_terminating(pod):
                if self.monotonic:
                    return True
                continue
            ready = is_running_and_ready(pod) and is_running_and_available(
                pod, self.min_ready, self.now
            )
            if self.monotonic and not ready and pod is not first_unhealthy:
                return True
            await self._hand_claims_to(pod)
            await self._delete(pod)
            self._count(pod, -1)
            if self.monotonic:
                return True
        return False

    async def _hand_claims_to(self, pod: Obj) -> None:
        """With `whenScaled: Delete`, makes the condemned pod an owner of its claims
        (before it is deleted), so the garbage collector deletes them after it."""
        if retention(self.sts)[1] != "Delete":
            return
        ordinal = ordinal_of(self.sts, pod)
        for template in self.spec.get("volumeClaimTemplates") or []:
            name = claim_name(template, self.sts, ordinal)
            try:
                claim = await self.ctl.client.get(
                    PERSISTENTVOLUMECLAIMS, name, pod["metadata"]["namespace"]
                )
            except APIError as e:
                if is_not_found(e):
                    continue
                raise
            owned = with_owner(claim, pod)
            if owned is not None:
                await self.ctl.client.update(PERSISTENTVOLUMECLAIMS, owned)

    async def _rolling(self, replicas_: list[Obj]) -> None:
        strategy = self.spec.get("updateStrategy") or {}
        if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
            return
        for pod in reversed(replicas_[_partition(self.sts) :]):
            if revision_of(pod) != self.update_name and not is_terminating(pod):
                await self._delete(pod)
                if revision_of(pod) == self.current_name:
                    self._count(pod, -1)
                return
            if not is_healthy(pod):
                return

    def _key(self) -> str:
        return f"{self.sts['metadata']['namespace']}/{self.sts['metadata']['name']}"

    async def _create(self, pod: Obj) -> bool:
        """Creates the pod's claims, then the pod; False if it already exists (the
        cache is behind: the next sync sees it)."""
        ordinal = ordinal_of(self.sts, pod)
        for template in self.spec.get("volumeClaimTemplates") or []:
            claim = claim_for(self.sts, template, ordinal)
            try:
                await self.ctl.client.create(PERSISTENTVOLUMECLAIMS, claim)
            except APIError as e:
                if not is_already_exists(e):
                    self._event_failed("create Claim", pod, e)
                    raise
        name = pod["metadata"]["name"]
        try:
            await self.ctl.client.create(PODS, pod)
        except APIError as e:
            if is_already_exists(e):
                return False
            self._event_failed("create", pod, e)
            raise
        message = f"create Pod {name} in StatefulSet {self.sts['metadata']['name']} successful"
        self.ctl.recorder.event(self.sts, "Normal", "SuccessfulCreate", message)
        return True

    async def _delete(self, pod: Obj) -> None:
        meta = pod["metadata"]
        try:
            await self.ctl.client.delete(PODS, meta["name"], meta["namespace"])
        except APIError as e:
            if is_not_found(e):
                return
            self._event_failed("delete", pod, e)
            raise
        owner = self.sts["metadata"]["name"]
        message = f"delete Pod {meta['name']} in StatefulSet {owner} successful"
        self.ctl.recorder.event(self.sts, "Normal", "SuccessfulDelete", message)

    def _event_failed(self, verb: str, pod: Obj, error: APIError) -> None:
        reason = "FailedCreate" if verb.startswith("create") else "FailedDelete"
        message = (
            f"{verb} Pod {pod['metadata']['name']} in StatefulSet "
            f"{self.sts['metadata']['name']} failed error: {error}"
        )
        self.ctl.recorder.event(self.sts, "Warning", reason, message)
