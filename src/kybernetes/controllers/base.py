"""The plumbing every queue-driven controller shares (client-go's controller pattern):
informer events become work-queue keys, and `run()` waits for the caches, then drives
workers until cancelled.

Contract of a controller built on it:
- Handlers only enqueue keys (`namespace/name`, or `name` for a cluster-scoped
  object); a worker's `sync(key)` re-reads the caches, so coalesced or repeated
  keys are harmless.
- `enqueue_keys(informer, queue)`: the controller's own objects — every added
  object, the new state of every updated one and every deleted one (a tombstone's
  key) queue their own key; `when` filters, `deletes=False` skips deletions.
  `enqueue_related(informer, queue, keys_of)`: other objects queue the keys
  `keys_of(obj)` names (their owner, the quotas of their namespace, ...).
- `controller_key(owners, obj, kind)`: the key of the cached owner that controls
  `obj` (its controlling ownerReference names `kind` and the cached owner's uid);
  `enqueue_selecting(queue, owners, obj, selector_of)`: the keys of the owners in
  `obj`'s namespace whose selectors match its labels (orphans they may adopt).
- `event_object` / `event_key`: what a delete handler gets, unwrapped.
- `run_queues(informers, Workers(queue, sync, n), ...)`: waits until every informer
  has synced (`wait_synced`), calls `on_synced`, then runs each queue's workers
  (`run_workers`: retries with backoff) concurrently until cancelled; every queue is
  shut down however it ends. The informers themselves run elsewhere (the factory).

Adopting it (e.g. daemonset, statefulset, job, cronjob, ttlafterfinished):
- `self.x.add_handler(lambda o: self.queue.add(object_key(o)), lambda _, o: ...,
  lambda o: self.queue.add(o.key if isinstance(o, DeletedFinalStateUnknown) else
  object_key(o)))` becomes `enqueue_keys(self.x, self.queue)`; extra work on a
  deletion (forgetting expectations) is a second handler:
  `self.x.add_handler(on_delete=lambda o: self.expectations.delete(event_key(o)))`.
- An `_owner_key(obj)` doing `controller_ref` + `get_by_name` + uid check becomes
  `controller_key(self.sets, obj, "StatefulSet")`; an `_enqueue_matching(pod)`
  loop over the namespace's owners becomes `enqueue_selecting(self.queue,
  self.sets, pod, selector_of)`.
- `run()`'s `has_synced.wait()` loop, `run_workers` and `queue.shutdown()` become
  `await run_queues([self.sets, self.pods], Workers(self.queue, self.sync, self.workers))`
  (a second queue is one more `Workers`); a periodic loop (podgc) starts with
  `await wait_synced([...])`.
- `controller_ref` lives here; `replicaset.pods` re-exports it until every
  controller imports it from here.

Single event loop; nothing here holds state of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from kybernetes.api.selectors import Selector, SelectorError, label_selector_as_selector
from kybernetes.client import (
    BY_NAMESPACE,
    DeletedFinalStateUnknown,
    Informer,
    WorkQueue,
    object_key,
    run_workers,
)

Obj = dict[str, Any]
K = TypeVar("K", bound=Hashable)


def event_object(obj: Obj | DeletedFinalStateUnknown) -> Obj:
    """The object of an event: itself, or a tombstone's last known state."""
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def event_key(obj: Obj | DeletedFinalStateUnknown) -> str:
    """The key of an event's object: `object_key(obj)`, or the key a tombstone carries."""
    return obj.key if isinstance(obj, DeletedFinalStateUnknown) else object_key(obj)


def enqueue_keys(
    informer: Informer,
    queue: WorkQueue[str],
    *,
    when: Callable[[Obj], bool] | None = None,
    deletes: bool = True,
) -> None:
    """Registers handlers that queue the object's own key on every add, update (the new
    state) and, unless `deletes` is false, delete (a tombstone's key). With `when`,
    only objects (new states; deleted objects' last known states) it accepts."""

    def changed(obj: Obj | DeletedFinalStateUnknown) -> None:
        if when is None or when(event_object(obj)):
            queue.add(event_key(obj))

    _on_every_event(informer, changed, deletes=deletes)


