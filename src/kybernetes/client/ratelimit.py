"""Rate limiters for work-queue retries: how long to wait before an item's next try.

The counterparts of client-go's `workqueue` rate limiters. `when(item)` records a
retry and answers its delay in seconds; `forget(item)` ends the item's failure
history (call it once the item succeeded); `num_requeues(item)` counts the retries
since. The default, `default_controller_rate_limiter()`, is client-go's
`DefaultControllerRateLimiter`: the larger of a per-item exponential backoff (5 ms
doubling up to 1000 s) and an overall token bucket (10 per second, bursts of 100).

Not thread-safe: use from one event loop (the work queue's).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from .clock import Clock, SystemClock


class RateLimiter(Protocol):
    def when(self, item: Hashable) -> float:
        """Records a retry of `item`; answers how many seconds to wait first."""
        ...

    def forget(self, item: Hashable) -> None:
        """Clears `item`'s retry history. Idempotent."""
        ...

    def num_requeues(self, item: Hashable) -> int:
        """How many retries of `item` were recorded since it was last forgotten."""
        ...


class ItemExponentialRateLimiter:
    """`base * 2**failures` seconds per item, capped at `maximum`."""

    def __init__(self, base: float = 0.005, maximum: float = 1000.0) -> None:
        self.base = base
        self.maximum = maximum
        self._failures: dict[Hashable, int] = {}

    def when(self, item: Hashable) -> float:
        failures = self._failures.get(item, 0)
        self._failures[item] = failures + 1
        if failures >= 64:  # 2**64 * base overflows any sensible maximum
            return self.maximum
        return float(min(self.base * 2**failures, self.maximum))

    def forget(self, item: Hashable) -> None:
        self._failures.pop(item, None)

    def num_requeues(self, item: Hashable) -> int:
        return self._failures.get(item, 0)


class BucketRateLimiter:
    """A token bucket shared by all items: `qps` tokens a second, at most `burst`
    saved; each retry takes a token, waiting for it if none is left."""

    def __init__(self, qps: float = 10.0, burst: int = 100, *, clock: Clock | None = None) -> None:
        self.qps = qps
        self.burst = burst
        self._clock = clock or SystemClock()
        self._tokens = float(burst)
        self._last: float | None = None

    def when(self, item: Hashable) -> float:
        now = self._clock.now()
        if self._last is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps

    def forget(self, item: Hashable) -> None:
        pass  # the bucket is shared: nothing is per item

    def num_requeues(self, item: Hashable) -> int:
        return 0


class MaxOfRateLimiter:
    """The longest delay of several limiters; every limiter records every retry."""

    def __init__(self, *limiters: RateLimiter) -> None:
        self.limiters = limiters

    def when(self, item: Hashable) -> float:
        return max(limiter.when(item) for limiter in self.limiters)

    def forget(self, item: Hashable) -> None:
        for limiter in self.limiters:
            limiter.forget(item)

    def num_requeues(self, item: Hashable) -> int:
        return max(limiter.num_requeues(item) for limiter in self.limiters)


def default_controller_rate_limiter(clock: Clock | None = None) -> RateLimiter:
    """client-go's default: exponential 5 ms .. 1000 s per item, 10 qps / 100 burst."""
    return MaxOfRateLimiter(
        ItemExponentialRateLimiter(0.005, 1000.0), BucketRateLimiter(10.0, 100, clock=clock)
    )
