"""The watch cache against a real SQLite store: lists, watches, selectors, history."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest

from kybernetes.apiserver.stored import StoredObject
from kybernetes.apiserver.watchcache import CacheEvent, CacheWatcher, TooOld, WatchCache
from kybernetes.store import Store, open_store

PREFIX = "/registry/configmaps/"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite://{tmp_path}/state.db")
    yield opened
    await opened.close()


@pytest.fixture
async def cache(store: Store) -> AsyncIterator[WatchCache]:
    watch_cache = WatchCache(store, history_size=8)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(watch_cache.run())
        await asyncio.wait_for(watch_cache.ready.wait(), 5)
        yield watch_cache
        task.cancel()


def cm(name: str, namespace: str = "ns", **labels: str) -> bytes:
    meta = {"name": name, "namespace": namespace, "labels": labels}
    return orjson.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta})


async def next_events(watcher: CacheWatcher, n: int) -> list[CacheEvent]:
    async def take() -> list[CacheEvent]:
        got = []
        async for event in watcher.events():
            got.append(event)
            if len(got) == n:
                return got
        return got

    return await asyncio.wait_for(take(), 5)


def labelled(key: str, value: str) -> Callable[[StoredObject], bool]:
    return lambda o: o.labels.get(key) == value


async def test_lists_are_consistent_after_wait_fresh(store: Store, cache: WatchCache) -> None:
    await store.create(PREFIX + "ns/a", cm("a"))
    await store.create(PREFIX + "other/b", cm("b", "other"))
    await store.create("/registry/secrets/ns/s", cm("s"))
    revision = await cache.wait_fresh()
    assert revision == await store.current_revision()
    assert [o.name for o in cache.list(PREFIX, namespaced=True)] == ["a", "b"]
    assert [o.name for o in cache.list(PREFIX, namespaced=True, namespace="ns")] == ["a"]
    got = cache.get(PREFIX + "ns/a")
    assert got is not None and got.metadata["resourceVersion"] == str(got.revision)


async def test_object_leaving_the_selector_is_a_deleted_event(
    store: Store, cache: WatchCache
) -> None:
    await cache.wait_fresh()
    watcher = cache.watch(PREFIX, cache.revision, labelled("app", "web"))
    a = await store.create(PREFIX + "ns/a", cm("a", app="db"))
    a = await store.update(
        PREFIX + "ns/a", cm("a", app="web"), expected_mod_revision=a.mod_revision
    )
    moved = await store.update(
        PREFIX + "ns/a", cm("a", app="db"), expected_mod_revision=a.mod_revision
    )
    events = await next_events(watcher, 2)
    assert [e.type for e in events] == ["ADDED", "DELETED"]
    deleted = events[1].obj
    assert deleted is not None
    assert deleted.labels == {"app": "web"}  # the last state that matched ...
    assert deleted.metadata["resourceVersion"] == str(moved.mod_revision)  # ... at the new RV


async def test_watch_resumes_from_history_and_rejects_older(
    store: Store, cache: WatchCache
) -> None:
    start = await cache.wait_fresh()
    for i in range(3):
        await store.create(f"{PREFIX}ns/c{i}", cm(f"c{i}"))
    await cache.wait_fresh()
    watcher = cache.watch(PREFIX + "ns/", start, lambda o: True)
    assert [e.obj.name for e in await next_events(watcher, 3) if e.obj] == ["c0", "c1", "c2"]
    for i in range(20):  # far more than the history keeps
        await store.create(f"{PREFIX}ns/d{i}", cm(f"d{i}"))
    await cache.wait_fresh()
    with pytest.raises(TooOld):
        cache.watch(PREFIX, start, lambda o: True)
