"""`SqliteStore`: the embedded default backend, an append-only revision log in one file.

In the manner of k3s's kine: every write appends a row whose id is the global revision
(see `sqlite_schema` for the table and its invariants). The pieces:

- `sqlite_writer`: one thread applies queued writes in batches, one transaction and one
  fsync per batch (group commit), and hands each batch's results and events back.
- `sqlite_threads.ReaderPool`: reader threads with their own connections run reads
  (`sqlite_reads`) concurrently with the writer (WAL): one thread serves `get` in
  batches, the others serve scans (list, count, watch replay, the TTL sweeper's query).
- `sqlite_watch`: committed events fan out to watchers; old revisions replay from the log.
- Here: the `Store` methods, plus the store's own background work (the TTL sweeper and
  periodic compaction), owned by one task that `close()` stops.

Invariants: SQLite is never called on the event loop; an acknowledged write is on disk
(WAL, synchronous=FULL); no raw `sqlite3` error reaches a caller (`Unavailable` names
the file and the problem). TTLs: a key stays visible to get/list until the sweeper
deletes it, through the normal write path, with a DELETED event; the sweeper runs every
`sweep_interval` seconds, so expiry lags by at most about that. The revisions, watches
and TTL sweeping of one store see only the writes made through it: one process owns the
file (another process's writes cannot corrupt it, thanks to the unique index, but are
not announced to this one's watchers).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Self, TypeVar

from . import sqlite_reads as reads
from .base import StoreBase
from .interface import Compacted, Event, KeyValue, ListResult, StoreError, Unavailable
from .sqlite_schema import check_path, connect, ensure_schema
from .sqlite_threads import ReaderPool, resolve_all
from .sqlite_watch import WatchHub, WatchStream
from .sqlite_writer import CompactOp, OpKind, Outcome, WriteOp, Writer

log = logging.getLogger(__name__)

T = TypeVar("T")

SWEEP_BATCH = 500
"""Expired keys deleted per write batch by the sweeper."""

POINT_BATCH = 256
"""The most `get`s one reader thread runs before handing results back."""


class SqliteStore(StoreBase):
    """A `Store` on one SQLite file. Use from the event loop that opened it.

    `commits` counts the transactions committed (group commit makes it far smaller
    than the number of writes under concurrency).
    """

    def __init__(
        self,
        path: Path,
        connections: tuple[sqlite3.Connection, list[sqlite3.Connection]],
        revisions: tuple[int, int],
        *,
        compaction_interval: float,
        compaction_keep: int,
        sweep_interval: float,
        clock: Callable[[], float],
    ) -> None:
        """Takes ownership of open connections (one writer's, the readers'); see `open`."""
        self._path = path
        self._loop = asyncio.get_running_loop()
        self._revision, self._compacted = revisions
        self._compaction_interval = compaction_interval
        self._compaction_keep = compaction_keep
        self._sweep_interval = sweep_interval
        self._clock = clock
        self._closed = False
        self._hub = WatchHub()
        self._writer = Writer(path, connections[0], self._loop, self._deliver)
        readers = connections[1]
        self._point_reads = ReaderPool(path, self._loop, readers[:1], batch=POINT_BATCH)
        self._scans = ReaderPool(path, self._loop, readers[1:], batch=1)
        self._background = asyncio.create_task(self._maintain(), name=f"kyb-sqlite {path}")

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        compaction_interval: float = 300.0,
        compaction_keep: int = 1000,
        sweep_interval: float = 1.0,
        readers: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> Self:
        """Opens (creating if missing) the store in the file at `path`.

        Every `compaction_interval` seconds history is compacted down to the newest
        `compaction_keep` revisions; every `sweep_interval` seconds expired keys are
        deleted. `clock` gives the unix time TTLs are measured against. Of the
        `readers` (at least 2) reader threads, one serves `get`, the others listings,
        counts and watch replays, so a long scan never delays a point read. Raises
        `Unavailable` naming the path and the problem if the file cannot be opened,
        is not a SQLite database, or holds an incompatible schema.
        """
        path = Path(path)
        connections, revisions = await asyncio.to_thread(_connect_all, path, max(readers, 2))
        return cls(
            path,
            connections,
            revisions,
            compaction_interval=compaction_interval,
            compaction_keep=compaction_keep,
            sweep_interval=sweep_interval,
            clock=clock,
        )

    @property
    def commits(self) -> int:
        return self._writer.commits

    async def current_revision(self) -> int:
        return self._revision

    async def compacted_revision(self) -> int:
        return self._compacted

    async def get(self, key: str) -> KeyValue | None:
        self._check_open()
        return await self._point_reads.run(reads.get, key)

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str | None = None,
    ) -> ListResult:
        return await self._scan(reads.list_page, prefix, revision, limit, start_after)

    async def count(self, prefix: str) -> int:
        return await self._scan(reads.count, prefix)

    async def create(self, key: str, value: bytes, *, ttl: int | None = None) -> KeyValue:
        return await self._write(OpKind.CREATE, key, value, None, ttl)

    async def update(
        self, key: str, value: bytes, *, expected_mod_revision: int, ttl: int | None = None
    ) -> KeyValue:
        return await self._write(OpKind.UPDATE, key, value, expected_mod_revision, ttl)

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> KeyValue:
        return await self._write(OpKind.DELETE, key, None, expected_mod_revision, None)

    def watch(
        self, prefix: str, *, revision: int = 0
    ) -> AbstractAsyncContextManager[AsyncIterator[Event]]:
        return self._watch(prefix, revision)

    async def compact(self, revision: int) -> None:
        """See `Store.compact`; afterwards `compacted_revision()` is `revision - 1`.

        Raises `FutureRevision` past the current revision; compacting at or below the
        compacted revision does nothing.
        """
        self._check_open()
        future: asyncio.Future[int] = self._loop.create_future()
        self._writer.submit(CompactOp(revision, future))
        await future

    async def compact_history(self) -> None:
        """Compacts all but the newest `compaction_keep` revisions (what the timer runs)."""
        keep_from = self._revision - self._compaction_keep + 1
        if keep_from - 1 > self._compacted:
            await self.compact(keep_from)

    async def sweep_expired(self) -> int:
        """Deletes every key whose TTL has passed (what the timer runs); returns how many.

        The deletions go through the normal write path (DELETED events), each on the
        condition that the key was not written since it was found expired.
        """
        swept = 0
        while True:
            expired = await self._scan(reads.expired, self._clock(), SWEEP_BATCH)
            deletions = [self._write(OpKind.DELETE, key, None, rev, None) for key, rev in expired]
            for result in await asyncio.gather(*deletions, return_exceptions=True):
                if isinstance(result, Unavailable):
                    raise result
                swept += isinstance(result, KeyValue)
            if len(expired) < SWEEP_BATCH:
                return swept

    async def close(self) -> None:
        """Ends every watch, stops the background work, finishes the queued writes and
        closes the connections. Idempotent; every other method then raises `Unavailable`."""
        if self._closed:
            return
        self._closed = True
        self._hub.close()
        self._background.cancel()
        try:
            await self._background
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
        await asyncio.to_thread(self._point_reads.stop)
        await asyncio.to_thread(self._scans.stop)
        # The writer's connection closes last, so SQLite checkpoints and removes the WAL.
        await asyncio.to_thread(self._writer.stop)

    @asynccontextmanager
    async def _watch(self, prefix: str, revision: int) -> AsyncIterator[AsyncIterator[Event]]:
        self._check_open()
        if revision and revision <= self._compacted:
            raise Compacted(revision, self._compacted)
        watcher = self._hub.register(prefix)
        try:
            yield WatchStream(
                watcher, self._read_history, revision or self._revision, replay=bool(revision)
            )
        finally:
            self._hub.unregister(watcher)

    def _read_history(self, prefix: str, after: int, limit: int) -> Awaitable[builtins.list[Event]]:
        return self._scan(reads.history, prefix, after, limit)

    def _scan(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        self._check_open()
        return self._scans.run(fn, *args)

    def _write(
        self,
        kind: OpKind,
        key: str,
        value: bytes | None,
        expected: int | None,
        ttl: int | None,
    ) -> asyncio.Future[KeyValue]:
        self._check_open()
        if not key.isascii():
            key.encode()  # a lone surrogate fails here, not the writer's whole batch
        expires = None if ttl is None else self._clock() + ttl
        future: asyncio.Future[KeyValue] = self._loop.create_future()
        self._writer.submit(WriteOp(kind, key, value, expected, expires, future))
        return future

    def _deliver(self, outcome: Outcome) -> None:
        """Runs on the event loop for each transaction, in commit order."""
        self._revision = max(self._revision, outcome.revision)
        self._compacted = max(self._compacted, outcome.compacted)
        if outcome.events:
            self._hub.publish(outcome.events)
        resolve_all(outcome.resolutions)

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable(f"datastore {self._path}: the store is closed")

    async def _maintain(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._every(self._sweep_interval, self.sweep_expired))
            tasks.create_task(self._every(self._compaction_interval, self.compact_history))

    async def _every(self, interval: float, job: Callable[[], Awaitable[object]]) -> None:
        """Runs `job` every `interval` seconds; a store error is logged, not fatal."""
        while True:
            await asyncio.sleep(interval)
            try:
                await job()
            except StoreError as e:
                log.warning("background %s failed: %s", job.__name__, e)


def _connect_all(
    path: Path, readers: int
) -> tuple[tuple[sqlite3.Connection, list[sqlite3.Connection]], tuple[int, int]]:
    """Opens the writer's and the readers' connections and prepares the schema."""
    check_path(path)
    opened: list[sqlite3.Connection] = []
    try:
        opened.append(connect(path))
        revisions = ensure_schema(opened[0], path)
        opened.extend(connect(path) for _ in range(readers))
    except BaseException:
        for conn in opened:
            conn.close()
        raise
    return (opened[0], opened[1:]), revisions
