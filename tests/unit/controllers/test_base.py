"""The controllers' shared plumbing: event handlers that enqueue keys, owner lookups,
and `run_queues` (waits for the caches, runs the workers, shuts the queues down)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kybernetes.api.selectors import Selector, label_selector_as_selector
from kybernetes.client import DeletedFinalStateUnknown, FakeClock, Informer, WorkQueue
from kybernetes.client.resource import PODS, REPLICASETS
from kybernetes.controllers.base import (
    Workers,
    controller_key,
    enqueue_keys,
    enqueue_related,
    enqueue_selecting,
    event_key,
    event_object,
    run_queues,
)

from .fakes import FakeClient

Obj = dict[str, Any]


def obj(name: str, namespace: str = "ns", **meta: Any) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", **meta}}


def informer(resource: Any = PODS) -> Informer:
    return Informer(FakeClient(), resource, clock=FakeClock())  # type: ignore[arg-type]


async def drain(queue: WorkQueue[str]) -> list[str]:
    """The queued keys, in order (each taken and marked done)."""
    keys = []
    while len(queue):
        key = await queue.get()
        queue.done(key)
        keys.append(key)
    return keys


def test_event_object_and_key_unwrap_tombstones() -> None:
    live = obj("a")
    tombstone = DeletedFinalStateUnknown("ns/gone", obj("last-known"))
    assert event_object(live) is live
    assert event_object(tombstone) == obj("last-known")
    assert event_key(live) == "ns/a"
    assert event_key(tombstone) == "ns/gone"
    assert event_key({"metadata": {"name": "node-1"}}) == "node-1"


async def test_enqueue_keys_queues_own_keys_on_every_event() -> None:
    inf, queue = informer(), WorkQueue[str](clock=FakeClock())
    enqueue_keys(inf, queue)
    inf._notify_add(obj("a"))
    inf._notify_update(obj("b"), obj("c"))
    inf._notify_delete(obj("d"))
    inf._notify_delete(DeletedFinalStateUnknown("ns/e", obj("stale")))
    assert await drain(queue) == ["ns/a", "ns/c", "ns/d", "ns/e"]


async def test_enqueue_keys_filters_and_can_skip_deletions() -> None:
    inf, queue = informer(), WorkQueue[str](clock=FakeClock())
    enqueue_keys(inf, queue, when=lambda o: o["metadata"]["name"] != "skip", deletes=False)
    inf._notify_add(obj("skip"))
    inf._notify_add(obj("a"))
    inf._notify_update(obj("a"), obj("skip"))
    inf._notify_delete(obj("b"))
    assert await drain(queue) == ["ns/a"]


async def test_enqueue_keys_sees_the_objects_already_cached() -> None:
    inf, queue = informer(), WorkQueue[str](clock=FakeClock())
    inf.indexer.add(obj("cached"))
    enqueue_keys(inf, queue)
    assert await drain(queue) == ["ns/cached"]


async def test_enqueue_related_queues_the_keys_an_object_names() -> None:
    inf, queue = informer(), WorkQueue[str](clock=FakeClock())
    enqueue_related(inf, queue, lambda o: [f"owner-of-{o['metadata']['name']}", "shared"])
    inf._notify_add(obj("a"))
    inf._notify_update(obj("a"), obj("b"))
    inf._notify_delete(DeletedFinalStateUnknown("ns/c", obj("c")))
    assert await drain(queue) == ["owner-of-a", "shared", "owner-of-b", "owner-of-c"]


def owned(uid: str, kind: str = "ReplicaSet", name: str = "rs", controller: bool = True) -> Obj:
    ref = {"kind": kind, "name": name, "uid": uid, "controller": controller}
    return obj("pod", ownerReferences=[{"kind": "Other", "name": "x", "uid": "u"}, ref])


def test_controller_key_needs_the_kind_name_and_uid_of_a_cached_owner() -> None:
    owners = informer(REPLICASETS)
    owners.indexer.add(obj("rs"))
    assert controller_key(owners, owned("uid-rs"), "ReplicaSet") == "ns/rs"
    assert controller_key(owners, owned("uid-old"), "ReplicaSet") is None  # a namesake
    assert controller_key(owners, owned("uid-rs", kind="Job"), "ReplicaSet") is None
    assert controller_key(owners, owned("uid-rs", name="other"), "ReplicaSet") is None
    assert controller_key(owners, owned("uid-rs", controller=False), "ReplicaSet") is None
    assert controller_key(owners, obj("orphan"), "ReplicaSet") is None
    elsewhere = {**owned("uid-rs"), "metadata": {**owned("uid-rs")["metadata"], "namespace": "x"}}
    assert controller_key(owners, elsewhere, "ReplicaSet") is None


async def test_enqueue_selecting_queues_the_namespaces_owners_whose_selector_matches() -> None:
    owners, queue = informer(REPLICASETS), WorkQueue[str](clock=FakeClock())
    specs = {
        "web": {"matchLabels": {"app": "web"}},
        "db": {"matchLabels": {"app": "db"}},
        "broken": {"matchExpressions": [{"key": "app", "operator": "Bogus"}]},
        "none": None,
    }
    for name, selector in specs.items():
        owners.indexer.add({**obj(name), "spec": {"selector": selector}})
    owners.indexer.add({**obj("web2", namespace="other"), "spec": {"selector": specs["web"]}})

    def selector_of(owner: Obj) -> Selector | None:
        selector = owner["spec"]["selector"]
        return None if selector is None else label_selector_as_selector(selector)

    pod = obj("p", labels={"app": "web"})
    enqueue_selecting(queue, owners, pod, selector_of)
    assert await drain(queue) == ["ns/web"]


async def test_run_queues_waits_for_the_caches_then_runs_every_queue() -> None:
    clock = FakeClock()
    first, second = informer(), informer()
    queue, other = WorkQueue[str](clock=clock), WorkQueue[str](clock=clock)
    synced: list[str] = []
    events: list[str] = []
    both = asyncio.Event()

    async def sync(key: str) -> None:
        synced.append(key)
        if len(synced) == 2:
            both.set()

    async def sync_other(key: str) -> None:
        await sync(f"other:{key}")

    queue.add("a")
    other.add("b")
    task = asyncio.create_task(
        run_queues(
            [first, second],
            Workers(queue, sync, 2),
            Workers(other, sync_other),
            on_synced=lambda: events.append(f"synced after {list(synced)}"),
        )
    )
    first.has_synced.set()
    for _ in range(20):
        await asyncio.sleep(0)
    assert synced == [] and events == []  # `second` has not synced yet
    second.has_synced.set()
    async with asyncio.timeout(5):
        await both.wait()
    assert sorted(synced) == ["a", "other:b"]
    assert events == ["synced after []"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.shutting_down and other.shutting_down


async def test_run_queues_shuts_the_queues_down_when_cancelled_while_waiting() -> None:
    queue = WorkQueue[str](clock=FakeClock())

    async def sync(key: str) -> None:
        raise AssertionError("no sync before the caches synced")

    task = asyncio.create_task(run_queues([informer()], Workers(queue, sync)))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert queue.shutting_down
