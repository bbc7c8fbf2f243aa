"""Connections to an etcd cluster: one gRPC channel per member, fail-over, error mapping.

Role: `EtcdConnection.run(attempt)` runs one operation against the *current* member.
When that member is unreachable or cannot serve (connection refused or reset, no
leader, leader changed, request timed out, too many requests), it moves the current
member to the next endpoint and runs the operation again, sleeping a short, doubling
backoff after every full round of the endpoints, until its time budget is spent; then it
raises `Unavailable` naming every endpoint and the last error.

Invariants:

- Only transient failures are retried: every gRPC error but those that say the request
  or the data is wrong (invalid argument, out of range, permission denied, database
  space exceeded, ...), which are mapped to a `StoreError` at once (`map_error`); so no
  grpc or aetcd exception leaves the store.
- An attempt is told whether an earlier attempt of the same operation may have reached
  the server (`retried`), so a write can tell its own lost success from a real
  conflict (see `etcd.py`).
- Every attempt runs under a deadline (`request_timeout`, never past the budget); the
  RPC is cancelled when it passes, and that counts as a transient failure.
- Channels are created lazily, one per member, and live until `close()`; gRPC
  reconnects them by itself with a backoff capped at one second. Every call carries
  etcd's require-leader metadata, so a member cut off from its quorum refuses at once
  instead of serving stale data or hanging.

Only `aetcd.rpc` (etcd's generated protobuf messages and stubs) is used from aetcd: its
`Client` cannot read at a revision or with a limit, and its watcher shares one stream
between all watches and tears them all down on any error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import grpc
from aetcd import rpc

from .interface import StoreError, Unavailable

T = TypeVar("T")

REQUIRE_LEADER = (("hasleader", "true"),)
"""gRPC metadata: etcd answers "no leader" instead of serving from a partitioned member."""

_CHANNEL_OPTIONS = (
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 0),
    ("grpc.http2.max_pings_without_data", 0),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1_000),
)

_DEFINITIVE_CODES = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.DATA_LOSS,
    }
)
"""Errors in the request or the data: another member would answer the same."""


class TransientError(Exception):
    """An attempt failed in a way another member may not (e.g. a watch the server ended)."""


class Member:
    """One etcd endpoint and, once used, its channel and stubs."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._channel: Any = None
        self.kv: Any = None
        self.lease: Any = None
        self.watch: Any = None

    @property
    def name(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def connect(self) -> None:
        """Creates the channel and stubs if not yet done (gRPC connects lazily)."""
        if self._channel is None:
            self._channel = grpc.aio.insecure_channel(self.name, options=_CHANNEL_OPTIONS)
            self.kv = rpc.KVStub(self._channel)
            self.lease = rpc.LeaseStub(self._channel)
            self.watch = rpc.WatchStub(self._channel)

    async def close(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            await channel.close()


def is_transient(error: BaseException) -> bool:
    """Whether another attempt (maybe on another member) could succeed."""
    if isinstance(error, TransientError | TimeoutError):
        return True
    if isinstance(error, grpc.aio.AioRpcError):
        code = error.code()
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            return "too many requests" in str(error.details())
        return code not in _DEFINITIVE_CODES
    return False


def describe(error: BaseException | None) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return f"{error.code().name}: {error.details()}"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return str(error) or type(error).__name__


class RevisionOutOfRange(StoreError):
    """A request named a revision etcd has compacted away (`compacted`) or not reached.

    The store turns it into `Compacted` or `FutureRevision`, which need revisions
    etcd's error does not carry.
    """

    def __init__(self, details: str) -> None:
        super().__init__(f"etcd: {details}")
        self.compacted = "compacted" in details


def map_error(error: grpc.aio.AioRpcError) -> StoreError:
    """The `StoreError` for a gRPC error that retrying cannot fix."""
    details = str(error.details())
    if error.code() == grpc.StatusCode.OUT_OF_RANGE:
        return RevisionOutOfRange(details)
    if "database space exceeded" in details or "corrupt" in details:
        return Unavailable(f"etcd cannot write: {details}")
    return StoreError(f"etcd error {error.code().name}: {details}")


class EtcdConnection:
    """The members of one etcd cluster and which of them operations currently go to.

    Safe for concurrent use from one event loop: concurrent operations that fail on the
    same member move the current member on only once.
    """

    def __init__(
        self,
        hosts: Sequence[tuple[str, int]],
        *,
        request_timeout: float,
        retry_timeout: float,
    ) -> None:
        if not hosts:
            raise StoreError("no etcd endpoints given")
        self.members = [Member(host, port) for host, port in hosts]
        self.request_timeout = request_timeout
        self.retry_timeout = retry_timeout
        self.current = 0
        self.closed = False

    @property
    def names(self) -> str:
        return ", ".join(m.name for m in self.members)

    def fail_over(self, index: int) -> None:
        """Moves on from member `index` if it is still the current one."""
        if self.current == index:
            self.current = (index + 1) % len(self.members)

    async def run(
        self,
        attempt: Callable[[Member, bool], Awaitable[T]],
        *,
        budget: float | None = None,
    ) -> T:
        """Runs `attempt(member, retried)` until it succeeds or fails for good.

        Raises what the attempt raises, except transient failures (retried on the next
        member) and other gRPC errors (mapped by `map_error`); `Unavailable` once
        `budget` (default: `retry_timeout`) seconds have passed.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + (self.retry_timeout if budget is None else budget)
        backoff = 0.05
        failures = 0
        last: BaseException | None = None
        while True:
            if self.closed:
                raise StoreError("the etcd store is closed")
            index = self.current
            member = self.members[index]
            member.connect()
            try:
                async with asyncio.timeout(min(self.request_timeout, deadline - loop.time())):
                    return await attempt(member, failures > 0)
            except asyncio.CancelledError:
                # Closing the channels cancels their calls; that is not our task's.
                task = asyncio.current_task()
                if self.closed and task is not None and not task.cancelling():
                    raise StoreError("the etcd store was closed") from None
                raise
            except (grpc.aio.AioRpcError, TransientError, TimeoutError) as e:
                if not is_transient(e):
                    assert isinstance(e, grpc.aio.AioRpcError)
                    raise map_error(e) from None
                # An attempt cut short by the budget says less than an earlier error.
                if last is None or not isinstance(e, TimeoutError):
                    last = e
            failures += 1
            self.fail_over(index)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise Unavailable(
                    f"etcd at {self.names} is unavailable: {describe(last)} "
                    f"({failures} attempts in {loop.time() - started:.1f}s)"
                )
            if failures % len(self.members) == 0:
                await asyncio.sleep(min(backoff, remaining))
                backoff = min(backoff * 2, 1.0)

    async def close(self) -> None:
        """Closes every channel (cancelling their calls). Idempotent."""
        self.closed = True
        for member in self.members:
            await member.close()
