"""Per-key exponential back-off with the semantics of client-go's `flowcontrol.Backoff`,
which the kubelet uses for container restarts (CrashLoopBackOff) and image pulls
(ImagePullBackOff): 10 s doubling to 5 min.

- `in_backoff_since(key, event_time)`: whether `event_time` (e.g. when the container
  last finished) is less than the key's current delay ago.
- `next(key, event_time)`: the delay becomes the initial one for a new key, or for a
  key whose last update is more than twice the maximum before `event_time` (10 min
  for the kubelet: a container that ran that long starts over); otherwise it doubles,
  up to the maximum. The update is stamped with the current time.
- `in_backoff_since_update(key, now)`: whether the key's last update is less than
  its delay before `now` (image pulls).
- `get(key)`: the current delay (0 for an unknown key).

Times are the injected clock's monotonic seconds. Not thread-safe; one event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from kybernetes.client import Clock

INITIAL = 10.0
MAXIMUM = 300.0


@dataclass(slots=True)
class _Entry:
    delay: float
    last_update: float


class Backoff:
    """Exponential delays per key (see the module docstring)."""

    def __init__(self, clock: Clock, initial: float = INITIAL, maximum: float = MAXIMUM) -> None:
        self._clock = clock
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def get(self, key: str) -> float:
        entry = self._entries.get(key)
        return entry.delay if entry else 0.0

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def in_backoff_since(self, key: str, event_time: float) -> bool:
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return self._clock.now() - event_time < entry.delay

    def in_backoff_since_update(self, key: str, event_time: float) -> bool:
        """Whether `event_time` is within the current delay of the key's last update
        (image pulls: the back-off runs from the failed pull)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return False
        return event_time - entry.last_update < entry.delay

    def remaining_since_update(self, key: str) -> float:
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        return max(0.0, entry.last_update + entry.delay - self._clock.now())

    def remaining(self, key: str, event_time: float) -> float:
        """Seconds until `in_backoff_since(key, event_time)` turns false (0 if it is)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(event_time, entry):
            return 0.0
        return max(0.0, event_time + entry.delay - self._clock.now())

    def next(self, key: str, event_time: float) -> None:
        entry = self._entries.get(key)
        now = self._clock.now()
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.initial, now)
        else:
            entry.delay = min(entry.delay * 2, self.maximum)
            entry.last_update = now

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)

    def forget_prefix(self, prefix: str) -> None:
        """Drops every key starting with `prefix` (a deleted pod's containers)."""
        for key in [k for k in self._entries if k.startswith(prefix)]:
            del self._entries[key]
