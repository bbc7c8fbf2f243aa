"""The `Store` on a real etcd cluster (v3 API over gRPC); revisions are etcd's own.

Role: every operation is one etcd request (a Range or a Txn; plus a LeaseGrant for a
write with a TTL) run through `EtcdConnection`, which fails over between the cluster's
members. Watches are `EtcdWatch` streams (see `etcd_watch.py`).

Invariants:

- Writes are transactions whose compare makes them safe to retry:
  create = `create_revision(key) == 0 ? put : get`,
  update = `create_revision(key) > 0 && mod_revision(key) == expected ? put : get`,
  delete = `exists [&& mod_revision == expected] ? delete(prev_kv) : get`.
  If the connection fails after a write was sent, its outcome is unknown; the write
  is sent again (to the next member) and its compare then decides. A lost success
  shows up as a failed compare on the retry, so on a retry only:
  a create that finds the key holding exactly its value, created at its last write,
  and an update that finds the key holding exactly its value at a newer revision,
  report success with the key's state. (Another writer storing the very same bytes
  in between is indistinguishable; the API server's values carry a fresh uid or
  resourceVersion-bearing content, so that does not happen in practice.)
  A delete whose success was lost reports `KeyNotFound` on the retry: the
  deletion's revision and the last value are not recoverable from a single read
  (and an unconditional delete retried after someone re-created the key deletes
  the new key: pass `expected_mod_revision` to rule that out).
- A write with a TTL attaches the key to a fresh lease of its own; an update without a
  TTL detaches it. etcd may round very small TTLs up to its minimum (about 1.5
  election timeouts). A lease whose write failed is revoked (best effort; otherwise it
  just expires).
- `compact(r)` keeps revision `r` readable (etcd's rule), so `compacted_revision()` is
  `r - 1` after it. It is found, not remembered, so compactions by other clients
  count: the newest unreadable revision, by probing reads (one in the common case).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import grpc
from aetcd import rpc

from .base import StoreBase
from .etcd_conn import REQUIRE_LEADER, EtcdConnection, Member, RevisionOutOfRange
from .etcd_watch import EtcdWatch, to_key_value
from .interface import (
    Compacted,
    Conflict,
    Event,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    ListResult,
)

_CREATE, _MOD = rpc.Compare.CREATE, rpc.Compare.MOD
_EQUAL, _GREATER = rpc.Compare.EQUAL, rpc.Compare.GREATER
_ALL_KEYS = b"\x00"
"""As a range end: every key from the start on; as a start: the smallest key."""


def _encode(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


def _prefix_end(prefix: bytes) -> bytes:
    """The smallest key after every key starting with `prefix` (etcd's range_end)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return _ALL_KEYS
    return stripped[:-1] + bytes([stripped[-1] + 1])


def _range(key: bytes, **fields: Any) -> Any:
    return rpc.RequestOp(request_range=rpc.RangeRequest(key=key, **fields))


def _absent(key: bytes) -> Any:
    return rpc.Compare(key=key, target=_CREATE, result=_EQUAL, create_revision=0)


def _exists(key: bytes) -> Any:
    return rpc.Compare(key=key, target=_CREATE, result=_GREATER, create_revision=0)


def _modified_at(key: bytes, revision: int) -> Any:
    return rpc.Compare(key=key, target=_MOD, result=_EQUAL, mod_revision=revision)


def _failed_get(response: Any) -> KeyValue | None:
    """The key's state read by a failed transaction's `get` branch."""
    kvs = response.responses[0].response_range.kvs
    return to_key_value(kvs[0]) if kvs else None


class EtcdStore(StoreBase):
    """A `Store` on an etcd v3 cluster. Safe for concurrent use from one event loop."""

    def __init__(self, conn: EtcdConnection) -> None:
        self._conn = conn
        self._compacted_hint = 0  # known unreadable (or 0); never more than the real one
        self._watches: set[EtcdWatch] = set()

    @classmethod
    async def open(
        cls,
        hosts: tuple[tuple[str, int], ...],
        *,
        connect_timeout: float = 5.0,
        request_timeout: float = 10.0,
        retry_timeout: float = 15.0,
    ) -> EtcdStore:
        """Connects to the cluster at `hosts`; any one healthy member is enough.

        Raises `Unavailable` naming the endpoints if no member answers a read within
        `connect_timeout` seconds. Later operations try each request for at most
        `request_timeout` seconds on one member and give up (`Unavailable`) after
        `retry_timeout` seconds of failing over.
        """
        conn = EtcdConnection(hosts, request_timeout=request_timeout, retry_timeout=retry_timeout)
        store = cls(conn)
        try:
            await conn.run(store._read_revision, budget=connect_timeout)
        except BaseException:
            await conn.close()
            raise
        return store

    @property
    def endpoint(self) -> tuple[str, int]:
        """The member operations currently go to (it changes on fail-over)."""
        member = self._conn.members[self._conn.current]
        return member.host, member.port

    # -- reads -------------------------------------------------------------------------

    async def _read_revision(self, member: Member, retried: bool) -> int:
        response = await member.kv.Range(
            rpc.RangeRequest(key=_ALL_KEYS, count_only=True), metadata=REQUIRE_LEADER
        )
        return int(response.header.revision)

    async def current_revision(self) -> int:
        return await self._conn.run(self._read_revision)

    async def _range(self, request: Any) -> Any:
        """Runs a Range; raises `RevisionOutOfRange` for a compacted or future revision."""

        async def attempt(member: Member, retried: bool) -> Any:
            return await member.kv.Range(request, metadata=REQUIRE_LEADER)

        return await self._conn.run(attempt)

    async def _readable(self, revision: int) -> bool:
        """Whether reads at `revision` work (a future revision counts as readable)."""
        try:
            await self._range(rpc.RangeRequest(key=_ALL_KEYS, revision=revision, count_only=True))
        except RevisionOutOfRange as e:
            return not e.compacted
        return True

    async def compacted_revision(self) -> int:
        # Readability is monotonic in the revision: search for the first readable one
        # above the hint, starting right above it (the common case: one read).
        bad = self._compacted_hint
        if await self._readable(bad + 1):
            return bad
        bad, good = bad + 1, await self.current_revision()
        while good - bad > 1:
            middle = (bad + good) // 2
            if await self._readable(middle):
                good = middle
            else:
                bad = middle
        self._compacted_hint = max(self._compacted_hint, bad)
        return bad

    async def get(self, key: str) -> KeyValue | None:
        response = await self._range(rpc.RangeRequest(key=_encode(key)))
        return to_key_value(response.kvs[0]) if response.kvs else None

    async def list(
        self,
        prefix: str,
        *,
        revision: int = 0,
        limit: int = 0,
        start_after: str | None = None,
    ) -> ListResult:
        start = _encode(prefix)
        end = _prefix_end(start)
        if start_after is not None:
            start = max(start, _encode(start_after) + b"\x00")
        request = rpc.RangeRequest(
            key=start or _ALL_KEYS, range_end=end, revision=revision, limit=limit
        )
        try:
            response = await self._range(request)
        except RevisionOutOfRange as e:
            if e.compacted:
                raise Compacted(revision, await self.compacted_revision()) from None
            raise FutureRevision(revision, await self.current_revision()) from None
        return ListResult(
            kvs=[to_key_value(kv) for kv in response.kvs],
            revision=revision or int(response.header.revision),
            more=bool(response.more),
        )

    async def count(self, prefix: str) -> int:
        start = _encode(prefix)
        request = rpc.RangeRequest(
            key=start or _ALL_KEYS, range_end=_prefix_end(start), count_only=True
        )
        return int((await self._range(request)).count)

    # -- writes ------------------------------------------------------------------------

    async def _txn(
        self, compare: Sequence[Any], success: Sequence[Any], failure: Sequence[Any]
    ) -> Any:
        """Runs a transaction; returns its response and whether it had to be sent again."""
        request = rpc.TxnRequest(compare=compare, success=success, failure=failure)

        async def attempt(member: Member, retried: bool) -> tuple[Any, bool]:
            return await member.kv.Txn(request, metadata=REQUIRE_LEADER), retried

        return await self._conn.run(attempt)

    async def _grant(self, ttl: int | None) -> int:
        """A fresh lease of `ttl` seconds (0: no lease for no TTL)."""
        if ttl is None:
            return 0
        if ttl < 1:
            raise ValueError(f"ttl must be at least one second, not {ttl}")

        async def attempt(member: Member, retried: bool) -> int:
            request = rpc.LeaseGrantRequest(TTL=ttl)
            return int((await member.lease.LeaseGrant(request, metadata=REQUIRE_LEADER)).ID)

        return await self._conn.run(attempt)

    async def _revoke(self, lease: int) -> None:
        """Revokes an unused lease once, ignoring failure (it expires by itself)."""
        if not lease:
            return
        member = self._conn.members[self._conn.current]
        with contextlib.suppress(grpc.aio.AioRpcError, TimeoutError):
            async with asyncio.timeout(self._conn.request_timeout):
                await member.lease.LeaseRevoke(
                    rpc.LeaseRevokeRequest(ID=lease), metadata=REQUIRE_LEADER
                )

    async def create(self, key: str, value: bytes, *, ttl: int | None = None) -> KeyValue:
        k = _encode(key)
        lease = await self._grant(ttl)
        response, retried = await self._txn(
            [_absent(k)],
            [rpc.RequestOp(request_put=rpc.PutRequest(key=k, value=value, lease=lease))],
            [_range(k)],
        )
        if response.succeeded:
            revision = int(response.header.revision)
            return KeyValue(key, value, revision, revision)
        current = _failed_get(response)
        if (
            retried
            and current is not None
            and current.value == value
            and current.create_revision == current.mod_revision
        ):
            return current  # our own create, whose first reply was lost
        await self._revoke(lease)
        raise KeyExists(key)

    async def update(
        self,
        key: str,
        value: bytes,
        *,
        expected_mod_revision: int,
        ttl: int | None = None,
    ) -> KeyValue:
        k = _encode(key)
        lease = await self._grant(ttl)
        put = rpc.PutRequest(key=k, value=value, lease=lease, prev_kv=True)
        response, retried = await self._txn(
            [_exists(k), _modified_at(k, expected_mod_revision)],
            [rpc.RequestOp(request_put=put)],
            [_range(k)],
        )
        if response.succeeded:
            prev = response.responses[0].response_put.prev_kv
            revision = int(response.header.revision)
            return KeyValue(key, value, int(prev.create_revision), revision)
        current = _failed_get(response)
        if (
            retried
            and current is not None
            and current.value == value
            and current.mod_revision > expected_mod_revision
        ):
            return current  # our own update, whose first reply was lost
        await self._revoke(lease)
        if current is None:
            raise KeyNotFound(key)
        raise Conflict(key, expected_mod_revision, current)

    async def delete(self, key: str, *, expected_mod_revision: int | None = None) -> KeyValue:
        k = _encode(key)
        compare = [_exists(k)]
        if expected_mod_revision is not None:
            compare.append(_modified_at(k, expected_mod_revision))
        delete = rpc.DeleteRangeRequest(key=k, prev_kv=True)
        response, _ = await self._txn(
            compare, [rpc.RequestOp(request_delete_range=delete)], [_range(k)]
        )
        if response.succeeded:
            last = to_key_value(response.responses[0].response_delete_range.prev_kvs[0])
            return KeyValue(key, last.value, last.create_revision, int(response.header.revision))
        current = _failed_get(response)
        if current is None:
            raise KeyNotFound(key)
        assert expected_mod_revision is not None
        raise Conflict(key, expected_mod_revision, current)

    async def compact(self, revision: int) -> None:
        async def attempt(member: Member, retried: bool) -> None:
            await member.kv.Compact(
                rpc.CompactionRequest(revision=revision), metadata=REQUIRE_LEADER
            )

        try:
            await self._conn.run(attempt)
        except RevisionOutOfRange as e:
            if not e.compacted:
                raise FutureRevision(revision, await self.current_revision()) from None
            return  # already compacted at or past `revision`
        self._compacted_hint = max(self._compacted_hint, revision - 1)

    # -- watch -------------------------------------------------------------------------

    @asynccontextmanager
    async def watch(self, prefix: str, *, revision: int = 0) -> AsyncIterator[AsyncIterator[Event]]:
        # Check compaction on entry: a watch after `revision` needs revision + 1 readable.
        if revision and not await self._readable(revision + 1):
            raise Compacted(revision, await self.compacted_revision())
        start = _encode(prefix)
        after = revision or await self.current_revision()
        watch = EtcdWatch(self._conn, start or _ALL_KEYS, _prefix_end(start), after + 1)
        self._watches.add(watch)
        try:
            await watch.start()
            yield watch
        finally:
            watch.close()
            self._watches.discard(watch)

    async def close(self) -> None:
        for watch in list(self._watches):
            watch.close()
        await self._conn.close()
