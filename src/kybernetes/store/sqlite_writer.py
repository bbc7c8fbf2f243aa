"""The single writer of `SqliteStore`: group commit of queued writes.

Callers on the event loop queue `WriteOp`s and `CompactOp`s. One thread with its own
connection takes everything queued so far (up to `MAX_BATCH`), applies the writes in
ONE `BEGIN IMMEDIATE` transaction and commits once (one fsync for the whole batch),
then hands the `Outcome` to the event loop in one callback, which resolves each
caller's future with its own result or error and feeds the watchers.

Invariants:

- Ops apply in submission order. Each op's checks (`KeyExists`, `KeyNotFound`,
  `Conflict`) see the ops before it in the batch, exactly as if they were serialized.
- A future resolves only once its transaction has committed (with synchronous=FULL the
  row is on disk) or rolled back; a failed commit (disk full, I/O error) fails every
  write of the batch with `Unavailable` and leaves nothing of it behind.
- Revisions continue from `sqlite_sequence`, read under the transaction's write lock,
  so they are exactly the ids AUTOINCREMENT would assign; no revision is ever reused.
- Outcomes reach the event loop in commit order.
"""

from __future__ import annotations

import asyncio
import enum
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from .interface import (
    Conflict,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    StoreError,
)
from .sqlite_schema import COMPACTED_REVISION, CURRENT_REVISION, connect, rollback
from .sqlite_threads import STOP, Resolution, as_store_error, post, take_batch

MAX_BATCH = 1000
"""The most ops applied in one transaction."""

COMPACT_CHUNK = 10_000
"""The most revisions compacted in one transaction; writes queued meanwhile go between."""

