"""Deleting a namespace with content against a real API server."""

from __future__ import annotations

from kybernetes.client import APIClient, Resource, is_not_found
from kybernetes.client.resource import CONFIGMAPS, NAMESPACES, SECRETS, SERVICEACCOUNTS
from kybernetes.controllers.garbagecollector import GarbageCollector
from kybernetes.controllers.namespace import NamespaceController
from kybernetes.controllers.serviceaccount import ServiceAccountController

from ..garbagecollector.running import eventually, running


async def test_namespace_and_its_content_go(client: APIClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, {"metadata": {"name": "a"}}, namespace=namespace)
    await client.create(SECRETS, {"metadata": {"name": "b"}}, namespace=namespace)
    async with running(client, NamespaceController):
        await client.delete(NAMESPACES, namespace)

        async def namespace_gone() -> bool:
            try:
                await client.get(NAMESPACES, namespace)
            except Exception as e:
                if is_not_found(e):
                    return True
                raise
            return False

        await eventually(namespace_gone)
    assert (await client.list(CONFIGMAPS, namespace))["items"] == []
    assert (await client.list(SECRETS, namespace))["items"] == []


async def test_content_with_a_finalizer_holds_the_namespace(
    client: APIClient, namespace: str
) -> None:
    held = {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    await client.create(CONFIGMAPS, held, namespace=namespace)

    def condition(ns: dict, type_: str) -> dict:  # type: ignore[type-arg]
        found = [c for c in ns.get("status", {}).get("conditions", []) if c["type"] == type_]
        return found[0] if found else {}

    async with running(client, lambda c, f: NamespaceController(c, f, requeue_delay=0.05)):
        await client.delete(NAMESPACES, namespace)

        async def reported() -> bool:
            ns = await client.get(NAMESPACES, namespace)
            return condition(ns, "NamespaceFinalizersRemaining").get("status") == "True"

        await eventually(reported)
        ns = await client.get(NAMESPACES, namespace)
        assert condition(ns, "NamespaceContentRemaining")["message"] == (
            "Some resources are remaining: configmaps. has 1 resource instances"
        )
        await client.patch(
            CONFIGMAPS, "held", {"metadata": {"finalizers": None}}, namespace=namespace
        )

        async def namespace_gone() -> bool:
            try:
                await client.get(NAMESPACES, namespace)
            except Exception as e:
                if is_not_found(e):
                    return True
                raise
            return False

        await eventually(namespace_gone)


async def test_all_three_controllers_together(client: APIClient, namespace: str) -> None:
    """The default ServiceAccount appears, then goes with its namespace and is not
    re-created while the namespace terminates; owned content goes too."""

    async def gone(resource: Resource, name: str, ns: str = "") -> bool:
        try:
            await client.get(resource, name, ns)
        except Exception as e:
            if is_not_found(e):
                return True
            raise
        return False

    controllers = (GarbageCollector, ServiceAccountController, NamespaceController)
    async with running(client, *controllers):

        async def has_default() -> bool:
            return not await gone(SERVICEACCOUNTS, "default", namespace)

        await eventually(has_default)
        await client.create(CONFIGMAPS, {"metadata": {"name": "a"}}, namespace=namespace)
        await client.delete(NAMESPACES, namespace)

        async def namespace_gone() -> bool:
            return await gone(NAMESPACES, namespace)

        await eventually(namespace_gone)
    assert (await client.list(SERVICEACCOUNTS, namespace))["items"] == []
