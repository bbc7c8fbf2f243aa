"""The scheduling queue: which pending pod to try next (kube-scheduler's `PriorityQueue`).

Every pending pod the scheduler is responsible for is in exactly one place:

- `gated`: a PreEnqueue plugin (e.g. SchedulingGates) turned it away. Only an update
  of the pod re-runs PreEnqueue; cluster events and flushes leave it alone.
- `active` (activeQ): ready to be tried, popped in the order of the QueueSort plugin
  (the first profile's; PrioritySort: priority, then queue timestamp).
- `backoff` (backoffQ): failed recently; it returns to activeQ when its backoff
  expires: `initial_backoff * 2**(attempts - 1)`, capped at `max_backoff` (1 s to 10 s),
  counted from the pod's last failure.
- `unschedulable` (unschedulablePods): no node fits. It stays parked until a cluster
  event that could help (`move_all_to_active_or_backoff`: a node added or changed, an
  assigned pod deleted, ...) or until it has been parked `unschedulable_timeout` (5
  min); either way it goes to backoffQ if still backing off, else to activeQ.
- in flight: popped and being scheduled or bound. `requeue` puts it back after a
  failure (into backoffQ when the failure was an error, or when a cluster event was
  seen since it was popped, as Kubernetes' moveRequestCycle; else unschedulable);
  `done` forgets it after a successful binding. Updates of an in-flight pod are kept
  and used when it is requeued; a deletion makes `requeue` drop it.

Backoff expiries and the unschedulable timeout fire as timers on the injected clock,
so a `FakeClock` drives them deterministically. An update that changes only the pod's
status (or metadata other than labels/annotations) does not move an unschedulable pod:
the scheduler's own status writes must not wake it up. Not thread-safe: one event
loop; `pop` is the only method that blocks.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

from kybernetes.client.clock import Clock, Timer
from kybernetes.scheduler.framework import QueuedPodInfo, QueueSortPlugin
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.profile import Profile

log = logging.getLogger(__name__)

Location = Literal["active", "backoff", "unschedulable", "gated", "in-flight"]
DEFAULT_INITIAL_BACKOFF: Final = 1.0
DEFAULT_MAX_BACKOFF: Final = 10.0
DEFAULT_UNSCHEDULABLE_TIMEOUT: Final = 300.0
_COMPACT_SLACK: Final = 64


@dataclass(slots=True)
class _Ordered:
    """An activeQ heap entry ordered by the QueueSort plugin."""

    info: QueuedPodInfo
    sort: QueueSortPlugin

    def __lt__(self, other: _Ordered) -> bool:
        return self.sort.less(self.info, other.info)


@dataclass(slots=True)
class _InFlight:
    cycle: int
    latest: PodInfo


def _scheduling_relevant(pod: PodInfo) -> tuple[Any, ...]:
    """What an update must change to be worth another attempt (`isPodUpdated`)."""
    metadata = pod.pod.get("metadata") or {}
    return (pod.pod.get("spec"), metadata.get("labels"), metadata.get("annotations"))


class SchedulingQueue:
    """See the module docstring. `profiles` maps schedulerName to its profile."""

    def __init__(
        self,
        profiles: Mapping[str, Profile],
        clock: Clock,
        *,
        initial_backoff: float = DEFAULT_INITIAL_BACKOFF,
        max_backoff: float = DEFAULT_MAX_BACKOFF,
        unschedulable_timeout: float = DEFAULT_UNSCHEDULABLE_TIMEOUT,
    ) -> None:
        if not profiles:
            raise ValueError("a scheduling queue needs at least one profile")
        self._profiles = profiles
        self._sort = next(iter(profiles.values())).queue_sort
        self._clock = clock
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.unschedulable_timeout = unschedulable_timeout
        self._active: dict[str, QueuedPodInfo] = {}
        self._active_heap: list[_Ordered] = []
        self._backoff: dict[str, tuple[float, QueuedPodInfo]] = {}
        self._backoff_heap: list[tuple[float, int, str]] = []
        self._backoff_timer: Timer | None = None
        self._unschedulable: dict[str, QueuedPodInfo] = {}  # in order of parking
        self._unschedulable_timer: Timer | None = None
        self._gated: dict[str, QueuedPodInfo] = {}
        self._in_flight: dict[str, _InFlight] = {}
        self._sequence = itertools.count()
        self._wake = asyncio.Event()
        self.scheduling_cycle = 0
        self._move_request_cycle = -1

    # -- queries -------------------------------------------------------------------

    def _places(self) -> tuple[tuple[Location, Mapping[str, object]], ...]:
        return (
            ("active", self._active),
            ("backoff", self._backoff),
            ("unschedulable", self._unschedulable),
            ("gated", self._gated),
            ("in-flight", self._in_flight),
        )

    def location(self, key: str) -> Location | None:
        """Where the pod with this key is, or None if the queue does not know it."""
        return next((name for name, place in self._places() if key in place), None)

    def counts(self) -> dict[str, int]:
        """How many pods each place holds."""
        return {name: len(place) for name, place in self._places()}

    def __len__(self) -> int:
        """Pending pods, in flight ones included."""
        return sum(self.counts().values())

    def backoff_duration(self, attempts: int) -> float:
        """The backoff after `attempts` failed attempts (0 for none)."""
        if attempts <= 0:
            return 0.0
        return min(self.initial_backoff * 2.0 ** min(attempts - 1, 62), self.max_backoff)

    # -- informer-driven changes ---------------------------------------------------

    def add(self, pod: PodInfo) -> None:
        """A new pending pod (an already known one is treated as an update)."""
        if self.location(pod.key) is not None:
            self.update(pod)
            return
        now = self._clock.now()
        self._admit(QueuedPodInfo(pod, now, initial_timestamp=now))

    def update(self, pod: PodInfo) -> None:
        """A newer version of a pending pod (an unknown one is added)."""
        key = pod.key
        if (flight := self._in_flight.get(key)) is not None:
            flight.latest = pod
        elif (queued := self._gated.pop(key, None)) is not None:
            self._admit(replace(queued, pod=pod))
        elif (queued := self._active.get(key)) is not None:
            self._push_active(replace(queued, pod=pod))
        elif key in self._backoff:
            expiry, queued = self._backoff[key]
            self._backoff[key] = (expiry, replace(queued, pod=pod))
        elif (queued := self._unschedulable.get(key)) is not None:
            if _scheduling_relevant(queued.pod) == _scheduling_relevant(pod):
                self._unschedulable[key] = replace(queued, pod=pod)
            else:
                del self._unschedulable[key]
                self._move_to_active_or_backoff(replace(queued, pod=pod))
        else:
            self.add(pod)

    def delete(self, key: str) -> None:
        """The pod is gone or no longer pending; no-op if unknown."""
        self._active.pop(key, None)
        self._backoff.pop(key, None)
        self._unschedulable.pop(key, None)
        self._gated.pop(key, None)
        self._in_flight.pop(key, None)

    def move_all_to_active_or_backoff(
        self, event: str, only: Callable[[PodInfo], bool] | None = None
    ) -> None:
        """A cluster event (named for logs) that may make unschedulable pods
        schedulable: all of them — or those `only` accepts, a queueing hint — leave the
        unschedulable set."""
        self._move_request_cycle = self.scheduling_cycle
        if only is None:
            parked, self._unschedulable = self._unschedulable, {}
        else:
            parked = {k: q for k, q in self._unschedulable.items() if only(q.pod)}
            for key in parked:
                del self._unschedulable[key]
        if parked:
            log.debug("%s: %d unschedulable pods move to activeQ or backoffQ", event, len(parked))
        for queued in parked.values():
            self._move_to_active_or_backoff(queued)

    # -- the scheduling loop's side ------------------------------------------------

    async def pop(self) -> QueuedPodInfo:
        """The first pod of activeQ, now in flight, its `attempts` counting this one.
        Waits while activeQ is empty; cancellable."""
        while True:
            while self._active_heap:
                entry = heapq.heappop(self._active_heap)
                key = entry.info.pod.key
                if self._active.get(key) is not entry.info:
                    continue  # superseded or removed
                del self._active[key]
                self.scheduling_cycle += 1
                queued = replace(entry.info, attempts=entry.info.attempts + 1)
                self._in_flight[key] = _InFlight(self.scheduling_cycle, queued.pod)
                return queued
            self._wake.clear()
            await self._wake.wait()

    def requeue(self, queued: QueuedPodInfo, *, unschedulable: bool) -> None:
        """After a failed attempt: park the pod (`unschedulable`: no node fits) or back
        it off (an error, or a cluster event happened during the attempt). A pod
        deleted meanwhile is dropped."""
        flight = self._in_flight.pop(queued.pod.key, None)
        if flight is None:
            return
        queued = replace(queued, pod=flight.latest, timestamp=self._clock.now())
        if unschedulable and self._move_request_cycle < flight.cycle:
            self._park(queued)
        else:
            self._move_to_active_or_backoff(queued)

    def done(self, key: str) -> None:
        """The pod was bound: the queue forgets it."""
        self._in_flight.pop(key, None)

    # -- internals -----------------------------------------------------------------

    def _admit(self, queued: QueuedPodInfo) -> None:
        """Run PreEnqueue: into activeQ, or held as gated."""
        profile = self._profiles.get(queued.pod.scheduler_name)
        plugins = profile.pre_enqueue if profile is not None else ()
        if all(plugin.pre_enqueue(queued.pod).is_success for plugin in plugins):
            self._push_active(queued)
        else:
            self._gated[queued.pod.key] = queued

    def _push_active(self, queued: QueuedPodInfo) -> None:
        self._active[queued.pod.key] = queued
        heapq.heappush(self._active_heap, _Ordered(queued, self._sort))
        if len(self._active_heap) > 2 * len(self._active) + _COMPACT_SLACK:
            self._active_heap = [_Ordered(q, self._sort) for q in self._active.values()]
            heapq.heapify(self._active_heap)
        self._wake.set()

    def _move_to_active_or_backoff(self, queued: QueuedPodInfo) -> None:
        expiry = queued.timestamp + self.backoff_duration(queued.attempts)
        if expiry <= self._clock.now():
            self._admit(queued)
            return
        self._backoff[queued.pod.key] = (expiry, queued)
        heapq.heappush(self._backoff_heap, (expiry, next(self._sequence), queued.pod.key))
        self._arm_backoff()

    def _arm_backoff(self) -> None:
        while self._backoff_heap:
            expiry, _, key = self._backoff_heap[0]
            entry = self._backoff.get(key)
            if entry is not None and entry[0] == expiry:
                break
            heapq.heappop(self._backoff_heap)  # stale
        else:
            return
        if self._backoff_timer is not None:
            self._backoff_timer.cancel()
        self._backoff_timer = self._clock.call_at(expiry, self._flush_backoff)

    def _flush_backoff(self) -> None:
        """Backed-off pods whose time has come go to activeQ (`flushBackoffQCompleted`)."""
        self._backoff_timer = None
        now = self._clock.now()
        while self._backoff_heap and self._backoff_heap[0][0] <= now:
            expiry, _, key = heapq.heappop(self._backoff_heap)
            entry = self._backoff.get(key)
            if entry is not None and entry[0] == expiry:
                del self._backoff[key]
                self._admit(entry[1])
        self._arm_backoff()

    def _park(self, queued: QueuedPodInfo) -> None:
        self._unschedulable[queued.pod.key] = queued
        if self._unschedulable_timer is None:
            self._arm_unschedulable()

    def _arm_unschedulable(self) -> None:
        oldest = next(iter(self._unschedulable.values()), None)
        if oldest is not None:
            deadline = oldest.timestamp + self.unschedulable_timeout
            self._unschedulable_timer = self._clock.call_at(deadline, self._flush_unschedulable)

    def _flush_unschedulable(self) -> None:
        """Pods parked too long get another chance (`flushUnschedulablePodsLeftover`)."""
        self._unschedulable_timer = None
        now = self._clock.now()
        for key, queued in list(self._unschedulable.items()):
            if queued.timestamp + self.unschedulable_timeout > now:
                break
            del self._unschedulable[key]
            self._move_to_active_or_backoff(queued)
        self._arm_unschedulable()
