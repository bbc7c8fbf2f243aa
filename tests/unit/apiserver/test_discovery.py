"""Discovery: the aggregated APIGroupDiscoveryList of /api and /apis says exactly what
the legacy documents say, in kube-apiserver's shape, and /api and /apis negotiate it
from the Accept header (kubectl asks for it first) while other clients keep getting
the legacy documents."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kybernetes.api.resources import CRUD_VERBS, ResourceTable, custom_resources
from kybernetes.apiserver import discovery
from kybernetes.apiserver.requestinfo import request_info_middleware
from kybernetes.apiserver.rest import API, add_api_routes
from kybernetes.apiserver.status import status_middleware
from kybernetes.apiserver.watchcache import WatchCache
from kybernetes.store import Store

V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"
KUBECTL_ACCEPT = f"{V2},{V2BETA1},application/json"

CRD = {
    "spec": {
        "group": "stable.example.com",
        "scope": "Cluster",
        "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"]},
        "versions": [
            {"name": "v1", "served": True, "storage": True, "subresources": {"scale": {}}},
            {"name": "v1beta1", "served": True, "storage": False},
        ],
    },
}


@pytest.fixture
def table() -> ResourceTable:
    table = ResourceTable.builtin()
    for row in custom_resources(CRD):
        table.add(row)
    return table


def by_name(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_core_group_shape(table: ResourceTable) -> None:
    document = discovery.aggregated_discovery(table, True, "v2")
    assert (document["kind"], document["apiVersion"], document["metadata"]) == (
        "APIGroupDiscoveryList",
        "apidiscovery.k8s.io/v2",
        {},
    )
    (core,) = document["items"]
    assert core["metadata"] == {}
    (v1,) = core["versions"]
    assert (v1["version"], v1["freshness"]) == ("v1", "Current")
    pods = by_name(v1["resources"], "resource")["pods"]
    assert {k: v for k, v in pods.items() if k != "subresources"} == {
        "resource": "pods",
        "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
        "scope": "Namespaced",
        "singularResource": "pod",
        "verbs": list(CRUD_VERBS),
        "shortNames": ["po"],
        "categories": ["all"],
    }
    subresources = by_name(pods["subresources"], "subresource")
    assert subresources["status"] == {
        "subresource": "status",
        "responseKind": {"group": "", "version": "v1", "kind": "Pod"},
        "verbs": ["get", "patch", "update"],
    }
    assert subresources["eviction"]["responseKind"] == {
        "group": "policy",
        "version": "v1",
        "kind": "Eviction",
    }
    nodes = by_name(v1["resources"], "resource")["nodes"]
    assert nodes["scope"] == "Cluster"
    secrets = by_name(v1["resources"], "resource")["secrets"]
    assert "shortNames" not in secrets and "categories" not in secrets
    assert "subresources" not in secrets


def test_named_groups_in_discovery_order(table: ResourceTable) -> None:
    document = discovery.aggregated_discovery(table, False, "v2beta1")
    assert document["apiVersion"] == "apidiscovery.k8s.io/v2beta1"
    names = [item["metadata"]["name"] for item in document["items"]]
    assert names == [group for group in table.groups() if group]
    groups = dict(zip(names, document["items"], strict=True))
    apps = by_name(groups["apps"]["versions"][0]["resources"], "resource")
    scale = by_name(apps["deployments"]["subresources"], "subresource")["scale"]
    assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    crontabs = groups["stable.example.com"]
    assert [v["version"] for v in crontabs["versions"]] == ["v1", "v1beta1"]
    (crontab,) = crontabs["versions"][0]["resources"]
    assert crontab["responseKind"] == {
        "group": "stable.example.com",
        "version": "v1",
        "kind": "CronTab",
    }
    assert (crontab["scope"], crontab["singularResource"], crontab["shortNames"]) == (
        "Cluster",
        "crontab",
        ["ct"],
    )


def as_legacy(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An aggregated version's resources as the APIResourceList entries they stand for
    (client-go's conversion, with the legacy document's group/version conventions)."""
    entries = []
    for r in resources:
        entry = {
            "name": r["resource"],
            "singularName": r["singularResource"],
            "namespaced": r["scope"] == "Namespaced",
            "kind": r["responseKind"]["kind"],
            "verbs": r["verbs"],
        }
        entry.update({k: r[k] for k in ("shortNames", "categories") if k in r})
        entries.append(entry)
        for sub in r.get("subresources", []):
            kind = sub["responseKind"]
            sub_entry = {
                "name": f"{r['resource']}/{sub['subresource']}",
                "singularName": "",
                "namespaced": r["scope"] == "Namespaced",
                "kind": kind["kind"],
                "verbs": sub["verbs"],
            }
            if kind["group"] != r["responseKind"]["group"]:
                sub_entry.update(group=kind["group"], version=kind["version"])
            entries.append(sub_entry)
    return entries


