"""`Informer` and `SharedInformerFactory` against a real API server: list then watch,
handler order, re-list after 410 with the differences delivered, resuming a broken
watch without a re-list, resync on a fake clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    DeletedFinalStateUnknown,
    Expired,
    FakeClock,
    Informer,
    SharedInformerFactory,
)
from kybernetes.client.resource import CONFIGMAPS, NAMESPACES, NODES

from .conftest import Serve

Obj = dict[str, Any]
Event = tuple[str, ...]


class Recorder:
    """Handlers that record what they see, and a way to wait for it."""

    def __init__(self, informer: Informer) -> None:
        self.events: list[Event] = []
        self._grew = asyncio.Event()
        informer.add_handler(self.on_add, self.on_update, self.on_delete)

    def _record(self, *event: str) -> None:
        self.events.append(event)
        self._grew.set()

    def on_add(self, obj: Obj) -> None:
        self._record("add", obj["metadata"]["name"], _value(obj))

    def on_update(self, old: Obj, new: Obj) -> None:
        self._record("update", new["metadata"]["name"], _value(old), _value(new))

    def on_delete(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        if isinstance(obj, DeletedFinalStateUnknown):
            self._record("delete-unknown", obj.key, _value(obj.obj))
        else:
            self._record("delete", obj["metadata"]["name"], _value(obj))

    async def wait_for(self, count: int) -> list[Event]:
        async with asyncio.timeout(15):
            while len(self.events) < count:
                self._grew.clear()
                await self._grew.wait()
        return self.events[:count]

    def take(self) -> list[Event]:
        events, self.events = self.events, []
        return events


def _value(obj: Obj) -> str:
    return str((obj.get("data") or {}).get("v", ""))


def configmap(name: str, value: str) -> Obj:
    return {"metadata": {"name": name}, "data": {"v": value}}


@asynccontextmanager
async def running(informer: Informer) -> AsyncIterator[Informer]:
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(informer.run())
        try:
            async with asyncio.timeout(15):
                await informer.has_synced.wait()
            yield informer
        finally:
            task.cancel()


class CountingClient(APIClient):
    lists = 0

    async def list(self, *args: Any, **kwargs: Any) -> Obj:
        self.lists += 1
        return await super().list(*args, **kwargs)


async def test_lists_in_pages_then_watches_in_order(client: APIClient, namespace: str) -> None:
    for name in ("a", "b", "c"):
        await client.create(CONFIGMAPS, configmap(name, "1"), namespace=namespace)
    informer = Informer(client, CONFIGMAPS, namespace, page_size=2)
    recorder = Recorder(informer)
    async with running(informer):
        assert recorder.take() == [("add", "a", "1"), ("add", "b", "1"), ("add", "c", "1")]
        cached = informer.indexer.get(f"{namespace}/a")
        assert cached is not None
        assert (cached["kind"], cached["apiVersion"]) == ("ConfigMap", "v1")
        assert len(informer.indexer.by_index(BY_NAMESPACE, namespace)) == 3

        await client.create(CONFIGMAPS, configmap("d", "1"), namespace=namespace)
        await client.patch(CONFIGMAPS, "a", {"data": {"v": "2"}}, namespace=namespace)
        await client.delete(CONFIGMAPS, "b", namespace)
        await client.patch(CONFIGMAPS, "a", {"data": {"v": "3"}}, namespace=namespace)
        assert await recorder.wait_for(4) == [
            ("add", "d", "1"),
            ("update", "a", "1", "2"),
            ("delete", "b", "1"),
            ("update", "a", "2", "3"),
        ]
        assert sorted(informer.indexer.keys()) == [f"{namespace}/{n}" for n in "acd"]
        assert informer.indexer.get(f"{namespace}/a") == await client.get(
            CONFIGMAPS, "a", namespace
        )


async def test_relists_after_410_and_delivers_the_differences(serve: Serve) -> None:
    async with serve(history_size=4) as server, APIClient(server.config) as client:
        await client.create(NAMESPACES, {"metadata": {"name": "watched"}})
        await client.create(NAMESPACES, {"metadata": {"name": "noise"}})
        for name in ("keep", "change", "vanish"):
            await client.create(CONFIGMAPS, configmap(name, "1"), namespace="watched")
        informer = Informer(client, CONFIGMAPS, "watched")
        recorder = Recorder(informer)
        async with running(informer):
            recorder.take()
            await server.gate.wait_for(lambda g: g.served == 1)
            server.gate.open.clear()
            server.gate.break_watches()  # the informer resumes: its watch is held...
            await server.gate.wait_for(lambda g: g.held == 1)
            # ...while it misses changes, and the history moves past its version.
            await client.create(CONFIGMAPS, configmap("new", "1"), namespace="watched")
            await client.patch(CONFIGMAPS, "change", {"data": {"v": "2"}}, namespace="watched")
            await client.delete(CONFIGMAPS, "vanish", "watched")
            for i in range(10):
                await client.create(CONFIGMAPS, configmap(f"n{i}", "1"), namespace="noise")
            server.gate.open.set()  # 410 -> list -> differences -> watch again
            events = await recorder.wait_for(3)
            assert sorted(events) == [
                ("add", "new", "1"),
                ("delete-unknown", "watched/vanish", "1"),
                ("update", "change", "1", "2"),
            ]
            await server.gate.wait_for(lambda g: g.served == 3)
            await client.delete(CONFIGMAPS, "keep", "watched")
            assert await recorder.wait_for(4) == [*events, ("delete", "keep", "1")]
            assert sorted(informer.indexer.keys()) == ["watched/change", "watched/new"]


async def test_a_broken_watch_resumes_without_a_relist(serve: Serve) -> None:
    async with serve() as server, CountingClient(server.config) as client:
        await client.create(NAMESPACES, {"metadata": {"name": "watched"}})
        informer = Informer(client, CONFIGMAPS, "watched")
        recorder = Recorder(informer)
        async with running(informer):
            await server.gate.wait_for(lambda g: g.served == 1)
            server.gate.open.clear()
            server.gate.break_watches()
            await server.gate.wait_for(lambda g: g.held == 1)
            await client.create(CONFIGMAPS, configmap("missed", "1"), namespace="watched")
            server.gate.open.set()
            assert await recorder.wait_for(1) == [("add", "missed", "1")]
            assert client.lists == 1


async def test_resync_redelivers_every_cached_object(client: APIClient, namespace: str) -> None:
    for name in ("a", "b"):
        await client.create(CONFIGMAPS, configmap(name, "1"), namespace=namespace)
    clock = FakeClock()
    informer = Informer(client, CONFIGMAPS, namespace, resync_period=30, clock=clock)
    recorder = Recorder(informer)
    async with running(informer):
        recorder.take()
        clock.advance(29)
        assert recorder.take() == []
        clock.advance(1)
        assert sorted(recorder.take()) == [("update", "a", "1", "1"), ("update", "b", "1", "1")]
        clock.advance(30)
        assert len(recorder.take()) == 2
    assert clock.pending == 0  # the resync timer stops with the informer


async def test_a_late_handler_first_gets_what_is_cached(client: APIClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("a", "1"), namespace=namespace)
    informer = Informer(client, CONFIGMAPS, namespace)
    failing_calls: list[str] = []

    def failing(obj: Obj) -> None:
        failing_calls.append(obj["metadata"]["name"])
        raise RuntimeError("handlers must not raise, but if they do, others still run")

    async with running(informer):
        informer.add_handler(on_add=failing)
        recorder = Recorder(informer)
        assert recorder.take() == [("add", "a", "1")]
        await client.create(CONFIGMAPS, configmap("b", "1"), namespace=namespace)
        assert await recorder.wait_for(1) == [("add", "b", "1")]
    assert failing_calls == ["a", "b"]


async def test_selectors_narrow_the_informer(client: APIClient, namespace: str) -> None:
    labelled = {"metadata": {"name": "in", "labels": {"pick": "yes"}}, "data": {"v": "1"}}
    await client.create(CONFIGMAPS, labelled, namespace=namespace)
    await client.create(CONFIGMAPS, configmap("out", "1"), namespace=namespace)
    informer = Informer(client, CONFIGMAPS, namespace, label_selector="pick=yes")
    recorder = Recorder(informer)
    async with running(informer):
        assert recorder.take() == [("add", "in", "1")]
        await client.patch(
            CONFIGMAPS, "in", {"metadata": {"labels": {"pick": "no"}}}, namespace=namespace
        )
        assert await recorder.wait_for(1) == [("delete", "in", "1")]  # left the selector


class ExpiringContinueClient:
    """Pages with a continue token that has expired by the time it is used."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def list(self, resource: object, namespace: str, **options: Any) -> Obj:
        self.calls.append(options)
        if options.get("continue_"):
            raise Expired({"code": 410, "reason": "Expired", "message": "continue too old"})
        items = [{"metadata": {"name": n, "resourceVersion": "5"}} for n in ("a", "b")]
        if options.get("limit"):
            meta = {"resourceVersion": "5", "continue": "token"}
            return {
                "kind": "ConfigMapList",
                "apiVersion": "v1",
                "metadata": meta,
                "items": items[:1],
            }
        meta = {"resourceVersion": "9"}
        return {"kind": "ConfigMapList", "apiVersion": "v1", "metadata": meta, "items": items}


