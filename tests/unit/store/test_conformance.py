"""The store conformance suite: every `Store` operation, run unchanged on every backend.

Revisions are compared only relative to the test's own writes, never as absolute
numbers, because a shared etcd's revision counts every test's writes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kybernetes.store import (
    Compacted,
    Conflict,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    Store,
)

TIMEOUT = 10.0


async def take(events: AsyncIterator[Event], n: int) -> list[Event]:
    """The next `n` events, failing the test if they do not come within TIMEOUT."""

    async def collect() -> list[Event]:
        got = []
        async for event in events:
            got.append(event)
            if len(got) == n:
                break
        return got

    return await asyncio.wait_for(collect(), TIMEOUT)


def summary(events: list[Event]) -> list[tuple[str, str, bytes]]:
    return [(e.type.value, e.kv.key, e.kv.value) for e in events]


# --- create / get / update / delete ---------------------------------------------------


async def test_create_then_get(store: Store, prefix: str) -> None:
    before = await store.current_revision()
    kv = await store.create(prefix + "a", b"1")
    assert kv.key == prefix + "a"
    assert kv.value == b"1"
    assert kv.mod_revision == kv.create_revision > before
    assert await store.get(prefix + "a") == kv
    assert await store.current_revision() >= kv.mod_revision


async def test_get_missing_is_none(store: Store, prefix: str) -> None:
    assert await store.get(prefix + "missing") is None


async def test_create_existing_fails_and_changes_nothing(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1")
    with pytest.raises(KeyExists):
        await store.create(prefix + "a", b"2")
    assert await store.get(prefix + "a") == kv


async def test_update_compares_mod_revision(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1")
    updated = await store.update(prefix + "a", b"2", expected_mod_revision=kv.mod_revision)
    assert updated.value == b"2"
    assert updated.create_revision == kv.create_revision
    assert updated.mod_revision > kv.mod_revision

    with pytest.raises(Conflict) as caught:
        await store.update(prefix + "a", b"3", expected_mod_revision=kv.mod_revision)
    assert caught.value.current == updated
    assert await store.get(prefix + "a") == updated


async def test_update_missing_fails(store: Store, prefix: str) -> None:
    with pytest.raises(KeyNotFound):
        await store.update(prefix + "nope", b"1", expected_mod_revision=1)
    assert await store.get(prefix + "nope") is None


async def test_delete_returns_last_state(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1")
    deleted = await store.delete(prefix + "a")
    assert deleted.value == b"1"
    assert deleted.create_revision == kv.create_revision
    assert deleted.mod_revision > kv.mod_revision
    assert await store.get(prefix + "a") is None
    with pytest.raises(KeyNotFound):
        await store.delete(prefix + "a")


async def test_delete_precondition(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1")
    updated = await store.update(prefix + "a", b"2", expected_mod_revision=kv.mod_revision)
    with pytest.raises(Conflict):
        await store.delete(prefix + "a", expected_mod_revision=kv.mod_revision)
    assert await store.get(prefix + "a") == updated
    await store.delete(prefix + "a", expected_mod_revision=updated.mod_revision)
    assert await store.get(prefix + "a") is None


async def test_recreate_after_delete_is_a_new_key(store: Store, prefix: str) -> None:
    first = await store.create(prefix + "a", b"1")
    await store.delete(prefix + "a")
    second = await store.create(prefix + "a", b"2")
    assert second.create_revision > first.create_revision
    assert second.create_revision == second.mod_revision


async def test_every_write_gets_a_new_increasing_revision(store: Store, prefix: str) -> None:
    a = await store.create(prefix + "a", b"1")
    b = await store.create(prefix + "b", b"1")
    a2 = await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
    d = await store.delete(prefix + "b")
    assert a.mod_revision < b.mod_revision < a2.mod_revision < d.mod_revision
    assert await store.current_revision() >= d.mod_revision


# --- list -----------------------------------------------------------------------------


async def test_list_prefix_in_key_order(store: Store, prefix: str) -> None:
    for name in ["c", "a", "b"]:
        await store.create(prefix + "x/" + name, name.encode())
    await store.create(prefix + "xy/other", b"no")
    await store.create(prefix + "x", b"no")
    result = await store.list(prefix + "x/")
    assert [kv.key for kv in result.kvs] == [prefix + "x/a", prefix + "x/b", prefix + "x/c"]
    assert [kv.value for kv in result.kvs] == [b"a", b"b", b"c"]
    assert not result.more
    assert result.revision >= max(kv.mod_revision for kv in result.kvs)
    assert await store.count(prefix + "x/") == 3


async def test_list_excludes_deleted(store: Store, prefix: str) -> None:
    await store.create(prefix + "a", b"1")
    await store.create(prefix + "b", b"1")
    await store.delete(prefix + "a")
    assert [kv.key for kv in (await store.list(prefix)).kvs] == [prefix + "b"]
    assert await store.count(prefix) == 1


async def test_list_pages(store: Store, prefix: str) -> None:
    keys = [f"{prefix}{i:03d}" for i in range(25)]
    for key in keys:
        await store.create(key, b"v")
    seen: list[str] = []
    start_after = None
    revision = 0
    pages = 0
    while True:
        page = await store.list(prefix, revision=revision, limit=10, start_after=start_after)
        revision = page.revision
        seen += [kv.key for kv in page.kvs]
        pages += 1
        if not page.more:
            break
        assert len(page.kvs) == 10
        start_after = page.kvs[-1].key
    assert seen == keys
    assert pages == 3


async def test_continue_reads_the_same_snapshot_across_writes(store: Store, prefix: str) -> None:
    for i in range(6):
        await store.create(f"{prefix}{i}", f"v{i}".encode())
    first = await store.list(prefix, limit=3)
    assert first.more
    # Writes after the first page must not show up in the rest of the same snapshot.
    kv4 = await store.get(f"{prefix}4")
    assert kv4 is not None
    await store.update(f"{prefix}4", b"changed", expected_mod_revision=kv4.mod_revision)
    await store.delete(f"{prefix}5")
    await store.create(f"{prefix}9", b"new")
    rest = await store.list(prefix, revision=first.revision, start_after=first.kvs[-1].key)
    assert rest.revision == first.revision
    assert [(kv.key, kv.value) for kv in rest.kvs] == [
        (f"{prefix}3", b"v3"),
        (f"{prefix}4", b"v4"),
        (f"{prefix}5", b"v5"),
    ]
    now = await store.list(prefix, start_after=first.kvs[-1].key)
    assert [(kv.key, kv.value) for kv in now.kvs] == [
        (f"{prefix}3", b"v3"),
        (f"{prefix}4", b"changed"),
        (f"{prefix}9", b"new"),
    ]


async def test_list_at_old_revision(store: Store, prefix: str) -> None:
    a = await store.create(prefix + "a", b"1")
    await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
    await store.delete(prefix + "a")
    old = await store.list(prefix, revision=a.mod_revision)
    assert old.kvs == [a]
    assert (await store.list(prefix)).kvs == []


async def test_list_at_future_revision_fails(store: Store, prefix: str) -> None:
    await store.create(prefix + "a", b"1")
    current = await store.current_revision()
    with pytest.raises(FutureRevision):
        await store.list(prefix, revision=current + 1000)


# --- guaranteed update ----------------------------------------------------------------


async def test_guaranteed_update_creates_updates_and_skips_no_ops(
    store: Store, prefix: str
) -> None:
    key = prefix + "counter"
    assert await store.guaranteed_update(key, lambda kv: None) is None
    created = await store.guaranteed_update(key, lambda kv: b"0")
    assert created is not None and created.value == b"0"
    unchanged = await store.guaranteed_update(key, lambda kv: kv.value if kv else b"x")
    assert unchanged == created
    assert await store.get(key) == created


async def test_guaranteed_update_under_contention_loses_nothing(store: Store, prefix: str) -> None:
    key = prefix + "counter"
    await store.create(key, b"0")

    def increment(kv: KeyValue | None) -> bytes:
        assert kv is not None
        return str(int(kv.value) + 1).encode()

    await asyncio.gather(*(store.guaranteed_update(key, increment) for _ in range(40)))
    final = await store.get(key)
    assert final is not None and final.value == b"40"


async def test_concurrent_compare_and_swap_exactly_one_wins(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"0")
    results = await asyncio.gather(
        *(
            store.update(prefix + "a", str(i).encode(), expected_mod_revision=kv.mod_revision)
            for i in range(20)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, KeyValue)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if r not in winners)
    assert await store.get(prefix + "a") == winners[0]


async def test_concurrent_creates_of_one_key_exactly_one_wins(store: Store, prefix: str) -> None:
    results = await asyncio.gather(
        *(store.create(prefix + "a", str(i).encode()) for i in range(20)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, KeyValue)]
    assert len(winners) == 1
    assert all(isinstance(r, KeyExists) for r in results if r not in winners)


async def test_many_concurrent_writers_lose_nothing(store: Store, prefix: str) -> None:
    async def writer(w: int) -> list[KeyValue]:
        return [await store.create(f"{prefix}{w:02d}/{i:02d}", b"v") for i in range(10)]

    written = [kv for kvs in await asyncio.gather(*(writer(w) for w in range(30))) for kv in kvs]
    revisions = [kv.mod_revision for kv in written]
    assert len(set(revisions)) == len(revisions) == 300
    listed = await store.list(prefix)
    assert {kv.key: kv for kv in listed.kvs} == {kv.key: kv for kv in written}


# --- watch ----------------------------------------------------------------------------


async def test_watch_from_now(store: Store, prefix: str) -> None:
    async with store.watch(prefix) as events:
        a = await store.create(prefix + "a", b"1")
        a2 = await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
        deleted = await store.delete(prefix + "a")
        got = await take(events, 3)
    assert [e.type for e in got] == [EventType.ADDED, EventType.MODIFIED, EventType.DELETED]
    assert got[0].kv == a and got[0].prev is None
    assert got[1].kv == a2 and got[1].prev == a
    assert got[2].kv == deleted and got[2].prev == a2
    assert got[2].kv.value == b"2"
    assert [e.revision for e in got] == [a.mod_revision, a2.mod_revision, deleted.mod_revision]


async def test_watch_only_sees_its_prefix(store: Store, prefix: str) -> None:
    async with store.watch(prefix + "in/") as events:
        await store.create(prefix + "out/a", b"1")
        await store.create(prefix + "inside", b"1")
        await store.create(prefix + "in/a", b"1")
        got = await take(events, 1)
    assert summary(got) == [("ADDED", prefix + "in/a", b"1")]


async def test_watch_from_old_revision_replays_in_order_then_goes_live(
    store: Store, prefix: str
) -> None:
    start = await store.create(prefix + "start", b"0")
    a = await store.create(prefix + "a", b"1")
    await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
    await store.create(prefix + "b", b"1")
    await store.delete(prefix + "start")
    async with store.watch(prefix, revision=start.mod_revision) as events:
        replayed = await take(events, 4)
        await store.create(prefix + "c", b"1")
        live = await take(events, 1)
    assert summary(replayed) == [
        ("ADDED", prefix + "a", b"1"),
        ("MODIFIED", prefix + "a", b"2"),
        ("ADDED", prefix + "b", b"1"),
        ("DELETED", prefix + "start", b"0"),
    ]
    assert summary(live) == [("ADDED", prefix + "c", b"1")]
    revisions = [e.revision for e in replayed + live]
    assert revisions == sorted(revisions) and len(set(revisions)) == 5
    assert replayed[1].prev is not None and replayed[1].prev.value == b"1"


async def test_watch_under_concurrent_writes_sees_each_once_in_order(
    store: Store, prefix: str
) -> None:
    async with store.watch(prefix) as events:
        written = await asyncio.gather(
            *(store.create(f"{prefix}{i:03d}", b"v") for i in range(100))
        )
        got = await take(events, 100)
    assert [e.revision for e in got] == sorted(kv.mod_revision for kv in written)


async def test_watchers_are_independent(store: Store, prefix: str) -> None:
    async with store.watch(prefix) as first, store.watch(prefix) as second:
        await store.create(prefix + "a", b"1")
        got_first = await take(first, 1)
        got_second = await take(second, 1)
    assert summary(got_first) == summary(got_second) == [("ADDED", prefix + "a", b"1")]


# --- compaction -----------------------------------------------------------------------


async def test_compaction_keeps_current_state_and_drops_history(store: Store, prefix: str) -> None:
    a = await store.create(prefix + "a", b"1")
    a2 = await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
    b = await store.create(prefix + "b", b"1")
    await store.delete(prefix + "b")
    c = await store.create(prefix + "c", b"1")
    await store.compact(c.mod_revision)
    assert await store.compacted_revision() == c.mod_revision - 1

    assert (await store.list(prefix)).kvs == [a2, c]
    assert (await store.list(prefix, revision=c.mod_revision)).kvs == [a2, c]
    with pytest.raises(Compacted):
        await store.list(prefix, revision=b.mod_revision)
    assert await store.get(prefix + "a") == a2


async def test_watch_older_than_compaction_fails(store: Store, prefix: str) -> None:
    a = await store.create(prefix + "a", b"1")
    await store.update(prefix + "a", b"2", expected_mod_revision=a.mod_revision)
    b = await store.create(prefix + "b", b"1")
    await store.compact(b.mod_revision)
    with pytest.raises(Compacted):
        async with store.watch(prefix, revision=a.mod_revision) as events:
            await take(events, 1)
    # From the compacted revision on, watching works.
    async with store.watch(prefix, revision=b.mod_revision) as events:
        await store.create(prefix + "c", b"1")
        assert summary(await take(events, 1)) == [("ADDED", prefix + "c", b"1")]


# --- time to live ---------------------------------------------------------------------


async def test_ttl_expiry_deletes_the_key(store: Store, prefix: str) -> None:
    async with store.watch(prefix) as events:
        await store.create(prefix + "event", b"e", ttl=1)
        await store.create(prefix + "keep", b"k")
        got = await take(events, 3)
    assert summary(got) == [
        ("ADDED", prefix + "event", b"e"),
        ("ADDED", prefix + "keep", b"k"),
        ("DELETED", prefix + "event", b"e"),
    ]
    assert await store.get(prefix + "event") is None
    assert await store.get(prefix + "keep") is not None


async def test_update_without_ttl_stops_expiry(store: Store, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1", ttl=1)
    await store.update(prefix + "a", b"2", expected_mod_revision=kv.mod_revision)
    async with store.watch(prefix) as events:
        # A marker expiring later than the original TTL proves "a" outlived it.
        await store.create(prefix + "marker", b"m", ttl=3)
        got = await take(events, 2)
    assert summary(got) == [
        ("ADDED", prefix + "marker", b"m"),
        ("DELETED", prefix + "marker", b"m"),
    ]
    current = await store.get(prefix + "a")
    assert current is not None and current.value == b"2"
