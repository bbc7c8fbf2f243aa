"""`WorkQueue`: the keys a controller has to reconcile, with client-go's semantics.

Invariants (those of client-go's `workqueue.Type`, plus its delaying and rate-limited
layers):
- A key is queued at most once: adding a key that is already waiting to be processed
  does nothing (events for one object coalesce into one sync).
- A key handed out by `get()` is *processing* until `done(key)`; it is never handed
  out again meanwhile, so no two workers sync one key concurrently. Adding it while
  it is processing marks it dirty, and `done` queues it again.
- Keys are handed out in the order they were queued.
- `add_after(key, delay)` queues the key once `delay` seconds have passed on the
  injected clock (a key already waiting keeps the earlier time);
  `add_rate_limited(key)` is `add_after` with the rate limiter's delay for that key
  (exponential per-key backoff by default); `forget(key)` resets that backoff.
- After `shutdown()` adds are ignored and delayed keys dropped; `get()` still hands out
  the keys already queued, then raises `QueueShutDown`.

Concurrency: one event loop; any number of tasks may `get()`. Delays run on clock
timers, not tasks, so a `FakeClock`'s `advance()` queues due keys synchronously.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from .clock import Clock, SystemClock, Timer
from .errors import APIError
from .ratelimit import RateLimiter, default_controller_rate_limiter

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)


class QueueShutDown(Exception):
    """`get()` on a queue that is shut down and empty."""


class WorkQueue(Generic[K]):
    """A de-duplicating, delaying, rate-limited queue of keys (see module docstring)."""

    def __init__(
        self, *, clock: Clock | None = None, rate_limiter: RateLimiter | None = None
    ) -> None:
        self._clock = clock or SystemClock()
        self._rate_limiter = rate_limiter or default_controller_rate_limiter(self._clock)
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._getters: deque[asyncio.Future[None]] = deque()
        self._shutting_down = False
        # Delayed keys: key -> ready time, and a heap of (ready, seq, key) whose stale
        # entries (the key's time moved earlier or it was queued) are skipped.
        self._waiting: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._sequence = itertools.count()
        self._timer: Timer | None = None
        self._timer_at: float | None = None

    def __len__(self) -> int:
        """How many keys are queued (not counting processing or delayed ones)."""
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: K) -> None:
        """Queues `key` unless it is already queued (see module docstring)."""
        if self._shutting_down or key in self._dirty:
            return
        self._dirty.add(key)
        if key in self._processing:
            return
        self._queue.append(key)
        self._wake_one()

    def add_after(self, key: K, delay: float) -> None:
        """Queues `key` after `delay` seconds (at once if `delay` <= 0)."""
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        ready = self._clock.now() + delay
        if key in self._waiting and self._waiting[key] <= ready:
            return
        self._waiting[key] = ready
        heapq.heappush(self._heap, (ready, next(self._sequence), key))
        self._arm()

    def add_rate_limited(self, key: K) -> None:
        """Queues `key` after its rate-limited backoff (a retry after a failure)."""
        self.add_after(key, self._rate_limiter.when(key))

    def forget(self, key: K) -> None:
        """Ends `key`'s backoff (call after it synced successfully). Idempotent."""
        self._rate_limiter.forget(key)

    def num_requeues(self, key: K) -> int:
        """How many rate-limited retries `key` has had since it was last forgotten."""
        return self._rate_limiter.num_requeues(key)

    async def get(self) -> K:
        """The next key, waiting for one; the caller must call `done(key)` after.
        Raises `QueueShutDown` once shut down and drained. Cancellable."""
        while not self._queue:
            if self._shutting_down:
                raise QueueShutDown
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.cancelled():
                    with contextlib.suppress(ValueError):
                        self._getters.remove(waiter)
                else:
                    self._wake_one()  # woken but leaving: pass the wake-up on
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        """Ends processing of `key`; queues it again if it was added meanwhile."""
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()

    def shutdown(self) -> None:
        """Stops accepting keys and wakes every waiting `get()`. Idempotent."""
        self._shutting_down = True
        self._waiting.clear()
        self._heap.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _arm(self) -> None:
        """Sets the one clock timer to the earliest delayed key's ready time."""
        while self._heap and self._waiting.get(self._heap[0][2]) != self._heap[0][0]:
            heapq.heappop(self._heap)
        earliest = self._heap[0][0] if self._heap else None
        if earliest == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = earliest
        self._timer = None if earliest is None else self._clock.call_at(earliest, self._fire)

    def _fire(self) -> None:
        self._timer = self._timer_at = None
        now = self._clock.now()
        while self._heap and self._heap[0][0] <= now:
            ready, _, key = heapq.heappop(self._heap)
            if self._waiting.get(key) == ready:
                del self._waiting[key]
                self.add(key)
        self._arm()


class Requeue(Exception):
    """Raised by a sync that cannot finish now (e.g. a range is exhausted): the key is
    retried with backoff and the reason logged in one line, without a traceback."""


async def run_workers(
    queue: WorkQueue[K], sync: Callable[[K], Awaitable[None]], workers: int = 1
) -> None:
    """Runs `workers` tasks that each take a key, `await sync(key)`, then: on success
    `forget(key)`; on an exception log it (an API error or `Requeue` in one line,
    anything else with its traceback) and `add_rate_limited(key)`; always
    `done(key)`. Returns once the queue is shut down and drained; cancelling it
    cancels the syncs in progress. ValueError if `workers` < 1."""
    if workers < 1:
        raise ValueError("run_workers needs at least one worker")

    async def worker() -> None:
        while True:
            try:
                key = await queue.get()
            except QueueShutDown:
                return
            try:
                await sync(key)
            except (APIError, Requeue) as e:
                # Expected in normal operation (a conflict: the cache was behind a write),
                # so one line, no traceback.
                log.info("sync of %r: %s; retrying with backoff", key, e)
                queue.add_rate_limited(key)
            except Exception:
                log.exception("sync of %r failed; retrying with backoff", key)
                queue.add_rate_limited(key)
            else:
                queue.forget(key)
            finally:
                queue.done(key)
            await asyncio.sleep(0)  # let others run even if syncs never suspend

    async with asyncio.TaskGroup() as tg:
        for _ in range(workers):
            tg.create_task(worker())
