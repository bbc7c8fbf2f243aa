"""The Job controller against a real in-process API server, with the test playing
kubelet: pods succeed or fail through the status subresource."""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient
from kybernetes.client.resource import JOBS, PODS
from kybernetes.controllers.job import JobController

from ..cluster import running, wait_for

Obj = dict[str, Any]


def job(namespace: str, **spec: Any) -> Obj:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": namespace},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            },
            **spec,
        },
    }


async def finish(client: APIClient, pod: Obj, phase: str) -> None:
    fresh = await client.get(PODS, pod["metadata"]["name"], pod["metadata"]["namespace"])
    await client.update_status(PODS, {**fresh, "status": {"phase": phase}})


def running_pods(pods: list[Obj]) -> list[Obj]:
    return [
        p
        for p in pods
        if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")
        and not p["metadata"].get("deletionTimestamp")
    ]


def condition(jobs: list[Obj], kind: str) -> bool:
    conditions = (jobs[0].get("status") or {}).get("conditions") or [] if jobs else []
    return any(c["type"] == kind and c["status"] == "True" for c in conditions)


async def test_five_completions_two_at_a_time(client: APIClient, namespace: str) -> None:
    async with running(client, JobController) as (ctl, _):
        await client.create(JOBS, job(namespace, completions=5, parallelism=2))
        done: set[str] = set()
        while len(done) < 5:

            def fresh(pods: list[Obj]) -> list[Obj]:
                return [p for p in running_pods(pods) if p["metadata"]["name"] not in done]

            pods = await wait_for(ctl.pods, lambda p: len(fresh(p)) >= min(2, 5 - len(done)))
            assert len(running_pods(pods)) <= 2
            pod = fresh(pods)[0]
            assert "batch.kubernetes.io/job-tracking" in pod["metadata"]["finalizers"]
            await finish(client, pod, "Succeeded")
            done.add(pod["metadata"]["name"])
        jobs = await wait_for(ctl.jobs, lambda j: condition(j, "Complete"))
        status = jobs[0]["status"]
        assert status["succeeded"] == 5
        assert status["active"] == 0
        assert status["completionTime"]
        assert condition(jobs, "SuccessCriteriaMet")
        pods = await wait_for(
            ctl.pods, lambda p: all(not p_["metadata"].get("finalizers") for p_ in p)
        )
        assert len(pods) == 5


async def test_backoff_limit_fails_the_job(client: APIClient, namespace: str) -> None:
    async with running(client, JobController) as (ctl, _):
        await client.create(JOBS, job(namespace, backoffLimit=0))
        (pod,) = await wait_for(ctl.pods, lambda p: len(p) == 1)
        await finish(client, pod, "Failed")
        jobs = await wait_for(ctl.jobs, lambda j: condition(j, "Failed"))
        status = jobs[0]["status"]
        assert status["failed"] == 1
        failed = next(c for c in status["conditions"] if c["type"] == "Failed")
        assert failed["reason"] == "BackoffLimitExceeded"
        assert condition(jobs, "FailureTarget")


async def test_indexed_job_tracks_completed_indexes(client: APIClient, namespace: str) -> None:
    spec = {"completions": 3, "parallelism": 3, "completionMode": "Indexed"}
    async with running(client, JobController) as (ctl, _):
        await client.create(JOBS, job(namespace, **spec))
        pods = await wait_for(ctl.pods, lambda p: len(p) == 3)
        key = "batch.kubernetes.io/job-completion-index"
        by_index = {p["metadata"]["annotations"][key]: p for p in pods}
        assert sorted(by_index) == ["0", "1", "2"]
        assert by_index["1"]["metadata"]["labels"][key] == "1"
        assert by_index["1"]["spec"]["hostname"] == "work-1"
        assert by_index["1"]["metadata"]["name"].startswith("work-1-")
        (env,) = by_index["1"]["spec"]["containers"][0]["env"]
        assert env["name"] == "JOB_COMPLETION_INDEX"
        assert env["valueFrom"]["fieldRef"]["fieldPath"] == f"metadata.annotations['{key}']"
        await finish(client, by_index["2"], "Succeeded")
        await wait_for(
            ctl.jobs, lambda j: (j[0].get("status") or {}).get("completedIndexes") == "2"
        )
        for index in ("0", "1"):
            await finish(client, by_index[index], "Succeeded")
        jobs = await wait_for(ctl.jobs, lambda j: condition(j, "Complete"))
        assert jobs[0]["status"]["completedIndexes"] == "0-2"
