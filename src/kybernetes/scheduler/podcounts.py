"""Per-node counts of the pods matching a predicate, kept exact incrementally.

InterPodAffinity and PodTopologySpread ask "how many pods matching this selector (in
these namespaces) run on each node?" for every pod they schedule. Recounting every pod
of the cluster each cycle is O(pods); instead the snapshot keeps one int64 column per
*registered* predicate and adjusts it as pods are added to or removed from nodes, so a
query is O(1) after the first and an update costs one predicate call per registered
counter. Counters are keyed by what they count (e.g. `podaffinity.counter_key`), so the
pods of one template share them. At most `MAX_COUNTERS` are kept; past that all are
dropped and rebuilt on demand.

Owned by `NodeSnapshot`, which calls `account`, `clear_slot` and `grow`; not thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Final

import numpy as np
import numpy.typing as npt

from kybernetes.scheduler.podinfo import PodInfo

Predicate = Callable[[PodInfo], bool]
Counts = npt.NDArray[np.int64]
MAX_COUNTERS: Final = 256


class PodCounters:
    """See the module docstring."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._counters: dict[Hashable, tuple[Predicate, Counts]] = {}

    def get(
        self,
        key: Hashable,
        predicate: Predicate,
        placed: Callable[[], Iterable[tuple[int, PodInfo]]],
    ) -> Counts:
        """The per-slot counts for `key`; a new key is counted over `placed()` (every
        (slot, pod) accounted on a present node) and kept up to date from then on. The
        returned array is live and must not be modified."""
        entry = self._counters.get(key)
        if entry is None:
            if len(self._counters) >= MAX_COUNTERS:
                self._counters.clear()
            counts = np.zeros(self._capacity, dtype=np.int64)
            for slot, pod in placed():
                if predicate(pod):
                    counts[slot] += 1
            entry = self._counters[key] = (predicate, counts)
        return entry[1]

    def account(self, slot: int, pod: PodInfo, sign: int) -> None:
        for predicate, counts in self._counters.values():
            if predicate(pod):
                counts[slot] += sign

    def clear_slot(self, slot: int) -> None:
        for _, counts in self._counters.values():
            counts[slot] = 0

    def grow(self, capacity: int) -> None:
        extra = capacity - self._capacity
        for key, (predicate, counts) in self._counters.items():
            self._counters[key] = (predicate, np.concatenate([counts, np.zeros(extra, np.int64)]))
        self._capacity = capacity
