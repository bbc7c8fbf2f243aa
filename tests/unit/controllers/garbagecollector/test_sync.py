"""GarbageCollector.sync against seeded caches and a fake client."""

from __future__ import annotations

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.client.resource import CONFIGMAPS, DEPLOYMENTS, REPLICASETS, SECRETS
from kybernetes.controllers.garbagecollector import GarbageCollector
from kybernetes.controllers.garbagecollector.controller import NotSynced

from .fakes import FakeClient, api_error, obj, owner_ref, seed

RS = obj("ReplicaSet", "rs", "rs-uid", api_version="apps/v1")
DEPLOY = obj("Deployment", "d", "d-uid", api_version="apps/v1")


def make(fake: FakeClient) -> tuple[GarbageCollector, SharedInformerFactory]:
    factory = SharedInformerFactory(fake.api, clock=FakeClock())
    gc = GarbageCollector(fake.api, factory, clock=FakeClock())
    for informer in factory.informers:
        informer.has_synced.set()
    return gc, factory


async def test_dependent_of_a_vanished_owner_is_deleted_in_background() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)]))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.calls == [
        (
            "delete",
            CONFIGMAPS,
            "ns",
            "cm",
            {"propagation_policy": "Background", "preconditions": {"uid": "cm-uid"}},
        )
    ]


async def test_owner_missing_from_cache_but_live_is_kept() -> None:
    fake = FakeClient(objects={(REPLICASETS, "ns", "rs"): RS})
    gc, factory = make(fake)
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)]))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.calls == []


async def test_owner_namesake_with_another_uid_is_dangling() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    seed(factory, REPLICASETS, obj("ReplicaSet", "rs", "other-uid", api_version="apps/v1"))
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)]))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.verbs() == ["delete"]


async def test_dangling_reference_is_removed_while_another_owner_remains() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    seed(factory, DEPLOYMENTS, DEPLOY)
    refs = [owner_ref(RS), owner_ref(DEPLOY)]
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=refs))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    patch = {"metadata": {"ownerReferences": [owner_ref(DEPLOY)], "resourceVersion": "7"}}
    assert fake.calls == [("patch", CONFIGMAPS, "ns", "cm", patch)]


async def test_dependent_policy_follows_its_own_finalizers() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    seed(
        factory,
        CONFIGMAPS,
        obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)], finalizers=["orphan"]),
    )
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.calls[0][4]["propagation_policy"] == "Orphan"


async def test_unknown_owner_kind_is_left_alone() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    ref = {"apiVersion": "example.com/v1", "kind": "Nope", "name": "x", "uid": "x-uid"}
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[ref]))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.calls == []


async def test_foreground_owner_deletes_dependents_then_drops_its_finalizer() -> None:
    fake = FakeClient()
    gc, factory = make(fake)
    owner = obj("ReplicaSet", "rs", "rs-uid", api_version="apps/v1")
    owner["metadata"] |= {"deletionTimestamp": "x", "finalizers": ["foregroundDeletion"]}
    seed(factory, REPLICASETS, owner)
    blocking = obj("ConfigMap", "a", "a-uid", owners=[owner_ref(owner, block=True)])
    plain = obj("Secret", "b", "b-uid", owners=[owner_ref(owner)])
    seed(factory, CONFIGMAPS, blocking)
    seed(factory, SECRETS, plain)
    await gc.sync((REPLICASETS, "ns", "rs"))
    deletes = {(c[1], c[4]["propagation_policy"]) for c in fake.calls if c[0] == "delete"}
    assert deletes == {(CONFIGMAPS, "Foreground"), (SECRETS, "Background")}
    assert "patch" not in fake.verbs()  # the blocking dependent still exists

    factory.informer(CONFIGMAPS).indexer.delete("ns/a")
    fake.calls.clear()
    await gc.sync((REPLICASETS, "ns", "rs"))
    patches = [c[4] for c in fake.calls if c[0] == "patch"]
    assert patches == [{"metadata": {"finalizers": None, "resourceVersion": "7"}}]


async def test_dependent_of_a_foreground_deleting_owner_goes_foreground() -> None:
    owner = obj("ReplicaSet", "rs", "rs-uid", api_version="apps/v1")
    owner["metadata"] |= {"deletionTimestamp": "x", "finalizers": ["foregroundDeletion"]}
    fake = FakeClient()
    gc, factory = make(fake)
    seed(factory, REPLICASETS, owner)
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(owner)]))
    await gc.sync((CONFIGMAPS, "ns", "cm"))
    assert fake.calls[0][4]["propagation_policy"] == "Foreground"


async def test_orphan_owner_releases_dependents_then_its_finalizer() -> None:
    owner = obj("Deployment", "d", "d-uid", api_version="apps/v1")
    owner["metadata"] |= {"deletionTimestamp": "x", "finalizers": ["orphan", "other"]}
    fake = FakeClient()
    gc, factory = make(fake)
    seed(factory, DEPLOYMENTS, owner)
    seed(factory, REPLICASETS, obj("ReplicaSet", "rs", "rs-uid", owners=[owner_ref(owner)]))
    await gc.sync((DEPLOYMENTS, "ns", "d"))
    assert fake.calls == [
        (
            "patch",
            REPLICASETS,
            "ns",
            "rs",
            {"metadata": {"ownerReferences": None, "resourceVersion": "7"}},
        ),
        (
            "patch",
            DEPLOYMENTS,
            "ns",
            "d",
            {"metadata": {"finalizers": ["other"], "resourceVersion": "7"}},
        ),
    ]


async def test_delete_answers_not_found_and_conflict_are_success() -> None:
    for error in (api_error(404, "NotFound"), api_error(409, "Conflict")):
        fake = FakeClient(errors={"delete": error})
        gc, factory = make(fake)
        seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)]))
        await gc.sync((CONFIGMAPS, "ns", "cm"))


async def test_foreground_owner_waits_for_every_cache_to_sync() -> None:
    fake = FakeClient()
    factory = SharedInformerFactory(fake.api, clock=FakeClock())
    owner = obj("ReplicaSet", "rs", "rs-uid", api_version="apps/v1")
    owner["metadata"] |= {"deletionTimestamp": "x", "finalizers": ["foregroundDeletion"]}
    seed(factory, REPLICASETS, owner)
    gc = GarbageCollector(fake.api, factory, clock=FakeClock())
    with pytest.raises(NotSynced):
        await gc.sync((REPLICASETS, "ns", "rs"))
    assert fake.calls == []


async def test_absent_object_is_nothing_to_do() -> None:
    fake = FakeClient()
    gc, _ = make(fake)
    await gc.sync((CONFIGMAPS, "ns", "gone"))
    assert fake.calls == []


async def test_handlers_enqueue_owned_objects_and_a_deleted_owners_dependents() -> None:
    fake = FakeClient()
    factory = SharedInformerFactory(fake.api, clock=FakeClock())
    seed(factory, CONFIGMAPS, obj("ConfigMap", "cm", "cm-uid", owners=[owner_ref(RS)]))
    seed(factory, SECRETS, obj("Secret", "plain", "s-uid"))
    gc = GarbageCollector(fake.api, factory, clock=FakeClock())
    assert len(gc.queue) == 1
    key = await gc.queue.get()
    assert key == (CONFIGMAPS, "ns", "cm")
    gc.queue.done(key)
