"""flowcontrol.Backoff semantics: doubling to the maximum, reset after twice the maximum."""

from __future__ import annotations

from kybernetes.client import FakeClock
from kybernetes.kubelet.backoff import Backoff


def test_doubles_to_the_maximum_then_resets_after_ten_minutes() -> None:
    clock = FakeClock()
    backoff = Backoff(clock)
    delays = []
    for _ in range(7):
        backoff.next("c", clock.now())
        delays.append(backoff.get("c"))
        clock.advance(backoff.get("c"))
    assert delays == [10, 20, 40, 80, 160, 300, 300]
    finished = clock.now()
    assert backoff.in_backoff_since("c", finished)
    clock.advance(300)
    assert not backoff.in_backoff_since("c", finished)
    clock.advance(601)  # ran (or stayed quiet) for more than 10 minutes: start over
    backoff.next("c", clock.now())
    assert backoff.get("c") == 10


def test_remaining_and_update_based_window() -> None:
    clock = FakeClock()
    backoff = Backoff(clock)
    assert not backoff.in_backoff_since_update("img", clock.now())
    backoff.next("img", clock.now())
    clock.advance(4)
    assert backoff.in_backoff_since_update("img", clock.now())
    assert backoff.remaining_since_update("img") == 6
    assert backoff.remaining("img", clock.now() - 4) == 6
    clock.advance(6)
    assert not backoff.in_backoff_since_update("img", clock.now())
    backoff.forget_prefix("im")
    assert backoff.get("img") == 0
