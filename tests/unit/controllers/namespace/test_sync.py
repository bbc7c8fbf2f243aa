"""NamespaceController.sync against a seeded namespace cache and a fake client."""

from __future__ import annotations

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.client.resource import CONFIGMAPS, NAMESPACES, SECRETS
from kybernetes.controllers.namespace import NamespaceController

from ..garbagecollector.fakes import FakeClient, api_error, obj, seed


def terminating(name: str = "doomed", finalizers: tuple[str, ...] = ("kubernetes",)) -> dict:  # type: ignore[type-arg]
    ns = obj("Namespace", name, f"{name}-uid", namespace="", deleting=True)
    ns["spec"] = {"finalizers": list(finalizers)}
    ns["status"] = {"phase": "Terminating"}
    return ns


def make(fake: FakeClient, *namespaces: dict) -> tuple[NamespaceController, FakeClock]:  # type: ignore[type-arg]
    clock = FakeClock()
    factory = SharedInformerFactory(fake.api, clock=clock)
    seed(factory, NAMESPACES, *namespaces)
    return NamespaceController(fake.api, factory, clock=clock, requeue_delay=5), clock


def conditions(call: tuple) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["type"]: c for c in call[2]["status"]["conditions"]}


async def test_content_is_deleted_and_the_namespace_requeued() -> None:
    cm = obj("ConfigMap", "cm", "cm-uid", namespace="doomed")
    going = obj("Secret", "s", "s-uid", namespace="doomed", deleting=True, finalizers=["x/y"])
    fake = FakeClient(objects={(CONFIGMAPS, "doomed", "cm"): cm, (SECRETS, "doomed", "s"): going})
    controller, clock = make(fake, terminating())
    controller.queue.done(await controller.queue.get())  # the informer's initial add
    await controller.sync("doomed")
    deletes = [c for c in fake.calls if c[0] == "delete"]
    assert [(c[1], c[3]) for c in deletes] == [(CONFIGMAPS, "cm")]
    assert deletes[0][4]["preconditions"] == {"uid": "cm-uid"}
    [status] = [c for c in fake.calls if c[0] == "update_status"]
    found = conditions(status)
    remaining = found["NamespaceContentRemaining"]
    assert remaining["status"] == "True"
    assert remaining["message"] == (
        "Some resources are remaining: configmaps. has 1 resource instances, "
        "secrets. has 1 resource instances"
    )
    assert found["NamespaceFinalizersRemaining"]["message"] == (
        "Some content in the namespace has finalizers remaining: x/y in 1 resource instances"
    )
    assert "update" not in fake.verbs()
    assert len(controller.queue) == 0
    clock.advance(5)
    assert len(controller.queue) == 1


async def test_empty_namespace_is_finalized() -> None:
    fake = FakeClient()
    controller, _ = make(fake, terminating(finalizers=("kubernetes", "other")))
    await controller.sync("doomed")
    [finalize] = [c for c in fake.calls if c[0] == "update"]
    assert finalize[3] == "finalize"
    assert finalize[2]["spec"]["finalizers"] == ["other"]
    status = next(c for c in fake.calls if c[0] == "update_status")
    assert conditions(status)["NamespaceContentRemaining"]["status"] == "False"


async def test_unchanged_conditions_are_not_written_again() -> None:
    fake = FakeClient()
    controller, _ = make(fake, terminating())
    await controller.sync("doomed")
    [status] = [c for c in fake.calls if c[0] == "update_status"]
    controller.namespaces.indexer.add(status[2])
    fake.calls.clear()
    await controller.sync("doomed")
    assert fake.verbs() == ["update"]


async def test_list_failure_is_reported_and_retried() -> None:
    fake = FakeClient(errors={"list": api_error(500, "InternalError")})
    controller, _ = make(fake, terminating())
    with pytest.raises(RuntimeError):
        await controller.sync("doomed")
    [status] = [c for c in fake.calls if c[0] == "update_status"]
    assert conditions(status)["NamespaceDeletionContentFailure"]["status"] == "True"
    assert "update" not in fake.verbs()


async def test_active_or_finalized_namespaces_are_left_alone() -> None:
    active = obj("Namespace", "live", "live-uid", namespace="")
    fake = FakeClient()
    controller, _ = make(fake, active, terminating("done", finalizers=()))
    await controller.sync("live")
    await controller.sync("done")
    await controller.sync("absent")
    assert fake.calls == []


async def test_only_terminating_namespaces_are_enqueued() -> None:
    fake = FakeClient()
    active = obj("Namespace", "live", "live-uid", namespace="")
    controller, _ = make(fake, active, terminating())
    assert await controller.queue.get() == "doomed"
    assert len(controller.queue) == 0
