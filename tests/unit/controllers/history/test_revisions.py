"""ControllerRevision history: naming, re-use on rollback, collisions, truncation."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.client.resource import CONTROLLERREVISIONS, DAEMONSETS
from kybernetes.controllers.history import (
    HashCollision,
    History,
    new_revision,
    revision_hash,
    template_of,
)

from ..fakes import FakeClient, error

Obj = dict[str, Any]


def parent(image: str = "a") -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": image}]},
            }
        },
    }


def history() -> tuple[History, FakeClient]:
    client = FakeClient()
    factory = SharedInformerFactory(client, clock=FakeClock())  # type: ignore[arg-type]
    informer = factory.informer(CONTROLLERREVISIONS)
    return History(client, informer, DAEMONSETS), client  # type: ignore[arg-type]


def test_a_revision_restores_the_template_and_is_named_by_its_hash() -> None:
    revision = new_revision(parent(), 3, 0)
    digest = revision_hash(revision)
    assert revision["metadata"]["name"] == f"agent-{digest}"
    assert revision["metadata"]["labels"] == {"app": "agent", "controller-revision-hash": digest}
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert template_of(revision) == parent()["spec"]["template"]
    assert revision["revision"] == 3
    assert revision["metadata"]["ownerReferences"][0]["controller"] is True
    assert revision_hash(new_revision(parent(), 3, 1)) != digest
    assert revision_hash(new_revision(parent("b"), 3, 0)) != digest


async def test_new_template_gets_the_next_number() -> None:
    h, client = history()
    first = new_revision(parent(), 1, 0)
    current = await h.ensure(parent("b"), [first])
    assert current["revision"] == 2
    assert client.of("create", "controllerrevisions") == [current]


async def test_rolling_back_renumbers_the_old_revision() -> None:
    h, client = history()
    old, new = new_revision(parent(), 1, 0), new_revision(parent("b"), 2, 0)
    assert await h.ensure(parent("b"), [old, new]) is new
    current = await h.ensure(parent(), [old, new])
    assert current["revision"] == 3
    assert current["metadata"]["name"] == old["metadata"]["name"]
    assert client.of("create", "controllerrevisions") == []


async def test_a_name_taken_by_other_data_is_a_collision() -> None:
    h, client = history()
    taken = new_revision(parent(), 1, 0)
    impostor = copy.deepcopy(taken)
    impostor["data"] = {"spec": {"template": {"$patch": "replace"}}}
    client.objects[("controllerrevisions", "ns", taken["metadata"]["name"])] = impostor
    client.fail["create"] = error(409, "AlreadyExists")
    with pytest.raises(HashCollision) as caught:
        await h.ensure(parent(), [])
    assert caught.value.collision_count == 1


async def test_truncate_keeps_live_and_the_newest() -> None:
    h, client = history()
    revisions = [new_revision(parent(str(i)), i, 0) for i in range(1, 6)]
    live = {revisions[0]["metadata"]["name"], revisions[4]["metadata"]["name"]}
    await h.truncate(revisions, live, 2)
    deleted = client.of("delete", "controllerrevisions")
    assert deleted == [revisions[1]["metadata"]["name"]]
