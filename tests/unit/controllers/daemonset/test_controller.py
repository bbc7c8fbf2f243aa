"""DaemonSetController.sync against a seeded cache and a recording client."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.daemonset import DaemonSetController
from kybernetes.controllers.history import new_revision, revision_hash

from ..fakes import FakeClient, FakeRecorder, pod

Obj = dict[str, Any]


def daemon_set(selector: Obj | None = None) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid", "generation": 1},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}} if selector is None else selector,
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
        },
    }


class Harness:
    def __init__(self, ds: Obj, nodes: list[str], pods: list[Obj] = ()) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = DaemonSetController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl.daemon_sets.indexer.add(ds)
        for name in nodes:
            self.ctl.nodes.indexer.add({"metadata": {"name": name}, "spec": {}})
        for p in pods:
            self.ctl.pods.indexer.add(p)


async def test_creates_pinned_pods_with_the_revision_hash() -> None:
    h = Harness(daemon_set(), ["n1", "n2"])
    await h.ctl.sync("ns/agent")
    (revision,) = h.client.of("create", "controllerrevisions")
    created = h.client.of("create", "pods")
    assert len(created) == 2
    digest = revision["metadata"]["labels"]["controller-revision-hash"]
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in created} == {digest}
    pinned = [
        p["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        for p in created
    ]
    assert sorted(t["nodeSelectorTerms"][0]["matchFields"][0]["values"][0] for t in pinned) == [
        "n1",
        "n2",
    ]
    status = h.client.of("update_status", "daemonsets")[-1]["status"]
    assert status["desiredNumberScheduled"] == 2
    assert status["currentNumberScheduled"] == 0


async def test_empty_selector_is_refused() -> None:
    h = Harness(daemon_set(selector={}), ["n1"])
    await h.ctl.sync("ns/agent")
    assert h.client.writes == []
    assert h.recorder.events[0][1] == "SelectingAll"


async def test_failed_pods_are_killed_with_backoff() -> None:
    ds = daemon_set()
    digest = revision_hash(new_revision(ds, 1, 0))  # a current pod: no rolling update
    labels = {"app": "agent", "controller-revision-hash": digest}
    failed = pod("f", labels=labels, owner=ds, node="n1", phase="Failed", ready=False)
    h = Harness(ds, ["n1"], [failed])
    await h.ctl.sync("ns/agent")
    assert h.client.of("delete", "pods") == ["f"]
    assert ("Warning", "FailedDaemonPod") in [e[:2] for e in h.recorder.events]
    h.ctl.expectations.delete("ns/agent")
    await h.ctl.sync("ns/agent")
    assert h.client.of("delete", "pods") == ["f"]  # backing off: not again yet
    h.clock.advance(1)
    h.ctl.expectations.delete("ns/agent")
    await h.ctl.sync("ns/agent")
    assert h.client.of("delete", "pods") == ["f", "f"]
