"""Read queries over the SQLite revision log; each runs on a reader thread's connection.

Every function takes the connection first and is called through `ReaderPool.run`.
Those that need more than one statement (a page of a listing at a revision, a page of
history for a watch) run them in one read transaction, so they see one consistent WAL
snapshot: the revision bounds they check are the ones their rows come from.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from .interface import Compacted, Event, EventType, FutureRevision, KeyValue, ListResult
from .sqlite_schema import COMPACTED_REVISION, CURRENT_REVISION, name_range, rollback

LATEST_ROW = (
    "SELECT id, create_revision, deleted, value FROM kv WHERE name = ?"
    " ORDER BY prev_revision DESC LIMIT 1"
)


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[tuple[int, int]]:
    """A read transaction; yields its (current revision, compacted revision)."""
    conn.execute("BEGIN")
    try:
        current = conn.execute(CURRENT_REVISION).fetchone()[0]
        compacted = conn.execute(COMPACTED_REVISION).fetchone()[0]
        yield current, compacted
    finally:
        rollback(conn)


def get(conn: sqlite3.Connection, key: str) -> KeyValue | None:
    """The key's newest row, or None if it has none or it is a tombstone."""
    row = conn.execute(LATEST_ROW, (key,)).fetchone()
    if row is None or row[2]:
        return None
    return KeyValue(key, row[3], row[1], row[0])


def _newest_live(condition: str) -> str:
    """FROM and WHERE for each key's newest row at revision `?` (given twice), if live.

    `condition` selects the keys on `o.name`. A row is its key's newest at R iff it is
    at most R and no row at most R names it as `prev_revision`; scanning the unique
    index in name order, the rows come out in key order, and LIMIT stops the scan early.
    """
    return (
        f"FROM kv AS o WHERE {condition} AND o.id <= ? AND o.deleted = 0 AND NOT EXISTS"
        " (SELECT 1 FROM kv AS n WHERE n.name = o.name AND n.prev_revision = o.id"
        " AND n.id <= ?)"
    )


def list_page(
    conn: sqlite3.Connection, prefix: str, revision: int, limit: int, start_after: str | None
) -> ListResult:
    """See `Store.list`: the keys under `prefix` at `revision` (0: the newest)."""
    with snapshot(conn) as (current, compacted):
        if revision == 0:
            revision = current
        elif revision > current:
            raise FutureRevision(revision, current)
        elif revision <= compacted:
            raise Compacted(revision, compacted)
        condition, params = name_range(prefix, start_after, column="o.name")
        rows = conn.execute(
            "SELECT o.name, o.value, o.create_revision, o.id "
            + _newest_live(condition)
            + " ORDER BY o.name LIMIT ?",
            (*params, revision, revision, limit + 1 if limit > 0 else -1),
        ).fetchall()
    more = 0 < limit < len(rows)
    kvs = [KeyValue(*row) for row in (rows[:limit] if more else rows)]
    return ListResult(kvs, revision, more)


def count(conn: sqlite3.Connection, prefix: str) -> int:
    """How many live keys are under `prefix` now."""
    condition, params = name_range(prefix, column="o.name")
    with snapshot(conn) as (current, _):
        row = conn.execute(
            "SELECT count(*) " + _newest_live(condition), (*params, current, current)
        )
        return int(row.fetchone()[0])


def history(conn: sqlite3.Connection, prefix: str, after: int, limit: int) -> list[Event]:
    """Up to `limit` events under `prefix` with revision > `after`, in revision order.

    Raises `Compacted` if events right after `after` may have been compacted away.
    """
    with snapshot(conn) as (_, compacted):
        if after <= compacted:
            raise Compacted(after, compacted)
        condition, params = name_range(prefix, column="e.name")
        rows = conn.execute(
            "SELECT e.id, e.name, e.created, e.deleted, e.create_revision, e.prev_revision,"
            " e.value, p.value FROM kv AS e"
            " LEFT JOIN kv AS p ON p.id = e.prev_revision AND e.created = 0"
            f" WHERE e.id > ? AND {condition} ORDER BY e.id LIMIT ?",
            (after, *params, limit),
        ).fetchall()
    return [_event(*row) for row in rows]


def _event(
    revision: int,
    key: str,
    created: int,
    deleted: int,
    create_revision: int,
    prev_revision: int,
    value: bytes | None,
    prev_value: bytes | None,
) -> Event:
    """The watch event of one log row, given the value of the row before it."""
    if created:
        assert value is not None
        return Event(EventType.ADDED, KeyValue(key, value, create_revision, revision), None)
    assert prev_value is not None  # a non-creating row's predecessor survives compaction
    prev = KeyValue(key, prev_value, create_revision, prev_revision)
    if deleted:
        return Event(EventType.DELETED, KeyValue(key, prev_value, create_revision, revision), prev)
    assert value is not None
    return Event(EventType.MODIFIED, KeyValue(key, value, create_revision, revision), prev)


def expired(conn: sqlite3.Connection, now: float, limit: int) -> list[tuple[str, int]]:
    """Up to `limit` live keys whose current row expired at or before `now`.

    Returns (key, mod revision) pairs: deleting with that expected revision cannot
    clobber a concurrent update that renewed or removed the TTL.
    """
    return conn.execute(
        "SELECT name, id FROM kv AS e WHERE expires <= ? AND deleted = 0"
        " AND NOT EXISTS (SELECT 1 FROM kv AS n WHERE n.name = e.name AND n.prev_revision = e.id)"
        " LIMIT ?",
        (now, limit),
    ).fetchall()
