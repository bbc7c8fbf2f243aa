"""JobController.sync against a seeded cache and a recording client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.job import JobController
from kybernetes.controllers.job.util import BackoffRecord, format_indexes, parse_indexes

from ..fakes import FakeClient, FakeRecorder, pod

Obj = dict[str, Any]
FINALIZER = "batch.kubernetes.io/job-tracking"


def job(**spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": "ns", "uid": "job-uid", "resourceVersion": "3"},
        "spec": {
            "parallelism": 2,
            "completions": 4,
            "backoffLimit": 6,
            "selector": {"matchLabels": {"job-name": "work"}},
            "template": {
                "metadata": {"labels": {"job-name": "work"}},
                "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "a"}]},
            },
            **spec,
        },
    }


def job_pod(name: str, owner: Obj, phase: str = "Running", **kw: Any) -> Obj:
    p = pod(name, labels={"job-name": "work"}, owner=owner, phase=phase, node="n1", **kw)
    p["metadata"]["finalizers"] = [FINALIZER]
    return p


class Harness:
    def __init__(self, j: Obj, pods: list[Obj] = ()) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = JobController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl.jobs.indexer.add(j)
        for p in pods:
            self.ctl.pods.indexer.add(p)

    def last_status(self) -> Obj:
        return dict(self.client.of("update_status", "jobs")[-1]["status"])


async def test_creates_parallelism_pods_with_tracking_finalizer() -> None:
    h = Harness(job())
    await h.ctl.sync("ns/work")
    created = h.client.of("create", "pods")
    assert len(created) == 2
    assert created[0]["metadata"]["finalizers"] == [FINALIZER]
    assert created[0]["metadata"]["generateName"] == "work-"
    status = h.last_status()
    assert status["active"] == 2
    assert status["startTime"] == "2025-01-01T00:00:00Z"
    assert status["uncountedTerminatedPods"] == {}


async def test_never_more_active_than_remaining_completions() -> None:
    j = job(completions=3, parallelism=5)
    h = Harness(j, [job_pod("a", j, "Succeeded"), job_pod("b", j)])
    await h.ctl.sync("ns/work")
    assert len(h.client.of("create", "pods")) == 1
    statuses = [s["status"] for s in h.client.of("update_status", "jobs")]
    assert statuses[0]["uncountedTerminatedPods"] == {"succeeded": ["uid-a"]}
    assert h.client.of("patch", "pods") == [
        ("a", {"metadata": {"$deleteFromPrimitiveList/finalizers": [FINALIZER]}})
    ]
    assert statuses[-1]["succeeded"] == 1
    assert statuses[-1]["uncountedTerminatedPods"] == {}
    assert statuses[-1]["active"] == 2


async def test_failed_pod_is_replaced_after_exponential_backoff() -> None:
    j = job(completions=1, parallelism=1)
    failed = job_pod("a", j, "Failed", ready=False)
    h = Harness(j, [failed])
    await h.ctl.sync("ns/work")
    assert h.client.of("create", "pods") == []
    assert h.last_status()["failed"] == 1
    assert h.ctl.backoff["ns/work"].failures == 1
    assert "ns/work" in h.ctl.queue._waiting  # requeued for when the back-off ends
    h.ctl.removed_finalizers["ns/work"].clear()
    h.ctl.pods.indexer.add({**failed, "metadata": {**failed["metadata"], "finalizers": []}})
    h.clock.advance(10)
    h.ctl.jobs.indexer.add({**j, "status": h.last_status()})
    await h.ctl.sync("ns/work")
    assert len(h.client.of("create", "pods")) == 1


def test_backoff_doubles_and_is_capped() -> None:
    t0 = datetime(2025, 1, 1, tzinfo=UTC)
    record = BackoffRecord().updated([], [t0])
    assert record.remaining(t0) == 10
    record = record.updated([], [t0, t0])
    assert record.remaining(t0 + timedelta(seconds=5)) == 35
    record = BackoffRecord(20, t0)
    assert record.remaining(t0) == 360
    assert record.updated([t0 + timedelta(seconds=1)], [t0]).remaining(t0) == 0


async def test_backoff_limit_exceeded_sets_failure_target_then_failed() -> None:
    j = job(backoffLimit=1)
    pods = [job_pod("a", j, "Failed"), job_pod("b", j, "Failed"), job_pod("c", j)]
    h = Harness(j, pods)
    await h.ctl.sync("ns/work")
    assert h.client.of("delete", "pods") == ["c"]
    status = h.last_status()
    types = [c["type"] for c in status["conditions"]]
    assert types == ["FailureTarget"]  # the deleted pod still terminates
    assert status["conditions"][0]["reason"] == "BackoffLimitExceeded"
    # Next round: the deleted pod is gone; the Failed condition follows.
    h2 = Harness({**j, "status": status}, [])
    await h2.ctl.sync("ns/work")
    final = h2.last_status()
    failed = next(c for c in final["conditions"] if c["type"] == "Failed")
    assert failed["reason"] == "BackoffLimitExceeded"
    assert failed["message"] == "Job has reached the specified backoff limit"
    assert ("Warning", "BackoffLimitExceeded") in [e[:2] for e in h2.recorder.events]


async def test_active_deadline_fails_the_job() -> None:
    j = job(activeDeadlineSeconds=30)
    j["status"] = {"startTime": "2025-01-01T00:00:00Z"}
    h = Harness(j)
    h.clock.advance(10)
    await h.ctl.sync("ns/work")
    assert h.ctl.queue._waiting["ns/work"] == 30  # requeued for the deadline
    h.ctl.expectations.delete("ns/work")
    h.client.writes.clear()
    h.clock.advance(25)
    await h.ctl.sync("ns/work")
    reasons = {c["type"]: c["reason"] for c in h.last_status()["conditions"]}
    assert reasons["FailureTarget"] == "DeadlineExceeded"
    assert reasons["Failed"] == "DeadlineExceeded"
    assert h.client.of("create", "pods") == []


async def test_suspend_deletes_active_pods_and_sets_condition() -> None:
    j = job(suspend=True)
    h = Harness(j, [job_pod("a", j)])
    await h.ctl.sync("ns/work")
    assert h.client.of("delete", "pods") == ["a"]
    (suspended,) = h.last_status()["conditions"]
    assert (suspended["type"], suspended["status"], suspended["reason"]) == (
        "Suspended",
        "True",
        "JobSuspended",
    )
    assert ("Normal", "Suspended", "Job suspended") in h.recorder.events


async def test_completions_unset_completes_after_one_success_and_none_active() -> None:
    j = job(completions=None)
    h = Harness(j, [job_pod("a", j, "Succeeded"), job_pod("b", j, "Succeeded")])
    await h.ctl.sync("ns/work")
    assert h.client.of("create", "pods") == []
    status = h.last_status()
    assert {c["type"] for c in status["conditions"]} == {"SuccessCriteriaMet", "Complete"}
    assert status["succeeded"] == 2
    assert status["completionTime"]


async def test_finished_job_pods_lose_their_finalizer_through_the_orphan_queue() -> None:
    j = job()
    j["status"] = {"conditions": [{"type": "Complete", "status": "True"}]}
    stray = job_pod("a", j, "Succeeded")
    h = Harness(j, [stray])
    h.ctl._pod_added(stray)
    assert len(h.ctl.orphans) == 1
    await h.ctl.sync_orphan("ns/a")
    assert [w[2][0] for w in h.client.writes] == ["a"]


def test_completed_indexes_round_trip() -> None:
    assert format_indexes({1, 3, 4, 5, 9}) == "1,3-5,9"
    assert parse_indexes("1,3-5,9", 5) == {1, 3, 4}
    assert format_indexes(set()) == ""


def exited(p: Obj, code: int) -> Obj:
    p["status"]["containerStatuses"] = [
        {"name": "main", "state": {"terminated": {"exitCode": code}}}
    ]
    return p


async def test_pod_failure_policy_fail_job_ignore_and_count() -> None:
    policy = {
        "rules": [
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
            {"action": "Count", "onExitCodes": {"operator": "NotIn", "values": [0]}},
        ]
    }
    j = job(podFailurePolicy=policy, backoffLimit=0)
    disrupted = job_pod("a", j, "Failed", ready=False)
    disrupted["status"]["conditions"].append({"type": "DisruptionTarget", "status": "True"})
    h = Harness(j, [exited(disrupted, 1)])
    await h.ctl.sync("ns/work")
    status = h.last_status()
    assert status["failed"] == 0  # ignored: not counted, but its finalizer goes
    assert h.client.of("patch", "pods")[0][0] == "a"
    assert "conditions" not in status

    h = Harness(j, [exited(job_pod("b", j, "Failed", ready=False), 42)])
    await h.ctl.sync("ns/work")
    conditions = {c["type"]: c for c in h.last_status()["conditions"]}
    assert conditions["Failed"]["reason"] == "PodFailurePolicy"
    assert conditions["Failed"]["message"] == (
        "Container main for pod ns/b failed with exit code 42 matching FailJob rule at index 1"
    )

    h = Harness(j, [exited(job_pod("c", j, "Failed", ready=False), 3)])
    await h.ctl.sync("ns/work")
    conditions = {c["type"]: c for c in h.last_status()["conditions"]}
    assert conditions["Failed"]["reason"] == "BackoffLimitExceeded"


async def test_success_policy_ends_an_indexed_job_early() -> None:
    rules = [{"succeededIndexes": "2-3"}, {"succeededIndexes": "0-1", "succeededCount": 1}]
    j = job(completions=4, parallelism=4, completionMode="Indexed", successPolicy={"rules": rules})
    pods = []
    for index, phase in enumerate(("Running", "Succeeded", "Running", "Running")):
        p = job_pod(f"p{index}", j, phase)
        p["metadata"]["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
        pods.append(p)
    h = Harness(j, pods)
    await h.ctl.sync("ns/work")
    assert sorted(h.client.of("delete", "pods")) == ["p0", "p2", "p3"]
    status = h.last_status()
    met = next(c for c in status["conditions"] if c["type"] == "SuccessCriteriaMet")
    assert (met["reason"], met["message"]) == ("SuccessPolicy", "Matched rules at index 1")
    assert status["completedIndexes"] == "1"
    assert not any(c["type"] == "Complete" for c in status["conditions"])  # pods terminating
