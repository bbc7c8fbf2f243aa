"""The Recreate strategy (Kubernetes' `deployment/recreate.go`): scale every old set
to 0, wait until none of their pods runs any more, then create (or scale up) the
new set to `replicas` at once; once complete, clean up old history.

"Running" is any pod of an old set not in phase Succeeded or Failed (Unknown
counts as running: its containers may still be up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .progress import is_complete
from .sync import Rollout
from .util import active, replicas, total_status

Obj = dict[str, Any]


async def rollout_recreate(rollout: Rollout, pods_of: Callable[[Obj], list[Obj]]) -> Obj:
    """One step of a Recreate rollout; `pods_of(rs)` lists a set's cached pods.
    Answers the status written."""
    new_rs, old = await rollout.new_and_old(create=False)
    running = active(old)
    if running:
        for rs in running:
            await rollout.scale_set(rs, 0)
        return await rollout.finish(new_rs, old)
    if _old_pods_running(old, pods_of):
        return await rollout.finish(new_rs, old)
    if new_rs is None:
        new_rs, old = await rollout.new_and_old(create=True)
        assert new_rs is not None
    if replicas(new_rs) != replicas(rollout.d):
        new_rs = await rollout.scale_set(new_rs, replicas(rollout.d))
    if is_complete(rollout.d, rollout.d["status"]):
        await rollout.cleanup(old)
    return await rollout.finish(new_rs, old)


def _old_pods_running(old: list[Obj], pods_of: Callable[[Obj], list[Obj]]) -> bool:
    if total_status(old, "replicas") > 0:
        return True
    for rs in old:
        for pod in pods_of(rs):
            if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return True
    return False
