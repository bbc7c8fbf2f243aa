"""The Job controller's pod writes, counted by its expectations and reported as
events (`SuccessfulCreate` / `FailedCreate`, `SuccessfulDelete` / `FailedDelete`).

- `create_pods(ctl, job, indexes)`: one pod per entry (an Indexed job's completion
  index, or None), in slow-start batches (1, 2, 4, ...; a failing batch stops the
  rest); creations that never happened are un-expected. Answers (created, error).
- `delete_pods(ctl, job, pods)`: deletes each (already gone counts as deleted);
  answers (the pods deleted, first error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kybernetes.client import APIError, is_not_found, object_key
from kybernetes.client.resource import PODS

from ..replicaset import slow_start_batch
from .pods import new_pod

if TYPE_CHECKING:
    from .controller import JobController

Obj = dict[str, Any]


async def create_pods(
    ctl: JobController, job: Obj, indexes: list[int | None]
) -> tuple[int, APIError | None]:
    """Creates the pods (see module docstring)."""
    if not indexes:
        return 0, None
    key = object_key(job)
    ctl.expectations.expect_creations(key, len(indexes))
    pending = list(indexes)

    async def create_one() -> None:
        pod = new_pod(job, pending.pop(0))
        try:
            created = await ctl.client.create(PODS, pod)
        except APIError as e:
            ctl.recorder.event(job, "Warning", "FailedCreate", f"Error creating: {e}")
            raise
        name = created["metadata"]["name"]
        ctl.recorder.event(job, "Normal", "SuccessfulCreate", f"Created pod: {name}")

    successes, error = await slow_start_batch(len(indexes), 1, create_one)
    for _ in range(len(indexes) - successes):
        ctl.expectations.creation_observed(key)
    return successes, error


async def delete_pods(
    ctl: JobController, job: Obj, pods: list[Obj]
) -> tuple[list[Obj], APIError | None]:
    """Deletes the pods (see module docstring)."""
    if not pods:
        return [], None
    key = object_key(job)
    ctl.expectations.expect_deletions(key, [object_key(p) for p in pods])
    deleted: list[Obj] = []
    first: APIError | None = None
    for pod in pods:
        meta = pod["metadata"]
        try:
            await ctl.client.delete(PODS, meta["name"], meta["namespace"])
        except APIError as e:
            ctl.expectations.deletion_observed(key, object_key(pod))
            if not is_not_found(e):
                first = first or e
                ctl.recorder.event(job, "Warning", "FailedDelete", f"Error deleting: {e}")
                continue
        deleted.append(pod)
        ctl.recorder.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}")
    return deleted, first
