"""DeploymentController.sync against a seeded cache and a recording client."""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.deployment import DeploymentController, compute_hash

from ..fakes import FakeClient, FakeRecorder

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def deployment(replicas: int = 4, image: str = "a", **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": "d-uid",
            "generation": 1,
            "resourceVersion": "7",
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(image),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            **spec,
        },
    }


def template(image: str) -> Obj:
    return {
        "metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "c", "image": image}]},
    }


def replica_set(
    image: str,
    replicas: int,
    *,
    available: int | None = None,
    revision: int = 1,
    created: str = "2025-01-01T00:00:00Z",
    desired: int | None = None,
    max_replicas: int | None = None,
) -> Obj:
    pod_hash = f"h{image}"
    tmpl = template(image)
    tmpl["metadata"]["labels"]["pod-template-hash"] = pod_hash
    annotations = {REVISION: str(revision)}
    if desired is not None:
        annotations["deployment.kubernetes.io/desired-replicas"] = str(desired)
    if max_replicas is not None:
        annotations["deployment.kubernetes.io/max-replicas"] = str(max_replicas)
    available = replicas if available is None else available
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"web-{pod_hash}",
            "namespace": "ns",
            "uid": f"rs-{image}",
            "resourceVersion": "3",
            "creationTimestamp": created,
            "labels": dict(tmpl["metadata"]["labels"]),
            "annotations": annotations,
            "ownerReferences": [
                {"kind": "Deployment", "name": "web", "uid": "d-uid", "controller": True}
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}},
            "template": tmpl,
        },
        "status": {
            "replicas": replicas,
            "readyReplicas": available,
            "availableReplicas": available,
        },
    }


class Harness:
    def __init__(self, d: Obj, sets: list[Obj] = ()) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = DeploymentController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.ctl.deployments.indexer.add(d)
        for rs in sets:
            self.ctl.replica_sets.indexer.add(rs)

    async def sync(self) -> None:
        await self.ctl.sync("ns/web")

    def scaled(self) -> dict[str, int]:
        updates = self.client.of("update", "replicasets")
        return {u["metadata"]["name"]: u["spec"]["replicas"] for u in updates}

    def status(self) -> Obj:
        return self.client.of("update_status", "deployments")[-1]["status"]


def conditions(status: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in status.get("conditions") or []}


