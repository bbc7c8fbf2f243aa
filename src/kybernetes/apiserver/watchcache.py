"""The watch cache: every object under `/registry/`, kept current by one store watch.

Like kube-apiserver's cacher, it serves lists and watches without touching the store:
one watch of the whole key space feeds an in-memory copy of every object and a window
of recent events; each API watch is a `CacheWatcher` fed from it.

Invariants:
- `revision` is the revision of the newest event applied; objects and history reflect
  exactly the store at that revision.
- Objects are kept in buckets by parent key (`/registry/pods/default`,
  `/registry/minions`): a namespaced list reads one bucket, an all-namespaces list the
  buckets under the resource's prefix; nothing scans unrelated resources.
- `history` holds every event with revision > `history_start`, in revision order, up
  to `history_size` events; a watch can resume from any revision >= `history_start`,
  older ones get `TooOld` (HTTP 410 Gone).
- A watcher receives events in revision order, each once; a watcher that falls
  `queue_size` events behind is ended (its client re-watches), never skipped silently.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

from kybernetes.store import Event, EventType, Store

from .stored import REGISTRY_PREFIX, StoredObject

log = logging.getLogger(__name__)

Predicate = Callable[[StoredObject], bool]


class TooOld(Exception):
    """A watch asked for a revision older than the cache's history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


@dataclass(frozen=True, slots=True)
class CacheEvent:
    """One change as API watchers see it: `obj` after (for DELETED: the last state, with
    the deletion's resourceVersion), `prev` before (None for ADDED). BOOKMARK events
    carry only a revision."""

    type: str
    obj: StoredObject | None
    prev: StoredObject | None
    revision: int


