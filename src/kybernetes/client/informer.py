"""`Informer`: a local, indexed, always-converging copy of one resource, with events.

client-go's reflector + DeltaFIFO + shared informer, for one event loop:

1. List (in pages of `page_size`; a continue token that expired restarts the list
   unpaginated), replace the cache with the result and tell the handlers the
   difference: `on_add` for new keys, `on_update(old, new)` for changed
   resourceVersions, `on_delete(DeletedFinalStateUnknown(key, last_known))` for keys
   that vanished (their deletion happened while we were not watching).
2. Watch from the list's resourceVersion with bookmarks, applying every event to the
   cache before the handlers see it. A watch that ends (the server's timeout) or
   breaks (`TransportError`) is resumed from the last resourceVersion seen;
   `Expired` (410: that version left the server's history) goes back to 1 without
   waiting; other API errors go back to 1 after an exponential backoff (0.8 s to 30 s,
   jittered, on the injected clock).
3. Every `resync_period` (if set) after the first sync, `on_update(obj, obj)` for every
   cached object, so level-triggered consumers retry whatever they dropped.

Contracts:
- Handlers are plain callables run inline on the event loop; they must not block or
  raise (they enqueue keys). An exception is logged and the other handlers still run.
  A handler added after objects are cached first gets `on_add` for each of them.
- For one key, handlers see events in the server's order; the cache already holds
  the new state (or no longer holds a deleted object) when a handler runs.
- `has_synced` is set once the first list has been delivered; it stays set.
- Cached objects are shared: treat them as read-only.
- `run()` retries forever and returns only by cancellation; run it once at a time.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .clock import Clock, SystemClock, Timer
from .errors import APIError, Expired, TransportError
from .indexer import Indexer, IndexFunc, object_key
from .resource import Resource
from .rest import APIClient
from .watch import WatchEvent

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class DeletedFinalStateUnknown:
    """An object deleted while the informer was not watching: `obj` is its last known
    state, not its final one."""

    key: str
    obj: Obj


OnAdd = Callable[[Obj], None]
OnUpdate = Callable[[Obj, Obj], None]
OnDelete = Callable[[Obj | DeletedFinalStateUnknown], None]


@dataclass(frozen=True, slots=True)
class _Handler:
    on_add: OnAdd | None
    on_update: OnUpdate | None
    on_delete: OnDelete | None


class _Backoff:
    """Exponential, jittered waits on the injected clock; `reset()` after a success."""

    def __init__(self, clock: Clock, initial: float = 0.8, maximum: float = 30.0) -> None:
        self._clock = clock
        self._initial = self._next = initial
        self._maximum = maximum

    async def wait(self) -> None:
        delay = self._next * random.uniform(1.0, 2.0)
        self._next = min(self._next * 2, self._maximum)
        await self._clock.sleep(delay)

    def reset(self) -> None:
        self._next = self._initial


class Informer:
    """One resource (optionally one namespace and selectors), cached and watched.

    See the module docstring for the list/watch/resync cycle and handler contracts.
    """

    def __init__(
        self,
        client: APIClient,
        resource: Resource,
        namespace: str = "",
        *,
        label_selector: str = "",
        field_selector: str = "",
        resync_period: float | None = None,
        clock: Clock | None = None,
        page_size: int = 500,
        indexers: Mapping[str, IndexFunc] | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.indexer = Indexer(indexers)
        self.has_synced = asyncio.Event()
        self._clock = clock or SystemClock()
        self._page_size = page_size
        # Replaced, never mutated: a handler may add another during a delivery.
        self._handlers: tuple[_Handler, ...] = ()
        self._resource_version = ""
        self._resync_timer: Timer | None = None
        self._running = False

    @property
    def last_resource_version(self) -> str:
        """The resourceVersion the cache reflects ("" before the first list)."""
        return self._resource_version

    def add_handler(
        self,
        on_add: OnAdd | None = None,
        on_update: OnUpdate | None = None,
        on_delete: OnDelete | None = None,
    ) -> None:
        """Registers handlers; they get `on_add` at once for every cached object."""
        handler = _Handler(on_add, on_update, on_delete)
        self._handlers = (*self._handlers, handler)
        if on_add is not None:
            for obj in self.indexer.list():
                _call(on_add, obj)

    async def run(self) -> None:
        """Lists, watches and resyncs until cancelled (see module docstring)."""
        if self._running:
            raise RuntimeError(f"informer for {self.resource} is already running")
        self._running = True
        backoff = _Backoff(self._clock)
        try:
            while True:
                try:
                    await self._list()
                    backoff.reset()
                    await self._watch(backoff)
                except Expired as e:
                    log.info("%s: watch expired (%s); listing again", self.resource, e.message)
                except (APIError, TransportError) as e:
                    log.warning("%s: list/watch failed: %s; retrying", self.resource, e)
                    await backoff.wait()
        finally:
            self._running = False
            if self._resync_timer is not None:
                self._resync_timer.cancel()
                self._resync_timer = None

    # --- list ------------------------------------------------------------------------

    async def _list(self) -> None:
        items: list[Obj] = []
        continue_ = ""
        while True:
            try:
                page = await self.client.list(
                    self.resource,
                    self.namespace,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    limit=self._page_size,
                    continue_=continue_,
                )
            except Expired:
                if not continue_:
                    raise
                log.info("%s: continue token expired; listing unpaginated", self.resource)
                items, continue_ = [], ""
                page = await self.client.list(
                    self.resource,
                    self.namespace,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                )
            items.extend(_with_type(page, item) for item in page.get("items") or [])
            meta = page.get("metadata") or {}
            continue_ = str(meta.get("continue") or "")
            if not continue_:
                break
        self._replace(items, str(meta.get("resourceVersion") or ""))

    def _replace(self, items: list[Obj], resource_version: str) -> None:
        old_items = {object_key(obj): obj for obj in self.indexer.list()}
        self.indexer.replace(items)
        self._resource_version = resource_version
        for obj in items:
            old = old_items.pop(object_key(obj), None)
            if old is None:
                self._notify_add(obj)
            elif _rv(old) != _rv(obj):
                self._notify_update(old, obj)
        for key, old in old_items.items():
            self._notify_delete(DeletedFinalStateUnknown(key, old))
        if not self.has_synced.is_set():
            self.has_synced.set()
            self._arm_resync()

    # --- watch -----------------------------------------------------------------------

    async def _watch(self, backoff: _Backoff) -> None:
        """Watches from the last resourceVersion until an APIError (Expired included)."""
        while True:
            delivered = False
            try:
                async with self.client.watch(
                    self.resource,
                    self.namespace,
                    resource_version=self._resource_version,
                    label_selector=self.label_selector,
                    field_selector=self.field_selector,
                    allow_bookmarks=True,
                    timeout_seconds=random.randint(300, 600),
                ) as stream:
                    async for event in stream:
                        self._apply(event)
                        if not delivered:
                            delivered = True
                            backoff.reset()
            except TransportError as e:
                log.info("%s: watch broken (%s); resuming", self.resource, e)
                delivered = False
            if not delivered:
                await backoff.wait()

    def _apply(self, event: WatchEvent) -> None:
        obj = event.object
        resource_version = _rv(obj)
        if event.type == "BOOKMARK":
            self._resource_version = resource_version or self._resource_version
            return
        if event.type in ("ADDED", "MODIFIED"):
            old = self.indexer.add(obj)
            self._resource_version = resource_version
            if old is None:
                self._notify_add(obj)
            else:
                self._notify_update(old, obj)
        elif event.type == "DELETED":
            self.indexer.delete(object_key(obj))
            self._resource_version = resource_version
            self._notify_delete(obj)
        else:
            log.warning("%s: ignoring watch event of type %r", self.resource, event.type)

    # --- resync and delivery ---------------------------------------------------------

    def _arm_resync(self) -> None:
        if self.resync_period:
            when = self._clock.now() + self.resync_period
            self._resync_timer = self._clock.call_at(when, self._resync)

    def _resync(self) -> None:
        for obj in self.indexer.list():
            self._notify_update(obj, obj)
        self._arm_resync()

    def _notify_add(self, obj: Obj) -> None:
        for handler in self._handlers:
            if handler.on_add is not None:
                _call(handler.on_add, obj)

    def _notify_update(self, old: Obj, new: Obj) -> None:
        for handler in self._handlers:
            if handler.on_update is not None:
                _call(handler.on_update, old, new)

    def _notify_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        for handler in self._handlers:
            if handler.on_delete is not None:
                _call(handler.on_delete, obj)


def _call(function: Callable[..., None], *args: Any) -> None:
    try:
        function(*args)
    except Exception:
        log.exception("informer event handler %r failed", function)


def _rv(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


def _with_type(page: Obj, item: Obj) -> Obj:
    """A list item with the `apiVersion` and `kind` that lists leave out (watch
    events carry them; cached objects always do)."""
    if "kind" in item and "apiVersion" in item:
        return item
    kind = str(page.get("kind") or "")
    kind = kind.removesuffix("List")
    return {"apiVersion": page.get("apiVersion"), "kind": kind, **item}
