"""ReplicaSetController.sync against a seeded cache and a recording client."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.replicaset import (
    REPLICATION_CONTROLLER,
    ReplicaSetController,
    slow_start_batch,
)

from ..fakes import FakeClient, FakeRecorder, error, pod

Obj = dict[str, Any]


def replica_set(replicas: int = 3, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": "rs-uid",
            "generation": 2,
            "resourceVersion": "5",
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
            **spec,
        },
    }


class Harness:
    def __init__(self, rs: Obj | None = None, pods: list[Obj] = (), **kwargs: Any) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = ReplicaSetController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
            **kwargs,
        )
        if rs is not None:
            self.ctl.owners.indexer.add(rs)
            self.client.objects[("replicasets", "ns", "web")] = rs
        for p in pods:
            self.ctl.pods.indexer.add(p)


async def test_creates_missing_pods_in_slow_start_batches() -> None:
    h = Harness(replica_set(5))
    await h.ctl.sync("ns/web")
    created = h.client.of("create", "pods")
    assert len(created) == 5
    meta = created[0]["metadata"]
    assert meta["generateName"] == "web-"
    assert meta["labels"] == {"app": "web"}
    assert meta["ownerReferences"][0]["uid"] == "rs-uid"
    assert meta["ownerReferences"][0]["controller"] is True
    assert meta["ownerReferences"][0]["blockOwnerDeletion"] is True
    assert h.ctl.expectations.pending("ns/web") == (5, 0)
    (status,) = h.client.of("update_status", "replicasets")
    assert status["status"]["replicas"] == 0
    assert status["status"]["observedGeneration"] == 2


async def test_unobserved_creations_block_a_second_round() -> None:
    h = Harness(replica_set(2))
    await h.ctl.sync("ns/web")
    await h.ctl.sync("ns/web")
    assert len(h.client.of("create", "pods")) == 2
    for created in h.client.of("create", "pods"):
        h.ctl._pod_added(created)
    assert h.ctl.expectations.satisfied("ns/web")


async def test_expectations_expire_after_five_minutes() -> None:
    h = Harness(replica_set(1))
    await h.ctl.sync("ns/web")
    h.clock.advance(301)
    await h.ctl.sync("ns/web")
    assert len(h.client.of("create", "pods")) == 2


async def test_burst_caps_creations() -> None:
    h = Harness(replica_set(10), burst_replicas=3)
    await h.ctl.sync("ns/web")
    assert len(h.client.of("create", "pods")) == 3


async def test_slow_start_stops_after_a_failing_batch() -> None:
    calls = 0

    async def write() -> None:
        nonlocal calls
        calls += 1
        if calls > 3:
            raise error(403, "Forbidden", "quota")

    successes, err = await slow_start_batch(10, 1, write)
    assert (successes, calls) == (3, 7)  # batches 1, 2, then 4 fail
    assert err is not None and err.code == 403


async def test_create_failure_sets_replica_failure_and_lowers_expectations() -> None:
    h = Harness(replica_set(2))
    h.client.fail["create"] = error(403, "Forbidden", "exceeded quota")
    with pytest.raises(Exception, match="quota"):
        await h.ctl.sync("ns/web")
    assert h.ctl.expectations.satisfied("ns/web")
    (status,) = h.client.of("update_status", "replicasets")
    (condition,) = status["status"]["conditions"]
    assert condition["type"] == "ReplicaFailure"
    assert condition["reason"] == "FailedCreate"
    assert ("Warning", "FailedCreate") in [e[:2] for e in h.recorder.events]


async def test_deletes_worst_ranked_pods_first() -> None:
    rs = replica_set(2)
    pods = [
        pod("ready-old", owner=rs, node="n1", created="2025-01-01T00:00:00Z"),
        pod("ready-new", owner=rs, node="n2", created="2025-01-02T00:00:00Z"),
        pod("unscheduled", owner=rs, phase="Pending", ready=False),
        pod("pending", owner=rs, node="n3", phase="Pending", ready=False),
        pod("not-ready", owner=rs, node="n4", ready=False),
    ]
    h = Harness(rs, pods)
    await h.ctl.sync("ns/web")
    assert h.client.of("delete", "pods") == ["unscheduled", "pending", "not-ready"]
    h.client.writes.clear()
    h.ctl.pods.indexer.delete("ns/unscheduled")
    h.ctl.pods.indexer.delete("ns/pending")
    h.ctl.pods.indexer.delete("ns/not-ready")
    h.ctl._pod_deleted(pods[2])
    h.ctl._pod_deleted(pods[3])
    assert not h.ctl.expectations.satisfied("ns/web")
    h.ctl._pod_deleted(pods[4])
    h.ctl.owners.indexer.add(replica_set(1))
    await h.ctl.sync("ns/web")
    assert h.client.of("delete", "pods") == ["ready-new"]  # newer before older


async def test_adopts_matching_orphans_and_releases_mismatched_pods() -> None:
    rs = replica_set(2)
    orphan = pod("orphan")
    stray = pod("stray", labels={"app": "other"}, owner=rs)
    foreign = pod("foreign", owner={**rs, "metadata": {"name": "x", "uid": "other"}})
    h = Harness(rs, [orphan, stray, foreign])
    await h.ctl.sync("ns/web")
    updates = {u["metadata"]["name"]: u for u in h.client.of("update", "pods")}
    assert updates["orphan"]["metadata"]["ownerReferences"][0]["uid"] == "rs-uid"
    assert updates["stray"]["metadata"]["ownerReferences"] == []
    assert "foreign" not in updates
    assert len(h.client.of("create", "pods")) == 1  # orphan counts, one missing


async def test_status_counts_ready_and_available_and_requeues_for_min_ready() -> None:
    rs = replica_set(2, minReadySeconds=30)
    wall = "2025-01-01T00:00:00Z"
    pods = [pod("a", owner=rs, ready_since=wall), pod("b", owner=rs, ready=False)]
    h = Harness(rs, pods)
    h.clock.advance(10)
    await h.ctl.sync("ns/web")
    (status,) = h.client.of("update_status", "replicasets")
    assert status["status"] == {
        "replicas": 2,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 1,
        "availableReplicas": 0,
        "observedGeneration": 2,
    }


async def test_orphan_pod_event_enqueues_matching_sets() -> None:
    h = Harness(replica_set(1))
    h.ctl._pod_added(pod("orphan"))
    h.ctl._pod_added(pod("other", labels={"app": "x"}))
    assert len(h.ctl.queue) == 1


async def test_deleted_set_forgets_expectations() -> None:
    h = Harness(replica_set(1))
    await h.ctl.sync("ns/web")
    h.ctl.owners.indexer.delete("ns/web")
    await h.ctl.sync("ns/web")
    assert h.ctl.expectations.pending("ns/web") == (0, 0)


async def test_replication_controller_uses_map_selector() -> None:
    rc = replica_set(1)
    rc.update(apiVersion="v1", kind="ReplicationController")
    rc["spec"]["selector"] = {"app": "web"}
    h = Harness(rc, kind=REPLICATION_CONTROLLER)
    await h.ctl.sync("ns/web")
    (created,) = h.client.of("create", "pods")
    assert created["metadata"]["ownerReferences"][0]["kind"] == "ReplicationController"