_INSERT = (
    "INSERT INTO kv (id, name, created, deleted, create_revision, prev_revision, expires,"
    " value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


class OpKind(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(slots=True)
class WriteOp:
    """One queued write. `expected` is the required mod revision (None: any)."""

    kind: OpKind
    key: str
    value: bytes | None
    expected: int | None
    expires: float | None
    future: asyncio.Future[KeyValue]


@dataclass(slots=True)
class CompactOp:
    """A queued compaction; the future gets the new compacted revision."""

    revision: int
    future: asyncio.Future[int]


@dataclass(slots=True)
class Outcome:
    """What one transaction did, for the event loop: new revisions, events, results."""

    revision: int = 0
    compacted: int = 0
    events: list[Event] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)


Row = tuple[int, str, int, int, int, int, float | None, bytes | None]


_NEWEST_ROWS = (
    "SELECT j.value, o.id, o.create_revision, o.deleted, o.value"
    " FROM json_each(?) AS j JOIN kv AS o ON o.id = (SELECT n.id FROM kv AS n"
    " WHERE n.name = j.value ORDER BY n.prev_revision DESC LIMIT 1)"
)
_NEWEST_ROW = (
    "SELECT name, id, create_revision, deleted, value FROM kv WHERE name = ?"
    " ORDER BY prev_revision DESC LIMIT 1"
)


def _newest_rows(conn: sqlite3.Connection, keys: list[str]) -> Iterable[Any]:
    """(key, id, create_revision, deleted, value) of the newest row of each of `keys`.

    One query for the whole batch (a JSON array of the keys), unless a key holds a NUL
    character, which SQLite's JSON functions cannot carry: then one query per key.
    """
    if any("\0" in key for key in keys):
        return [row for key in keys for row in conn.execute(_NEWEST_ROW, (key,))]
    return conn.execute(_NEWEST_ROWS, (orjson.dumps(keys),))


class _Batch:
    """The writes of one transaction: their checks, rows, events and results.

    `_latest` holds, for every key the batch touches, its current state (None if
    absent) and the id of its newest row (0 if none): read from the database once, in
    the transaction, then updated by each of the batch's own rows.
    """

    def __init__(self, conn: sqlite3.Connection, revision: int, keys: list[str]) -> None:
        self.revision = revision
        self.rows: list[Row] = []
        self.events: list[Event] = []
        self._latest: dict[str, tuple[KeyValue | None, int]] = dict.fromkeys(keys, (None, 0))
        for key, newest, create_revision, deleted, value in _newest_rows(conn, keys):
            current = None if deleted else KeyValue(key, value, create_revision, newest)
            self._latest[key] = (current, newest)

    def apply(self, op: WriteOp) -> KeyValue | StoreError:
        """Checks `op` against the key's current state and, if it passes, appends its row."""
        current, newest = self._latest[op.key]
        if op.kind is OpKind.CREATE:
            if current is not None:
                return KeyExists(op.key)
            assert op.value is not None
            return self._append(op, op.value, 0, newest, None)
        if current is None:
            return KeyNotFound(op.key)
        if op.expected is not None and op.expected != current.mod_revision:
            return Conflict(op.key, op.expected, current)
        if op.kind is OpKind.UPDATE:
            assert op.value is not None
            return self._append(op, op.value, current.create_revision, newest, current)
        return self._append(op, current.value, current.create_revision, newest, current)

    def _append(
        self,
        op: WriteOp,
        value: bytes,
        create_revision: int,
        newest: int,
        prev: KeyValue | None,
    ) -> KeyValue:
        self.revision += 1
        revision = self.revision
        kv = KeyValue(op.key, value, create_revision or revision, revision)
        if op.kind is OpKind.DELETE:
            row: Row = (revision, op.key, 0, 1, kv.create_revision, newest, None, None)
            self.events.append(Event(EventType.DELETED, kv, prev))
            self._latest[op.key] = (None, revision)
        else:
            created = op.kind is OpKind.CREATE
            row = (revision, op.key, created, 0, kv.create_revision, newest, op.expires, value)
            event_type = EventType.ADDED if created else EventType.MODIFIED
            self.events.append(Event(event_type, kv, prev))
            self._latest[op.key] = (kv, revision)
        self.rows.append(row)
        return kv


class Writer:
    """The writer thread. `submit` from the event loop; `stop` once, from any thread."""

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        loop: asyncio.AbstractEventLoop,
        deliver: Callable[[Outcome], None],
    ) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = conn
        self._loop = loop
        self._deliver = deliver
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.commits = 0
        """Transactions committed so far (each one fsync)."""
        self._thread = threading.Thread(target=self._serve, name="kyb-sqlite-writer", daemon=True)
        self._thread.start()

    def submit(self, op: WriteOp | CompactOp) -> None:
        self._queue.put(op)

    def stop(self) -> None:
        """Blocks until every op queued before it is done, then closes the connection."""
        self._queue.put(STOP)
        self._thread.join()

    def _serve(self) -> None:
        """Takes batches until stopped and every op queued (or requeued) is done."""
        stopping = False
        try:
            while not stopping or not self._queue.empty():
                writes: list[WriteOp] = []
                for item in take_batch(self._queue, MAX_BATCH):
                    if isinstance(item, WriteOp):
                        writes.append(item)
                        continue
                    self._flush(writes)
                    writes = []
                    if item is STOP:
                        stopping = True
                    else:
                        self._compact_step(item)
                self._flush(writes)
        finally:
            if self._conn is not None:
                self._conn.close()

    def _flush(self, writes: list[WriteOp]) -> None:
        if writes:
            post(self._loop, self._deliver, self._commit(writes))

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self._path)
        return self._conn

    def _commit(self, writes: list[WriteOp]) -> Outcome:
        """Applies `writes` in one transaction; every op gets its result or the error."""
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            revision = conn.execute(CURRENT_REVISION).fetchone()[0]
            batch = _Batch(conn, revision, [op.key for op in writes])
            results = [batch.apply(op) for op in writes]
            if batch.rows:
                conn.executemany(_INSERT, batch.rows)
            conn.execute("COMMIT")
        except Exception as e:
            self._abort()
            error = as_store_error(self._path, e)
            return Outcome(resolutions=[(op.future, error) for op in writes])
        self.commits += 1
        resolutions: list[Resolution] = [
            (op.future, result) for op, result in zip(writes, results, strict=True)
        ]
        return Outcome(batch.revision, 0, batch.events, resolutions)

    def _compact_step(self, op: CompactOp) -> None:
        """Compacts one chunk (one transaction), then requeues `op` behind the writes
        that arrived meanwhile, until done; only then does its future resolve."""
        try:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            compacted = self._compact_chunk(conn, op.revision)
            conn.execute("COMMIT")
        except Exception as e:
            self._abort()
            outcome = Outcome(resolutions=[(op.future, as_store_error(self._path, e))])
        else:
            self.commits += 1
            outcome = Outcome(compacted=compacted)
            if compacted >= op.revision - 1:
                outcome.resolutions.append((op.future, compacted))
            else:
                self._queue.put(op)
        post(self._loop, self._deliver, outcome)

    def _compact_chunk(self, conn: sqlite3.Connection, revision: int) -> int:
        """Compacts the next chunk towards `revision`; returns the new compacted revision.

        Compacting up to C deletes the predecessor of every row in (done, C] and the
        tombstones in (done, C], where `done` is the revision compacted up to so far.
        """
        current = conn.execute(CURRENT_REVISION).fetchone()[0]
        if revision > current:
            raise FutureRevision(revision, current)
        compacted: int = conn.execute(COMPACTED_REVISION).fetchone()[0]
        if revision - 1 <= compacted:
            return compacted
        done = compacted + 1
        upto = min(revision, done + COMPACT_CHUNK)
        conn.execute(
            "DELETE FROM kv WHERE id IN (SELECT prev_revision FROM kv WHERE id > ? AND id <= ?)",
            (done, upto),
        )
        conn.execute("DELETE FROM kv WHERE id > ? AND id <= ? AND deleted = 1", (done, upto))
        conn.execute("UPDATE meta SET value = ? WHERE key = 'compacted'", (upto - 1,))
        return upto - 1

    def _abort(self) -> None:
        """Rolls back; if even that fails, drops the connection to reopen it next time."""
        if self._conn is None:
            return
        try:
            rollback(self._conn)
        except sqlite3.Error:
            self._conn.close()
            self._conn = None
