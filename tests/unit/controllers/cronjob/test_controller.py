"""CronJobController.sync against a seeded cache, a recording client and a FakeClock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.cronjob import CronJobController

from ..fakes import FakeClient, FakeRecorder

Obj = dict[str, Any]
START = datetime(2025, 1, 1, tzinfo=UTC)  # 28_928_160 minutes after the epoch
MINUTE = 28_928_160


def cron_job(**spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "tick",
            "namespace": "ns",
            "uid": "cj-uid",
            "creationTimestamp": "2025-01-01T00:00:00Z",
        },
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": "Allow",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 1,
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}},
                "spec": {"template": {"spec": {"containers": [{"name": "c", "image": "a"}]}}},
            },
            **spec,
        },
    }


def child(name: str, condition: str | None = None, start: str = "2025-01-01T00:00:00Z") -> Obj:
    status: Obj = {"startTime": start}
    if condition is not None:
        status["conditions"] = [{"type": condition, "status": "True"}]
        if condition == "Complete":
            status["completionTime"] = start
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": "ns",
            "uid": f"uid-{name}",
            "ownerReferences": [
                {"kind": "CronJob", "name": "tick", "uid": "cj-uid", "controller": True}
            ],
        },
        "status": status,
    }


class Harness:
    def __init__(self, cj: Obj, jobs: list[Obj] = ()) -> None:
        self.clock = FakeClock(START)
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = CronJobController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl.cron_jobs.indexer.add(cj)
        for j in jobs:
            self.ctl.jobs.indexer.add(j)
            self.client.objects[("jobs", "ns", j["metadata"]["name"])] = j

    def status(self) -> Obj:
        return dict(self.client.of("update_status", "cronjobs")[-1]["status"])

    def reasons(self) -> list[str]:
        return [e[1] for e in self.recorder.events]


async def test_waits_for_the_first_start_time_then_fires() -> None:
    h = Harness(cron_job())
    h.clock.advance(30)
    await h.ctl.sync("ns/tick")
    assert h.client.writes == []
    assert h.ctl.queue._waiting["ns/tick"] == 60.1
    h.clock.advance(31)
    await h.ctl.sync("ns/tick")
    (job,) = h.client.of("create", "jobs")
    assert job["metadata"]["name"] == f"tick-{MINUTE + 1}"
    annotations = job["metadata"]["annotations"]
    assert annotations["batch.kubernetes.io/cronjob-scheduled-timestamp"] == "2025-01-01T00:01:00Z"
    assert job["metadata"]["labels"] == {"app": "tick"}
    assert job["metadata"]["ownerReferences"][0]["uid"] == "cj-uid"
    status = h.status()
    assert status["lastScheduleTime"] == "2025-01-01T00:01:00Z"
    assert [ref["name"] for ref in status["active"]] == [f"tick-{MINUTE + 1}"]
    assert "SuccessfulCreate" in h.reasons()


async def test_time_zone_annotation() -> None:
    h = Harness(cron_job(timeZone="Asia/Tokyo"))
    h.clock.advance(61)
    await h.ctl.sync("ns/tick")
    (job,) = h.client.of("create", "jobs")
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    assert stamp == "2025-01-01T09:01:00+09:00"


async def test_forbid_skips_while_a_job_runs_and_replace_deletes_it() -> None:
    running = child(f"tick-{MINUTE + 1}")
    active = [
        {
            "kind": "Job",
            "name": running["metadata"]["name"],
            "namespace": "ns",
            "uid": "uid-" + running["metadata"]["name"],
        }
    ]
    cj = cron_job(concurrencyPolicy="Forbid")
    cj["status"] = {"active": active, "lastScheduleTime": "2025-01-01T00:01:00Z"}
    h = Harness(cj, [running])
    h.clock.advance(121)
    await h.ctl.sync("ns/tick")
    assert h.client.of("create", "jobs") == []
    assert "JobAlreadyActive" in h.reasons()

    cj["spec"]["concurrencyPolicy"] = "Replace"
    h = Harness(cj, [running])
    h.clock.advance(121)
    await h.ctl.sync("ns/tick")
    assert h.client.of("delete", "jobs") == [running["metadata"]["name"]]
    (created,) = h.client.of("create", "jobs")
    assert [r["name"] for r in h.status()["active"]] == [created["metadata"]["name"]]


async def test_starting_deadline_misses_old_start_times() -> None:
    h = Harness(cron_job(schedule="0 * * * *", startingDeadlineSeconds=10))
    h.clock.advance(3600 + 30)
    await h.ctl.sync("ns/tick")
    assert h.client.of("create", "jobs") == []
    assert "MissSchedule" not in h.reasons()  # outside the window: not even considered
    h = Harness(cron_job(schedule="0 * * * *", startingDeadlineSeconds=60))
    h.clock.advance(3600 + 30)
    await h.ctl.sync("ns/tick")
    assert len(h.client.of("create", "jobs")) == 1


async def test_too_many_missed_start_times_warns_and_starts_the_latest() -> None:
    h = Harness(cron_job())
    h.clock.advance(3 * 3600 + 5)
    await h.ctl.sync("ns/tick")
    assert "TooManyMissedTimes" in h.reasons()
    (job,) = h.client.of("create", "jobs")
    assert job["metadata"]["name"] == f"tick-{MINUTE + 180}"


async def test_suspended_and_unparseable_do_nothing() -> None:
    h = Harness(cron_job(suspend=True))
    h.clock.advance(120)
    await h.ctl.sync("ns/tick")
    assert h.client.writes == []
    h = Harness(cron_job(schedule="not a schedule"))
    h.clock.advance(120)
    await h.ctl.sync("ns/tick")
    assert h.client.writes == []
    assert h.reasons() == ["UnparseableSchedule"]


async def test_finished_jobs_leave_active_and_history_is_trimmed() -> None:
    done = [child(f"ok-{i}", "Complete", f"2025-01-01T00:0{i}:00Z") for i in range(5)]
    failed = [child(f"bad-{i}", "Failed", f"2025-01-01T00:0{i}:00Z") for i in range(2)]
    cj = cron_job(suspend=True)
    cj["status"] = {
        "active": [
            {"kind": "Job", "name": "ok-4", "namespace": "ns", "uid": "uid-ok-4"},
            {"kind": "Job", "name": "gone", "namespace": "ns", "uid": "uid-gone"},
        ]
    }
    h = Harness(cj, done + failed)
    await h.ctl.sync("ns/tick")
    assert sorted(h.client.of("delete", "jobs")) == ["bad-0", "ok-0", "ok-1"]
    status = h.status()
    assert "active" not in status
    assert status["lastSuccessfulTime"] == "2025-01-01T00:04:00Z"
    assert {"SawCompletedJob", "MissingJob"} <= set(h.reasons())


async def test_job_events_enqueue_their_cron_job() -> None:
    h = Harness(cron_job())
    h.ctl.jobs._notify_add(child("tick-1"))
    orphan = child("other")
    orphan["metadata"]["ownerReferences"] = []
    h.ctl.jobs._notify_add(orphan)
    assert len(h.ctl.queue) == 1
    assert await h.ctl.queue.get() == "ns/tick"
