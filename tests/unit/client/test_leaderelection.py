"""Leader election with real Leases: one of two electors leads; the other takes over
when the leader releases, when it stops renewing (after the lease expires), and a
leader whose lease is taken away stops leading. Short real timings (1 s lease)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kybernetes.client import APIClient, LeaderElectionConfig, LeaderElector
from kybernetes.client.resource import LEASES

from .conftest import Server


def config(identity: str, namespace: str, *, release: bool = True) -> LeaderElectionConfig:
    return LeaderElectionConfig(
        name="lock",
        namespace=namespace,
        identity=identity,
        lease_duration=1.0,
        renew_deadline=0.5,
        retry_period=0.1,
        release_on_cancel=release,
    )


class Candidate:
    """An elector whose work runs until cancelled, recording what happens."""

    def __init__(self, client: APIClient, config: LeaderElectionConfig) -> None:
        self.elector = LeaderElector(client, config)
        self.started = asyncio.Event()
        self.stopped = asyncio.Event()
        self.work_cancelled = False
        self.leaders: list[str] = []

    async def work(self) -> None:
        self.started.set()
        try:
            await asyncio.Future()
        except asyncio.CancelledError:
            self.work_cancelled = True
            raise

    async def run(self) -> None:
        await self.elector.run(
            self.work, on_stopped_leading=self.stopped.set, on_new_leader=self.leaders.append
        )


async def lease_spec(client: APIClient, namespace: str) -> dict[str, Any]:
    lease = await client.get(LEASES, "lock", namespace)
    spec: dict[str, Any] = lease["spec"]
    return spec


async def wait(event: asyncio.Event, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        await event.wait()


async def test_one_leads_and_the_other_takes_over_after_release(
    client: APIClient, namespace: str
) -> None:
    first, second = (Candidate(client, config(i, namespace)) for i in ("one", "two"))
    async with asyncio.TaskGroup() as tg:
        first_run = tg.create_task(first.run())
        await wait(first.started)
        second_run = tg.create_task(second.run())
        lease = await client.get(LEASES, "lock", namespace)
        spec = lease["spec"]
        assert spec["holderIdentity"] == "one"
        assert spec["leaseDurationSeconds"] == 1
        assert spec["leaseTransitions"] == 0
        assert spec["acquireTime"].endswith("Z") and "." in spec["acquireTime"]

        rv = lease["metadata"]["resourceVersion"]
        async with asyncio.timeout(5):
            async for event in client.watch(LEASES, namespace, resource_version=rv):
                renewed = event.object["spec"]
                break
        assert renewed["holderIdentity"] == "one"
        assert renewed["renewTime"] > spec["renewTime"]
        assert renewed["acquireTime"] == spec["acquireTime"]
        assert not second.started.is_set()
        assert second.elector.leader == "one"
        assert not second.elector.is_leader and first.elector.is_leader

        first_run.cancel()  # releases: the successor need not wait out the lease
        await wait(first.stopped)
        await wait(second.started, seconds=2)
        assert first.work_cancelled and not first.elector.is_leader
        spec = await lease_spec(client, namespace)
        assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("two", 1)
        assert second.leaders == ["one", "two"]
        second_run.cancel()


async def test_the_other_takes_over_once_the_leader_stops_renewing(
    client: APIClient, namespace: str
) -> None:
    first = Candidate(client, config("one", namespace, release=False))
    second = Candidate(client, config("two", namespace))
    async with asyncio.TaskGroup() as tg:
        first_run = tg.create_task(first.run())
        await wait(first.started)
        second_run = tg.create_task(second.run())
        first_run.cancel()  # a crash, as far as the lease knows: no release
        await wait(first.stopped)
        assert (await lease_spec(client, namespace))["holderIdentity"] == "one"
        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        await wait(second.started, seconds=5)
        assert loop.time() - stopped_at >= 0.5  # waited for the lease to expire
        second_run.cancel()
    spec = await lease_spec(client, namespace)
    assert spec.get("holderIdentity") is None  # released
    assert spec["leaseTransitions"] == 1


async def test_a_leader_that_cannot_renew_stops_leading(client: APIClient, namespace: str) -> None:
    leader = Candidate(client, config("one", namespace))
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(leader.run())
        await wait(leader.started)
        usurped = {"spec": {"holderIdentity": "usurper", "leaseDurationSeconds": 60}}
        await client.patch(LEASES, "lock", usurped, namespace=namespace)
        await wait(leader.stopped, seconds=5)
        async with asyncio.timeout(5):
            await run  # run() returns after losing the lease
    assert leader.work_cancelled
    assert not leader.elector.is_leader
    assert leader.leaders == ["one", "usurper"]
    assert (await lease_spec(client, namespace))["holderIdentity"] == "usurper"


async def test_run_returns_and_releases_when_the_work_is_done(
    client: APIClient, namespace: str, server: Server
) -> None:
    elector = LeaderElector(client, config("solo", namespace))
    ran: list[bool] = []

    async def work() -> None:
        ran.append(elector.is_leader)

    async with asyncio.timeout(10):
        await elector.run(work)
    assert ran == [True]
    assert (await lease_spec(client, namespace)).get("holderIdentity") is None


def test_timings_are_checked() -> None:
    with pytest.raises(ValueError, match="lease_duration"):
        LeaderElectionConfig("l", "ns", "me", lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="renew_deadline"):
        LeaderElectionConfig("l", "ns", "me", renew_deadline=2, retry_period=2)
    with pytest.raises(ValueError, match="identity"):
        LeaderElectionConfig("l", "ns", "")