async def test_an_expired_continue_token_restarts_the_list_unpaginated() -> None:
    stub = ExpiringContinueClient()
    informer = Informer(cast(APIClient, stub), CONFIGMAPS, "ns", page_size=1)
    await informer._list()
    assert [c.get("limit", 0) for c in stub.calls] == [1, 1, 0]
    assert sorted(informer.indexer.keys()) == ["a", "b"]
    assert informer.last_resource_version == "9"
    assert informer.has_synced.is_set()


async def test_factory_shares_informers_and_starts_late_ones(
    client: APIClient, namespace: str
) -> None:
    await client.create(CONFIGMAPS, configmap("a", "1"), namespace=namespace)
    factory = SharedInformerFactory(client, namespace=namespace)
    configmaps = factory.informer(CONFIGMAPS)
    assert factory.informer(CONFIGMAPS, namespace=namespace) is configmaps
    assert factory.informer(CONFIGMAPS, namespace="") is not configmaps
    assert factory.informer(NODES, namespace="x") is factory.informer(NODES)
    assert len(factory.informers) == 3
    async with factory.running():
        async with asyncio.timeout(15):
            await factory.wait_for_cache_sync()
        assert configmaps.indexer.keys() == [f"{namespace}/a"]
        late = factory.informer(NAMESPACES)
        async with asyncio.timeout(15):
            await factory.wait_for_cache_sync()
        assert namespace in late.indexer
    assert all(i.has_synced.is_set() for i in factory.informers)
