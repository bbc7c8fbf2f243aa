"""ServiceAccountController: unit tests of `sync` and the handlers, and the default
ServiceAccount appearing in a new namespace of a real API server."""

from __future__ import annotations

import pytest

from kybernetes.client import APIClient, FakeClock, SharedInformerFactory, is_not_found
from kybernetes.client.resource import NAMESPACES, SERVICEACCOUNTS
from kybernetes.controllers.serviceaccount import ServiceAccountController

from ..garbagecollector.fakes import FakeClient, api_error, obj, seed
from ..garbagecollector.running import eventually, running


def namespace_obj(name: str, *, phase: str = "Active", deleting: bool = False) -> dict:  # type: ignore[type-arg]
    ns = obj("Namespace", name, f"{name}-uid", namespace="", deleting=deleting)
    ns["status"] = {"phase": phase}
    return ns


def make(fake: FakeClient, *namespaces: dict) -> ServiceAccountController:  # type: ignore[type-arg]
    factory = SharedInformerFactory(fake.api, clock=FakeClock())
    seed(factory, NAMESPACES, *namespaces)
    return ServiceAccountController(fake.api, factory, clock=FakeClock())


async def test_missing_default_is_created() -> None:
    fake = FakeClient()
    controller = make(fake, namespace_obj("a"))
    await controller.sync("a")
    expected = {"metadata": {"name": "default", "namespace": "a"}}
    assert fake.calls == [("create", SERVICEACCOUNTS, expected)]


async def test_existing_default_and_inactive_namespaces_are_left_alone() -> None:
    fake = FakeClient()
    controller = make(
        fake,
        namespace_obj("has"),
        namespace_obj("ending", phase="Terminating", deleting=True),
    )
    controller.service_accounts.indexer.add(obj("ServiceAccount", "default", "u", namespace="has"))
    for name in ("has", "ending", "absent"):
        await controller.sync(name)
    assert fake.calls == []


@pytest.mark.parametrize(
    "error",
    [api_error(409, "AlreadyExists"), api_error(403, "Forbidden"), api_error(404, "NotFound")],
)
async def test_benign_create_failures_are_success(error: Exception) -> None:
    fake = FakeClient(errors={"create": error})  # type: ignore[dict-item]
    await make(fake, namespace_obj("a")).sync("a")


async def test_other_create_failures_propagate() -> None:
    fake = FakeClient(errors={"create": api_error(500, "InternalError")})
    with pytest.raises(Exception, match="InternalError"):
        await make(fake, namespace_obj("a")).sync("a")


async def test_namespaces_are_enqueued() -> None:
    controller = make(FakeClient(), namespace_obj("a"))
    assert await controller.queue.get() == "a"


async def test_default_appears_and_comes_back(client: APIClient, namespace: str) -> None:
    async def present() -> bool:
        try:
            await client.get(SERVICEACCOUNTS, "default", namespace)
        except Exception as e:
            if is_not_found(e):
                return False
            raise
        return True

    async with running(client, ServiceAccountController):
        await eventually(present)
        first = await client.get(SERVICEACCOUNTS, "default", namespace)
        await client.delete(SERVICEACCOUNTS, "default", namespace)
        await eventually(present)
        again = await client.get(SERVICEACCOUNTS, "default", namespace)
        assert again["metadata"]["uid"] != first["metadata"]["uid"]
