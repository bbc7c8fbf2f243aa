"""The `kubernetes` Service, its Endpoints and EndpointSlice, kept by the API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver.bootstrap import ensure_system_namespaces
from kybernetes.apiserver.kubernetesservice import reconcile_kubernetes_service
from kybernetes.apiserver.rest import API
from kybernetes.apiserver.watchcache import WatchCache
from kybernetes.store import open_store


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[API]:
    store = await open_store(f"sqlite://{tmp_path}/state.db")
    cache = WatchCache(store, history_size=64)
    try:
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(cache.run())
            await asyncio.wait_for(cache.ready.wait(), 5)
            api = API(store, cache, ResourceTable.builtin())
            await ensure_system_namespaces(api)
            yield api
            task.cancel()
    finally:
        await store.close()


async def fresh(api: API) -> None:
    await api.cache.wait_fresh()


async def test_the_service_points_at_the_api_server(api: API) -> None:
    await reconcile_kubernetes_service(api, "172.31.7.2", 6443)
    await fresh(api)
    services = api.registry_for("", "v1", "services")
    service = services.cache.get(services.key("default", "kubernetes"))
    assert service is not None
    spec = service.obj["spec"]
    assert spec["clusterIP"] == "10.43.0.1"
    assert spec["ports"][0]["port"] == 443 and spec["ports"][0]["targetPort"] == 6443
    registry = api.registry_for("", "v1", "endpoints")
    endpoints = registry.cache.get(registry.key("default", "kubernetes"))
    assert endpoints is not None
    assert endpoints.obj["subsets"][0]["addresses"] == [{"ip": "172.31.7.2"}]
    slices = api.registry_for("discovery.k8s.io", "v1", "endpointslices")
    found = slices.cache.get(slices.key("default", "kubernetes"))
    assert found is not None and found.obj["endpoints"][0]["addresses"] == ["172.31.7.2"]

    revision = found.revision
    await reconcile_kubernetes_service(api, "172.31.7.2", 6443)  # nothing to do
    await fresh(api)
    assert slices.cache.get(slices.key("default", "kubernetes")).revision == revision  # type: ignore[union-attr]

    await reconcile_kubernetes_service(api, "172.31.7.9", 6443)  # the address moved
    await fresh(api)
    moved = slices.cache.get(slices.key("default", "kubernetes"))
    assert moved is not None and moved.obj["endpoints"][0]["addresses"] == ["172.31.7.9"]
