"""TTLAfterFinishedController.sync against a seeded cache and a recording client."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.ttlafterfinished import TTLAfterFinishedController

from ..fakes import FakeClient

Obj = dict[str, Any]


def job(ttl: int | None, finished: str | None = "2025-01-01T00:00:00Z") -> Obj:
    j: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": "ns", "uid": "u1"},
        "spec": {} if ttl is None else {"ttlSecondsAfterFinished": ttl},
        "status": {},
    }
    if finished is not None:
        j["status"]["conditions"] = [
            {"type": "Complete", "status": "True", "lastTransitionTime": finished}
        ]
    return j


def harness(j: Obj) -> tuple[TTLAfterFinishedController, FakeClient, FakeClock]:
    clock, client = FakeClock(), FakeClient()
    factory = SharedInformerFactory(client, clock=clock)  # type: ignore[arg-type]
    ctl = TTLAfterFinishedController(client, factory, clock=clock)  # type: ignore[arg-type]
    ctl.jobs.indexer.add(j)
    client.objects[("jobs", "ns", "work")] = j
    return ctl, client, clock


async def test_requeues_until_the_ttl_expires_then_deletes_in_foreground() -> None:
    ctl, client, clock = harness(job(60))
    clock.advance(20)
    await ctl.sync("ns/work")
    assert client.writes == []
    assert ctl.queue._waiting["ns/work"] == 60
    clock.advance(40)
    assert len(ctl.queue) == 1
    await ctl.sync("ns/work")
    assert client.of("delete", "jobs") == ["work"]


async def test_a_ttl_removed_meanwhile_is_respected() -> None:
    ctl, client, clock = harness(job(10))
    client.objects[("jobs", "ns", "work")] = job(None)
    clock.advance(30)
    await ctl.sync("ns/work")
    assert client.writes == []


async def test_only_finished_jobs_with_a_ttl_are_queued() -> None:
    ctl, _, _ = harness(job(10, finished=None))
    ctl.jobs._notify_add(job(10, finished=None))
    ctl.jobs._notify_add(job(None))
    assert len(ctl.queue) == 0
    ctl.jobs._notify_update(job(None), job(0))
    assert len(ctl.queue) == 1
