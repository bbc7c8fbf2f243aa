"""Priority admission through a real in-process API server and the REST client."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import APIClient, APIError
from kybernetes.client.resource import PODS, PRIORITYCLASSES
from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]


def pod(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec},
    }


async def test_system_classes_exist_and_resolve(client: APIClient, namespace: str) -> None:
    critical = await client.get(PRIORITYCLASSES, "system-node-critical")
    assert critical["value"] == 2_000_001_000
    created = await client.create(
        PODS, pod("critical", priorityClassName="system-cluster-critical"), namespace=namespace
    )
    assert created["spec"]["priority"] == 2_000_000_000
    assert created["spec"]["preemptionPolicy"] == "PreemptLowerPriority"


async def test_pods_get_their_class_value_or_the_global_default(
    client: APIClient, namespace: str
) -> None:
    plain = await client.create(PODS, pod("plain"), namespace=namespace)
    assert plain["spec"]["priority"] == 0
    assert "priorityClassName" not in plain["spec"]
    never = {
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": {"name": f"{namespace}-default"},
        "value": 7,
        "globalDefault": True,
        "preemptionPolicy": "Never",
    }
    await client.create(PRIORITYCLASSES, never)
    try:
        defaulted = await client.create(PODS, pod("defaulted"), namespace=namespace)
        assert defaulted["spec"]["priorityClassName"] == f"{namespace}-default"
        assert defaulted["spec"]["priority"] == 7
        assert defaulted["spec"]["preemptionPolicy"] == "Never"
        # an update without the admitted fields keeps them
        replaced = dict(defaulted)
        replaced["spec"] = {k: v for k, v in defaulted["spec"].items() if k != "priority"}
        updated = await client.update(PODS, replaced, namespace=namespace)
        assert updated["spec"]["priority"] == 7
    finally:
        await client.delete(PRIORITYCLASSES, f"{namespace}-default")


async def test_missing_class_and_conflicting_priority_are_forbidden(
    client: APIClient, namespace: str
) -> None:
    with pytest.raises(APIError) as missing:
        await client.create(PODS, pod("x", priorityClassName="nope"), namespace=namespace)
    assert missing.value.code == 403
    assert missing.value.message == (
        'pods "x" is forbidden: no PriorityClass with name nope was found'
    )
    with pytest.raises(APIError) as conflicting:
        await client.create(PODS, pod("y", priority=5), namespace=namespace)
    assert conflicting.value.code == 403
    assert "the integer value of priority (5) must not be provided in pod spec" in (
        conflicting.value.message
    )
    with pytest.raises(APIError):
        await client.get(PODS, "y", namespace=namespace)
