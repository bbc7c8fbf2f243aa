"""`Rollout`: one sync of one Deployment — the ReplicaSet writes shared by every
strategy (Kubernetes' `deployment/sync.go`).

A `Rollout` holds a private copy of the Deployment (`d`) whose annotations and
status conditions the steps change, and the ReplicaSets the Deployment controls.
`finish(new_rs, old_sets)` computes the status and writes what changed: the
revision annotation (merge patch) and then the status (compare-and-swap on the
resourceVersion). Every write raises on failure; the controller retries the key.

- `new_and_old(create)`: the new ReplicaSet (template equal but for the hash,
  oldest first) and the others. The new one gets revision max(old) + 1 and the
  Deployment's annotations; with `create`, a missing one is created named
  `<deployment>-<hash>` with `pod-template-hash` in its labels, selector and
  template. A name taken by a different template bumps `status.collisionCount`.
- `scale(new_rs, old_sets)`: scaling without a rollout; several active sets share
  a replica change in proportion to their size (`max-replicas` annotation).
- `cleanup(old_sets)`: deletes the oldest idle sets beyond `revisionHistoryLimit`.
- `scale_set(rs, n)`: one set to `n` replicas with fresh replica annotations.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from kybernetes.client import APIClient, APIError, EventRecorder, is_already_exists
from kybernetes.client.resource import DEPLOYMENTS, REPLICASETS

from ..base import controller_ref
from ..replicaset.pods import owner_reference
from .progress import (
    FOUND_NEW_RS,
    NEW_RS_CREATED,
    calculate_status,
    rollout_status,
    status_equal,
)
from .util import (
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    PROGRESSING,
    REVISION,
    active,
    annotation_int,
    compute_hash,
    created_key,
    equal_ignore_hash,
    get_condition,
    is_rolling,
    is_saturated,
    max_surge,
    new_condition,
    new_rs_annotations,
    progress_deadline,
    replicas,
    replicas_annotations,
    revision,
    set_condition,
    status_int,
    total_replicas,
)

Obj = dict[str, Any]


class Rollout:
    """One sync of one Deployment (see module docstring)."""

    def __init__(
        self,
        client: APIClient,
        recorder: EventRecorder,
        now: datetime,
        deployment: Obj,
        sets: list[Obj],
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.now = now
        self.original = deployment
        self.d = copy.deepcopy(deployment)
        self.d.setdefault("status", {})
        self.sets = sorted(sets, key=created_key)
        self.status: Obj = {}

    # --- the new and old sets ---------------------------------------------------------

    async def new_and_old(self, create: bool) -> tuple[Obj | None, list[Obj]]:
        template = self.d["spec"]["template"]
        found = next(
            (rs for rs in self.sets if equal_ignore_hash(rs["spec"]["template"], template)), None
        )
        old = [rs for rs in self.sets if rs is not found]
        new_revision = max((revision(rs) for rs in old), default=0) + 1
        if found is not None:
            new_rs = await self._update_found(found, new_revision)
        elif create:
            new_rs = await self._create_new(old, new_revision)
        else:
            return None, old
        self._set_revision(revision(new_rs))
        return new_rs, old

    async def _update_found(self, rs: Obj, new_revision: int) -> Obj:
        annotations = new_rs_annotations(self.d, rs, new_revision, exists=True)
        min_ready = self.d["spec"].get("minReadySeconds", 0)
        if (
            annotations != (rs["metadata"].get("annotations") or {})
            or rs["spec"].get("minReadySeconds", 0) != min_ready
        ):
            updated = copy.deepcopy(rs)
            updated["metadata"]["annotations"] = annotations
            updated["spec"]["minReadySeconds"] = min_ready
            rs = await self.client.update(REPLICASETS, updated)
        if progress_deadline(self.d) is not None and not get_condition(
            self.d["status"], PROGRESSING
        ):
            message = f'Found new replica set "{rs["metadata"]["name"]}"'
            condition = new_condition(PROGRESSING, "True", FOUND_NEW_RS, message, self.now)
            set_condition(self.d["status"], condition)
        return rs

    async def _create_new(self, old: list[Obj], new_revision: int) -> Obj:
        collision_count = self.d["status"].get("collisionCount")
        template = copy.deepcopy(self.d["spec"]["template"])
        pod_hash = compute_hash(template, collision_count)
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = pod_hash
        selector = copy.deepcopy(self.d["spec"]["selector"])
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = pod_hash
        name = f"{self.d['metadata']['name']}-{pod_hash}"
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": self.d["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "ownerReferences": [owner_reference(self.d)],
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": self.d["spec"].get("minReadySeconds", 0),
                "selector": selector,
                "template": template,
            },
        }
        rs["spec"]["replicas"] = new_rs_replicas(self.d, [*old, rs], rs)
        rs["metadata"]["annotations"] = new_rs_annotations(self.d, rs, new_revision, False)
        try:
            created = await self.client.create(REPLICASETS, rs)
        except APIError as e:
            if not is_already_exists(e):
                raise
            existing = await self.client.get(REPLICASETS, name, rs["metadata"]["namespace"])
            ref = controller_ref(existing) or {}
            if ref.get("uid") == self.d["metadata"]["uid"] and equal_ignore_hash(
                existing["spec"]["template"], self.d["spec"]["template"]
            ):
                return existing  # ours, created by a sync whose event we have not seen
            status = {**self.d["status"], "collisionCount": (collision_count or 0) + 1}
            await self.client.update_status(DEPLOYMENTS, {**self.original, "status": status})
            raise
        count = replicas(created)
        if count > 0:
            self.event("ScalingReplicaSet", f"Scaled up replica set {name} from 0 to {count}")
        if progress_deadline(self.d) is not None:
            message = f'Created new replica set "{name}"'
            condition = new_condition(PROGRESSING, "True", NEW_RS_CREATED, message, self.now)
            set_condition(self.d["status"], condition)
        return created

    def _set_revision(self, value: int) -> None:
        annotations = self.d["metadata"].setdefault("annotations", {})
        if revision(self.d) != value:
            annotations[REVISION] = str(value)

    # --- scaling ----------------------------------------------------------------------

    async def scale_set(self, rs: Obj, count: int) -> Obj:
        """`rs` at `count` replicas with current replica annotations (written only if
        either changed); records a ScalingReplicaSet event on a size change."""
        annotations = rs["metadata"].get("annotations") or {}
        wanted = replicas_annotations(self.d)
        stale = any(annotations.get(k) != v for k, v in wanted.items())
        old_count = replicas(rs)
        if old_count == count and not stale:
            return rs
        updated = copy.deepcopy(rs)
        updated["spec"]["replicas"] = count
        updated["metadata"]["annotations"] = {**annotations, **wanted}
        rs = await self.client.update(REPLICASETS, updated)
        if old_count != count:
            direction = "up" if count > old_count else "down"
            name = rs["metadata"]["name"]
            message = f"Scaled {direction} replica set {name} from {old_count} to {count}"
            self.event("ScalingReplicaSet", message)
        return rs

    async def scale(self, new_rs: Obj | None, old: list[Obj]) -> None:
        desired = replicas(self.d)
        sets = [*old, *([new_rs] if new_rs is not None else [])]
        running = active(sets)
        if len(running) <= 1:
            latest = running[0] if running else new_rs or (old[-1] if old else None)
            if latest is not None and replicas(latest) != desired:
                await self.scale_set(latest, desired)
            return
        if is_saturated(self.d, new_rs):
            for rs in active(old):
                await self.scale_set(rs, 0)
            return
        if not is_rolling(self.d):
            return
        allowed = desired + max_surge(self.d) if desired > 0 else 0
        to_add = allowed - total_replicas(running)
        # Grow the largest (newest on ties) first; shrink the largest (oldest) first.
        newest_first = to_add > 0
        running.sort(key=lambda rs: created_key(rs), reverse=newest_first)
        running.sort(key=lambda rs: replicas(rs), reverse=True)
        sizes: list[int] = []
        added = 0
        for rs in running:
            share = self._proportion(rs, to_add, added)
            sizes.append(replicas(rs) + share)
            added += share
        if to_add != 0:
            sizes[0] = max(sizes[0] + to_add - added, 0)
        for rs, size in zip(running, sizes, strict=True):
            await self.scale_set(rs, size)

    def _proportion(self, rs: Obj, to_add: int, added: int) -> int:
        if replicas(rs) == 0 or to_add == 0 or to_add == added:
            return 0
        desired = replicas(self.d)
        if desired == 0:
            fraction = -replicas(rs)
        else:
            total = desired + max_surge(self.d)
            annotated = annotation_int(rs, MAX_REPLICAS)
            if annotated is None:
                annotated = status_int(self.d, "replicas")
            scaled = replicas(rs) * total / annotated if annotated else 0.0
            fraction = _round_half_away(scaled) - replicas(rs)
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    # --- history and status -----------------------------------------------------------

    async def cleanup(self, old: list[Obj]) -> None:
        limit = self.d["spec"].get("revisionHistoryLimit")
        if limit is None:
            return
        alive = [rs for rs in old if not rs["metadata"].get("deletionTimestamp")]
        surplus = len(alive) - int(limit)
        if surplus <= 0:
            return
        alive.sort(key=lambda rs: (revision(rs), *created_key(rs)))
        for rs in alive[:surplus]:
            meta = rs["metadata"]
            idle = status_int(rs, "replicas") == 0 and replicas(rs) == 0
            observed = int(meta.get("generation") or 0) <= status_int(rs, "observedGeneration")
            if idle and observed:
                await self.client.delete(REPLICASETS, meta["name"], meta["namespace"])

    async def finish(self, new_rs: Obj | None, old: list[Obj], *, rolling: bool = True) -> Obj:
        """Computes the status and writes annotations and status that changed;
        answers the status. Without `rolling` (scaling, paused, deleting) the
        Progressing and ReplicaFailure conditions are left as they are."""
        sets = [*old, *([new_rs] if new_rs is not None else [])]
        compute = rollout_status if rolling else calculate_status
        self.status = compute(self.d, sets, new_rs, self.now)
        current = self.original
        wanted = self.d["metadata"].get("annotations") or {}
        if wanted != (current["metadata"].get("annotations") or {}):
            patch = {"metadata": {"annotations": {REVISION: wanted.get(REVISION)}}}
            meta = current["metadata"]
            current = await self.client.patch(
                DEPLOYMENTS, meta["name"], patch, namespace=meta["namespace"]
            )
        if not status_equal(self.status, current.get("status") or {}):
            await self.client.update_status(DEPLOYMENTS, {**current, "status": self.status})
        return self.status

    def event(self, reason: str, message: str) -> None:
        self.recorder.event(self.original, "Normal", reason, message)


def new_rs_replicas(d: Obj, sets: list[Obj], new_rs: Obj) -> int:
    """How many replicas the new set may have now (Kubernetes' `NewRSNewReplicas`):
    for RollingUpdate, as many as the surge allows; for Recreate, all."""
    desired = replicas(d)
    if not is_rolling(d):
        return desired
    current = total_replicas(sets)
    max_total = desired + max_surge(d)
    if current >= max_total:
        return replicas(new_rs)
    return replicas(new_rs) + min(max_total - current, desired - replicas(new_rs))


def _round_half_away(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)
