"""`GarbageCollector`: deletes objects whose owners are gone, and carries out the
Foreground and Orphan propagation policies (Kubernetes' garbagecollector).

Graph: one informer per resource of the `Catalog` (CRDs' resources join as they
appear); each informer's `BY_OWNER` index maps an owner's uid to its dependents, so
the owner -> dependents graph is the informers' caches. Handlers only enqueue keys
`(resource, namespace, name)`:
- an added or changed object with ownerReferences, or being deleted with the
  `orphan` / `foregroundDeletion` finalizer: itself;
- a deleted object: its dependents (their owner may be gone) and its owners (a
  foreground-deleting owner may be unblocked).

`sync(key)` re-reads the cache and, for the object found:
1. being deleted with `orphan`: removes its ownerReference from every dependent, then
   the finalizer;
2. being deleted with `foregroundDeletion`: deletes its dependents that are not yet
   being deleted (Foreground when they block owner deletion, else Background); once no
   dependent with `blockOwnerDeletion: true` remains, removes the finalizer;
3. with ownerReferences: classifies each owner as *solid* (exists, same uid, not
   foreground-deleting), *waiting* (foreground-deleting) or *dangling* (absent; a
   cache miss is confirmed by a live GET, since the owner's informer may lag). With a
   solid owner, dangling references are removed; with only waiting and dangling ones
   the object is deleted with Foreground; with only dangling ones it is deleted with
   the policy its own finalizers imply (Background by default). Deletes carry a uid
   precondition, so a re-created namesake is never hit.

Idempotency: every step re-checks the live state it acts on; NotFound/Conflict answers
mean someone else moved first and the key is synced again from the next event. Other
errors propagate so `run_workers` retries the key with backoff. Concurrency: one
event loop; the work queue never syncs one key twice at once.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.client import (
    BY_OWNER,
    APIClient,
    Clock,
    DeletedFinalStateUnknown,
    Resource,
    SharedInformerFactory,
    WorkQueue,
    is_conflict,
    is_not_found,
    split_key,
)
from kybernetes.client.resource import CUSTOMRESOURCEDEFINITIONS
from kybernetes.client.rest import PropagationPolicy

from ..base import Workers, event_object, run_queues
from .catalog import Catalog

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Key = tuple[Resource, str, str]  # (resource, namespace, name)

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"


class NotSynced(Exception):
    """A dependents lookup before every cache synced; the key is retried later."""


class GarbageCollector:
    """The garbage collector (see module docstring)."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock | None = None,
        workers: int = 4,
        catalog: Catalog | None = None,
    ) -> None:
        self.client = client
        self.factory = factory
        self.workers = workers
        self.catalog = catalog or Catalog()
        self.queue: WorkQueue[Key] = WorkQueue(clock=clock)
        self._watched: list[Resource] = []
        for resource in self.catalog.resources:
            self._watch(resource)
        crds = factory.informer(CUSTOMRESOURCEDEFINITIONS)
        crds.add_handler(on_add=self._crd_added, on_update=lambda _, new: self._crd_added(new))

    async def run(self) -> None:
        """Syncs keys until cancelled, once the informers have synced (the factory's
        informers run elsewhere)."""
        informers = [self.factory.informer(resource) for resource in self._watched]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    # --- events ----------------------------------------------------------------------

    def _watch(self, resource: Resource) -> None:
        self._watched.append(resource)
        informer = self.factory.informer(resource)

        def changed(obj: Obj) -> None:
            meta = obj.get("metadata") or {}
            finalizers = set(meta.get("finalizers") or ())
            if meta.get("ownerReferences") or (
                meta.get("deletionTimestamp") and finalizers & {ORPHAN, FOREGROUND}
            ):
                self.queue.add(_key(resource, obj))

        def deleted(obj: Obj | DeletedFinalStateUnknown) -> None:
            meta = event_object(obj).get("metadata") or {}
            for dependent in self._dependent_keys(str(meta.get("uid") or "")):
                self.queue.add(dependent)  # its owner may be gone
            for owner in meta.get("ownerReferences") or []:
                owner_resource = self.catalog.resolve(owner.get("apiVersion", ""), owner["kind"])
                if owner_resource is not None:
                    namespace = meta.get("namespace", "") if owner_resource.namespaced else ""
                    self.queue.add((owner_resource, namespace, owner["name"]))

        informer.add_handler(
            on_add=changed, on_update=lambda _, new: changed(new), on_delete=deleted
        )

    def _crd_added(self, crd: Obj) -> None:
        resource = self.catalog.add_crd(crd)
        if resource is not None:
            self._watch(resource)

    # --- graph -----------------------------------------------------------------------

    def _cached(self, key: Key) -> Obj | None:
        resource, namespace, name = key
        return self.factory.informer(resource).indexer.get_by_name(namespace, name)

    def _dependents(self, uid: str) -> list[Key]:
        """The keys of the objects naming `uid` as an owner. `NotSynced` if a cache
        (a CRD's, say) has not synced yet: it may hide some."""
        if not uid:
            return []
        for resource in self._watched:
            if not self.factory.informer(resource).has_synced.is_set():
                raise NotSynced(f"the {resource} cache has not synced yet")
        return self._dependent_keys(uid)

    def _dependent_keys(self, uid: str) -> list[Key]:
        return [
            (resource, *split_key(key))
            for resource in self._watched
            for key in self.factory.informer(resource).indexer.index_keys(BY_OWNER, uid)
        ]

    # --- sync ------------------------------------------------------------------------

    async def sync(self, key: Key) -> None:
        """Reconciles one object (see module docstring). Idempotent."""
        obj = self._cached(key)
        if obj is None:
            return
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        if meta.get("deletionTimestamp"):
            if ORPHAN in finalizers:
                await self._orphan_dependents(key, obj)
                return
            if FOREGROUND in finalizers:
                await self._delete_dependents(key, obj)
                return
        if meta.get("ownerReferences") and not meta.get("deletionTimestamp"):
            await self._check_owners(key, obj)

    async def _orphan_dependents(self, key: Key, owner: Obj) -> None:
        uid = owner["metadata"]["uid"]
        for dependent in self._dependents(uid):
            current = self._cached(dependent)
            if current is not None:
                await self._remove_owner_references(dependent, current, {uid})
        await self._remove_finalizer(key, owner, ORPHAN)

    async def _delete_dependents(self, key: Key, owner: Obj) -> None:
        blocking = 0
        for dependent in self._dependents(owner["metadata"]["uid"]):
            obj = self._cached(dependent)
            if obj is None:
                continue
            blocks = _blocks(obj, owner["metadata"]["uid"])
            blocking += blocks
            if not obj["metadata"].get("deletionTimestamp"):
                await self._delete(dependent, obj, "Foreground" if blocks else "Background")
        if not blocking:
            await self._remove_finalizer(key, owner, FOREGROUND)

    async def _check_owners(self, key: Key, obj: Obj) -> None:
        meta = obj["metadata"]
        solid, waiting, dangling = [], [], set()
        for ref in meta["ownerReferences"]:
            state = await self._owner_state(ref, meta.get("namespace", ""))
            if state == "solid":
                solid.append(ref)
            elif state == "waiting":
                waiting.append(ref)
            elif state == "dangling":
                dangling.add(ref["uid"])
        if solid:
            if dangling:
                await self._remove_owner_references(key, obj, dangling)
        elif waiting:
            await self._delete(key, obj, "Foreground")
        elif dangling and len(dangling) == len(meta["ownerReferences"]):
            await self._delete(key, obj, _implied_policy(meta.get("finalizers") or []))

    async def _owner_state(self, ref: Obj, namespace: str) -> str:
        """solid, waiting, dangling, or unknown (an unresolvable kind)."""
        resource = self.catalog.resolve(str(ref.get("apiVersion", "")), str(ref.get("kind")))
        if resource is None:
            log.warning(
                "ownerReference to unknown kind %s %s", ref.get("apiVersion"), ref.get("kind")
            )
            return "unknown"
        namespace = namespace if resource.namespaced else ""
        owner = self._cached((resource, namespace, ref["name"]))
        if owner is None or owner["metadata"].get("uid") != ref["uid"]:
            try:  # the owner's informer may lag behind: ask the API server
                owner = await self.client.get(resource, ref["name"], namespace)
            except Exception as e:
                if not is_not_found(e):
                    raise
                return "dangling"
            if owner["metadata"].get("uid") != ref["uid"]:
                return "dangling"
        owner_meta = owner["metadata"]
        if owner_meta.get("deletionTimestamp") and FOREGROUND in (
            owner_meta.get("finalizers") or []
        ):
            return "waiting"
        return "solid"

    # --- writes ----------------------------------------------------------------------

    async def _delete(self, key: Key, obj: Obj, policy: PropagationPolicy) -> None:
        resource, namespace, name = key
        log.info("garbage collecting %s %s/%s (%s)", resource, namespace, name, policy)
        try:
            await self.client.delete(
                resource,
                name,
                namespace,
                propagation_policy=policy,
                preconditions={"uid": obj["metadata"]["uid"]},
            )
        except Exception as e:
            if not (is_not_found(e) or is_conflict(e)):
                raise

    async def _remove_owner_references(self, key: Key, obj: Obj, uids: set[str]) -> None:
        resource, namespace, name = key
        refs = obj["metadata"].get("ownerReferences") or []
        kept = [ref for ref in refs if ref.get("uid") not in uids]
        if len(kept) == len(refs):
            return
        patch = {
            "metadata": {
                "ownerReferences": kept or None,
                "resourceVersion": obj["metadata"]["resourceVersion"],
            }
        }
        await self._patch(resource, name, namespace, patch)

    async def _remove_finalizer(self, key: Key, obj: Obj, finalizer: str) -> None:
        resource, namespace, name = key
        meta = obj["metadata"]
        finalizers = meta.get("finalizers") or []
        kept = [f for f in finalizers if f != finalizer]
        patch = {
            "metadata": {"finalizers": kept or None, "resourceVersion": meta["resourceVersion"]}
        }
        await self._patch(resource, name, namespace, patch)

    async def _patch(self, resource: Resource, name: str, namespace: str, patch: Obj) -> None:
        """A merge patch guarded by the cached resourceVersion. NotFound (the object
        went) is success; Conflict (the cache is stale) propagates, so the key is
        retried once the cache has caught up."""
        try:
            await self.client.patch(resource, name, patch, namespace=namespace)
        except Exception as e:
            if not is_not_found(e):
                raise


def _key(resource: Resource, obj: Obj) -> Key:
    meta = obj["metadata"]
    return (resource, meta.get("namespace", ""), meta["name"])


def _blocks(dependent: Obj, owner_uid: str) -> bool:
    return any(
        ref.get("uid") == owner_uid and ref.get("blockOwnerDeletion")
        for ref in dependent["metadata"].get("ownerReferences") or []
    )


def _implied_policy(finalizers: list[str]) -> PropagationPolicy:
    if ORPHAN in finalizers:
        return "Orphan"
    if FOREGROUND in finalizers:
        return "Foreground"
    return "Background"
