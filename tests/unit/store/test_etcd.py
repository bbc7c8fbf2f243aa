"""The etcd backend beyond the conformance suite: fail-over between members, unreachable
clusters, multi-endpoint URLs, retried writes whose first reply was lost, closing.

Every test runs real etcd processes on loopback (skipped when etcd is not installed);
`EtcdCluster` kills them and removes their data even when a test fails.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from kybernetes.store import (
    Event,
    EventType,
    KeyExists,
    KeyValue,
    StoreError,
    Unavailable,
    open_store,
    parse_endpoint,
)
from kybernetes.store.etcd import EtcdStore
from kybernetes.store.etcd_conn import TransientError
from tests.support.etcd import EtcdCluster, etcd_available

pytestmark = [
    pytest.mark.etcd,
    pytest.mark.skipif(not etcd_available(), reason="etcd is not installed (etcd-server)"),
]

TIMEOUT = 30.0


@pytest.fixture
def cluster3(tmp_path: Path) -> Iterator[EtcdCluster]:
    with EtcdCluster(size=3, base_dir=tmp_path) as cluster:
        yield cluster


@pytest.fixture
async def store(etcd_cluster: EtcdCluster) -> AsyncIterator[EtcdStore]:
    """A store on the session's single etcd member (see conftest.py)."""
    opened = await EtcdStore.open(tuple(etcd_cluster.endpoints))
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def prefix() -> str:
    return f"/registry/etcd-{uuid.uuid4().hex[:12]}/"


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Counter:
    """A count that tasks can wait on reaching a value, with a timeout."""

    def __init__(self) -> None:
        self.value = 0
        self._changed = asyncio.Condition()

    async def add(self, n: int = 1) -> None:
        async with self._changed:
            self.value += n
            self._changed.notify_all()

    async def reach(self, target: int) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.value >= target), TIMEOUT)


def member_index(cluster: EtcdCluster, store: EtcdStore) -> int:
    return cluster.endpoints.index(store.endpoint)


# --- fail-over ------------------------------------------------------------------------


async def test_writes_and_watch_survive_killing_the_connected_members(
    cluster3: EtcdCluster, prefix: str
) -> None:
    store = await open_store(cluster3.endpoint_url)
    assert isinstance(store, EtcdStore)
    written: list[KeyValue] = []
    writes = Counter()
    received: list[Event] = []
    stop = asyncio.Event()
    done_key = prefix + "zz-done"

    async def writer(w: int) -> None:
        i = 0
        while not stop.is_set():
            kv = await store.create(f"{prefix}{w}/{i:04d}", f"{w}-{i}".encode())
            updated = await store.update(
                kv.key, kv.value + b"+", expected_mod_revision=kv.mod_revision
            )
            written.extend([kv, updated])
            await writes.add(2)
            i += 1

    async def consume(events: AsyncIterator[Event]) -> None:
        async for event in events:
            received.append(event)
            if event.kv.key == done_key:
                return

    try:
        async with store.watch(prefix) as events, asyncio.TaskGroup() as tasks:
            watcher = tasks.create_task(consume(events))
            async with asyncio.TaskGroup() as writers:
                for w in range(4):
                    writers.create_task(writer(w))
                await writes.reach(40)
                first = member_index(cluster3, store)
                cluster3.kill(first)
                await writes.reach(writes.value + 40)
                assert member_index(cluster3, store) != first
                await asyncio.to_thread(cluster3.restart, first)
                second = member_index(cluster3, store)
                cluster3.kill(second)
                await writes.reach(writes.value + 40)
                assert member_index(cluster3, store) != second
                stop.set()
            done = await store.create(done_key, b"")
            await asyncio.wait_for(watcher, TIMEOUT)
    finally:
        await store.close()

    # Every write shows up exactly once, in revision order, as the right kind of event.
    assert received[-1].kv == done
    expected = sorted(written, key=lambda kv: kv.mod_revision)
    assert [e.kv for e in received[:-1]] == expected
    kinds = [e.type for e in received[:-1]]
    assert kinds == [
        EventType.ADDED if kv.create_revision == kv.mod_revision else EventType.MODIFIED
        for kv in expected
    ]


async def test_a_hung_member_is_failed_over_after_the_request_timeout(
    cluster3: EtcdCluster, prefix: str
) -> None:
    store = await EtcdStore.open(tuple(cluster3.endpoints), request_timeout=1.0)
    try:
        hung = member_index(cluster3, store)
        cluster3.freeze(hung)
        try:
            kv = await store.create(prefix + "a", b"1")
            assert member_index(cluster3, store) != hung
            assert await store.get(prefix + "a") == kv
        finally:
            cluster3.thaw(hung)
    finally:
        await store.close()