class CacheWatcher:
    """One API watch: the events of a key prefix that pass `predicate`, in order."""

    def __init__(self, prefix: str, predicate: Predicate, queue_size: int) -> None:
        self.prefix = prefix
        self.predicate = predicate
        self._limit = queue_size
        self._queue: asyncio.Queue[CacheEvent | None] = asyncio.Queue()
        self._closed = False
        self.overflowed = False

    def offer(self, event: CacheEvent) -> None:
        """Queues the event as this watcher sees it (selectors applied to old and new)."""
        if event.type == "BOOKMARK":
            self._put(event)
            return
        now = event.obj is not None and event.type != "DELETED" and self.predicate(event.obj)
        before = event.prev is not None and self.predicate(event.prev)
        if event.type == "DELETED":
            if event.obj is not None and self.predicate(event.obj):
                self._put(event)
        elif now and before:
            self._put(event)
        elif now:
            self._put(CacheEvent("ADDED", event.obj, None, event.revision))
        elif before and event.prev is not None:
            # The object left the selector: a DELETED of its old state at the new version.
            gone = event.prev.at_revision(event.revision)
            self._put(CacheEvent("DELETED", gone, event.prev, event.revision))

    def _put(self, event: CacheEvent) -> None:
        if self._closed:
            return
        if self._queue.qsize() >= self._limit:
            self.overflowed = True
            self.close()
            return
        self._queue.put_nowait(event)

    def close(self) -> None:
        """Ends the event stream after the events already queued. Idempotent."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)

    async def events(self) -> AsyncIterator[CacheEvent]:
        while (event := await self._queue.get()) is not None:
            yield event


class WatchCache:
    """Serves lists and watches of every resource from memory (see module docstring)."""

    def __init__(
        self,
        store: Store,
        *,
        history_size: int = 20_000,
        queue_size: int = 10_000,
        freshness_timeout: float = 3.0,
        bookmark_interval: float = 60.0,
    ) -> None:
        self._store = store
        self._history_size = history_size
        self._queue_size = queue_size
        self._freshness_timeout = freshness_timeout
        self._bookmark_interval = bookmark_interval
        self._buckets: dict[str, dict[str, StoredObject]] = {}
        self._history: list[CacheEvent] = []
        self._history_revisions: list[int] = []
        self._watchers: dict[str, set[CacheWatcher]] = {}
        self._progress = asyncio.Condition()
        self.revision = 0
        self.history_start = 0
        self.ready = asyncio.Event()

    # --- feeding -------------------------------------------------------------------

    async def run(self) -> None:
        """Loads every object, then follows the store until cancelled. Sets `ready`."""
        page = await self._store.list(REGISTRY_PREFIX, limit=5000)
        revision = page.revision
        while True:
            for kv in page.kvs:
                obj = StoredObject.from_kv(kv)
                self._bucket(kv.key)[kv.key] = obj
            if not page.more:
                break
            page = await self._store.list(
                REGISTRY_PREFIX, revision=revision, limit=5000, start_after=page.kvs[-1].key
            )
        self.revision = self.history_start = revision
        self.ready.set()
        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._send_bookmarks())
                async with self._store.watch(REGISTRY_PREFIX, revision=revision) as events:
                    async for event in events:
                        await self._apply(event)
        finally:
            for watchers in self._watchers.values():
                for watcher in watchers:
                    watcher.close()

    async def _send_bookmarks(self) -> None:
        while True:
            await asyncio.sleep(self._bookmark_interval)
            self.bookmark()

    async def _apply(self, event: Event) -> None:
        key = event.kv.key
        bucket = self._bucket(key)
        prev = bucket.get(key)
        if event.type is EventType.DELETED:
            bucket.pop(key, None)
            obj = StoredObject.from_kv(event.kv)
            cache_event = CacheEvent("DELETED", obj, prev, event.revision)
        else:
            obj = StoredObject.from_kv(event.kv)
            bucket[key] = obj
            kind = "ADDED" if prev is None else "MODIFIED"
            cache_event = CacheEvent(kind, obj, prev, event.revision)
        self._record(cache_event)
        parent = key.rsplit("/", 1)[0]
        for prefix in (parent + "/", parent.rsplit("/", 1)[0] + "/"):
            for watcher in self._watchers.get(prefix, ()):
                watcher.offer(cache_event)
        async with self._progress:
            self.revision = event.revision
            self._progress.notify_all()

    def _record(self, event: CacheEvent) -> None:
        self._history.append(event)
        self._history_revisions.append(event.revision)
        excess = len(self._history) - self._history_size
        if excess > self._history_size // 4:
            self.history_start = self._history_revisions[excess - 1]
            del self._history[:excess]
            del self._history_revisions[:excess]

    def _bucket(self, key: str) -> dict[str, StoredObject]:
        parent = key.rsplit("/", 1)[0]
        bucket = self._buckets.get(parent)
        if bucket is None:
            bucket = self._buckets[parent] = {}
        return bucket

    # --- reading -------------------------------------------------------------------

    async def wait_fresh(self) -> int:
        """Waits until the cache has every write the store acknowledged before the call.

        Returns the cache's revision. Raises TimeoutError if the cache lags more than
        `freshness_timeout` (callers then read the store directly).
        """
        target = await self._store.current_revision()
        if self.ready.is_set() and self.revision >= target:
            return self.revision  # the common case: already there, no waiting
        # asyncio.timeout, not wait_for: in Python 3.11 wait_for runs the condition's
        # wait in another task, and a cancellation there can leave the lock released
        # ("Lock is not acquired"), wedging every later reader.
        async with asyncio.timeout(self._freshness_timeout):
            await self.ready.wait()
        async with asyncio.timeout(self._freshness_timeout), self._progress:
            await self._progress.wait_for(lambda: self.revision >= target)
            return self.revision

    def get(self, key: str) -> StoredObject | None:
        return self._buckets.get(key.rsplit("/", 1)[0], {}).get(key)

    def list(self, prefix: str, *, namespaced: bool, namespace: str = "") -> list[StoredObject]:
        """Objects under a resource's `prefix` (ending in "/"), in key order.

        `namespace` narrows a namespaced resource to one namespace.
        """
        return sorted(self._objects(prefix, namespaced, namespace), key=lambda o: o.key)

    def _objects(self, prefix: str, namespaced: bool, namespace: str) -> Iterator[StoredObject]:
        if not namespaced:
            yield from self._buckets.get(prefix[:-1], {}).values()
        elif namespace:
            yield from self._buckets.get(prefix + namespace, {}).values()
        else:
            for parent, bucket in self._buckets.items():
                if parent.startswith(prefix) and "/" not in parent[len(prefix) :]:
                    yield from bucket.values()

    # --- watching ------------------------------------------------------------------

    def watch(self, prefix: str, revision: int, predicate: Predicate) -> CacheWatcher:
        """A watcher of keys under `prefix` (a resource's, or one namespace's) from
        `revision` on; it first receives the history after `revision`.

        Raises TooOld if `revision` is older than `history_start`.
        """
        if revision < self.history_start:
            raise TooOld(revision, self.history_start)
        watcher = CacheWatcher(prefix, predicate, self._queue_size)
        start = bisect.bisect_right(self._history_revisions, revision)
        for event in self._history[start:]:
            if event.obj is not None and event.obj.key.startswith(prefix):
                watcher.offer(event)
        self._watchers.setdefault(prefix, set()).add(watcher)
        return watcher

    def stop_watching(self, watcher: CacheWatcher) -> None:
        watchers = self._watchers.get(watcher.prefix)
        if watchers is not None:
            watchers.discard(watcher)
            if not watchers:
                del self._watchers[watcher.prefix]

    def bookmark(self) -> None:
        """Sends every watcher a BOOKMARK at the current revision."""
        event = CacheEvent("BOOKMARK", None, None, self.revision)
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.offer(event)