async def test_new_deployment_creates_its_replica_set() -> None:
    d = deployment(3)
    h = Harness(d)
    await h.sync()
    (rs,) = h.client.of("create", "replicasets")
    pod_hash = compute_hash(d["spec"]["template"], None)
    assert rs["metadata"]["name"] == f"web-{pod_hash}"
    assert rs["spec"]["replicas"] == 3
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_hash
    assert rs["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
    annotations = rs["metadata"]["annotations"]
    assert annotations[REVISION] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"
    (patch,) = h.client.of("patch", "deployments")
    assert patch[1]["metadata"]["annotations"][REVISION] == "1"
    status = h.status()
    assert conditions(status)["Progressing"] == ("True", "NewReplicaSetCreated")
    assert conditions(status)["Available"] == ("False", "MinimumReplicasUnavailable")
    assert ("Normal", "ScalingReplicaSet") in [e[:2] for e in h.recorder.events]


async def test_rolling_update_surges_then_scales_old_down() -> None:
    old = replica_set("a", 4, desired=4, max_replicas=5)
    h = Harness(deployment(4, image="b"), [old])
    await h.sync()
    (new,) = h.client.of("create", "replicasets")
    assert new["spec"]["replicas"] == 1  # maxSurge 1 over 4
    assert new["metadata"]["annotations"][REVISION] == "2"
    assert h.scaled() == {}  # maxUnavailable 0: old stays until new pods are available

    new = copy.deepcopy(new) | {"status": {"replicas": 1, "availableReplicas": 1}}
    new["metadata"]["creationTimestamp"] = "2025-01-02T00:00:00Z"
    h = Harness(deployment(4, image="b"), [old, new])
    await h.sync()
    assert h.scaled() == {"web-ha": 3}


async def test_rolling_update_respects_unavailable_old_pods_first() -> None:
    old = replica_set("a", 4, available=2, desired=4)
    d = deployment(4, image="b")
    d["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": 0, "maxUnavailable": 1}
    new = replica_set("b", 0, revision=2, created="2025-01-02T00:00:00Z", desired=4)
    h = Harness(d, [old, new])
    await h.sync()
    # 4 total - 3 min available - 0 new unavailable = 1 may go: an unavailable one.
    assert h.scaled() == {"web-ha": 3}


async def test_recreate_scales_old_to_zero_before_creating() -> None:
    old = replica_set("a", 3, desired=3)
    d = deployment(3, image="b", strategy={"type": "Recreate"})
    h = Harness(d, [old])
    await h.sync()
    assert h.scaled() == {"web-ha": 0}
    assert h.client.of("create", "replicasets") == []

    drained = replica_set("a", 0, desired=3) | {"status": {"replicas": 0}}
    h = Harness(d, [drained])
    await h.sync()
    (new,) = h.client.of("create", "replicasets")
    assert new["spec"]["replicas"] == 3


async def test_scaling_event_is_proportional() -> None:
    a = replica_set("a", 6, desired=10, max_replicas=11)
    b = replica_set("b", 5, revision=2, created="2025-01-02T00:00:00Z", desired=10, max_replicas=11)
    d = deployment(20, image="b")  # max 21: 10 more to share, 6:5
    h = Harness(d, [a, b])
    await h.sync()
    assert h.scaled() == {"web-ha": 11, "web-hb": 10}
    assert ("Normal", "ScalingReplicaSet") in [e[:2] for e in h.recorder.events]


async def test_history_beyond_the_limit_is_deleted_once_complete() -> None:
    sets = [
        replica_set(image, 0, revision=i + 1, created=f"2025-01-0{i + 1}T00:00:00Z", desired=2)
        for i, image in enumerate(["a", "b", "c"])
    ]
    current = replica_set("d", 2, revision=4, created="2025-01-05T00:00:00Z", desired=2)
    d = deployment(2, image="d", revisionHistoryLimit=1)
    d["status"] = {
        "observedGeneration": 1,
        "replicas": 2,
        "updatedReplicas": 2,
        "availableReplicas": 2,
    }
    h = Harness(d, [*sets, current])
    await h.sync()
    assert h.client.of("delete", "replicasets") == ["web-ha", "web-hb"]


async def test_progress_deadline_exceeded() -> None:
    old = replica_set("a", 2, desired=2)
    new = replica_set("b", 1, available=0, revision=2, created="2025-01-02T00:00:00Z", desired=2)
    d = deployment(2, image="b", progressDeadlineSeconds=60)
    stamp = "2025-01-01T00:00:00Z"
    d["status"] = {
        "replicas": 3,
        "updatedReplicas": 1,
        "conditions": [
            {
                "type": "Progressing",
                "status": "True",
                "reason": "ReplicaSetUpdated",
                "lastUpdateTime": stamp,
                "lastTransitionTime": stamp,
            }
        ],
    }
    h = Harness(d, [old, new])
    h.clock.advance(30)
    await h.sync()
    assert conditions(h.status())["Progressing"] == ("True", "ReplicaSetUpdated")
    assert h.ctl.queue._waiting  # requeued for the deadline
    h.ctl.deployments.indexer.add({**d, "status": h.status()})  # the write, observed
    h.clock.advance(61)  # 60 s after the progress the first sync saw
    await h.sync()
    assert conditions(h.status())["Progressing"] == ("False", "ProgressDeadlineExceeded")


async def test_complete_rollout_reports_new_replica_set_available() -> None:
    rs = replica_set("a", 2, desired=2)
    d = deployment(2)
    h = Harness(d, [rs])
    await h.sync()
    status = h.status()
    assert status["replicas"] == status["updatedReplicas"] == status["availableReplicas"] == 2
    assert status["unavailableReplicas"] == 0
    assert status["observedGeneration"] == 1
    assert conditions(status) == {
        "Available": ("True", "MinimumReplicasAvailable"),
        "Progressing": ("True", "NewReplicaSetAvailable"),
    }


async def test_paused_deployment_marks_progressing_unknown_and_does_not_roll() -> None:
    old = replica_set("a", 2, desired=2)
    h = Harness(deployment(2, image="b", paused=True), [old])
    await h.sync()
    assert h.client.of("create", "replicasets") == []
    assert conditions(h.status())["Progressing"] == ("Unknown", "DeploymentPaused")


async def test_empty_selector_is_refused() -> None:
    d = deployment(2)
    d["spec"]["selector"] = {}
    h = Harness(d)
    await h.sync()
    assert h.client.of("create", "replicasets") == []
    assert h.status() == {"observedGeneration": 1}
    assert ("Warning", "SelectingAll") in [e[:2] for e in h.recorder.events]


async def test_orphan_replica_set_is_adopted() -> None:
    rs = replica_set("a", 2, desired=2)
    del rs["metadata"]["ownerReferences"]
    h = Harness(deployment(2), [rs])
    h.client.objects[("deployments", "ns", "web")] = deployment(2)
    await h.sync()
    (adopted,) = h.client.of("update", "replicasets")
    assert adopted["metadata"]["ownerReferences"][0]["uid"] == "d-uid"