def test_aggregated_says_what_legacy_says(table: ResourceTable) -> None:
    aggregated = [
        *discovery.aggregated_discovery(table, True, "v2")["items"],
        *discovery.aggregated_discovery(table, False, "v2")["items"],
    ]
    group_list = discovery.api_group_list(table)["groups"]
    assert [item["metadata"].get("name", "") for item in aggregated] == [
        "",
        *(g["name"] for g in group_list),
    ]
    for item in aggregated:
        group = item["metadata"].get("name", "")
        versions = [v["version"] for v in item["versions"]]
        assert versions == table.versions(group)
        for version in item["versions"]:
            legacy = discovery.api_resource_list(table, group, version["version"])
            assert legacy is not None
            expected = [
                {k: v for k, v in entry.items() if k != "storageVersionHash"}
                for entry in legacy["resources"]
            ]
            assert as_legacy(version["resources"]) == expected, (group, version["version"])


@pytest.mark.parametrize(
    ("accept", "version"),
    [
        (KUBECTL_ACCEPT, "v2"),
        (f"{V2BETA1},application/json", "v2beta1"),
        (V2, "v2"),
        ("application/json", None),
        ("", None),
        ("*/*", None),
        ("application/vnd.kubernetes.protobuf", None),
        (f"application/json;q=0.5,{V2};q=0.9", "v2"),
        (f"{V2};q=0.1,application/json", None),
        (
            "application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;"
            "as=APIGroupDiscoveryList,application/json",
            None,
        ),
        ("application/json;g=apidiscovery.k8s.io;v=v1;as=APIGroupDiscoveryList", None),
        ("application/json;as=Table;v=v1;g=meta.k8s.io", None),
        (f"{V2};q=nope,{V2BETA1}", "v2beta1"),
    ],
)
def test_negotiation(accept: str, version: str | None) -> None:
    assert discovery.aggregated_version(accept) == version


@pytest.fixture
async def client(table: ResourceTable) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application(middlewares=[status_middleware, request_info_middleware])
    add_api_routes(app, API(cast(Store, object()), cast(WatchCache, object()), table))
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.mark.parametrize(("path", "core"), [("/api", True), ("/apis", False)])
@pytest.mark.parametrize("accept", [KUBECTL_ACCEPT, V2BETA1])
async def test_served_aggregated(
    client: TestClient[web.Request, web.Application],
    table: ResourceTable,
    path: str,
    core: bool,
    accept: str,
) -> None:
    version = "v2beta1" if accept == V2BETA1 else "v2"
    async with client.get(path, headers={"Accept": accept}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == discovery.aggregated_content_type(version)
        assert response.headers["Vary"] == "Accept"
        assert await response.json(content_type=None) == discovery.aggregated_discovery(
            table, core, version
        )


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/api", "APIVersions"), ("/apis", "APIGroupList")],
)
async def test_legacy_clients_get_legacy_documents(
    client: TestClient[web.Request, web.Application], path: str, kind: str
) -> None:
    for headers in ({}, {"Accept": "application/json, */*"}):
        async with client.get(path, headers=headers) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert response.headers["Vary"] == "Accept"
            assert (await response.json())["kind"] == kind


async def test_only_api_and_apis_aggregate(
    client: TestClient[web.Request, web.Application],
) -> None:
    async with client.get("/apis/apps/v1", headers={"Accept": KUBECTL_ACCEPT}) as response:
        assert response.headers["Content-Type"] == "application/json"
        assert (await response.json())["kind"] == "APIResourceList"
