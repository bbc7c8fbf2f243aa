"""`Indexer` (keys, built-in and custom indexes), `FakeClock` and `Resource` paths."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kybernetes.api.resources import ResourceTable
from kybernetes.client import BY_NAMESPACE, BY_NODE, BY_OWNER, FakeClock, Indexer, Resource
from kybernetes.client import resource as resources
from kybernetes.client.indexer import object_key, split_key


def pod(namespace: str, name: str, node: str = "", owners: tuple[str, ...] = ()) -> dict[str, Any]:
    meta: dict[str, Any] = {"namespace": namespace, "name": name, "labels": {"app": name[0]}}
    if owners:
        meta["ownerReferences"] = [{"uid": uid, "kind": "ReplicaSet"} for uid in owners]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {}}


def test_keys() -> None:
    assert object_key(pod("ns", "a")) == "ns/a"
    assert object_key({"metadata": {"name": "node-1"}}) == "node-1"
    assert split_key("ns/a") == ("ns", "a")
    assert split_key("node-1") == ("", "node-1")


def test_builtin_indexes_follow_adds_updates_and_deletes() -> None:
    indexer = Indexer()
    indexer.add(pod("ns1", "a", node="n1", owners=("rs-1",)))
    indexer.add(pod("ns1", "b", node="n2", owners=("rs-1", "rs-2")))
    indexer.add(pod("ns2", "c"))
    assert len(indexer) == 3
    assert "ns1/a" in indexer
    assert indexer.index_keys(BY_NAMESPACE, "ns1") == ["ns1/a", "ns1/b"]
    assert indexer.index_keys(BY_NODE, "n1") == ["ns1/a"]
    assert indexer.index_keys(BY_OWNER, "rs-1") == ["ns1/a", "ns1/b"]
    assert [o["metadata"]["name"] for o in indexer.by_index(BY_OWNER, "rs-2")] == ["b"]

    old = indexer.add(pod("ns1", "a", node="n2"))  # moved, owner gone
    assert old is not None and old["spec"]["nodeName"] == "n1"
    assert indexer.index_keys(BY_NODE, "n1") == []
    assert indexer.index_keys(BY_NODE, "n2") == ["ns1/a", "ns1/b"]
    assert indexer.index_keys(BY_OWNER, "rs-1") == ["ns1/b"]

    assert indexer.delete("ns1/b") is not None
    assert indexer.delete("ns1/b") is None
    assert indexer.index_keys(BY_OWNER, "rs-1") == []
    assert indexer.get_by_name("ns2", "c") is indexer.get("ns2/c")
    assert sorted(indexer.keys()) == ["ns1/a", "ns2/c"]


def test_custom_indexes_and_replace() -> None:
    def by_app(obj: dict[str, Any]) -> list[str]:
        return [obj["metadata"]["labels"]["app"]]

    indexer = Indexer({"by_app": by_app})
    indexer.add(pod("ns", "alpha"))
    indexer.add(pod("ns", "beta"))
    indexer.add_indexers({"by_first": lambda o: [o["metadata"]["name"][:2]]})
    assert indexer.index_keys("by_first", "be") == ["ns/beta"]  # existing objects indexed
    with pytest.raises(ValueError, match="exists"):
        indexer.add_indexers({"by_app": by_app})

    indexer.replace([pod("ns", "another"), pod("other", "bravo")])
    assert indexer.index_keys("by_app", "a") == ["ns/another"]
    assert indexer.index_keys("by_app", "b") == ["other/bravo"]
    assert indexer.index_keys(BY_NAMESPACE, "ns") == ["ns/another"]
    assert [o["metadata"]["name"] for o in indexer.list()] == ["another", "bravo"]
    with pytest.raises(KeyError):
        indexer.by_index("no-such-index", "x")


async def test_fake_clock_fires_timers_in_order_and_wakes_sleepers() -> None:
    clock = FakeClock()
    fired: list[tuple[str, float]] = []
    clock.call_at(2, lambda: fired.append(("two", clock.now())))
    clock.call_at(1, lambda: fired.append(("one", clock.now())))
    cancelled = clock.call_at(1.5, lambda: fired.append(("never", clock.now())))
    cancelled.cancel()
    sleeper = asyncio.ensure_future(clock.sleep(3))
    await asyncio.sleep(0)
    assert clock.pending == 3
    clock.advance(2.5)
    assert fired == [("one", 1), ("two", 2)]
    assert clock.now() == 2.5
    assert not sleeper.done()
    clock.advance(0.5)
    await sleeper
    assert clock.pending == 0
    assert (clock.wall() - FakeClock().wall()).total_seconds() == 3
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_resource_paths() -> None:
    assert resources.PODS.path() == "/api/v1/pods"
    assert resources.PODS.path("ns") == "/api/v1/namespaces/ns/pods"
    assert resources.PODS.path("ns", "p", "status") == "/api/v1/namespaces/ns/pods/p/status"
    assert resources.NODES.path("ignored", "n") == "/api/v1/nodes/n"
    assert resources.DEPLOYMENTS.path("ns", "d", "scale") == (
        "/apis/apps/v1/namespaces/ns/deployments/d/scale"
    )
    assert resources.LEASES.api_version == "coordination.k8s.io/v1"
    assert str(resources.DEPLOYMENTS) == "deployments.apps"
    with pytest.raises(ValueError):
        resources.PODS.path("ns", subresource="status")


def test_every_constant_is_a_builtin_resource() -> None:
    table = ResourceTable.builtin()
    constants = [v for v in vars(resources).values() if isinstance(v, Resource)]
    assert len(constants) > 20
    for constant in constants:
        info = table.get(constant.group, constant.version, constant.plural)
        assert info is not None, constant
        assert Resource.of(info) == constant
