"""The garbage collector against a real API server: Background, Foreground and Orphan
deletion as `kubectl delete --cascade=...` drives them."""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient, is_not_found
from kybernetes.client.resource import CONFIGMAPS, SECRETS
from kybernetes.controllers.garbagecollector import GarbageCollector

from .running import eventually, running


async def exists(client: APIClient, resource: Any, name: str, namespace: str) -> bool:
    try:
        await client.get(resource, name, namespace)
    except Exception as e:
        if is_not_found(e):
            return False
        raise
    return True


async def owner_and_dependent(client: APIClient, namespace: str, *, block: bool) -> dict[str, Any]:
    owner = await client.create(CONFIGMAPS, {"metadata": {"name": "owner"}}, namespace=namespace)
    ref = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "name": "owner",
        "uid": owner["metadata"]["uid"],
        "blockOwnerDeletion": block,
    }
    dependent = {"metadata": {"name": "dependent", "ownerReferences": [ref]}}
    return await client.create(SECRETS, dependent, namespace=namespace)


async def test_background_deletion_removes_the_dependent(client: APIClient, namespace: str) -> None:
    async with running(client, GarbageCollector):
        await owner_and_dependent(client, namespace, block=False)
        await client.delete(CONFIGMAPS, "owner", namespace, propagation_policy="Background")

        async def dependent_gone() -> bool:
            return not await exists(client, SECRETS, "dependent", namespace)

        await eventually(dependent_gone)


async def test_foreground_deletion_removes_the_dependent_first(
    client: APIClient, namespace: str
) -> None:
    await owner_and_dependent(client, namespace, block=True)
    # The owner waits for its blocking dependent while no collector runs.
    await client.delete(CONFIGMAPS, "owner", namespace, propagation_policy="Foreground")
    owner = await client.get(CONFIGMAPS, "owner", namespace)
    assert owner["metadata"]["finalizers"] == ["foregroundDeletion"]
    async with running(client, GarbageCollector):

        async def owner_gone() -> bool:
            return not await exists(client, CONFIGMAPS, "owner", namespace)

        await eventually(owner_gone)
        assert not await exists(client, SECRETS, "dependent", namespace)


async def test_orphan_deletion_keeps_the_dependent_without_its_reference(
    client: APIClient, namespace: str
) -> None:
    async with running(client, GarbageCollector):
        await owner_and_dependent(client, namespace, block=True)
        await client.delete(CONFIGMAPS, "owner", namespace, propagation_policy="Orphan")

        async def owner_gone() -> bool:
            return not await exists(client, CONFIGMAPS, "owner", namespace)

        await eventually(owner_gone)
        dependent = await client.get(SECRETS, "dependent", namespace)
        assert not dependent["metadata"].get("ownerReferences")


async def test_dependent_created_after_its_owner_is_gone_is_collected(
    client: APIClient, namespace: str
) -> None:
    async with running(client, GarbageCollector):
        ref = {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": "no-such-uid"}
        body = {"metadata": {"name": "stray", "ownerReferences": [ref]}}
        await client.create(SECRETS, body, namespace=namespace)

        async def stray_gone() -> bool:
            return not await exists(client, SECRETS, "stray", namespace)

        await eventually(stray_gone)
