"""SchedulingQueue: QueueSort order, backoff, parking, gates, on a FakeClock."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kybernetes.client import FakeClock
from kybernetes.scheduler.configuration import load_configuration
from kybernetes.scheduler.framework import QueuedPodInfo
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.profile import build_profile
from kybernetes.scheduler.queue import SchedulingQueue
from tests.unit.scheduler.helpers import pod


def make_queue(clock: FakeClock) -> SchedulingQueue:
    profile = build_profile(load_configuration(None).profiles[0], in_tree_registry())
    return SchedulingQueue({profile.scheduler_name: profile}, clock)


def pending(name: str, **spec: Any) -> PodInfo:
    return pod(name, spec=spec)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def queue(clock: FakeClock) -> SchedulingQueue:
    return make_queue(clock)


async def pop_names(queue: SchedulingQueue, count: int) -> list[str]:
    return [(await queue.pop()).pod.name for _ in range(count)]


async def fail(queue: SchedulingQueue, *, unschedulable: bool) -> QueuedPodInfo:
    queued = await queue.pop()
    queue.requeue(queued, unschedulable=unschedulable)
    return queued


async def test_pops_by_priority_then_arrival(queue: SchedulingQueue, clock: FakeClock) -> None:
    for name, priority in (("low", 0), ("high-late", 10), ("mid", 5), ("low-late", 0)):
        queue.add(pending(name, priority=priority))
        clock.advance(1)
    queue.add(pending("high-latest", priority=10))
    assert await pop_names(queue, 5) == ["high-late", "high-latest", "mid", "low", "low-late"]
    assert queue.location("default/low") == "in-flight"
    assert len(queue) == 5


async def test_pop_waits_for_a_pod(queue: SchedulingQueue) -> None:
    popping = asyncio.create_task(queue.pop())
    await asyncio.sleep(0)
    assert not popping.done()
    queue.add(pending("p"))
    queued = await asyncio.wait_for(popping, 5)
    assert (queued.pod.name, queued.attempts) == ("p", 1)


async def test_backoff_doubles_to_ten_seconds(queue: SchedulingQueue, clock: FakeClock) -> None:
    assert [queue.backoff_duration(n) for n in range(7)] == [0, 1, 2, 4, 8, 10, 10]
    queue.add(pending("p"))
    for attempt, backoff in enumerate((1.0, 2.0, 4.0, 8.0, 10.0, 10.0), start=1):
        queued = await fail(queue, unschedulable=False)
        assert queued.attempts == attempt
        assert queue.location(queued.pod.key) == "backoff"
        clock.advance(backoff - 0.01)
        assert queue.location(queued.pod.key) == "backoff"
        clock.advance(0.01)
        assert queue.location(queued.pod.key) == "active"


async def test_unschedulable_pods_wait_for_an_event(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pending("p"))
    queued = await fail(queue, unschedulable=True)
    key = queued.pod.key
    assert queue.location(key) == "unschedulable"
    clock.advance(60)
    assert queue.location(key) == "unschedulable"
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.location(key) == "active"  # its 1 s backoff is long over


async def test_an_event_right_after_failure_goes_through_backoff(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pending("p"))
    queued = await fail(queue, unschedulable=True)
    clock.advance(0.5)
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.location(queued.pod.key) == "backoff"
    clock.advance(0.5)
    assert queue.location(queued.pod.key) == "active"


async def test_an_event_during_the_attempt_skips_parking(queue: SchedulingQueue) -> None:
    queue.add(pending("p"))
    queued = await queue.pop()
    queue.move_all_to_active_or_backoff("NodeAdd")
    queue.requeue(queued, unschedulable=True)
    assert queue.location(queued.pod.key) == "backoff"


async def test_parked_pods_are_flushed_after_five_minutes(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pending("a"))
    queue.add(pending("b"))
    first = await fail(queue, unschedulable=True)
    clock.advance(100)
    second = await fail(queue, unschedulable=True)
    clock.advance(199.9)
    assert queue.location(first.pod.key) == "unschedulable"
    clock.advance(0.1)
    assert queue.location(first.pod.key) == "active"
    assert queue.location(second.pod.key) == "unschedulable"
    clock.advance(100)
    assert queue.location(second.pod.key) == "active"


async def test_gated_pods_are_held_until_their_gates_go(queue: SchedulingQueue) -> None:
    gated = pending("p", schedulingGates=[{"name": "example.com/wait"}])
    queue.add(gated)
    assert queue.location(gated.key) == "gated"
    queue.move_all_to_active_or_backoff("NodeAdd")
    assert queue.location(gated.key) == "gated"
    queue.update(pending("p"))
    assert queue.location(gated.key) == "active"
    assert (await queue.pop()).pod.scheduling_gates == ()


async def test_only_spec_changes_wake_a_parked_pod(queue: SchedulingQueue) -> None:
    queue.add(pending("p"))
    queued = await fail(queue, unschedulable=True)
    with_status = dict(queued.pod.pod, status={"conditions": [{"type": "PodScheduled"}]})
    queue.update(pod_info(with_status))
    assert queue.location(queued.pod.key) == "unschedulable"
    queue.update(pending("p", nodeSelector={"disk": "ssd"}))
    assert queue.location(queued.pod.key) in ("active", "backoff")


async def test_updates_in_flight_are_kept_and_deletions_drop(
    queue: SchedulingQueue, clock: FakeClock
) -> None:
    queue.add(pending("a"))
    queue.add(pending("b"))
    a = await queue.pop()
    queue.update(pending("a", priority=7))
    queue.requeue(a, unschedulable=True)
    queue.move_all_to_active_or_backoff("NodeAdd")
    b = await queue.pop()
    queue.delete(b.pod.key)
    queue.requeue(b, unschedulable=False)
    assert queue.location(b.pod.key) is None
    clock.advance(1)
    assert (await queue.pop()).pod.priority == 7
    queue.done(a.pod.key)
    assert len(queue) == 0
