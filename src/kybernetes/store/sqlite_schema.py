"""The SQLite revision log behind `SqliteStore`: schema, connections, error mapping.

Table `kv` is an append-only log in the manner of kine: every write appends one row
whose `id` (INTEGER PRIMARY KEY AUTOINCREMENT) is the write's global revision.

    name             the key
    created          1 if the row creates the key (no live row before it), else 0
    deleted          1 for a tombstone (a deletion or a TTL expiry), else 0
    create_revision  the revision that created this incarnation of the key
    prev_revision    the id of the key's previous row (0 if none is left)
    expires          unix time at which the key expires (NULL: never)
    value            the value (NULL in tombstones: the deleted value is the previous row's)

Invariants:

- A key's current state is its newest row; a tombstone as newest row means absent.
- Each row's `prev_revision` is the id of the key's newest row when it was written, so
  `UNIQUE (name, prev_revision)` makes two writers that read the same state conflict
  instead of overwriting each other, even from different processes.
- Within one key, `prev_revision` ascends with `id`, so that unique index also serves
  (as an index on (name, id) would) to find a key's newest row and to list a prefix;
  a row is its key's newest iff no row has it as `prev_revision`. One index fewer
  makes every commit write noticeably fewer pages.
- Compacting at C deletes the predecessor of every row with id <= C and every tombstone
  with id <= C. Hence the snapshot at any revision >= C is exact, and every row above
  C that is not a creation still has its predecessor (a watch replay reads `prev` there).
- `meta('compacted')` is the protocol's compacted revision (C - 1 after compacting at C);
  `sqlite_sequence` holds the newest revision ever assigned, even once compaction has
  deleted that row, so revisions are never reused.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .interface import Unavailable

SCHEMA_VERSION = 1

_DDL = (
    """CREATE TABLE IF NOT EXISTS kv (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        create_revision INTEGER NOT NULL,
        prev_revision INTEGER NOT NULL,
        expires REAL,
        value BLOB
    )""",
    "CREATE UNIQUE INDEX IF NOT EXISTS kv_name_prev_revision ON kv (name, prev_revision)",
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO meta (key, value)"
    f" VALUES ('schema', {SCHEMA_VERSION}), ('compacted', 0)",
)

_PRAGMAS = (
    "PRAGMA busy_timeout = 10000",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA cache_size = -32768",
    "PRAGMA journal_size_limit = 67108864",
)

CURRENT_REVISION = "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'kv'), 0)"
COMPACTED_REVISION = "SELECT value FROM meta WHERE key = 'compacted'"


@contextmanager
def unavailable_on_error(path: Path) -> Iterator[None]:
    """Turns SQLite and OS errors into `Unavailable("datastore PATH: problem")`."""
    try:
        yield
    except sqlite3.Error as e:
        raise Unavailable(f"datastore {path}: {e}") from e
    except OSError as e:
        where = f" ({e.filename})" if e.filename and Path(e.filename) != path else ""
        raise Unavailable(f"datastore {path}: {e.strerror or e}{where}") from e


def check_path(path: Path) -> None:
    """Fails with `Unavailable` unless `path` is (or can become) a readable, writable file.

    Creates missing parent directories. SQLite's own errors say little ("unable to open
    database file"), so the common causes are checked first to name them.
    """
    with unavailable_on_error(path):
        if path.is_dir():
            raise Unavailable(f"datastore {path}: is a directory, not a database file")
        if path.exists():
            path.open("r+b").close()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        if not os.access(path.parent, os.W_OK | os.X_OK):  # WAL adds files beside it
            raise Unavailable(f"datastore {path}: directory {path.parent} is not writable")


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, synchronous=FULL.

    Raises `Unavailable` if the file cannot be opened or is not a SQLite database.
    """
    with unavailable_on_error(path):
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, cached_statements=64
        )
        try:
            for pragma in _PRAGMAS:
                conn.execute(pragma)
        except BaseException:
            conn.close()
            raise
        return conn


def ensure_schema(conn: sqlite3.Connection, path: Path) -> tuple[int, int]:
    """Creates the tables if missing and checks their shape.

    Returns (current revision, compacted revision). Raises `Unavailable` if the file
    holds an incompatible schema.
    """
    with unavailable_on_error(path):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _DDL:
                conn.execute(statement)
            conn.execute(
                "SELECT id, name, created, deleted, create_revision, prev_revision, expires,"
                " value FROM kv LIMIT 0"
            )
            (version,) = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            if version != SCHEMA_VERSION:
                raise Unavailable(
                    f"datastore {path}: schema version {version} is not supported"
                    f" (expected {SCHEMA_VERSION})"
                )
            revision = conn.execute(CURRENT_REVISION).fetchone()[0]
            compacted = conn.execute(COMPACTED_REVISION).fetchone()[0]
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
        return int(revision), int(compacted)


def rollback(conn: sqlite3.Connection) -> None:
    """Rolls back the open transaction, if any (SQLite may already have rolled it back)."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with `prefix` (None: none).

    SQLite compares TEXT as UTF-8 bytes, which orders like Python's code points, so
    `prefix <= name < prefix_end(prefix)` selects exactly the names under `prefix`.
    """
    stripped = prefix.rstrip("\U0010ffff")
    if not stripped:
        return None
    last = ord(stripped[-1]) + 1
    if last == 0xD800:  # surrogates cannot be encoded; skip past them
        last = 0xE000
    return stripped[:-1] + chr(last)


def name_range(
    prefix: str, start_after: str | None = None, column: str = "name"
) -> tuple[str, list[str]]:
    """A SQL condition on `column` (and its parameters) selecting the keys under `prefix`.

    With `start_after`, keys up to and including it are excluded.
    """
    if start_after is not None and start_after >= prefix:
        condition, params = f"{column} > ?", [start_after]
    else:
        condition, params = f"{column} >= ?", [prefix]
    end = prefix_end(prefix)
    if end is not None:
        condition += f" AND {column} < ?"
        params.append(end)
    return condition, params
