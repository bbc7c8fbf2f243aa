"""Tests of what is specific to the SQLite backend (the shared contract is in conformance).

Group commit, durability across SIGKILL, faults (corrupt files, a full disk), physical
compaction, the TTL sweeper and watch replay across pages. Time is injected (a fake
clock) and every wait is on a condition with a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kybernetes.store import (
    Compacted,
    Event,
    EventType,
    KeyExists,
    KeyNotFound,
    KeyValue,
    Unavailable,
    sqlite_watch,
    sqlite_writer,
)
from kybernetes.store.sqlite import SqliteStore
from kybernetes.store.sqlite_schema import prefix_end

TIMEOUT = 10.0
HELPER = Path(__file__).with_name("sqlite_crash_writer.py")


class FakeClock:
    """Unix time that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path, clock: FakeClock) -> AsyncIterator[SqliteStore]:
    """A store whose timers never fire during a test (tests call the jobs directly)."""
    opened = await SqliteStore.open(
        tmp_path / "state.db", compaction_interval=3600, sweep_interval=3600, clock=clock
    )
    try:
        yield opened
    finally:
        await opened.close()


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    async def collect() -> list[Event]:
        got: list[Event] = []
        async for event in events:
            got.append(event)
            if len(got) == n:
                break
        return got

    return await asyncio.wait_for(collect(), TIMEOUT)


def rows_in(path: Path) -> int:
    """Rows physically present in the revision log."""
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM kv").fetchone()[0])


# --- group commit ---------------------------------------------------------------------


async def test_concurrent_writes_share_transactions(store: SqliteStore) -> None:
    before = store.commits
    written = await asyncio.gather(*(store.create(f"/g/{i:03d}", b"v") for i in range(200)))
    assert len({kv.mod_revision for kv in written}) == 200
    assert store.commits - before <= 20, "200 concurrent writes should need a few commits"


async def test_ops_on_one_key_behave_as_if_serialized(store: SqliteStore) -> None:
    async with store.watch("/s/") as events:
        results = await asyncio.gather(
            store.create("/s/k", b"1"),
            store.create("/s/k", b"2"),
            store.delete("/s/k"),
            store.create("/s/k", b"3"),
            store.update("/s/missing", b"x", expected_mod_revision=1),
            return_exceptions=True,
        )
        got = await take(events, 3)
    first, exists, deleted, again, missing = results
    assert isinstance(first, KeyValue) and first.value == b"1"
    assert isinstance(exists, KeyExists)
    assert isinstance(deleted, KeyValue) and deleted.value == b"1"
    assert isinstance(again, KeyValue) and again.create_revision > first.create_revision
    assert isinstance(missing, KeyNotFound)
    assert [(e.type, e.kv.value) for e in got] == [
        (EventType.ADDED, b"1"),
        (EventType.DELETED, b"1"),
        (EventType.ADDED, b"3"),
    ]
    assert await store.get("/s/k") == again


# --- durability -----------------------------------------------------------------------


async def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    child = await asyncio.create_subprocess_exec(
        sys.executable, str(HELPER), str(path), "100", stdout=asyncio.subprocess.PIPE
    )
    assert child.stdout is not None
    acknowledged: list[bytes] = []
    try:
        async with asyncio.timeout(TIMEOUT):
            while len(acknowledged) < 3000:
                line = await child.stdout.readline()
                assert line, "the writer exited early"
                acknowledged.append(line.strip())
    finally:
        # The crash, mid-stream. (Signal once: a second kill() would reap the zombie
        # behind asyncio's back.)
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        await child.wait()
    acknowledged += (await child.stdout.read()).split()  # acknowledged before the kill
    assert child.returncode == -signal.SIGKILL

    reopened = await SqliteStore.open(path)
    try:
        present = {kv.key.encode() for kv in (await reopened.list("/crash/")).kvs}
    finally:
        await reopened.close()
    assert not [key for key in acknowledged if key not in present]


async def test_reopen_keeps_data_and_never_reuses_revisions(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path)
    kept = await store.create("/r/kept", b"1")
    await store.create("/r/gone", b"1")
    gone = await store.delete("/r/gone")  # the newest row: a tombstone
    await store.compact(gone.mod_revision)  # deletes that tombstone
    await store.close()

    store = await SqliteStore.open(path)
    try:
        assert await store.current_revision() == gone.mod_revision
        assert await store.compacted_revision() == gone.mod_revision - 1
        assert await store.get("/r/kept") == kept
        assert (await store.create("/r/new", b"1")).mod_revision == gone.mod_revision + 1
    finally:
        await store.close()


