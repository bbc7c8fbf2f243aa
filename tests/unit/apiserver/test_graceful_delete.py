"""Graceful pod deletion: 202 while the pod terminates, 200 once it is gone."""

from __future__ import annotations

import aiohttp

from kybernetes.client import APIClient
from kybernetes.client.resource import PODS
from tests.unit.client.conftest import Server, client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]


async def test_status_codes_follow_the_deletion(
    server: Server, client: APIClient, namespace: str
) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "busybox"}]},
    }
    await client.create(PODS, pod, namespace=namespace)
    url = f"{server.url}/api/v1/namespaces/{namespace}/pods/p"
    connector = aiohttp.TCPConnector(ssl=server.config.ssl_context())
    async with aiohttp.ClientSession(connector=connector) as session:
        async with session.delete(url) as response:
            assert response.status == 202
            assert (await response.json())["metadata"]["deletionGracePeriodSeconds"] == 30
        async with session.delete(f"{url}?gracePeriodSeconds=0") as response:
            assert response.status == 200
        async with session.get(url) as response:
            assert response.status == 404
