"""SchedulerCache: observed and assumed pods on the snapshot; forget and expiry."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import FakeClock
from kybernetes.scheduler.cache import SchedulerCache
from kybernetes.scheduler.podinfo import PodInfo
from tests.unit.scheduler.helpers import node, pod


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> SchedulerCache:
    cache = SchedulerCache(clock)
    cache.add_node(node("n1", cpu="4"))
    return cache


def cpu_requested(cache: SchedulerCache, name: str = "n1") -> int:
    return int(cache.snapshot.requested[0, cache.snapshot.slots[name]])


def bound(info: PodInfo, node_name: str, phase: str = "Running") -> dict[str, Any]:
    return {
        **info.pod,
        "spec": {**info.pod["spec"], "nodeName": node_name},
        "status": {"phase": phase},
    }


def test_assumed_pods_count_until_forgotten(cache: SchedulerCache) -> None:
    p = pod("p", requests={"cpu": "1"})
    cache.assume(p, "n1")
    assert cache.is_assumed(p.key)
    assert cpu_requested(cache) == 1000
    cache.forget(p.key)
    assert not cache.is_assumed(p.key)
    assert cpu_requested(cache) == 0
    cache.forget(p.key)  # idempotent


def test_an_observed_binding_confirms_the_assumption(
    cache: SchedulerCache, clock: FakeClock
) -> None:
    p = pod("p", requests={"cpu": "1"})
    cache.assume(p, "n1")
    cache.finish_binding(p.key)
    cache.add_pod(bound(p, "n1"))
    assert not cache.is_assumed(p.key)
    clock.advance(60)
    assert cpu_requested(cache) == 1000
    assert cache.snapshot.pod_count[cache.snapshot.slots["n1"]] == 1


def test_an_unobserved_binding_expires_after_thirty_seconds(
    cache: SchedulerCache, clock: FakeClock
) -> None:
    p = pod("p", requests={"cpu": "1"})
    cache.assume(p, "n1")
    clock.advance(100)  # no expiry while the binding is in flight
    assert cache.is_assumed(p.key)
    cache.finish_binding(p.key)
    clock.advance(29.9)
    assert cpu_requested(cache) == 1000
    clock.advance(0.1)
    assert not cache.is_assumed(p.key)
    assert cpu_requested(cache) == 0


def test_observed_pods_count_until_terminal_or_deleted(cache: SchedulerCache) -> None:
    p = pod("p", requests={"cpu": "500m"})
    cache.add_pod(bound(p, "n1"))
    assert cpu_requested(cache) == 500
    cache.update_pod(bound(p, "n1", phase="Succeeded"))
    assert cpu_requested(cache) == 0
    cache.update_pod(bound(p, "n1"))
    cache.remove_pod(bound(p, "n1"))
    assert cpu_requested(cache) == 0


def test_pods_of_a_node_not_yet_seen_count_once_it_appears(cache: SchedulerCache) -> None:
    p = pod("p", requests={"cpu": "2"})
    cache.add_pod(bound(p, "n2"))
    cache.add_node(node("n2", cpu="8"))
    assert cpu_requested(cache, "n2") == 2000
    cache.remove_node("n2")
    assert "n2" not in cache.snapshot.slots
    cache.update_node(node("n1", cpu="2"))
    assert cache.snapshot.allocatable[0, cache.snapshot.slots["n1"]] == 2000