def enqueue_related(
    informer: Informer, queue: WorkQueue[str], keys_of: Callable[[Obj], Iterable[str]]
) -> None:
    """Registers handlers that queue every key of `keys_of(obj)` on every add, update
    (the new state) and delete (a tombstone's last known state)."""

    def changed(obj: Obj | DeletedFinalStateUnknown) -> None:
        for key in keys_of(event_object(obj)):
            queue.add(key)

    _on_every_event(informer, changed, deletes=True)


def _on_every_event(
    informer: Informer, handle: Callable[[Obj | DeletedFinalStateUnknown], None], *, deletes: bool
) -> None:
    """`handle(obj)` on adds, `handle(new)` on updates and, if `deletes`, on deletes."""
    informer.add_handler(handle, lambda _, new: handle(new), handle if deletes else None)


def controller_ref(obj: Obj) -> Obj | None:
    """The ownerReference with controller=true, if any."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return dict(ref)
    return None


def controller_key(owners: Informer, obj: Obj, kind: str) -> str | None:
    """The key of the object cached in `owners` that controls `obj`: its controlling
    ownerReference names `kind` and, in `obj`'s namespace, a cached object of that
    name with that uid. None when there is no such reference or object."""
    ref = controller_ref(obj)
    if ref is None or ref.get("kind") != kind:
        return None
    namespace = (obj.get("metadata") or {}).get("namespace") or ""
    owner = owners.indexer.get_by_name(namespace, ref.get("name") or "")
    if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
        return None
    return object_key(owner)


def enqueue_selecting(
    queue: WorkQueue[str],
    owners: Informer,
    obj: Obj,
    selector_of: Callable[[Obj], Selector | None],
) -> None:
    """Queues the key of every object cached in `owners` in `obj`'s namespace whose
    selector matches `obj`'s labels. `selector_of(owner)` is that selector; None, or a
    `SelectorError` raised, selects nothing."""
    labels = obj["metadata"].get("labels") or {}
    for owner in owners.indexer.by_index(BY_NAMESPACE, obj["metadata"].get("namespace") or ""):
        try:
            selector = selector_of(owner)
        except SelectorError:
            continue
        if selector is not None and selector.matches(labels):
            queue.add(object_key(owner))


@dataclass(frozen=True, slots=True)
class Workers(Generic[K]):
    """`count` workers syncing the keys of `queue` with `sync` (see `run_workers`)."""

    queue: WorkQueue[K]
    sync: Callable[[K], Awaitable[None]]
    count: int = 1


async def wait_synced(informers: Iterable[Informer]) -> None:
    """Returns once every informer of `informers` has synced its first list."""
    for informer in informers:
        await informer.has_synced.wait()


async def run_queues(
    informers: Iterable[Informer],
    *workers: Workers[Any],
    on_synced: Callable[[], None] | None = None,
) -> None:
    """Waits until every informer of `informers` has synced, calls `on_synced`, then
    runs every `Workers` concurrently until cancelled (or until their queues are shut
    down and drained). Every queue is shut down on the way out, however it ends."""
    try:
        await wait_synced(informers)
        if on_synced is not None:
            on_synced()
        async with asyncio.TaskGroup() as tg:
            for w in workers:
                tg.create_task(run_workers(w.queue, w.sync, w.count))
    finally:
        for w in workers:
            w.queue.shutdown()


def owner_selector(owner: Obj) -> Selector | None:
    """The owner's `spec.selector`, or None when it is empty (an empty selector adopts
    nothing); SelectorError if malformed. The `selector_of` most controllers give
    `enqueue_selecting`."""
    selector = label_selector_as_selector((owner.get("spec") or {}).get("selector"))
    return None if selector.empty else selector
