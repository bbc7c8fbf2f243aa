"""StatefulSetController.sync against a seeded cache and a recording client."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.history import new_revision
from kybernetes.controllers.statefulset import StatefulSetController

from ..fakes import FakeClient, FakeRecorder, pod

Obj = dict[str, Any]


def sts(replicas: int = 3, **spec: Any) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "ns", "uid": "sts-uid", "generation": 1},
        "spec": {
            "replicas": replicas,
            "podManagementPolicy": "OrderedReady",
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "c", "image": "a"}]},
            },
            **spec,
        },
    }


class Harness:
    def __init__(self, s: Obj, ordinals: dict[int, Obj] | None = None) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = StatefulSetController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        self.sts = s
        self.revision = new_revision(s, 1, 0)
        self.revision["metadata"]["uid"] = "rev-uid"
        self.revision["metadata"]["ownerReferences"][0]["uid"] = "sts-uid"
        self.ctl.sets.indexer.add(s)
        self.ctl.revisions.indexer.add(self.revision)

    def member(self, ordinal: int, *, revision: str | None = None, **kw: Any) -> Obj:
        name = f"db-{ordinal}"
        labels = {
            "app": "db",
            "controller-revision-hash": revision or self.revision["metadata"]["name"],
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        p = pod(name, labels=labels, owner=self.sts, node="n1", **kw)
        p["spec"].update(hostname=name, subdomain="db")
        self.ctl.pods.indexer.add(p)
        return p

    def created(self) -> list[str]:
        return [p["metadata"]["name"] for p in self.client.of("create", "pods")]

    def status(self) -> Obj:
        return dict(self.client.of("update_status", "statefulsets")[-1]["status"])


async def test_ordered_ready_creates_one_and_waits_for_it() -> None:
    h = Harness(sts())
    h.member(0, phase="Pending", ready=False)
    await h.ctl.sync("ns/db")
    assert h.created() == []
    h.member(0)
    await h.ctl.sync("ns/db")
    assert h.created() == ["db-1"]
    created = h.client.of("create", "pods")[0]
    assert created["spec"]["hostname"] == "db-1"
    assert created["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
    assert h.status()["replicas"] == 2


async def test_parallel_creates_every_missing_pod() -> None:
    h = Harness(sts(4, podManagementPolicy="Parallel"))
    h.member(1, phase="Pending", ready=False)
    await h.ctl.sync("ns/db")
    assert h.created() == ["db-0", "db-2", "db-3"]


async def test_scale_down_removes_the_highest_ordinal_first_one_at_a_time() -> None:
    h = Harness(sts(1))
    for i in range(3):
        h.member(i)
    await h.ctl.sync("ns/db")
    assert h.client.of("delete", "pods") == ["db-2"]


async def test_failed_pod_is_recreated() -> None:
    h = Harness(sts(1))
    h.member(0, phase="Failed", ready=False)
    await h.ctl.sync("ns/db")
    assert h.client.of("delete", "pods") == ["db-0"]
    assert h.created() == ["db-0"]
    assert ("Warning", "RecreatingFailedPod") in [e[:2] for e in h.recorder.events]


async def test_rolling_update_replaces_the_highest_outdated_ordinal_above_partition() -> None:
    h = Harness(sts(3, updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}))
    for i in range(3):
        h.member(i)
    h.sts["spec"]["template"]["spec"]["containers"][0]["image"] = "b"
    h.sts["status"] = {"currentRevision": h.revision["metadata"]["name"]}
    await h.ctl.sync("ns/db")
    (revision,) = h.client.of("create", "controllerrevisions")
    assert revision["revision"] == 2
    assert h.client.of("delete", "pods") == ["db-2"]
    status = h.status()
    assert status["currentRevision"] == h.revision["metadata"]["name"]
    assert status["updateRevision"] == revision["metadata"]["name"]
    assert status["currentReplicas"] == 2

    # db-2 comes back at the update revision; db-1 goes next; db-0 stays (partition).
    h.client.writes.clear()
    h.ctl.revisions.indexer.add({**revision, "metadata": {**revision["metadata"], "uid": "r2"}})
    h.member(2, revision=revision["metadata"]["name"])
    await h.ctl.sync("ns/db")
    assert h.client.of("delete", "pods") == ["db-1"]
    h.client.writes.clear()
    h.member(1, revision=revision["metadata"]["name"])
    await h.ctl.sync("ns/db")
    assert h.client.of("delete", "pods") == []


async def test_on_delete_never_deletes_for_updates() -> None:
    h = Harness(sts(2, updateStrategy={"type": "OnDelete"}))
    for i in range(2):
        h.member(i)
    h.sts["spec"]["template"]["spec"]["containers"][0]["image"] = "b"
    await h.ctl.sync("ns/db")
    assert h.client.of("delete", "pods") == []
