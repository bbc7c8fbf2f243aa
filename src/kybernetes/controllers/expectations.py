"""`ControllerExpectations`: the writes a controller made and has not yet seen come back.

A controller that creates 3 pods would, without this, see its cache still short of 3
on its next sync (the watch events have not arrived) and create 3 more. So before
writing it records what it expects (`expect_creations(key, n)`,
`expect_deletions(key, pod_keys)`); informer handlers report what they observe
(`creation_observed`, `deletion_observed`); and `satisfied(key)` tells the sync
whether to act: true once every expected write was observed, when nothing is
recorded for the key, or when the record is older than `ttl` (5 minutes, as in
Kubernetes: a lost event must not wedge the controller forever).

Deletions are tracked by object key (Kubernetes' UID-tracking expectations), so an
object deleted by somebody else does not count against a deletion we expect, and
observing one twice counts once. A failed write must be un-expected by the caller
(`creation_observed` / `deletion_observed` for what will never happen).

Not thread-safe: one event loop. Times come from the injected clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kybernetes.client import Clock

EXPECTATIONS_TTL = 300.0


@dataclass(slots=True)
class _Expectation:
    adds: int
    deletes: set[str] = field(default_factory=set)
    timestamp: float = 0.0

    def fulfilled(self) -> bool:
        return self.adds <= 0 and not self.deletes


class ControllerExpectations:
    """Pending creations and deletions per controller key (see module docstring)."""

    def __init__(self, clock: Clock, ttl: float = EXPECTATIONS_TTL) -> None:
        self._clock = clock
        self._ttl = ttl
        self._items: dict[str, _Expectation] = {}

    def satisfied(self, key: str) -> bool:
        """Whether the controller of `key` may act on its cache now."""
        expectation = self._items.get(key)
        if expectation is None or expectation.fulfilled():
            return True
        return self._clock.now() - expectation.timestamp > self._ttl

    def expect_creations(self, key: str, count: int) -> None:
        """Records `count` creations to come, replacing any previous record."""
        self._items[key] = _Expectation(count, set(), self._clock.now())

    def expect_deletions(self, key: str, object_keys: Iterable[str]) -> None:
        """Records the deletion of these objects, replacing any previous record."""
        self._items[key] = _Expectation(0, set(object_keys), self._clock.now())

    def creation_observed(self, key: str) -> None:
        """One expected creation happened (or will never happen)."""
        expectation = self._items.get(key)
        if expectation is not None:
            expectation.adds -= 1

    def deletion_observed(self, key: str, object_key: str) -> None:
        """The deletion of `object_key` happened (or will never happen)."""
        expectation = self._items.get(key)
        if expectation is not None:
            expectation.deletes.discard(object_key)

    def delete(self, key: str) -> None:
        """Forgets `key` (its controller object is gone). Idempotent."""
        self._items.pop(key, None)

    def pending(self, key: str) -> tuple[int, int]:
        """(creations, deletions) still expected for `key`."""
        expectation = self._items.get(key)
        if expectation is None:
            return (0, 0)
        return (max(expectation.adds, 0), len(expectation.deletes))
