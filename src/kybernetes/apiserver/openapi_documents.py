"""The OpenAPI documents themselves: one OpenAPI 3.0 document per discovery path, and
the Swagger 2.0 document of the whole API.

`v3_document_names(table)` lists what `/openapi/v3` advertises, as kube-apiserver does:
`api`, `api/v1`, `apis`, `apis/GROUP`, `apis/GROUP/VERSION` for every served group and
version, and `version`. `v3_document(table, catalog, name)` builds one of them:
`paths` from `openapi_routes`, `components.schemas` the definitions those operations
reference (transitively), the `BearerToken` security scheme. `swagger(table, catalog)`
builds `/openapi/v2`. Both follow kube-openapi's layout: the parameters every operation
of a path shares are hoisted to the path, parameters are sorted by name, every
operation answers 401 too. Parameters are written inline in v2 (kube-apiserver shares
them through `#/parameters/NAME-HASH` references; both forms are equivalent).

Building is pure and synchronous; callers cache the results (see `openapi`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kybernetes.api.resources import ResourceTable

from .openapi_operations import (
    ANY_MEDIA,
    OBJECT_MEDIA,
    RESPONSE_TEXT,
    Operation,
    Route,
    group_version_naming,
    operation_id_part,
)
from .openapi_params import Param
from .openapi_routes import resource_routes
from .openapi_schemas import V2_PREFIX, V3_PREFIX, SchemaCatalog
from .version import version_info

Document = dict[str, Any]

_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_SECURITY_SCHEME = {
    "description": "Bearer Token authentication",
    "in": "header",
    "name": "authorization",
    "type": "apiKey",
}


def _info() -> dict[str, str]:
    # kube-apiserver publishes its gitVersion up to the first "-".
    return {"title": "Kubernetes", "version": version_info()["gitVersion"].split("-")[0]}


def v3_document_names(table: ResourceTable) -> list[str]:
    """The documents `/openapi/v3` lists, sorted."""
    names = ["api", "apis", "version"]
    for group in table.groups():
        for version in table.versions(group):
            names.append(f"apis/{group}/{version}" if group else f"api/{version}")
        if group:
            names.append(f"apis/{group}")
    return sorted(names)


def _discovery_op(operation_id: str, description: str, tag: str, response: str) -> Operation:
    return Operation(
        method="get",
        operation_id=operation_id,
        description=description,
        tag=tag,
        params=(),
        codes=(200,),
        response=response,
        produces=OBJECT_MEDIA,
    )


def _routes(table: ResourceTable, catalog: SchemaCatalog, name: str) -> list[Route] | None:
    """The routes of one v3 document, or None if the API has no such document."""
    if name == "api":
        text = "get available API versions"
        op = _discovery_op("getCoreAPIVersions", text, "core", _META + "APIVersions")
        return [Route("/api/", (op,))]
    if name == "apis":
        text = "get available API versions"
        op = _discovery_op("getAPIVersions", text, "apis", _META + "APIGroupList")
        return [Route("/apis/", (op,))]
    if name == "version":
        op = _discovery_op(
            "getCodeVersion",
            "get the code version",
            "version",
            "io.k8s.apimachinery.pkg.version.Info",
        )
        return [Route("/version/", (op,))]
    parts = name.split("/")
    if parts[0] == "apis" and len(parts) == 2 and table.versions(parts[1]):
        group = parts[1]
        short = group.removesuffix(".k8s.io")
        op = _discovery_op(
            f"get{operation_id_part(short, True)}APIGroup",
            "get information of a group",
            operation_id_part(short, False),
            _META + "APIGroup",
        )
        return [Route(f"/apis/{group}/", (op,))]
    if parts[0] == "api" and len(parts) == 2:
        group, version = "", parts[1]
    elif parts[0] == "apis" and len(parts) == 3:
        group, version = parts[1], parts[2]
    else:
        return None
    infos = table.resources(group, version)
    if not infos:
        return None
    infix, tag = group_version_naming(group, version)
    prefix = infos[0].api_path_prefix
    resources = _discovery_op(
        f"get{infix}APIResources", "get available resources", tag, _META + "APIResourceList"
    )
    routes = [Route(prefix + "/", (resources,))]
    for info in infos:
        catalog.prepare(info)
        routes += resource_routes(info, catalog.definition_name, catalog.is_custom(info))
    return routes


def v3_document(table: ResourceTable, catalog: SchemaCatalog, name: str) -> Document | None:
    """The OpenAPI 3.0 document `/openapi/v3/<name>`, or None if there is none."""
    routes = _routes(table, catalog, name)
    if routes is None:
        return None
    schemas = {n: catalog.v3(n) for n in catalog.closure(_referenced(routes))}
    return {
        "openapi": "3.0.0",
        "info": _info(),
        "paths": {route.path: _v3_path(route) for route in routes},
        "components": {"schemas": schemas, "securitySchemes": {"BearerToken": _SECURITY_SCHEME}},
    }


def swagger(table: ResourceTable, catalog: SchemaCatalog) -> Document:
    """The Swagger 2.0 document `/openapi/v2`: every path of every document."""
    routes: list[Route] = []
    for name in v3_document_names(table):
        routes += _routes(table, catalog, name) or []
    definitions = {n: catalog.v2(n) for n in catalog.closure(_referenced(routes))}
    return {
        "swagger": "2.0",
        "info": _info(),
        "paths": {route.path: _v2_path(route) for route in sorted(routes, key=lambda r: r.path)},
        "definitions": definitions,
        "securityDefinitions": {"BearerToken": _SECURITY_SCHEME},
        "security": [{"BearerToken": []}],
    }


def _referenced(routes: Iterable[Route]) -> set[str]:
    names: set[str] = set()
    for route in routes:
        for op in route.operations:
            names.update(n for n in (op.response, op.body) if n)
    return names


def _split_params(route: Route) -> tuple[list[Param], set[Param]]:
    """The parameters every operation of `route` has (hoisted to the path), sorted."""
    sets = [set(op.params) for op in route.operations]
    common = set.intersection(*sets) if sets else set()
    return sorted(common, key=lambda p: (p.name, p.location)), common


def _v3_param(param: Param) -> Document:
    out: Document = {"description": param.description, "in": param.location, "name": param.name}
    if param.required:
        out["required"] = True
    out["schema"] = {"type": param.type}
    if not param.repeated:
        out["schema"]["uniqueItems"] = True
    return out


def _v3_path(route: Route) -> Document:
    hoisted, common = _split_params(route)
    item: Document = {op.method: _v3_operation(op, common) for op in route.operations}
    if hoisted:
        item["parameters"] = [_v3_param(p) for p in hoisted]
    return item


def _v3_schema(name: str | None) -> Document:
    return {"$ref": V3_PREFIX + name} if name else {"type": "string"}


def _v3_operation(op: Operation, hoisted: set[Param]) -> Document:
    out: Document = {"description": op.description, "operationId": op.operation_id}
    own = [_v3_param(p) for p in op.params if p not in hoisted]
    if own:
        out["parameters"] = own
    if op.body:
        body: Document = {"content": {t: {"schema": _v3_schema(op.body)} for t in op.consumes}}
        if op.body_required:
            body["required"] = True
        out["requestBody"] = body
    content = {t: {"schema": _v3_schema(op.response)} for t in op.produces}
    responses: Document = {
        str(code): {"content": content, "description": RESPONSE_TEXT[code]} for code in op.codes
    }
    responses["401"] = {"description": RESPONSE_TEXT[401]}
    out["responses"] = responses
    out["tags"] = [op.tag]
    return _extensions(out, op)


def _extensions(out: Document, op: Operation) -> Document:
    if op.action:
        out["x-kubernetes-action"] = op.action
    if op.gvk:
        out["x-kubernetes-group-version-kind"] = op.gvk.as_dict()
    return out


def _v2_param(param: Param) -> Document:
    out: Document = {"description": param.description, "in": param.location, "name": param.name}
    if param.required:
        out["required"] = True
    out["type"] = param.type
    if not param.repeated:
        out["uniqueItems"] = True
    return out


def _v2_path(route: Route) -> Document:
    hoisted, common = _split_params(route)
    item: Document = {op.method: _v2_operation(op, common) for op in route.operations}
    if hoisted:
        item["parameters"] = [_v2_param(p) for p in hoisted]
    return item


def _v2_operation(op: Operation, hoisted: set[Param]) -> Document:
    parameters: list[tuple[str, Document]] = [
        (p.name, _v2_param(p)) for p in op.params if p not in hoisted
    ]
    if op.body:
        body: Document = {"in": "body", "name": "body"}
        if op.body_required:
            body["required"] = True
        body["schema"] = {"$ref": V2_PREFIX + op.body}
        parameters.append(("body", body))
    response_schema = {"$ref": V2_PREFIX + op.response} if op.response else {"type": "string"}
    responses: Document = {
        str(code): {"description": RESPONSE_TEXT[code], "schema": response_schema}
        for code in op.codes
    }
    responses["401"] = {"description": RESPONSE_TEXT[401]}
    out: Document = {
        "consumes": list(op.consumes or ANY_MEDIA),
        "description": op.description,
        "operationId": op.operation_id,
    }
    if parameters:
        out["parameters"] = [p for _, p in sorted(parameters, key=lambda item: item[0])]
    out |= {
        "produces": list(op.produces),
        "responses": responses,
        "schemes": ["https"],
        "tags": [op.tag],
    }
    return _extensions(out, op)
