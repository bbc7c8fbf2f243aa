"""The RollingUpdate strategy (Kubernetes' `deployment/rolling.go`).

Each sync takes at most one step, then reports status:
1. Scale the new set up as far as `maxSurge` allows (total replicas of all sets ≤
   replicas + maxSurge), or down to `replicas` if it has more.
2. Otherwise scale old sets down, never below replicas - maxUnavailable available
   pods: first the old sets' unavailable pods (oldest sets first, bounded by what
   the new set's own unavailable pods leave), then available ones.
3. When the rollout is complete, delete old sets beyond the revision history limit.
Percentages resolve against `replicas`: maxSurge rounds up, maxUnavailable down.
"""

from __future__ import annotations

from typing import Any

from .progress import is_complete
from .sync import Rollout, new_rs_replicas
from .util import (
    created_key,
    max_unavailable,
    replicas,
    status_int,
    total_replicas,
    total_status,
)

Obj = dict[str, Any]


async def rollout_rolling(rollout: Rollout) -> Obj:
    """One step of a rolling update; answers the status written."""
    new_rs, old = await rollout.new_and_old(create=True)
    assert new_rs is not None  # create=True always yields the new set
    sets = [*old, new_rs]
    desired = replicas(rollout.d)
    if replicas(new_rs) != desired:
        target = desired
        if replicas(new_rs) < desired:
            target = new_rs_replicas(rollout.d, sets, new_rs)
        if target != replicas(new_rs):
            new_rs = await rollout.scale_set(new_rs, target)
            return await rollout.finish(new_rs, old)
    old, scaled = await _reconcile_old(rollout, old, new_rs)
    if not scaled and is_complete(rollout.d, rollout.d["status"]):
        await rollout.cleanup(old)
    return await rollout.finish(new_rs, old)


async def _reconcile_old(rollout: Rollout, old: list[Obj], new_rs: Obj) -> tuple[list[Obj], bool]:
    if total_replicas(old) == 0:
        return old, False
    d = rollout.d
    min_available = replicas(d) - max_unavailable(d)
    new_unavailable = replicas(new_rs) - status_int(new_rs, "availableReplicas")
    max_scaled_down = total_replicas([*old, new_rs]) - min_available - new_unavailable
    if max_scaled_down <= 0:
        return old, False
    old = sorted(old, key=created_key)
    scaled = 0
    # Unhealthy replicas first: scaling them down costs no availability.
    for i, rs in enumerate(old):
        if scaled >= max_scaled_down:
            break
        unhealthy = replicas(rs) - status_int(rs, "availableReplicas")
        if replicas(rs) == 0 or unhealthy <= 0:
            continue
        count = min(max_scaled_down - scaled, unhealthy)
        old[i] = await rollout.scale_set(rs, replicas(rs) - count)
        scaled += count
    available = total_status([*old, new_rs], "availableReplicas")
    budget = available - min_available
    for i, rs in enumerate(old):
        if budget <= 0:
            break
        if replicas(rs) == 0:
            continue
        count = min(replicas(rs), budget)
        old[i] = await rollout.scale_set(rs, replicas(rs) - count)
        budget -= count
        scaled += count
    return old, scaled > 0
