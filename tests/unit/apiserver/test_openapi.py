"""The OpenAPI documents: their shape (kube-apiserver's), their HTTP caching, and the
real kubectl using them to validate server-side, explain and compute apply patches."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from kybernetes.api.resources import ResourceInfo, ResourceTable, custom_resources
from kybernetes.apiserver.openapi import OpenAPIService, add_openapi_routes
from kybernetes.apiserver.openapi_documents import swagger, v3_document, v3_document_names
from kybernetes.apiserver.openapi_proto import encode_document
from kybernetes.apiserver.openapi_schemas import SchemaCatalog
from kybernetes.apiserver.status import status_middleware

Document = dict[str, Any]

CRONTAB_SCHEMA = {
    "type": "object",
    "description": "A CronTab runs a command on a schedule.",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string", "description": "When to run, cron-style."},
                "image": {"type": "string"},
                "replicas": {"type": "integer", "minimum": 1, "nullable": True},
            },
        }
    },
}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com",
        "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": CRONTAB_SCHEMA},
                "subresources": {"status": {}},
            }
        ],
    },
}


@pytest.fixture
def table() -> ResourceTable:
    return ResourceTable.builtin()


def crontab_row(table: ResourceTable) -> ResourceInfo:
    (row,) = custom_resources(CRD)
    table.add(row)
    return row


def walk(schemas: dict[str, Document]) -> Iterator[Document]:
    """Every schema node of the named `schemas`, depth first."""
    pending = list(schemas.values())
    while pending:
        node = pending.pop()
        yield node
        pending += node.get("properties", {}).values()
        pending += node.get("allOf", []) + node.get("oneOf", [])
        pending += [
            node[k] for k in ("items", "additionalProperties") if isinstance(node.get(k), dict)
        ]


def params_of(document: Document, path: str, method: str) -> dict[str, Document]:
    item = document["paths"][path]
    every = [*item.get("parameters", ()), *item[method].get("parameters", ())]
    return {p["name"]: p for p in every}


# --- The documents' shape ------------------------------------------------------------


def test_v3_lists_a_document_per_discovery_path(table: ResourceTable) -> None:
    names = v3_document_names(table)
    assert {"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "version"} <= set(names)
    assert "apis/rbac.authorization.k8s.io/v1" in names
    assert names == sorted(names)
    for name in names:
        assert v3_document(table, SchemaCatalog(), name) is not None
    assert v3_document(table, SchemaCatalog(), "apis/nope/v1") is None


def test_configmap_operations_are_kube_apiservers(table: ResourceTable) -> None:
    doc = v3_document(table, SchemaCatalog(), "api/v1")
    assert doc is not None
    assert doc["openapi"] == "3.0.0"
    assert doc["info"]["title"] == "Kubernetes"
    assert doc["info"]["version"].startswith("v1.32.0")
    item = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]
    assert sorted(item) == ["delete", "get", "parameters", "patch", "put"]
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    assert item["parameters"][0] == {
        "description": "name of the ConfigMap",
        "in": "path",
        "name": "name",
        "required": True,
        "schema": {"type": "string", "uniqueItems": True},
    }
    patch = item["patch"]
    assert patch["operationId"] == "patchCoreV1NamespacedConfigMap"
    assert patch["tags"] == ["core_v1"]
    assert patch["x-kubernetes-action"] == "patch"
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "",
        "kind": "ConfigMap",
        "version": "v1",
    }
    assert [p["name"] for p in patch["parameters"]] == [
        "dryRun",
        "fieldManager",
        "fieldValidation",
        "force",
    ]
    assert sorted(patch["requestBody"]["content"]) == [
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ]
    ok = patch["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/io.k8s.api.core.v1.ConfigMap"}
    assert patch["responses"]["401"] == {"description": "Unauthorized"}
    delete = item["delete"]
    assert delete["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    }
    assert "required" not in delete["requestBody"]

    collection = doc["paths"]["/api/v1/namespaces/{namespace}/configmaps"]
    assert collection["post"]["operationId"] == "createCoreV1NamespacedConfigMap"
    assert collection["post"]["requestBody"]["required"] is True
    assert sorted(collection["post"]["responses"]) == ["200", "201", "202", "401"]
    assert collection["delete"]["operationId"] == "deleteCoreV1CollectionNamespacedConfigMap"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    listing = params_of(doc, "/api/v1/namespaces/{namespace}/configmaps", "get")
    assert set(listing) == {
        "allowWatchBookmarks",
        "continue",
        "fieldSelector",
        "labelSelector",
        "limit",
        "namespace",
        "pretty",
        "resourceVersion",
        "resourceVersionMatch",
        "sendInitialEvents",
        "timeoutSeconds",
        "watch",
    }
    everywhere = doc["paths"]["/api/v1/configmaps"]["get"]
    assert everywhere["operationId"] == "listCoreV1ConfigMapForAllNamespaces"
    watch = doc["paths"]["/api/v1/watch/namespaces/{namespace}/configmaps/{name}"]["get"]
    assert (watch["operationId"], watch["x-kubernetes-action"]) == (
        "watchCoreV1NamespacedConfigMap",
        "watch",
    )
    assert "application/json;stream=watch" in watch["responses"]["200"]["content"]


def test_subresources_and_other_groups(table: ResourceTable) -> None:
    apps = v3_document(table, SchemaCatalog(), "apis/apps/v1")
    assert apps is not None
    scale = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["get"]["operationId"] == "readAppsV1NamespacedDeploymentScale"
    assert scale["get"]["x-kubernetes-group-version-kind"] == {
        "group": "autoscaling",
        "kind": "Scale",
        "version": "v1",
    }
    assert "io.k8s.api.autoscaling.v1.Scale" in apps["components"]["schemas"]
    status = apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]
    assert status["patch"]["operationId"] == "patchAppsV1NamespacedDeploymentStatus"
    assert "fieldValidation" in {p["name"] for p in status["patch"]["parameters"]}

    rbac = v3_document(table, SchemaCatalog(), "apis/rbac.authorization.k8s.io/v1")
    assert rbac is not None
    roles = rbac["paths"]["/apis/rbac.authorization.k8s.io/v1/clusterroles"]
    assert roles["get"]["operationId"] == "listRbacAuthorizationV1ClusterRole"
    assert roles["get"]["tags"] == ["rbacAuthorization_v1"]
    assert [p["name"] for p in roles["parameters"]] == ["pretty"]  # cluster-scoped

    core = v3_document(table, SchemaCatalog(), "api/v1")
    assert core is not None
    exec_ = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/exec"]
    assert exec_["post"]["operationId"] == "connectCoreV1PostNamespacedPodExec"
    assert exec_["post"]["x-kubernetes-action"] == "connect"
    assert exec_["post"]["responses"]["200"]["content"] == {"*/*": {"schema": {"type": "string"}}}
    command = next(p for p in exec_["parameters"] if p["name"] == "command")
    assert command["schema"] == {"type": "string"}  # may repeat
    log = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert log["operationId"] == "readCoreV1NamespacedPodLog"
    eviction = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
    assert eviction["x-kubernetes-group-version-kind"]["group"] == "policy"
    delete_pod = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["delete"]
    assert delete_pod["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/io.k8s.api.core.v1.Pod"
    }
    assert core["paths"]["/api/v1/"]["get"]["operationId"] == "getCoreV1APIResources"

    # Create-only kinds have no list, get or watch paths.
    reviews = v3_document(table, SchemaCatalog(), "apis/authorization.k8s.io/v1")
    assert reviews is not None
    assert set(reviews["paths"]) == {
        "/apis/authorization.k8s.io/v1/",
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
    }
    group = v3_document(table, SchemaCatalog(), "apis/rbac.authorization.k8s.io")
    assert group is not None
    get_group = group["paths"]["/apis/rbac.authorization.k8s.io/"]["get"]
    assert (get_group["operationId"], get_group["tags"]) == (
        "getRbacAuthorizationAPIGroup",
        ["rbacAuthorization"],
    )


def test_component_schemas_are_openapi_v3(table: ResourceTable) -> None:
    doc = v3_document(table, SchemaCatalog(), "api/v1")
    assert doc is not None
    schemas = doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["BearerToken"]["type"] == "apiKey"
    for node in walk(schemas):
        if isinstance(node.get("$ref"), str):
            name = node["$ref"].removeprefix("#/components/schemas/")
            assert name in schemas, node
            assert set(node) == {"$ref"}, "refs with siblings are wrapped in allOf"
        if isinstance(node.get("type"), list):
            pytest.fail(f"type list in {node}")
    pod = schemas["io.k8s.api.core.v1.Pod"]
    assert pod["type"] == "object"
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["apiVersion"] == {
        "description": pod["properties"]["apiVersion"]["description"],
        "type": "string",
    }
    assert pod["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-patch-strategy"] == "merge"
    assert containers["x-kubernetes-list-type"] == "map"
    assert containers["items"] == {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"}
    assert schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]["oneOf"] == [
        {"type": "integer"},
        {"type": "string"},
    ]
    assert "oneOf" in schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]
    assert "io.k8s.api.apps.v1.Deployment" not in schemas  # only what api/v1 references


def test_v2_is_swagger_of_the_whole_api(table: ResourceTable) -> None:
    doc = swagger(table, SchemaCatalog())
    assert doc["swagger"] == "2.0"
    assert doc["security"] == [{"BearerToken": []}]
    definitions = doc["definitions"]
    assert {"io.k8s.api.core.v1.Pod", "io.k8s.api.apps.v1.Deployment"} <= set(definitions)
    for node in walk(definitions):
        assert "allOf" not in node and "oneOf" not in node and "nullable" not in node
        if isinstance(node.get("$ref"), str):
            assert node["$ref"].removeprefix("#/definitions/") in definitions
    strategy = definitions["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["strategy"]
    assert strategy["$ref"] == "#/definitions/io.k8s.api.apps.v1.DeploymentStrategy"
    assert strategy["x-kubernetes-patch-strategy"] == "retainKeys"
    assert definitions["io.k8s.apimachinery.pkg.api.resource.Quantity"]["type"] == "string"
    create = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments"]["post"]
    body = next(p for p in create["parameters"] if p["in"] == "body")
    assert body == {
        "in": "body",
        "name": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.api.apps.v1.Deployment"},
    }
    assert create["responses"]["201"] == {
        "description": "Created",
        "schema": {"$ref": "#/definitions/io.k8s.api.apps.v1.Deployment"},
    }
    assert create["consumes"] == ["*/*"]
    assert create["schemes"] == ["https"]
    assert {"/api/", "/apis/", "/version/", "/api/v1/", "/apis/apps/"} <= set(doc["paths"])


def test_custom_resources_get_their_schema(table: ResourceTable) -> None:
    row = crontab_row(table)
    catalog = SchemaCatalog()
    catalog.set_custom_resource(row, CRONTAB_SCHEMA)
    doc = v3_document(table, catalog, "apis/stable.example.com/v1")
    assert doc is not None
    schemas = doc["components"]["schemas"]
    crontab = schemas["com.example.stable.v1.CronTab"]
    assert crontab["description"] == "A CronTab runs a command on a schedule."
    assert crontab["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}
    ]
    assert crontab["properties"]["spec"]["properties"]["replicas"]["nullable"] is True
    assert crontab["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    listing = schemas["com.example.stable.v1.CronTabList"]
    assert listing["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/com.example.stable.v1.CronTab"
    }
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    item = doc["paths"]["/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}"]
    assert item["patch"]["operationId"] == "patchStableExampleComV1NamespacedCronTab"
    assert "application/strategic-merge-patch+json" not in item["patch"]["requestBody"]["content"]
    assert item["delete"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/com.example.stable.v1.CronTab"
    }
    status = doc["paths"][
        "/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status"
    ]
    assert status["put"]["operationId"] == "replaceStableExampleComV1NamespacedCronTabStatus"
    v2 = swagger(table, catalog)["definitions"]["com.example.stable.v1.CronTab"]
    assert "nullable" not in v2["properties"]["spec"]["properties"]["replicas"]
    assert v2["properties"]["metadata"] == {
        "$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "description": crontab["properties"]["metadata"]["description"],
    }

    catalog.remove_custom_resource("stable.example.com", "v1", "CronTab")
    doc = v3_document(table, catalog, "apis/stable.example.com/v1")
    assert doc is not None  # still served: an object preserving unknown fields
    fallback = doc["components"]["schemas"]["com.example.stable.v1.CronTab"]
    assert fallback["x-kubernetes-preserve-unknown-fields"] is True
    assert set(fallback["properties"]) == {"apiVersion", "kind", "metadata"}


def test_documents_are_cached_until_the_api_changes(table: ResourceTable) -> None:
    now = [1000.0]
    service = OpenAPIService(lambda: table, clock=lambda: now[0])
    first = service.v3("api/v1")
    assert first is not None
    assert first.etag == hashlib.sha512(first.body).hexdigest().upper()
    now[0] = 2000.0
    assert service.v3("api/v1") is first
    apps = service.v3("apis/apps/v1")
    assert service.v2() is service.v2()

    row = crontab_row(table)
    assert service.v3("api/v1") is first  # another group changed
    assert service.v3("apis/apps/v1") is apps
    custom = service.v3("apis/stable.example.com/v1")
    assert custom is not None and custom.last_modified == 2000.0
    service.catalog.set_custom_resource(row, CRONTAB_SCHEMA)
    updated = service.v3("apis/stable.example.com/v1")
    assert updated is not None and updated.etag != custom.etag
    paths = orjson.loads(service.discovery().body)["paths"]
    assert paths["apis/stable.example.com/v1"] == {
        "serverRelativeURL": f"/openapi/v3/apis/stable.example.com/v1?hash={updated.etag}"
    }
    table.remove("stable.example.com", "v1", "crontabs")
    assert service.v3("apis/stable.example.com/v1") is None
    assert "apis/stable.example.com" not in orjson.loads(service.discovery().body)["paths"]


# --- Protobuf -------------------------------------------------------------------------


def decode(data: bytes) -> list[tuple[int, Any]]:
    """A protobuf message as (field, value) pairs: ints for varints, bytes otherwise."""
    fields: list[tuple[int, Any]] = []
    i = 0

    def varint() -> int:
        nonlocal i
        value = shift = 0
        while True:
            byte = data[i]
            i += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while i < len(data):
        key = varint()
        if key & 7 == 0:
            fields.append((key >> 3, varint()))
        elif key & 7 == 2:
            size = varint()
            fields.append((key >> 3, data[i : i + size]))
            i += size
        else:
            assert key & 7 == 1
            fields.append((key >> 3, data[i : i + 8]))
            i += 8
    return fields


def test_v2_protobuf_is_gnostics_document() -> None:
    document = {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": {
            "/api/v1/pods": {
                "get": {"operationId": "listPods", "responses": {"200": {"description": "OK"}}},
                "parameters": [{"in": "query", "name": "watch", "type": "boolean"}],
            }
        },
        "definitions": {
            "io.k8s.api.core.v1.Pod": {
                "type": "object",
                "properties": {"spec": {"$ref": "#/definitions/io.k8s.api.core.v1.PodSpec"}},
                "x-kubernetes-group-version-kind": [{"group": "", "kind": "Pod", "version": "v1"}],
            }
        },
    }
    fields = dict(decode(encode_document(document)))
    assert fields[1] == b"2.0"
    assert decode(fields[2]) == [(1, b"Kubernetes"), (2, b"v1.32.0")]
    (path,) = decode(fields[8])  # Paths.path: NamedPathItem
    name, item = decode(path[1])
    assert name == (1, b"/api/v1/pods")
    operation, parameter = decode(item[1])
    assert operation[0] == 2  # PathItem.get
    assert (5, b"listPods") in decode(operation[1])
    assert parameter[0] == 9  # PathItem.parameters → ParametersItem.parameter
    non_body = decode(decode(parameter[1])[0][1])  # Parameter.non_body_parameter
    assert non_body[0][0] == 2
    query = decode(decode(non_body[0][1])[0][1])  # NonBodyParameter.query (3)
    assert decode(non_body[0][1])[0][0] == 3
    assert (2, b"query") in query and (4, b"watch") in query and (6, b"boolean") in query
    (definition,) = decode(fields[9])
    _, schema = decode(definition[1])
    schema_fields = decode(schema[1])
    assert (22, b"\n\x06object") in schema_fields  # TypeItem
    extension = dict(decode(dict(schema_fields)[31]))  # NamedAny
    assert extension[1] == b"x-kubernetes-group-version-kind"
    assert orjson.loads(dict(decode(extension[2]))[2]) == [
        {"group": "", "kind": "Pod", "version": "v1"}
    ]


# --- HTTP -------------------------------------------------------------------------------


@pytest.fixture
async def client(table: ResourceTable) -> Any:
    app = web.Application(middlewares=[status_middleware])
    add_openapi_routes(app, lambda: table)
    async with TestClient(TestServer(app)) as client:
        yield client


async def test_v3_is_served_with_kube_openapis_caching(client: TestClient[Any, Any]) -> None:
    index = await client.get("/openapi/v3")
    assert index.status == 200
    assert index.content_type == "application/json"
    paths = (await index.json())["paths"]
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    etag = url.split("?hash=")[1]
    assert len(etag) == 128 and etag == etag.upper()
    again = await client.get("/openapi/v3", headers={"If-None-Match": index.headers["ETag"]})
    assert again.status == 304

    answer = await client.get(url)
    assert answer.status == 200
    assert answer.content_type == "application/json"
    assert answer.headers["ETag"] == f'"{etag}"'
    assert answer.headers["Cache-Control"] == "public, immutable"
    assert "Expires" in answer.headers and answer.headers["Vary"] == "Accept"
    body = await answer.read()
    assert hashlib.sha512(body).hexdigest().upper() == etag
    assert orjson.loads(body)["paths"]

    unhashed = await client.get("/openapi/v3/apis/apps/v1", headers={"Accept": "*/*"})
    assert unhashed.status == 200 and "Cache-Control" not in unhashed.headers
    cached = await client.get(url, headers={"If-None-Match": f'"{etag}"'})
    assert cached.status == 304
    stale = await client.get("/openapi/v3/apis/apps/v1?hash=0123", allow_redirects=False)
    assert (stale.status, stale.headers["Location"]) == (301, url)
    protobuf_only = await client.get(
        url, headers={"Accept": "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"}
    )
    assert protobuf_only.status == 406
    assert (await protobuf_only.json())["reason"] == "NotAcceptable"
    missing = await client.get("/openapi/v3/apis/nope/v1")
    assert (missing.status, (await missing.json())["reason"]) == (404, "NotFound")


async def test_v2_is_served_as_json_or_protobuf(client: TestClient[Any, Any]) -> None:
    as_json = await client.get("/openapi/v2", headers={"Accept": "application/json"})
    assert as_json.status == 200 and as_json.content_type == "application/json"
    assert (await as_json.json())["swagger"] == "2.0"
    protobuf = await client.get(
        "/openapi/v2",
        headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"},
    )
    assert protobuf.status == 200
    assert protobuf.content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert protobuf.headers["ETag"] == as_json.headers["ETag"]
    assert dict(decode(await protobuf.read()))[1] == b"2.0"
    assert (await client.get("/openapi/v2", headers={"Accept": "text/html"})).status == 406
