"""`EventRecorder`: core/v1 Events about objects, with repeats folded into one Event.

`event(obj, type, reason, message)` never blocks and never fails: it stamps the
occurrence (on the injected clock) and queues it; `run()` writes queued occurrences
in order; `flush()` waits until everything queued so far is written (while `run()`
runs). Like client-go's recorder, recording is best effort: when the queue is full
(`max_pending`) the occurrence is dropped, and an API error drops it too (logged).

The correlator is a simplified client-go `EventCorrelator`: an occurrence identical
to an earlier one (same involved object, type, reason, message and source) within
`window` seconds of that one's last occurrence is recorded by patching the existing
Event (`count` + 1, `lastTimestamp`); otherwise, or if that Event is gone, a new Event
is created (`<object name>.<hex unix nanoseconds>`, like client-go). Before that,
client-go's spam filter: per involved object (and this recorder's source), a token
bucket of `spam_burst` (25) tokens refilled at one per `spam_interval` (300 s) seconds;
an occurrence finding no token is dropped, so a ReplicaSet creating 1,000 pods records
25 SuccessfulCreate Events, not 1,000. Not done: the similar-event aggregation
("combined from similar events"). The correlation and spam caches keep the
`cache_size` most recent keys.

The involved object is an object (its `apiVersion`, `kind` and `metadata` make the
reference) or an ObjectReference dict. Events of cluster-scoped objects go to the
`default` namespace, as in Kubernetes. One recorder per component; one event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from .clock import Clock, SystemClock
from .errors import APIError, TransportError, is_not_found
from .resource import EVENTS
from .rest import APIClient

log = logging.getLogger(__name__)

Obj = dict[str, Any]
EventType = Literal["Normal", "Warning"]
_REFERENCE_FIELDS = ("apiVersion", "kind", "namespace", "name", "uid", "resourceVersion")


@dataclass(frozen=True, slots=True)
class _Occurrence:
    reference: Obj
    type: str
    reason: str
    message: str
    wall: datetime
    at: float

    @property
    def key(self) -> tuple[str, ...]:
        ref = self.reference
        names = tuple(str(ref.get(f) or "") for f in ("apiVersion", "kind", "namespace", "name"))
        return (*names, str(ref.get("uid") or ""), self.type, self.reason, self.message)


@dataclass(slots=True)
class _Seen:
    name: str
    namespace: str
    count: int
    first_timestamp: str
    last_at: float


def object_reference(obj: Obj) -> Obj:
    """The ObjectReference of an object (or the reference itself, if given one)."""
    if "metadata" not in obj:
        return {k: obj[k] for k in (*_REFERENCE_FIELDS, "fieldPath") if obj.get(k)}
    meta = obj["metadata"]
    ref = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), **meta}
    return {k: ref[k] for k in _REFERENCE_FIELDS if ref.get(k)}


def event_time(moment: datetime) -> str:
    """A `Time` as Kubernetes writes it: RFC 3339, seconds, UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    """Records Events for `component` running on `host` (see module docstring)."""

    def __init__(
        self,
        client: APIClient,
        component: str,
        host: str = "",
        *,
        clock: Clock | None = None,
        window: float = 600.0,
        max_pending: int = 1000,
        cache_size: int = 4096,
        spam_burst: int = 25,
        spam_interval: float = 300.0,
    ) -> None:
        self.client = client
        self.component = component
        self.host = host
        self.window = window
        self._clock = clock or SystemClock()
        self._queue: asyncio.Queue[_Occurrence] = asyncio.Queue(max_pending)
        self._seen: OrderedDict[tuple[str, ...], _Seen] = OrderedDict()
        self._cache_size = cache_size
        self._last_nanos = 0
        self._spam_burst = spam_burst
        self._spam_interval = spam_interval
        self._buckets: OrderedDict[tuple[str, ...], tuple[float, float]] = OrderedDict()

    def event(self, obj: Obj, type: EventType, reason: str, message: str) -> None:
        """Queues an Event about `obj`. ValueError for a type other than Normal or
        Warning; otherwise never fails (drops and logs when the queue is full)."""
        if type not in ("Normal", "Warning"):
            raise ValueError(f"event type must be Normal or Warning, not {type!r}")
        occurrence = _Occurrence(
            object_reference(obj), type, reason, message, self._clock.wall(), self._clock.now()
        )
        if not self._take_token(occurrence):
            log.debug("spam filter: dropping %s event %r", type, reason)
            return
        try:
            self._queue.put_nowait(occurrence)
        except asyncio.QueueFull:
            log.warning("event queue full; dropping %s event %r", type, reason)

    def _take_token(self, occurrence: _Occurrence) -> bool:
        """client-go's EventSourceObjectSpamFilter (see the module docstring)."""
        key = occurrence.key[:5]  # the involved object
        tokens, last = self._buckets.pop(key, (float(self._spam_burst), occurrence.at))
        tokens = min(float(self._spam_burst), tokens + (occurrence.at - last) / self._spam_interval)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, occurrence.at)
        if len(self._buckets) > self._cache_size:
            self._buckets.popitem(last=False)
        return allowed

    async def run(self) -> None:
        """Writes queued events, in order, until cancelled."""
        while True:
            occurrence = await self._queue.get()
            try:
                await self._write(occurrence)
            except (APIError, TransportError) as e:
                log.warning("could not record event %r: %s", occurrence.reason, e)
            finally:
                self._queue.task_done()

    async def flush(self) -> None:
        """Waits until every event queued so far is written (or dropped)."""
        await self._queue.join()

    async def _write(self, occurrence: _Occurrence) -> None:
        key = occurrence.key
        timestamp = event_time(occurrence.wall)
        seen = self._seen.get(key)
        if seen is not None and occurrence.at - seen.last_at <= self.window:
            seen.count += 1
            seen.last_at = occurrence.at
            self._seen.move_to_end(key)
            patch = {"count": seen.count, "lastTimestamp": timestamp}
            try:
                await self.client.patch(EVENTS, seen.name, patch, namespace=seen.namespace)
                return
            except APIError as e:
                if not is_not_found(e):
                    raise
            event = self._new_event(occurrence, seen.count, seen.first_timestamp)
        else:
            event = self._new_event(occurrence, 1, timestamp)
        created = await self.client.create(EVENTS, event)
        meta = created["metadata"]
        self._seen[key] = _Seen(
            meta["name"], meta["namespace"], event["count"], event["firstTimestamp"], occurrence.at
        )
        self._seen.move_to_end(key)
        while len(self._seen) > self._cache_size:
            self._seen.popitem(last=False)

    def _new_event(self, occurrence: _Occurrence, count: int, first_timestamp: str) -> Obj:
        ref = occurrence.reference
        nanos = max(int(occurrence.wall.timestamp() * 1e9), self._last_nanos + 1)
        self._last_nanos = nanos
        source = {"component": self.component, **({"host": self.host} if self.host else {})}
        return {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": f"{ref.get('name', 'unknown')}.{nanos:x}",
                "namespace": ref.get("namespace") or "default",
            },
            "involvedObject": ref,
            "reason": occurrence.reason,
            "message": occurrence.message,
            "type": occurrence.type,
            "source": source,
            "firstTimestamp": first_timestamp,
            "lastTimestamp": event_time(occurrence.wall),
            "count": count,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }
