"""The `Store` protocol: a revisioned key-value store with etcd's semantics.

Every backend (embedded SQLite, a real etcd cluster) implements this protocol and
passes the one conformance suite in `tests/unit/store/conformance.py`.

Invariants every backend keeps:

- One global, strictly increasing revision. Every successful write (create, update,
  delete, TTL expiry) gets a new revision; an object's `mod_revision` is the revision of
  its last write and becomes its `resourceVersion` in the API server.
- A write that was acknowledged (its coroutine returned) is durable: it survives a
  crash of the process.
- Watch events for a prefix are delivered in revision order, each once, each with the
  key's previous value; a watch that starts at an old revision first replays history.
- Reads of a revision older than the compacted revision fail with `Compacted`.

Keys are `str` (the API server uses `/registry/<resource>/<namespace>/<name>`), values
are opaque `bytes` (JSON). Prefix arguments match keys by plain string prefix.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


class StoreError(Exception):
    """Base of every error a store raises. Its message names the problem."""


class KeyExists(StoreError):
    """`create` found the key already present."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} already exists")
        self.key = key


class KeyNotFound(StoreError):
    """An `update` or `delete` found no such key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"key {key!r} not found")
        self.key = key


class Conflict(StoreError):
    """A compare-and-swap failed: the key's mod revision is not the expected one.

    `current` is the key's state at the time of the failed comparison (None if absent).
    """

    def __init__(self, key: str, expected: int, current: KeyValue | None) -> None:
        actual = current.mod_revision if current else 0
        super().__init__(f"key {key!r} was modified: expected revision {expected}, found {actual}")
        self.key = key
        self.current = current


class Compacted(StoreError):
    """The requested revision is older than the oldest one kept (HTTP 410 Gone)."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} has been compacted (oldest kept: {compacted + 1})")
        self.requested = requested
        self.compacted = compacted


class FutureRevision(StoreError):
    """The requested revision is newer than the store's current revision."""

    def __init__(self, requested: int, current: int) -> None:
        super().__init__(f"revision {requested} is newer than the current revision {current}")
        self.requested = requested
        self.current = current


class Unavailable(StoreError):
    """The backend cannot be reached or cannot write (etcd down, disk full, corrupt file)."""


@dataclass(frozen=True, slots=True)
class KeyValue:
    """One key at one revision."""

    key: str
    value: bytes
    create_revision: int
    mod_revision: int


class EventType(enum.Enum):
    """What happened to a key. ADDED: created; MODIFIED: updated; DELETED: deleted or expired."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True)
class Event:
    """One change, in revision order.

    `kv` is the key after the change; for DELETED it carries the last value before the
    deletion and `mod_revision` equal to the deletion's revision. `prev` is the key's
    state before the change (None for ADDED).
    """

    type: EventType
    kv: KeyValue
    prev: KeyValue | None

    @property
    def revision(self) -> int:
        return self.kv.mod_revision


@dataclass(frozen=True, slots=True)
class ListResult:
    """A page of a prefix listing taken at one revision.

    `revision` is the revision the page was read at (pass it back, with the last key,
    to read the next page of the same snapshot). `more` says whether keys remain past
    this page.
    """

    kvs: list[KeyValue]
    revision: int
    more: bool


UpdateFunc = Callable[[KeyValue | None], bytes | None]
"""Computes a key's new value from its current state (None if absent).

Returns the new value, or None to leave the key as it is. It may be called more than
once (after a conflict, with fresh state); it must not have side effects. It may raise
to abort the update; the exception propagates to the caller.
"""


class Store(Protocol):
    """A revisioned key-value store. Safe for concurrent use from one event loop."""

    async def current_revision(self) -> int:
        """The newest revision (0 for an empty store that never had a write)."""
        ...

    async def compacted_revision(self) -> int:
        """The newest revision that has been compacted away (0 if none)."""
        ...

    async def get(self, key: str) -> KeyValue | None:
        """The key's current state, or None if absent."""
        ...

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str | None = None,
    ) -> ListResult:
        """Keys under `prefix` in key order, as they were at `revision` (0: now).

        `limit` > 0 caps the page size; `start_after` skips keys up to and including it
        (the last key of the previous page). Raises `Compacted` if `revision` is older
        than the compacted revision, `FutureRevision` if newer than the current one.
        """
        ...

    async def count(self, prefix: str) -> int:
        """How many keys are under `prefix` now."""
        ...

    async def create(self, key: str, value: bytes, *, ttl: int | None = None) -> KeyValue:
        """Creates the key. Raises `KeyExists` if present.

        With `ttl` (seconds), the key is deleted (a DELETED event) once it expires;
        expiry may lag by up to a couple of seconds.
        """
        ...

    async def update(
        self,
        key: str,
        value: bytes,
        *,
        expected_mod_revision: int,
        ttl: int | None = None,
    ) -> KeyValue:
        """Sets the key's value if its mod revision is `expected_mod_revision`.

        Raises `KeyNotFound` if absent, `Conflict` if modified since. `ttl` as in
        `create` (None: the key no longer expires).
        """
        ...

    async def guaranteed_update(
        self, key: str, update: UpdateFunc, *, ttl: int | None = None
    ) -> KeyValue | None:
        """Applies `update` to the key's current state until the compare-and-swap wins.

        A None result from `update` (or a value equal to the current one) writes
        nothing and returns the current state. Creates the key when it is absent and
        `update` returns a value. Returns the key's state after the call (None if it is
        absent and stays absent).
        """
        ...

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> KeyValue:
        """Deletes the key and returns its last state (mod_revision: the deletion's).

        With `expected_mod_revision`, deletes only if the key was not modified since
        (else `Conflict`). Raises `KeyNotFound` if absent.
        """
        ...

    def watch(
        self, prefix: str, *, revision: int = 0
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        """Events under `prefix` with revision > `revision` (0: from now on).

        Used as `async with store.watch(p, revision=r) as events: async for e in events`.
        Raises `Compacted` (on entry or while iterating) if `revision` is older than the
        compacted revision. A slow consumer is never skipped: events buffer until read.
        The iterator ends only when the store closes.
        """
        ...

    async def compact(self, revision: int) -> None:
        """Discards history older than `revision`: afterwards `compacted_revision()` is
        `revision - 1`, reads and watches at `revision` still work, older ones fail with
        `Compacted`. The current state of every key is kept. Compacting below the
        compacted revision does nothing; past the current one raises `FutureRevision`."""
        ...

    async def close(self) -> None:
        """Stops background work and releases connections. Idempotent."""
        ...
