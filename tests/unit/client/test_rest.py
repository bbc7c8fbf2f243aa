"""`APIClient` against a real API server: CRUD, every patch type, delete options,
binding, errors as Status, watches (events, bookmarks, 410, timeout)."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from kybernetes.client import (
    APIClient,
    APIError,
    Expired,
    RestConfig,
    TransportError,
    WatchEvent,
    is_already_exists,
    is_conflict,
    is_invalid,
    is_not_found,
)
from kybernetes.client.resource import CONFIGMAPS, DEPLOYMENTS, NAMESPACES, NODES, PODS

from .conftest import Serve, Server


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    }


async def test_create_get_update_delete(client: APIClient, namespace: str) -> None:
    created = await client.create(CONFIGMAPS, configmap("a", k="1"), namespace=namespace)
    assert created["metadata"]["namespace"] == namespace
    assert created["metadata"]["uid"]

    got = await client.get(CONFIGMAPS, "a", namespace)
    assert got["data"] == {"k": "1"}

    got["data"]["k"] = "2"
    updated = await client.update(CONFIGMAPS, got)
    assert updated["data"] == {"k": "2"}
    assert updated["metadata"]["resourceVersion"] != got["metadata"]["resourceVersion"]

    with pytest.raises(APIError) as stale:
        await client.update(CONFIGMAPS, got)  # got's resourceVersion is now stale
    assert is_conflict(stale.value)
    assert stale.value.code == 409

    await client.delete(CONFIGMAPS, "a", namespace)
    with pytest.raises(APIError) as gone:
        await client.get(CONFIGMAPS, "a", namespace)
    assert is_not_found(gone.value)
    assert (gone.value.code, gone.value.reason) == (404, "NotFound")
    assert '"a" not found' in gone.value.message
    assert gone.value.details["name"] == "a"


async def test_cluster_scoped_and_list_all_namespaces(client: APIClient, namespace: str) -> None:
    await client.create(NODES, {"metadata": {"name": "n1", "labels": {"role": "x"}}})
    nodes = await client.list(NODES, label_selector="role=x")
    assert [n["metadata"]["name"] for n in nodes["items"]] == ["n1"]

    await client.create(CONFIGMAPS, configmap("everywhere"), namespace=namespace)
    everything = await client.list(CONFIGMAPS, field_selector="metadata.name=everywhere")
    assert [c["metadata"]["namespace"] for c in everything["items"]] == [namespace]


async def test_errors_are_statuses(client: APIClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("dup"), namespace=namespace)
    with pytest.raises(APIError) as exists:
        await client.create(CONFIGMAPS, configmap("dup"), namespace=namespace)
    assert is_already_exists(exists.value)
    assert not is_conflict(exists.value)

    with pytest.raises(APIError) as invalid:
        await client.create(CONFIGMAPS, configmap("Not_A_Name"), namespace=namespace)
    assert is_invalid(invalid.value)
    assert invalid.value.details["causes"]

    with pytest.raises(ValueError, match="namespaced"):
        await client.create(CONFIGMAPS, configmap("nowhere"))


async def test_list_pages_through_one_snapshot(client: APIClient, namespace: str) -> None:
    for i in range(5):
        await client.create(CONFIGMAPS, configmap(f"cm-{i}"), namespace=namespace)
    names: list[str] = []
    page = await client.list(CONFIGMAPS, namespace, limit=2)
    snapshot = page["metadata"]["resourceVersion"]
    while True:
        names += [c["metadata"]["name"] for c in page["items"]]
        token = page["metadata"].get("continue")
        if not token:
            break
        await client.create(CONFIGMAPS, configmap(f"late-{len(names)}"), namespace=namespace)
        page = await client.list(CONFIGMAPS, namespace, limit=2, continue_=token)
        assert page["metadata"]["resourceVersion"] == snapshot
    assert names == [f"cm-{i}" for i in range(5)]


async def test_patch_types(client: APIClient, namespace: str) -> None:
    await client.create(CONFIGMAPS, configmap("p", a="1"), namespace=namespace)

    merged = await client.patch(CONFIGMAPS, "p", {"data": {"b": "2"}}, namespace=namespace)
    assert merged["data"] == {"a": "1", "b": "2"}

    ops = [{"op": "remove", "path": "/data/a"}]
    patched = await client.patch(CONFIGMAPS, "p", ops, namespace=namespace, patch_type="json")
    assert patched["data"] == {"b": "2"}

    strategic = await client.patch(
        CONFIGMAPS, "p", {"data": {"c": "3"}}, namespace=namespace, patch_type="strategic"
    )
    assert strategic["data"] == {"b": "2", "c": "3"}

    applied = await client.patch(
        CONFIGMAPS,
        "p",
        configmap("p", d="applied"),
        namespace=namespace,
        patch_type="apply",
        field_manager="tester",
    )
    assert applied["data"] == {"b": "2", "c": "3", "d": "applied"}
    managers = {entry["manager"] for entry in applied["metadata"]["managedFields"]}
    assert managers == {"tester", "kyb-test"}  # the other writes' manager: our user agent

    mine = configmap("p", d="mine")
    with pytest.raises(APIError) as conflict:
        await client.patch(
            CONFIGMAPS, "p", mine, namespace=namespace, patch_type="apply", field_manager="other"
        )
    assert is_conflict(conflict.value)
    forced = await client.patch(
        CONFIGMAPS,
        "p",
        mine,
        namespace=namespace,
        patch_type="apply",
        field_manager="other",
        force=True,
    )
    assert forced["data"]["d"] == "mine"


async def test_scale_subresource(client: APIClient, namespace: str) -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]},
            },
        },
    }
    await client.create(DEPLOYMENTS, deployment, namespace=namespace)
    scale = await client.get(DEPLOYMENTS, "web", namespace, subresource="scale")
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 1)
    scale["spec"]["replicas"] = 3
    await client.update(DEPLOYMENTS, scale, namespace=namespace, subresource="scale")
    assert (await client.get(DEPLOYMENTS, "web", namespace))["spec"]["replicas"] == 3


async def test_update_status_and_bind(client: APIClient, namespace: str) -> None:
    created = await client.create(PODS, pod("p"), namespace=namespace)
    created["status"] = {"phase": "Pending", "message": "waiting"}
    created["spec"]["containers"][0]["image"] = "ignored"
    status = await client.update_status(PODS, created)
    assert status["status"]["message"] == "waiting"
    assert status["spec"]["containers"][0]["image"] == "busybox"  # status writes only status

    await client.bind(status, "node-1")
    bound = await client.get(PODS, "p", namespace)
    assert bound["spec"]["nodeName"] == "node-1"
    with pytest.raises(APIError) as again:
        await client.bind(status, "node-2")
    assert is_conflict(again.value)


async def test_delete_options(client: APIClient, namespace: str) -> None:
    created = await client.create(CONFIGMAPS, configmap("d"), namespace=namespace)
    with pytest.raises(APIError) as wrong_uid:
        await client.delete(CONFIGMAPS, "d", namespace, preconditions={"uid": "not-the-uid"})
    assert is_conflict(wrong_uid.value)
    await client.delete(
        CONFIGMAPS,
        "d",
        namespace,
        propagation_policy="Background",
        grace_period_seconds=0,
        preconditions={"uid": created["metadata"]["uid"]},
    )
    with pytest.raises(APIError) as gone:
        await client.delete(CONFIGMAPS, "d", namespace)
    assert is_not_found(gone.value)


async def test_watch_events_and_bookmarks(
    client: APIClient, namespace: str, server: Server
) -> None:
    listed = await client.list(CONFIGMAPS, namespace)
    rv = listed["metadata"]["resourceVersion"]
    async with client.watch(
        CONFIGMAPS, namespace, resource_version=rv, allow_bookmarks=True
    ) as stream:
        await client.create(CONFIGMAPS, configmap("w", v="1"), namespace=namespace)
        await client.patch(CONFIGMAPS, "w", {"data": {"v": "2"}}, namespace=namespace)
        await client.delete(CONFIGMAPS, "w", namespace)
        seen: list[tuple[str, str | None]] = []
        async with asyncio.timeout(10):
            async for event in stream:
                seen.append((event.type, (event.object.get("data") or {}).get("v")))
                if event.type == "DELETED":
                    server.cache.bookmark()
                if event.type == "BOOKMARK":
                    assert int(event.object["metadata"]["resourceVersion"]) > int(rv)
                    break
    assert seen == [("ADDED", "1"), ("MODIFIED", "2"), ("DELETED", "2"), ("BOOKMARK", None)]


async def test_watch_without_version_starts_with_what_exists(
    client: APIClient, namespace: str
) -> None:
    await client.create(CONFIGMAPS, configmap("old"), namespace=namespace)
    async with asyncio.timeout(10), client.watch(CONFIGMAPS, namespace) as stream:
        event = await anext(stream)
    assert isinstance(event, WatchEvent)
    assert (event.type, event.object["metadata"]["name"]) == ("ADDED", "old")


async def test_watch_ends_at_its_timeout(client: APIClient, namespace: str) -> None:
    stream = client.watch(NAMESPACES, timeout_seconds=1, resource_version="0")
    async with asyncio.timeout(10):
        events = [event async for event in stream]
    assert {e.type for e in events} == {"ADDED"}  # the namespaces that exist, then the end


async def test_watch_from_a_version_too_old_raises_expired(serve: Serve) -> None:
    async with serve(history_size=4) as server, APIClient(server.config) as client:
        first = await client.create(NAMESPACES, {"metadata": {"name": "first"}})
        for i in range(8):
            await client.create(NAMESPACES, {"metadata": {"name": f"ns-{i}"}})
        old = first["metadata"]["resourceVersion"]
        with pytest.raises(Expired) as expired:
            async with asyncio.timeout(10):
                async for _ in client.watch(NAMESPACES, resource_version=old):
                    pass
        assert expired.value.code == 410


async def test_watch_close_from_another_task_ends_iteration(
    client: APIClient, namespace: str
) -> None:
    stream = client.watch(CONFIGMAPS, namespace, resource_version="0")
    async with asyncio.timeout(10):
        await stream.__aenter__()
        reader = asyncio.ensure_future(anext(stream, None))
        await asyncio.sleep(0)
        stream.close()
        assert await reader is None


async def test_token_authentication_and_user_agent(server: Server) -> None:
    async with APIClient(server.token_config, component="scheduler") as client:
        assert client.user_agent.startswith("kyb-scheduler/")
        namespaces = await client.list(NAMESPACES)
    assert "default" in {n["metadata"]["name"] for n in namespaces["items"]}

    bad = RestConfig(server.url, ca_pem=server.pki.ca.cert_pem(), token="wrong")
    async with APIClient(bad) as client:
        with pytest.raises(APIError) as denied:
            await client.list(NAMESPACES)
    assert denied.value.code == 401


async def test_no_server_is_a_transport_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with APIClient(RestConfig(f"https://127.0.0.1:{port}"), timeout=5) as client:
        with pytest.raises(TransportError):
            await client.get(NAMESPACES, "default")
        with pytest.raises(TransportError):
            async for _ in client.watch(NAMESPACES):
                pass


async def test_closed_client_refuses_requests(server: Server) -> None:
    client = APIClient(server.config)
    with pytest.raises(RuntimeError, match="not open"):
        await client.get(NAMESPACES, "default")
