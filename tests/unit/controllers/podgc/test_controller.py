"""PodGCController.gc on seeded caches, a recording client and a FakeClock."""

from __future__ import annotations

import asyncio
from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.podgc import PodGCController

from ..fakes import FakeClient, error, pod

Obj = dict[str, Any]


def node(name: str, *, ready: bool = True, taints: list[Obj] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"taints": taints or []},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


def deleting(p: Obj) -> Obj:
    p["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return p


class Harness:
    def __init__(self, pods: list[Obj], nodes: list[Obj] = (), **kwargs: Any) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = PodGCController(self.client, factory, clock=self.clock, **kwargs)  # type: ignore[arg-type]
        for p in pods:
            self.ctl.pods.indexer.add(p)
        for n in nodes:
            self.ctl.nodes.indexer.add(n)
            self.client.objects[("nodes", "", n["metadata"]["name"])] = n


async def test_terminated_pods_over_the_threshold_go_evicted_then_oldest_first() -> None:
    pods = [
        pod("new", node="n", phase="Succeeded", created="2025-01-03T00:00:00Z"),
        pod("old", node="n", phase="Failed", created="2025-01-01T00:00:00Z"),
        pod("mid", node="n", phase="Succeeded", created="2025-01-02T00:00:00Z"),
        pod("evicted", node="n", phase="Failed", created="2025-01-04T00:00:00Z"),
        pod("running", node="n", created="2024-01-01T00:00:00Z"),
    ]
    pods[3]["status"]["reason"] = "Evicted"
    h = Harness(pods, [node("n")], terminated_pod_gc_threshold=2)
    await h.ctl.gc()
    assert h.client.of("delete", "pods") == ["evicted", "old"]
    assert h.client.of("update_status", "pods") == []


async def test_a_zero_threshold_keeps_terminated_pods() -> None:
    h = Harness(
        [pod("done", node="n", phase="Succeeded")], [node("n")], terminated_pod_gc_threshold=0
    )
    await h.ctl.gc()
    assert h.client.writes == []


async def test_orphans_are_deleted_after_quarantine_once_the_node_is_confirmed_gone() -> None:
    h = Harness([pod("orphan", node="gone"), pod("fine", node="n")], [node("n")])
    await h.ctl.gc()
    h.clock.advance(39)
    await h.ctl.gc()
    assert h.client.writes == []
    h.clock.advance(1)
    await h.ctl.gc()
    (status,) = h.client.of("update_status", "pods")
    assert status["status"]["phase"] == "Failed"
    target = status["status"]["conditions"][-1]
    assert (target["type"], target["reason"], target["message"]) == (
        "DisruptionTarget",
        "DeletionByPodGC",
        "PodGC: node no longer exists",
    )
    assert h.client.of("delete", "pods") == ["orphan"]


async def test_a_node_the_cache_missed_but_the_api_has_is_not_orphaning() -> None:
    h = Harness([pod("p", node="late")])
    h.client.objects[("nodes", "", "late")] = node("late")
    await h.ctl.gc()
    h.clock.advance(40)
    await h.ctl.gc()
    assert h.client.writes == []
    assert h.ctl.missing_since == {}


async def test_unscheduled_terminating_and_out_of_service_terminating_pods() -> None:
    out = [{"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}]
    h = Harness(
        [
            deleting(pod("unscheduled", phase="Pending", ready=False)),
            deleting(pod("stuck", node="down")),
            deleting(pod("healthy-node", node="n")),
            deleting(pod("not-out-of-service", node="down2")),
        ],
        [node("n"), node("down", ready=False, taints=out), node("down2", ready=False)],
    )
    await h.ctl.gc()
    assert sorted(h.client.of("delete", "pods")) == ["stuck", "unscheduled"]
    phases = {
        p["metadata"]["name"]: p["status"]["phase"] for p in h.client.of("update_status", "pods")
    }
    assert phases == {"stuck": "Failed", "unscheduled": "Failed"}


async def test_a_failed_delete_does_not_stop_the_pass() -> None:
    h = Harness(
        [deleting(pod("a", phase="Failed")), deleting(pod("b", phase="Failed"))],
        terminated_pod_gc_threshold=0,
    )
    h.client.fail["delete"] = error(500, "InternalError")
    await h.ctl.gc()
    assert h.client.writes == []


async def test_run_repeats_every_check_period() -> None:
    h = Harness([], [node("n")])
    h.ctl.pods.has_synced.set()
    h.ctl.nodes.has_synced.set()
    passes: list[float] = []
    ran = asyncio.Event()
    gc = h.ctl.gc

    async def counted() -> None:
        await gc()
        passes.append(h.clock.now())
        ran.set()

    h.ctl.gc = counted  # type: ignore[method-assign]
    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        task = tg.create_task(h.ctl.run())
        await ran.wait()
        ran.clear()
        h.clock.advance(20)
        await ran.wait()
        task.cancel()
    assert passes == [0.0, 20.0]