async def test_closing_the_store_fails_operations_in_flight(tmp_path: Path, prefix: str) -> None:
    with EtcdCluster(size=1, base_dir=tmp_path) as cluster:
        store = await EtcdStore.open(tuple(cluster.endpoints))
        cluster.freeze(0)
        pending = asyncio.create_task(store.get(prefix + "a"))
        await asyncio.sleep(0)  # let the request go out
        await store.close()
        with pytest.raises(StoreError, match="closed"):
            await pending


async def test_open_skips_an_unreachable_endpoint(cluster3: EtcdCluster, prefix: str) -> None:
    dead = unused_port()
    host, port = cluster3.endpoints[1]
    url = f"etcd://127.0.0.1:{dead},{host}:{port}"
    assert parse_endpoint(url).hosts == (("127.0.0.1", dead), (host, port))
    store = await open_store(url)
    try:
        assert isinstance(store, EtcdStore)
        assert store.endpoint == (host, port)
        kv = await store.create(prefix + "a", b"1")
        assert await store.get(prefix + "a") == kv
    finally:
        await store.close()


async def test_unreachable_cluster_is_unavailable_naming_endpoints() -> None:
    ports = [unused_port(), unused_port()]
    hosts = tuple(("127.0.0.1", p) for p in ports)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(Unavailable) as caught:
        await EtcdStore.open(hosts, connect_timeout=1.0)
    assert loop.time() - started < 5.0
    message = str(caught.value)
    assert all(f"127.0.0.1:{p}" in message for p in ports)


async def test_operations_and_watches_fail_with_unavailable_once_all_members_die(
    tmp_path: Path, prefix: str
) -> None:
    with EtcdCluster(size=1, base_dir=tmp_path) as cluster:
        store = await EtcdStore.open(tuple(cluster.endpoints), retry_timeout=1.0)
        try:
            async with store.watch(prefix) as events:
                cluster.kill(0)
                with pytest.raises(Unavailable):
                    await anext(events)
            with pytest.raises(Unavailable):
                await store.create(prefix + "a", b"1")
        finally:
            await store.close()


# --- writes whose reply was lost -------------------------------------------------------


def lose_first_reply(store: EtcdStore) -> None:
    """Makes the next transaction apply on the server but fail on the client once."""
    member = store._conn.members[store._conn.current]
    real = member.kv

    class LosingStub:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        async def Txn(self, request: Any, **kwargs: Any) -> Any:
            member.kv = real
            await real.Txn(request, **kwargs)
            raise TransientError("reply lost")

    member.kv = LosingStub()


async def test_create_whose_reply_was_lost_reports_success(store: EtcdStore, prefix: str) -> None:
    lose_first_reply(store)
    kv = await store.create(prefix + "a", b"mine")
    assert await store.get(prefix + "a") == kv
    # A retry that finds someone else's value is a real KeyExists.
    lose_first_reply(store)
    with pytest.raises(KeyExists):
        await store.create(prefix + "a", b"theirs")


async def test_update_whose_reply_was_lost_reports_success(store: EtcdStore, prefix: str) -> None:
    kv = await store.create(prefix + "a", b"1")
    lose_first_reply(store)
    updated = await store.update(prefix + "a", b"2", expected_mod_revision=kv.mod_revision)
    assert updated.value == b"2" and updated.mod_revision > kv.mod_revision
    assert await store.get(prefix + "a") == updated


# --- compaction seen by another client, closing -----------------------------------------


async def test_compaction_by_another_client_is_found(
    etcd_cluster: EtcdCluster, store: EtcdStore, prefix: str
) -> None:
    other = await EtcdStore.open(tuple(etcd_cluster.endpoints))
    try:
        for i in range(20):
            await store.create(f"{prefix}{i}", b"v")
        current = await store.current_revision()
        await other.compact(current - 7)
        assert await store.compacted_revision() == current - 8
        await other.compact(current)
        assert await store.compacted_revision() == current - 1
    finally:
        await other.close()


async def test_closing_the_store_ends_a_running_watch(
    etcd_cluster: EtcdCluster, prefix: str
) -> None:
    store = await EtcdStore.open(tuple(etcd_cluster.endpoints))
    got: list[Event] = []
    first = asyncio.Event()
    async with store.watch(prefix) as events:

        async def consume() -> None:
            async for event in events:
                got.append(event)
                first.set()

        async with asyncio.TaskGroup() as tasks:
            consumer = tasks.create_task(consume())
            await store.create(prefix + "a", b"1")
            await asyncio.wait_for(first.wait(), TIMEOUT)
            await store.close()
            await asyncio.wait_for(consumer, TIMEOUT)
    assert [e.kv.key for e in got] == [prefix + "a"]
    with pytest.raises(StoreError):
        await store.get(prefix + "a")
