"""Secrets: `stringData` is write-only and lands in `data`."""

from __future__ import annotations

from kybernetes.client import APIClient
from kybernetes.client.resource import SECRETS
from tests.unit.client.conftest import client, namespace, pki, serve, server

__all__ = ["client", "namespace", "pki", "serve", "server"]


async def test_string_data_is_merged_into_data(client: APIClient, namespace: str) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": "b2xk", "b": "Yg=="},
        "stringData": {"a": "new", "c": "sea"},
    }
    created = await client.create(SECRETS, secret, namespace=namespace)
    assert created["data"] == {"a": "bmV3", "b": "Yg==", "c": "c2Vh"}
    assert "stringData" not in created
    created["stringData"] = {"b": "bee"}
    updated = await client.update(SECRETS, created, namespace=namespace)
    assert updated["data"] == {"a": "bmV3", "b": "YmVl", "c": "c2Vh"}
    assert "stringData" not in await client.get(SECRETS, "s", namespace)
