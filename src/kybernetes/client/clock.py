"""Clocks: the time source every client-side component takes by injection.

`Clock` is what the work queue, informers, leader election and the event recorder use
instead of `time` and `asyncio.sleep`, so tests control time. `SystemClock` is the real
one (the event loop's monotonic time, the system's wall time). `FakeClock` stands still
until `advance()` moves it: timers that come due run synchronously inside `advance`, in
deadline order, and sleepers wake on the event loop's next turn.

Invariants: `now()` never goes backwards; a timer fires at most once and never before
its deadline; a cancelled timer never fires. Clocks are not thread-safe: use them from
the event loop that runs their timers.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Timer(Protocol):
    """A pending callback; `cancel()` is idempotent and harmless after it fired."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """A monotonic time in seconds, the wall time, timers and sleeps."""

    def now(self) -> float:
        """Monotonic seconds (only differences are meaningful)."""
        ...

    def wall(self) -> datetime:
        """The current UTC time, for timestamps written into objects."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Runs `callback` once `now() >= when`. Needs a running event loop."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Returns once `seconds` have passed on this clock. Cancellable."""
        ...


class SystemClock:
    """The real clock: `asyncio`'s loop time and the system's UTC time."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    def wall(self) -> datetime:
        return datetime.now(UTC)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_at(when, callback)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass(order=True)
class _FakeTimer:
    when: float
    sequence: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock that moves only when told to (see module docstring)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = 0.0
        self._epoch = start or datetime(2025, 1, 1, tzinfo=UTC)
        self._timers: list[_FakeTimer] = []
        self._sequence = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._epoch + timedelta(seconds=self._now)

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        timer = _FakeTimer(when, next(self._sequence), callback)
        heapq.heappush(self._timers, timer)
        return timer

    async def sleep(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not woken.done():
                woken.set_result(None)

        timer = self.call_at(self._now + seconds, wake)
        try:
            await woken
        finally:
            timer.cancel()

    @property
    def pending(self) -> int:
        """How many timers (sleepers included) are waiting to fire."""
        return sum(1 for timer in self._timers if not timer.cancelled)

    def next_deadline(self) -> float | None:
        """When the earliest pending timer fires, or None if there is none."""
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].when if self._timers else None

    def advance(self, seconds: float) -> None:
        """Moves time forward, firing every timer that comes due, in deadline order
        (time stands at each timer's deadline while its callback runs)."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        while (deadline := self.next_deadline()) is not None and deadline <= target:
            timer = heapq.heappop(self._timers)
            self._now = max(self._now, timer.when)
            timer.callback()
        self._now = target
