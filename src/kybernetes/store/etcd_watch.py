"""One etcd watch as an async iterator of `Event`s that survives member failures.

Role: `EtcdWatch` owns one gRPC Watch stream (one etcd watcher with `prev_kv`) on the
current member and turns its responses into `Event`s. It is pull-based: responses are
read only when the consumer asks for the next event, so a slow consumer is never
skipped; etcd keeps the backlog (a slow watcher is re-synced from its history).

Invariants:

- `next_revision` is one past the revision of the last event received (all received
  events are delivered). etcd never splits a revision across responses (no
  `fragment`), so when the stream breaks (member dead, "no leader", stream ended) the
  watch is created again on the next member from `next_revision`: no event is lost
  or delivered twice.
- A start older than etcd's compaction ends the iteration with `Compacted`; the
  compaction revision etcd reports is readable, so `compacted` is one less.
- `close()` (by the `watch` context manager on exit, or by the store closing) cancels
  the stream; an iteration it interrupts ends without error. An outage longer than
  the connection's retry budget ends the iteration with `Unavailable`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import grpc
from aetcd import rpc

from .etcd_conn import REQUIRE_LEADER, EtcdConnection, Member, TransientError
from .interface import Compacted, Event, EventType, KeyValue, StoreError

_PUT = rpc.Event.EventType.PUT


def to_key_value(kv: Any) -> KeyValue:
    """A `KeyValue` from etcd's protobuf `mvccpb.KeyValue`."""
    return KeyValue(
        key=bytes(kv.key).decode("utf-8", "surrogateescape"),
        value=bytes(kv.value),
        create_revision=int(kv.create_revision),
        mod_revision=int(kv.mod_revision),
    )


def to_event(event: Any) -> Event:
    """An `Event` from etcd's protobuf `mvccpb.Event` (with `prev_kv` requested)."""
    prev = to_key_value(event.prev_kv) if event.HasField("prev_kv") else None
    kv = to_key_value(event.kv)
    if event.type == _PUT:
        kind = EventType.ADDED if kv.create_revision == kv.mod_revision else EventType.MODIFIED
        return Event(kind, kv, prev if kind is EventType.MODIFIED else None)
    # etcd's delete event carries only the key and the deletion's revision.
    last = prev or KeyValue(kv.key, b"", 0, kv.mod_revision)
    return Event(
        EventType.DELETED,
        KeyValue(kv.key, last.value, last.create_revision, kv.mod_revision),
        prev,
    )


class EtcdWatch:
    """Events for keys in [`key`, `range_end`) from revision `next_revision` on."""

    def __init__(
        self, conn: EtcdConnection, key: bytes, range_end: bytes, next_revision: int
    ) -> None:
        self._conn = conn
        self._key = key
        self._range_end = range_end
        self.next_revision = next_revision
        self._buffer: deque[Event] = deque()
        self._call: Any = None
        self._member_index = 0
        self._closed = False

    async def start(self) -> None:
        """Creates the etcd watcher (on whichever member answers); fails with `Unavailable`."""
        call, self._member_index = await self._conn.run(self._create)
        if self._closed:  # closed while (re)connecting
            call.cancel()
        else:
            self._call = call

    def close(self) -> None:
        """Cancels the stream; a pending or later `__anext__` ends the iteration."""
        self._closed = True
        if self._call is not None:
            self._call.cancel()
            self._call = None

    def __aiter__(self) -> EtcdWatch:
        return self

    async def __anext__(self) -> Event:
        while not self._buffer:
            if self._closed or self._conn.closed:
                raise StopAsyncIteration
            try:
                response = await self._read()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if (self._closed or self._conn.closed) and not (task and task.cancelling()):
                    raise StopAsyncIteration from None
                raise
            for event in response.events:
                self._buffer.append(to_event(event))
            if response.events:
                self.next_revision = int(response.events[-1].kv.mod_revision) + 1
        return self._buffer.popleft()

    async def _read(self) -> Any:
        """The next response with events, re-creating the watcher when the stream breaks."""
        while True:
            if self._call is None:  # closed
                raise StopAsyncIteration
            try:
                response = await self._call.read()
            except grpc.aio.AioRpcError:
                if self._closed or self._conn.closed:
                    raise StopAsyncIteration from None
                await self._restart()  # fails for good if no member can create the watch
                continue
            if response is grpc.aio.EOF or (response.canceled and not response.compact_revision):
                await self._restart()
                continue
            if response.compact_revision:
                compacted = int(response.compact_revision) - 1
                raise Compacted(self.next_revision - 1, compacted)
            if response.events:
                return response

    async def _restart(self) -> None:
        if self._call is not None:
            self._call.cancel()
            self._call = None
        self._conn.fail_over(self._member_index)
        try:
            await self.start()
        except StoreError:
            if self._closed or self._conn.closed:
                raise StopAsyncIteration from None
            raise

    async def _create(self, member: Member, retried: bool) -> tuple[Any, int]:
        """Opens a stream on `member` and waits until etcd confirms the watcher."""
        call = member.watch.Watch(metadata=REQUIRE_LEADER)
        try:
            request = rpc.WatchCreateRequest(
                key=self._key,
                range_end=self._range_end,
                start_revision=self.next_revision,
                prev_kv=True,
            )
            await call.write(rpc.WatchRequest(create_request=request))
            response = await call.read()
            if response is grpc.aio.EOF or not response.created:
                raise TransientError(f"etcd at {member.name} did not create the watch")
            if response.canceled:
                raise TransientError(
                    f"etcd at {member.name} refused the watch: {response.cancel_reason}"
                )
        except BaseException:
            call.cancel()
            raise
        return call, self._conn.members.index(member)