async def test_unique_index_makes_a_stale_foreign_writer_conflict(
    store: SqliteStore, tmp_path: Path
) -> None:
    kv = await store.create("/u/k", b"1")
    await store.update("/u/k", b"2", expected_mod_revision=kv.mod_revision)
    # Another process that still believes `kv` is current appends its successor:
    with sqlite3.connect(tmp_path / "state.db") as conn, pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO kv (name, created, deleted, create_revision, prev_revision, value)"
            " VALUES (?, 0, 0, ?, ?, ?)",
            ("/u/k", kv.create_revision, kv.mod_revision, b"stale"),
        )


# --- faults ---------------------------------------------------------------------------


async def test_non_database_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is certainly not SQLite\n" * 200)
    with pytest.raises(Unavailable, match=f"datastore {path}: file is not a database"):
        await SqliteStore.open(path)


async def test_directory_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(Unavailable, match="is a directory"):
        await SqliteStore.open(tmp_path)


async def test_parent_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(Unavailable, match=f"datastore {tmp_path}/file/state.db: "):
        await SqliteStore.open(tmp_path / "file" / "state.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
async def test_unreadable_file_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.touch()
    path.chmod(0)
    with pytest.raises(Unavailable, match="Permission denied"):
        await SqliteStore.open(path)


@pytest.mark.root
async def test_read_only_directory_is_unavailable(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    with (
        tiny_tmpfs(ro, "size=1m,ro"),
        pytest.raises(Unavailable, match=f"directory {ro} is not writable"),
    ):
        await SqliteStore.open(ro / "state.db")


async def test_foreign_schema_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE kv (key TEXT, value BLOB)")
    with pytest.raises(Unavailable, match="no such column"):
        await SqliteStore.open(path)


async def test_corrupt_pages_are_unavailable_not_sqlite_errors(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = await SqliteStore.open(path)
    await asyncio.gather(*(store.create(f"/c/{i:04d}", b"x" * 500) for i in range(500)))
    await store.close()
    with path.open("r+b") as f:  # keep the header page, wreck the rest
        f.seek(4096)
        f.write(b"\xa5" * (path.stat().st_size - 4096))
    try:
        store = await SqliteStore.open(path)
    except Unavailable as e:
        assert str(path) in str(e)
        return
    try:
        with pytest.raises(Unavailable, match=f"datastore {path}: "):
            await store.list("/c/")
    finally:
        await store.close()


@contextmanager
def tiny_tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at `where` with `options`, unmounted on exit (skips unless root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(directory: Path) -> Path:
    """Fills the file system of `directory` with one file; returns that file."""
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for chunk in (b"\0" * (1 << 16), b"\0" * 512, b"\0"):
            with contextlib.suppress(OSError):
                while os.write(fd, chunk):
                    pass
    finally:
        os.close(fd)
    return filler


@pytest.mark.root
async def test_full_disk_is_unavailable_and_writes_nothing(tmp_path: Path) -> None:
    with tiny_tmpfs(tmp_path / "mnt", "size=4m") as mnt:
        path = mnt / "state.db"
        store = await SqliteStore.open(path)
        try:
            before = await store.create("/f/before", b"1")
            filler = fill(mnt)
            results = await asyncio.gather(
                store.create("/f/small", b"2"),
                store.create("/f/big", os.urandom(1 << 20)),
                store.update("/f/before", b"3", expected_mod_revision=before.mod_revision),
                return_exceptions=True,
            )
            assert isinstance(results[1], Unavailable)
            assert "disk is full" in str(results[1]) and str(path) in str(results[1])
            for key, result in zip(["/f/small", "/f/big"], results, strict=False):
                if isinstance(result, Unavailable):
                    assert await store.get(key) is None  # nothing half-written
            if isinstance(results[2], Unavailable):
                assert await store.get("/f/before") == before

            filler.unlink()  # space is back: the store works again
            big = await store.create("/f/big", b"big")
            assert await store.get("/f/big") == big
            assert big.mod_revision == await store.current_revision()
        finally:
            await store.close()
        reopened = await SqliteStore.open(path)
        try:
            assert await reopened.get("/f/big") == big
        finally:
            await reopened.close()


# --- compaction -----------------------------------------------------------------------


async def random_history(store: SqliteStore, ops: int) -> dict[int, list[KeyValue]]:
    """Applies `ops` random writes on a few keys; returns the listing after each one."""
    rng = random.Random(7)
    snapshots: dict[int, list[KeyValue]] = {}
    for _ in range(ops):
        key = f"/h/{rng.randrange(8)}"
        current = await store.get(key)
        if current is None:
            await store.create(key, str(rng.random()).encode())
        elif rng.random() < 0.3:
            await store.delete(key)
        else:
            value = str(rng.random()).encode()
            await store.update(key, value, expected_mod_revision=current.mod_revision)
        listing = await store.list("/h/")
        snapshots[listing.revision] = listing.kvs
    return snapshots


async def test_compaction_deletes_history_but_keeps_newer_snapshots(
    store: SqliteStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_writer, "COMPACT_CHUNK", 7)  # several transactions
    async with store.watch("/h/") as live:
        snapshots = await random_history(store, 200)
        history = await take(live, 200)
    revisions = sorted(snapshots)
    at = revisions[120]
    rows_before = rows_in(tmp_path / "state.db")

    await store.compact(at)

    assert await store.compacted_revision() == at - 1
    assert rows_in(tmp_path / "state.db") == len(snapshots[at]) + len(revisions) - 121
    assert rows_in(tmp_path / "state.db") < rows_before
    for revision in revisions[120:]:
        assert (await store.list("/h/", revision=revision)).kvs == snapshots[revision]
    with pytest.raises(Compacted):
        await store.list("/h/", revision=revisions[119])
    async with store.watch("/h/", revision=at) as replay:
        assert await take(replay, 79) == history[121:]


async def test_compacting_again_lower_does_nothing(store: SqliteStore) -> None:
    kvs = [await store.create(f"/l/{i}", b"v") for i in range(5)]
    await store.compact(kvs[3].mod_revision)
    await store.compact(kvs[1].mod_revision)
    assert await store.compacted_revision() == kvs[3].mod_revision - 1


class ObservedStore(SqliteStore):
    """Announces each compaction it completes on the `compactions` queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.compactions: asyncio.Queue[int] = asyncio.Queue()

    async def compact(self, revision: int) -> None:
        await super().compact(revision)
        self.compactions.put_nowait(revision)


async def test_periodic_compaction_keeps_the_newest_revisions(tmp_path: Path) -> None:
    store = await ObservedStore.open(
        tmp_path / "state.db", compaction_interval=0.01, compaction_keep=10
    )
    try:
        kv = await store.create("/p/k", b"0")
        for i in range(40):
            kv = await store.update("/p/k", str(i).encode(), expected_mod_revision=kv.mod_revision)
        async with asyncio.timeout(TIMEOUT):
            while await store.compactions.get() != kv.mod_revision - 9:
                pass
        assert await store.compacted_revision() == kv.mod_revision - 10
        assert (await store.list("/p/", revision=kv.mod_revision - 9)).kvs[0].value == b"30"
        with pytest.raises(Compacted):
            await store.list("/p/", revision=kv.mod_revision - 10)
    finally:
        await store.close()


# --- TTL ------------------------------------------------------------------------------


async def test_sweep_deletes_expired_keys_only(store: SqliteStore, clock: FakeClock) -> None:
    async with store.watch("/t/") as events:
        short = await store.create("/t/short", b"s", ttl=10)
        long = await store.create("/t/long", b"l", ttl=30)
        forever = await store.create("/t/forever", b"f")
        clock.advance(9)
        assert await store.sweep_expired() == 0
        clock.advance(2)
        assert await store.get("/t/short") == short  # expired, not yet swept: still there
        assert await store.sweep_expired() == 1
        renewed = await store.update(
            "/t/long", b"l2", expected_mod_revision=long.mod_revision, ttl=100
        )
        clock.advance(30)
        assert await store.sweep_expired() == 0
        got = await take(events, 5)
    assert [(e.type, e.kv.key) for e in got][3] == (EventType.DELETED, "/t/short")
    assert got[3].prev == short and got[3].kv.value == b"s"
    assert await store.get("/t/short") is None
    assert await store.get("/t/long") == renewed
    assert await store.get("/t/forever") == forever


async def test_background_sweeper_expires_keys(tmp_path: Path, clock: FakeClock) -> None:
    store = await SqliteStore.open(tmp_path / "state.db", sweep_interval=0.01, clock=clock)
    try:
        async with store.watch("/t/") as events:
            await store.create("/t/k", b"v", ttl=5)
            clock.advance(6)
            got = await take(events, 2)
        assert [e.type for e in got] == [EventType.ADDED, EventType.DELETED]
    finally:
        await store.close()


# --- watch ----------------------------------------------------------------------------


async def test_replay_across_pages_under_concurrent_writes_has_no_gap_or_duplicate(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_watch, "REPLAY_PAGE", 7)
    first = [await store.create(f"/w/a{i:03d}", b"v") for i in range(60)]
    start = first[9].mod_revision

    async def write_more() -> list[KeyValue]:
        return list(await asyncio.gather(*(store.create(f"/w/b{i:03d}", b"v") for i in range(60))))

    async with store.watch("/w/", revision=start) as events:
        more = asyncio.create_task(write_more())
        got = await take(events, 110)
        later = await more
    expected = sorted(kv.mod_revision for kv in first[10:] + later)
    assert [e.revision for e in got] == expected


async def test_slow_watcher_loses_nothing(store: SqliteStore) -> None:
    async with store.watch("/slow/") as events:
        await asyncio.gather(*(store.create(f"/slow/{i:04d}", b"v") for i in range(1000)))
        got = await take(events, 1000)
    assert len({e.kv.key for e in got}) == 1000


async def test_watches_end_when_the_store_closes(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "state.db")
    async with store.watch("/") as events:
        await store.create("/a", b"1")
        closing = asyncio.create_task(store.close())
        got = [event async for event in events]
        await closing
    assert [e.kv.key for e in got] == ["/a"]
    with pytest.raises(Unavailable, match="closed"):
        await store.get("/a")
    await store.close()  # idempotent


# --- key ranges -----------------------------------------------------------------------


def test_prefix_end_bounds_exactly_the_keys_under_a_prefix() -> None:
    assert prefix_end("/a/") == "/a0"
    assert prefix_end("/a\ud7ff") == "/a\ue000"  # skips the unencodable surrogates
    assert prefix_end("/a\U0010ffff") == "/b"
    assert prefix_end("\U0010ffff") is None
    assert prefix_end("") is None


async def test_list_and_watch_with_unusual_prefixes(store: SqliteStore) -> None:
    keys = ["/u/\U0010ffff", "/u/\U0010ffff/x", "/u/\ue000", "/u/\ud7ff", "/v"]
    async with store.watch("/u/\U0010ffff") as events:
        for key in keys:
            await store.create(key, b"v")
        got = await take(events, 2)
    assert [e.kv.key for e in got] == ["/u/\U0010ffff", "/u/\U0010ffff/x"]
    assert [kv.key for kv in (await store.list("/u/")).kvs] == sorted(keys[:4])
    assert [kv.key for kv in (await store.list("/u/\U0010ffff")).kvs] == keys[:2]
    assert await store.count("") == 5


async def test_keys_with_unusual_characters_behave_like_any_other(store: SqliteStore) -> None:
    keys = ["/k/nul\0a", "/k/nul\0b", '/k/quote"\\', "/k/ctl\x01\n", "/k/é", "/k/\U0001f600"]
    for key in keys:
        kv = await store.create(key, b"1")
        with pytest.raises(KeyExists):
            await store.create(key, b"2")
        assert await store.update(key, b"3", expected_mod_revision=kv.mod_revision)
    assert [kv.key for kv in (await store.list("/k/")).kvs] == sorted(keys)


async def test_an_unencodable_key_fails_alone(store: SqliteStore) -> None:
    async def bad() -> KeyValue:
        return await store.create("/k/\ud800", b"1")

    results = await asyncio.gather(
        store.create("/k/a", b"1"), bad(), store.create("/k/b", b"1"), return_exceptions=True
    )
    assert isinstance(results[1], UnicodeEncodeError)
    assert isinstance(results[0], KeyValue) and isinstance(results[2], KeyValue)
