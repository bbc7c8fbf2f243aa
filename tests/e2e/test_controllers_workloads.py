"""The workload controllers inside `kyb server`: Jobs, CronJobs, DaemonSets and
StatefulSets, driven by kubectl.

No kubelet runs here: the tests play it, marking pods Running and Ready (or
Succeeded) through the pods/status subresource, and register their own nodes through
the API (labelled so that only their DaemonSet selects them, and removed afterwards).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Cluster

Obj = dict[str, Any]
NODE_LABEL = "e2e.kybernetes.io/workloads"


def get(cluster: Cluster, namespace: str, *what: str) -> Obj:
    result: Obj = json.loads(cluster.kubectl("get", *what, "-n", namespace, "-o", "json"))
    return result


def eventually(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Polls `check` (a kubectl round trip each time) until it answers something truthy."""
    deadline = time.monotonic() + timeout
    while not (answer := check()):
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)
    return answer


def set_phase(cluster: Cluster, namespace: str, pod: str, phase: str) -> None:
    """What a kubelet would report: the pod Running and Ready, or finished."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = "True" if phase == "Running" else "False"
    conditions = [
        {"type": "Ready", "status": ready, "lastTransitionTime": now},
        {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
    ]
    status = {"status": {"phase": phase, "conditions": conditions}}
    cluster.kubectl(
        *("patch", "pod", pod, "-n", namespace, "--subresource=status", "--type=merge"),
        *("-p", json.dumps(status)),
    )


def pods(cluster: Cluster, namespace: str, selector: str) -> list[Obj]:
    items: list[Obj] = get(cluster, namespace, "pods", "-l", selector)["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def phase(pod: Obj) -> str:
    return str((pod.get("status") or {}).get("phase") or "")


def test_job_of_five_completions_two_at_a_time(cluster: Cluster, namespace: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "work", "namespace": namespace},
        "spec": {
            "completions": 5,
            "parallelism": 2,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            },
        },
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(job))
    done: set[str] = set()
    while len(done) < 5:

        def fresh() -> list[Obj]:
            listed = pods(cluster, namespace, "job-name=work")
            active = [p for p in listed if phase(p) not in ("Succeeded", "Failed")]
            assert len(active) <= 2, [p["metadata"]["name"] for p in active]
            return [p for p in active if p["metadata"]["name"] not in done]

        pod = eventually(fresh)[0]
        assert "batch.kubernetes.io/job-tracking" in pod["metadata"]["finalizers"]
        set_phase(cluster, namespace, pod["metadata"]["name"], "Succeeded")
        done.add(pod["metadata"]["name"])
    cluster.kubectl(
        "wait", "-n", namespace, "--for=condition=complete", "job/work", "--timeout=30s"
    )
    status = get(cluster, namespace, "job", "work")["status"]
    assert status["succeeded"] == 5
    assert status["active"] == 0
    assert {c["type"] for c in status["conditions"]} == {"SuccessCriteriaMet", "Complete"}
    finished = pods(cluster, namespace, "job-name=work")
    assert len(finished) == 5
    assert not any(p["metadata"].get("finalizers") for p in finished)


def test_cron_job_fires_and_manual_jobs_work(cluster: Cluster, namespace: str) -> None:
    cron_job = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "tick", "namespace": namespace},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox"}],
                        }
                    }
                }
            },
        },
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(cron_job))
    cluster.kubectl("create", "job", "-n", namespace, "by-hand", "--from=cronjob/tick")
    manual = get(cluster, namespace, "job", "by-hand")
    assert manual["metadata"]["ownerReferences"][0]["name"] == "tick"
    assert manual["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"

    # Pretend the last start was two minutes ago: the most recent minute is then due.
    past = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.kubectl(
        *("patch", "cronjob", "tick", "-n", namespace, "--subresource=status", "--type=merge"),
        *("-p", json.dumps({"status": {"lastScheduleTime": past}})),
    )

    def scheduled() -> list[Obj]:
        jobs = get(cluster, namespace, "jobs")["items"]
        return [j for j in jobs if j["metadata"]["name"] != "by-hand"]

    (job,) = eventually(scheduled)
    name = job["metadata"]["name"]
    stamp = job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
    minutes = int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) // 60
    assert name == f"tick-{minutes}"
    status = get(cluster, namespace, "cronjob", "tick")["status"]
    assert status["lastScheduleTime"] == stamp
    active = {ref["name"] for ref in status["active"]}
    assert name in active

    (pod,) = eventually(lambda: pods(cluster, namespace, f"job-name={name}"))
    set_phase(cluster, namespace, pod["metadata"]["name"], "Succeeded")
    cluster.kubectl("wait", "-n", namespace, "--for=condition=complete", f"job/{name}")

    def settled() -> Obj | None:
        status: Obj = get(cluster, namespace, "cronjob", "tick")["status"]
        done = name not in {r["name"] for r in status.get("active") or []}
        return status if done and status.get("lastSuccessfulTime") else None

    assert eventually(settled)["lastSuccessfulTime"]


@pytest.fixture
def labelled_nodes(cluster: Cluster) -> Iterator[list[str]]:
    names = [f"workloads-{i}" for i in range(3)]
    resources = {"cpu": "4", "memory": "8Gi", "pods": "110"}
    for name in names:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, NODE_LABEL: "y"}},
            "status": {
                "capacity": resources,
                "allocatable": resources,
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            },
        }
        cluster.kubectl("create", "-f", "-", stdin=json.dumps(node))
    yield names
    cluster.kubectl("delete", "node", *names, "--ignore-not-found")


def test_daemon_set_runs_one_pod_per_node(
    cluster: Cluster, namespace: str, labelled_nodes: list[str]
) -> None:
    daemon_set = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {
                    "nodeSelector": {NODE_LABEL: "y"},
                    "containers": [{"name": "c", "image": "busybox"}],
                },
            },
        },
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(daemon_set))

    def bound() -> list[Obj] | None:
        listed = pods(cluster, namespace, "app=agent")
        placed = [p for p in listed if p["spec"].get("nodeName")]
        return placed if len(placed) == 3 and len(listed) == 3 else None

    placed = eventually(bound)
    assert sorted(p["spec"]["nodeName"] for p in placed) == labelled_nodes
    for pod in placed:
        assert pod["metadata"]["labels"]["controller-revision-hash"]
        set_phase(cluster, namespace, pod["metadata"]["name"], "Running")
    cluster.kubectl(
        *("wait", "-n", namespace, "daemonset/agent", "--timeout=30s"),
        "--for=jsonpath={.status.numberReady}=3",
    )
    status = get(cluster, namespace, "daemonset", "agent")["status"]
    assert status["desiredNumberScheduled"] == status["currentNumberScheduled"] == 3
    assert status["updatedNumberScheduled"] == status["numberAvailable"] == 3
    assert status["numberMisscheduled"] == 0
    revisions = get(cluster, namespace, "controllerrevisions")["items"]
    assert [r["revision"] for r in revisions] == [1]
    rollout = ("rollout", "-n", namespace)
    done = cluster.kubectl(*rollout, "status", "daemonset/agent", "--timeout=30s")
    assert "successfully rolled out" in done
    history = cluster.kubectl(*rollout, "history", "daemonset/agent").split()
    assert "REVISION" in history and "1" in history
    cluster.kubectl("delete", "daemonset", "agent", "-n", namespace, "--wait=false")


def test_stateful_set_scales_up_in_order(cluster: Cluster, namespace: str) -> None:
    stateful_set = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": namespace},
        "spec": {
            "replicas": 0,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(stateful_set))
    cluster.kubectl("scale", "statefulset", "db", "-n", namespace, "--replicas=3")
    for ordinal in range(3):
        want = [f"db-{i}" for i in range(ordinal + 1)]

        def created(want: list[str] = want) -> list[Obj] | None:
            listed = pods(cluster, namespace, "app=db")
            names = sorted(p["metadata"]["name"] for p in listed)
            assert len(names) <= len(want), names  # never ahead of the ready ones
            return listed if names == want else None

        listed = eventually(created)
        pod = next(p for p in listed if p["metadata"]["name"] == f"db-{ordinal}")
        assert pod["spec"]["hostname"] == f"db-{ordinal}"
        assert pod["spec"]["subdomain"] == "db"
        assert pod["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == str(ordinal)
        set_phase(cluster, namespace, f"db-{ordinal}", "Running")
    cluster.kubectl(
        *("wait", "-n", namespace, "statefulset/db", "--timeout=30s"),
        "--for=jsonpath={.status.readyReplicas}=3",
    )
    status = get(cluster, namespace, "statefulset", "db")["status"]
    assert status["currentRevision"] == status["updateRevision"]
    done = cluster.kubectl("rollout", "status", "-n", namespace, "statefulset/db", "--timeout=30s")
    assert "complete" in done
    assert status["currentReplicas"] == status["updatedReplicas"] == 3


def test_finished_job_is_deleted_after_its_ttl(cluster: Cluster, namespace: str) -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "brief", "namespace": namespace},
        "spec": {
            "ttlSecondsAfterFinished": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{"name": "c", "image": "busybox"}],
                }
            },
        },
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(job))
    (pod,) = eventually(lambda: pods(cluster, namespace, "job-name=brief"))
    set_phase(cluster, namespace, pod["metadata"]["name"], "Succeeded")
    cluster.kubectl("wait", "-n", namespace, "--for=delete", "job/brief", "--timeout=30s")
    cluster.kubectl(
        *("wait", "-n", namespace, "--for=delete", f"pod/{pod['metadata']['name']}"),
        "--timeout=30s",
    )
