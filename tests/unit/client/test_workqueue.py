"""`WorkQueue`, its rate limiters and `run_workers`, on a fake clock (no real waits)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from kybernetes.client import (
    BucketRateLimiter,
    FakeClock,
    ItemExponentialRateLimiter,
    MaxOfRateLimiter,
    QueueShutDown,
    WorkQueue,
    default_controller_rate_limiter,
    run_workers,
)


def queue(clock: FakeClock | None = None) -> WorkQueue[str]:
    return WorkQueue(clock=clock or FakeClock())


async def test_add_deduplicates_pending_keys_and_keeps_order() -> None:
    q = queue()
    for key in ("a", "b", "a", "c", "b"):
        q.add(key)
    assert len(q) == 3
    assert [await q.get() for _ in range(3)] == ["a", "b", "c"]


async def test_a_key_being_processed_is_not_handed_out_until_done() -> None:
    q = queue()
    q.add("a")
    assert await q.get() == "a"
    q.add("a")  # changed again while processing: dirty, not queued
    q.add("a")
    assert len(q) == 0
    q.add("b")
    assert await q.get() == "b"
    q.done("a")  # re-queued once, because it was added meanwhile
    assert len(q) == 1
    assert await q.get() == "a"
    q.done("a")
    q.done("b")
    assert len(q) == 0


async def test_done_without_readd_does_not_requeue() -> None:
    q = queue()
    q.add("a")
    await q.get()
    q.done("a")
    assert len(q) == 0


async def test_get_waits_for_an_add_and_wakes_one_getter_per_key() -> None:
    q = queue()
    getters = [asyncio.ensure_future(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(g.done() for g in getters)
    q.add("x")
    q.add("y")
    async with asyncio.timeout(5):
        assert [await getters[0], await getters[1]] == ["x", "y"]  # first come, first served
    assert not getters[2].done()
    q.shutdown()
    with pytest.raises(QueueShutDown):
        await getters[2]


async def test_a_cancelled_getter_passes_its_wakeup_on() -> None:
    q = queue()
    first = asyncio.ensure_future(q.get())
    second = asyncio.ensure_future(q.get())
    await asyncio.sleep(0)
    q.add("x")  # wakes `first`...
    first.cancel()  # ...which leaves before taking it
    async with asyncio.timeout(5):
        assert await second == "x"
    assert first.cancelled()


async def test_shutdown_drains_queued_keys_then_raises_and_ignores_adds() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add("a")
    q.add_after("later", 1)
    q.shutdown()
    q.add("b")
    clock.advance(2)
    assert q.shutting_down
    assert await q.get() == "a"
    with pytest.raises(QueueShutDown):
        await q.get()


async def test_add_after_waits_on_the_clock_and_keeps_the_earliest_time() -> None:
    clock = FakeClock()
    q = queue(clock)
    q.add_after("a", 10)
    q.add_after("b", 5)
    q.add_after("a", 3)  # earlier: replaces 10
    q.add_after("b", 8)  # later: ignored
    q.add_after("now", 0)
    assert len(q) == 1
    assert await q.get() == "now"
    clock.advance(2.9)
    assert len(q) == 0
    clock.advance(0.1)
    assert len(q) == 1
    assert await q.get() == "a"
    clock.advance(2)
    assert await q.get() == "b"
    clock.advance(100)
    assert len(q) == 0  # "a" at 10 was superseded, not queued twice
    assert clock.pending == 0


async def test_a_delayed_key_wakes_a_waiting_getter() -> None:
    clock = FakeClock()
    q = queue(clock)
    getter = asyncio.ensure_future(q.get())
    q.add_after("k", 1)
    await asyncio.sleep(0)
    assert not getter.done()
    clock.advance(1)
    async with asyncio.timeout(5):
        assert await getter == "k"


async def test_rate_limited_adds_back_off_exponentially_until_forgotten() -> None:
    clock = FakeClock()
    q: WorkQueue[str] = WorkQueue(clock=clock, rate_limiter=ItemExponentialRateLimiter(1, 8))
    delays = []
    for _ in range(5):
        q.add_rate_limited("k")
        start = clock.now()
        while len(q) == 0:
            deadline = clock.next_deadline()
            assert deadline is not None
            clock.advance(deadline - clock.now())
        delays.append(clock.now() - start)
        assert await q.get() == "k"
        q.done("k")
    assert delays == [1, 2, 4, 8, 8]
    assert q.num_requeues("k") == 5
    q.forget("k")
    assert q.num_requeues("k") == 0
    q.add_rate_limited("k")
    assert clock.next_deadline() == clock.now() + 1


def test_exponential_limiter_defaults_and_per_item_history() -> None:
    limiter = ItemExponentialRateLimiter()
    assert [limiter.when("a") for _ in range(3)] == [0.005, 0.01, 0.02]
    assert limiter.when("b") == 0.005
    for _ in range(100):
        last = limiter.when("a")
    assert last == 1000.0
    limiter.forget("a")
    assert limiter.when("a") == 0.005


def test_bucket_limiter_allows_a_burst_then_paces() -> None:
    clock = FakeClock()
    bucket = BucketRateLimiter(qps=10, burst=2, clock=clock)
    assert [bucket.when(i) for i in range(4)] == [0, 0, pytest.approx(0.1), pytest.approx(0.2)]
    clock.advance(1)  # refills to the burst, no more
    assert [bucket.when(i) for i in range(3)] == [0, 0, pytest.approx(0.1)]


def test_default_controller_limiter_is_the_max_of_both() -> None:
    clock = FakeClock()
    limiter = default_controller_rate_limiter(clock)
    assert isinstance(limiter, MaxOfRateLimiter)
    assert limiter.when("a") == 0.005
    for _ in range(150):
        limiter.when("b")
    assert limiter.when("fresh") > 0.005  # the shared bucket is exhausted
    assert limiter.num_requeues("a") == 1
    limiter.forget("a")
    assert limiter.num_requeues("a") == 0


async def test_run_workers_syncs_retries_and_never_runs_a_key_twice_at_once() -> None:
    clock = FakeClock()
    q = queue(clock)
    running: set[str] = set()
    overlaps: list[str] = []
    calls: list[str] = []
    release = asyncio.Event()
    failed_once = asyncio.Event()
    slow_again = asyncio.Event()

    async def sync(key: str) -> None:
        if key in running:
            overlaps.append(key)
        running.add(key)
        calls.append(key)
        try:
            if key == "slow" and release.is_set():
                slow_again.set()
            if key == "slow" and not release.is_set():
                q.add("slow")  # re-added while it runs: must wait for done
                await release.wait()
            if key == "flaky" and not failed_once.is_set():
                failed_once.set()
                raise RuntimeError("transient")
        finally:
            running.discard(key)

    async def drive() -> None:
        for key in ("slow", "flaky", "ok"):
            q.add(key)
        await failed_once.wait()
        # The failed key was re-added with the default limiter's 5 ms backoff.
        while "flaky" not in calls[calls.index("flaky") + 1 :]:
            clock.advance(0.005)
            await asyncio.sleep(0)
        release.set()
        await slow_again.wait()
        q.shutdown()

    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        tg.create_task(run_workers(q, sync, workers=4))
        tg.create_task(drive())
    assert overlaps == []
    assert sorted(calls) == ["flaky", "flaky", "ok", "slow", "slow"]
    assert q.num_requeues("flaky") == 0  # forgotten after the successful retry


async def test_run_workers_logs_failures(caplog: pytest.LogCaptureFixture) -> None:
    q = queue()

    async def sync(key: str) -> None:
        q.shutdown()
        raise ValueError("boom")

    q.add("k")
    with caplog.at_level(logging.ERROR):
        async with asyncio.timeout(10):
            await run_workers(q, sync)
    assert "sync of 'k' failed" in caplog.text
    assert "boom" in caplog.text


async def test_a_getter_cancelled_while_waiting_leaves_nothing_behind() -> None:
    q = queue()
    for _ in range(3):
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0):
                await q.get()
    assert not q._getters
    q.add("k")
    assert await q.get() == "k"


async def test_run_workers_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least one"):
        await run_workers(queue(), lambda key: asyncio.sleep(0), workers=0)
