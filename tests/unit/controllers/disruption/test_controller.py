"""DisruptionController.sync on seeded caches and a recording client."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.disruption import DisruptionController
from kybernetes.controllers.disruption.status import scaled

from ..fakes import FakeClient, FakeRecorder, pod

Obj = dict[str, Any]


def pdb(**spec: Any) -> Obj:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "b", "namespace": "ns", "generation": 3, "resourceVersion": "2"},
        "spec": {"selector": {"matchLabels": {"app": "web"}}, **spec},
    }


def workload(kind: str, name: str, replicas: int, owner: Obj | None = None) -> Obj:
    api = "v1" if kind == "ReplicationController" else "apps/v1"
    meta: Obj = {"name": name, "namespace": "ns", "uid": f"uid-{name}"}
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {"replicas": replicas}}


class Harness:
    def __init__(self, budget: Obj, pods: list[Obj], workloads: list[Obj] = ()) -> None:
        self.client = FakeClient()
        self.clock = FakeClock()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.recorder = FakeRecorder()
        self.ctl = DisruptionController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl.pdbs.indexer.add(budget)
        for p in pods:
            self.ctl.pods.indexer.add(p)
        for w in workloads:
            self.ctl.workloads[w["kind"]].indexer.add(w)

    def status(self) -> Obj:
        (written,) = self.client.of("update_status", "poddisruptionbudgets")
        return written["status"]  # type: ignore[no-any-return]


async def test_min_available_integer_counts_the_matching_pods() -> None:
    rs = workload("ReplicaSet", "rs", 3)
    pods = [
        pod("a", owner=rs),
        pod("b", owner=rs),
        pod("c", owner=rs, ready=False),
        pod("other", labels={"app": "db"}),
    ]
    h = Harness(pdb(minAvailable=1), pods, [rs])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert {k: status[k] for k in ("currentHealthy", "desiredHealthy", "expectedPods")} == {
        "currentHealthy": 2,
        "desiredHealthy": 1,
        "expectedPods": 3,
    }
    assert status["disruptionsAllowed"] == 1
    assert status["observedGeneration"] == 3
    (condition,) = status["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "DisruptionAllowed",
        "True",
        "SufficientPods",
    )


async def test_max_unavailable_percent_uses_the_deployments_scale() -> None:
    deployment = workload("Deployment", "web", 4)
    rs = workload("ReplicaSet", "web-1", 2, owner=deployment)
    pods = [pod(f"p{i}", owner=rs) for i in range(3)]
    h = Harness(pdb(maxUnavailable="25%"), pods, [deployment, rs])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert (status["expectedPods"], status["desiredHealthy"], status["disruptionsAllowed"]) == (
        4,
        3,
        0,
    )
    assert status["conditions"][0]["reason"] == "InsufficientPods"


async def test_min_available_percent_rounds_up_against_the_scale() -> None:
    sts = workload("StatefulSet", "db", 3)
    h = Harness(pdb(minAvailable="50%"), [pod(f"db-{i}", owner=sts) for i in range(3)], [sts])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert (status["expectedPods"], status["desiredHealthy"], status["disruptionsAllowed"]) == (
        3,
        2,
        1,
    )


async def test_scale_of_other_kinds_comes_from_their_scale_subresource() -> None:
    job = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "live", "namespace": "ns", "uid": "uid-live"},
    }
    h = Harness(pdb(maxUnavailable=1), [pod("p", owner=job)])
    scale = {"metadata": {"name": "live", "uid": "uid-live"}, "spec": {"replicas": 5}}
    h.client.objects[("deployments", "ns", "live")] = scale
    await h.ctl.sync("ns/b")
    assert h.status()["expectedPods"] == 5


async def test_unmanaged_pods_are_left_out_with_a_warning() -> None:
    rs = workload("ReplicaSet", "rs", 2)
    h = Harness(pdb(maxUnavailable=1), [pod("orphan"), pod("a", owner=rs)], [rs])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert (status["expectedPods"], status["desiredHealthy"], status["currentHealthy"]) == (2, 1, 2)
    assert [e[1] for e in h.recorder.events] == ["UnmanagedPods"]


async def test_a_missing_controller_fails_safe() -> None:
    rs = workload("ReplicaSet", "rs", 2)
    budget = pdb(maxUnavailable=1)
    budget["status"] = {"currentHealthy": 2, "disruptionsAllowed": 1}
    h = Harness(budget, [pod("a", owner=rs)])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert (status["disruptionsAllowed"], status["currentHealthy"]) == (0, 2)
    (condition,) = status["conditions"]
    assert (condition["status"], condition["reason"], condition["message"]) == (
        "False",
        "SyncFailed",
        'found no controllers for pod "a"',
    )
    assert h.recorder.events == [
        (
            "Warning",
            "CalculateExpectedPodCountFailed",
            'Failed to calculate the number of expected pods: found no controllers for pod "a"',
        )
    ]


async def test_a_budget_without_pods_allows_nothing() -> None:
    h = Harness(pdb(minAvailable=0), [])
    await h.ctl.sync("ns/b")
    assert h.status()["disruptionsAllowed"] == 0
    assert h.recorder.events == [("Normal", "NoPods", "No matching pods found")]


async def test_disrupted_and_deleting_pods_are_not_healthy_and_entries_expire() -> None:
    rs = workload("ReplicaSet", "rs", 3)
    leaving = pod("leaving", owner=rs)
    leaving["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    budget = pdb(minAvailable=1)
    budget["status"] = {
        "disruptedPods": {"a": "2025-01-01T00:00:00Z", "gone": "2025-01-01T00:00:00Z"}
    }
    h = Harness(budget, [pod("a", owner=rs), pod("b", owner=rs), leaving], [rs])
    await h.ctl.sync("ns/b")
    status = h.status()
    assert status["currentHealthy"] == 1
    assert status["disruptedPods"] == {"a": "2025-01-01T00:00:00Z"}
    assert h.recorder.events == []
    h.clock.advance(119)
    assert len(h.ctl.queue) == 0
    h.clock.advance(1)
    assert len(h.ctl.queue) == 1
    h.ctl.pdbs.indexer.add({**budget, "status": status})
    h.clock.advance(1)
    await h.ctl.sync("ns/b")
    assert h.recorder.events == [
        ("Warning", "NotDeleted", "Pod was expected by PDB ns/b to be deleted but it wasn't")
    ]


async def test_an_unchanged_status_is_not_rewritten_and_transition_times_stay() -> None:
    rs = workload("ReplicaSet", "rs", 2)
    pods = [pod("a", owner=rs), pod("b", owner=rs)]
    h = Harness(pdb(minAvailable=1), pods, [rs])
    await h.ctl.sync("ns/b")
    first = h.status()
    h.ctl.pdbs.indexer.add({**pdb(minAvailable=1), "status": first})
    h.client.writes.clear()
    h.clock.advance(60)
    await h.ctl.sync("ns/b")
    assert h.client.writes == []


def test_scaled_values() -> None:
    assert scaled(3, 10) == 3
    assert scaled("25%", 10) == 3
    with pytest.raises(ValueError):
        scaled("three", 10)


async def test_pod_changes_enqueue_the_selecting_budgets() -> None:
    h = Harness(pdb(minAvailable=1), [])
    h.ctl._pod_changed(pod("x", labels={"app": "db"}))
    assert len(h.ctl.queue) == 0
    h.ctl._pod_updated(pod("x", labels={"app": "web"}), pod("x", labels={"app": "db"}))
    assert len(h.ctl.queue) == 1


async def test_a_stale_disruption_target_condition_is_reset_after_two_minutes() -> None:
    p = pod("victim")
    p["status"]["conditions"].append(
        {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "EvictionByEvictionAPI",
            "lastTransitionTime": "2025-01-01T00:00:00Z",
        }
    )
    h = Harness(pdb(minAvailable=1), [p])
    h.ctl._pod_changed(p)
    h.clock.advance(119)
    assert len(h.ctl.stale_queue) == 0
    h.clock.advance(1)
    assert len(h.ctl.stale_queue) == 1
    await h.ctl.sync_stale_pod("ns/victim")
    (written,) = h.client.of("update_status", "pods")
    reset = written["status"]["conditions"][-1]
    assert reset == {
        "type": "DisruptionTarget",
        "status": "False",
        "lastTransitionTime": "2025-01-01T00:02:00Z",
    }


async def test_disruption_targets_of_deleted_terminal_or_kubelet_pods_are_kept() -> None:
    condition = {"type": "DisruptionTarget", "status": "True", "reason": "TerminationByKubelet"}
    by_kubelet = pod("k")
    by_kubelet["status"]["conditions"].append(condition)
    deleting = pod("d")
    deleting["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    deleting["status"]["conditions"].append({**condition, "reason": "DeletionByTaintManager"})
    done = pod("f", phase="Failed")
    done["status"]["conditions"].append({**condition, "reason": "DeletionByPodGC"})
    h = Harness(pdb(minAvailable=1), [by_kubelet, deleting, done])
    h.clock.advance(600)
    for name in ("k", "d", "f"):
        await h.ctl.sync_stale_pod(f"ns/{name}")
    assert h.client.writes == []
