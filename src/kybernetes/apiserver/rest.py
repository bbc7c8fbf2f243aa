"""The REST API: routes every `/api` and `/apis` request to discovery or a registry.

One catch-all route per prefix; the resource is looked up in the `ResourceTable` on
each request, so resources added at run time (CRDs) are served at once. Each verb's
handler lives in `handlers.py`; this module owns the lookup, the registries (one per
resource, built on first use) and the namespace-existence check writes go through.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kybernetes.api.conversion import converter_for
from kybernetes.api.resources import ResourceInfo, ResourceTable
from kybernetes.api.schemanode import SchemaNode
from kybernetes.store import Store, Unavailable

from . import discovery, handlers, nodeproxy, status
from .admission import PriorityAdmission
from .allocator import ServiceAllocator
from .handlers import json_response
from .registry import NamespaceTerminating, Registry
from .requestinfo import REQUEST_INFO_KEY, RequestInfo
from .stored import StoredObject, object_key
from .strategy import strategy_for
from .watchcache import WatchCache


class API:
    """The served resources and their registries."""

    def __init__(
        self,
        store: Store,
        cache: WatchCache,
        table: ResourceTable,
        allocator: ServiceAllocator | None = None,
    ) -> None:
        self.store = store
        self.cache = cache
        self.table = table
        self.allocator = allocator or ServiceAllocator(store)
        self._registries: dict[ResourceInfo, Registry] = {}
        self._custom: dict[ResourceInfo, tuple[SchemaNode | None, list[dict[str, Any]]]] = {}

    def set_custom(
        self, info: ResourceInfo, schema: SchemaNode | None, printer_columns: list[dict[str, Any]]
    ) -> None:
        """Registers a custom resource version's schema and printer columns (before it
        is served)."""
        self._custom[info] = (schema, printer_columns)
        self._registries.pop(info, None)

    def registry(self, info: ResourceInfo) -> Registry:
        registry = self._registries.get(info)
        if registry is None:
            custom = self._custom.get(info)
            registry = Registry(
                info, strategy_for(info, custom=custom is not None), self.store, self.cache
            )
            if custom is None:
                registry.schema = SchemaNode.for_kind(info.group, info.version, info.kind)
                if info.storage is not None:
                    stored = (info.storage.group, info.storage.version, info.storage.kind)
                    registry.converter = converter_for(
                        (info.group, info.version, info.kind), stored
                    )
            else:
                registry.schema, registry.printer_columns = custom
            registry.namespace_exists = self.check_namespace
            if (info.group, info.kind) == ("", "Service"):
                registry.hooks = self.allocator
            if (info.group, info.kind) == ("", "Pod"):
                registry.admit = PriorityAdmission(self.store, self.cache)
            self._registries[info] = registry
        return registry

    def registry_for(self, group: str, version: str, plural: str) -> Registry:
        """The registry of a resource the table serves (KeyError if it does not)."""
        info = self.table.get(group, version, plural)
        if info is None:
            raise KeyError(f"{plural}.{group}/{version}")
        return self.registry(info)

    def lookup(self, request_info: RequestInfo) -> ResourceInfo:
        """The resource a request addresses; 404 if the server has no such resource, or
        if the path puts a cluster-scoped resource inside a namespace (only a
        namespace's own path, `namespaces/NAME[/...]`, names one)."""
        info = self.table.get(
            request_info.api_group, request_info.api_version, request_info.resource
        )
        namespace = request_info.namespace
        misplaced = (
            info is not None
            and not info.namespaced
            and bool(namespace)
            and request_info.parts[:2] != ("namespaces", namespace)
        )
        if info is None or info.storage is None or misplaced:
            raise status.StatusError(
                404, "NotFound", "the server could not find the requested resource", {}
            )
        return info

    async def check_namespace(self, namespace: str) -> None:
        """404 if the namespace does not exist, 403 if it is being terminated."""
        key = object_key("namespaces", "", namespace)
        found = self.cache.get(key)
        if found is None:
            kv = await self.store.get(key)  # the cache may lag a just-created namespace
            if kv is None:
                raise status.not_found("namespaces", namespace)
            found = StoredObject.from_kv(kv)
        if (found.obj.get("status") or {}).get("phase") == "Terminating":
            raise NamespaceTerminating(namespace)


API_KEY = web.AppKey("api", API)


async def discovery_handler(request: web.Request) -> web.StreamResponse:
    """/api, /api/v1, /apis, /apis/GROUP, /apis/GROUP/VERSION. /api and /apis answer
    with aggregated discovery when the Accept header asks for it, and say that they
    vary on it."""
    api = request.app[API_KEY]
    parts = [p for p in request.path.strip("/").split("/") if p]
    document: object | None = None
    if len(parts) == 1:
        version = discovery.aggregated_version(request.headers.get("Accept", ""))
        if version is not None:
            response = json_response(
                discovery.aggregated_discovery(api.table, parts == ["api"], version)
            )
            response.headers["Content-Type"] = discovery.aggregated_content_type(version)
        elif parts == ["api"]:
            response = json_response(discovery.api_versions(request.host))
        else:
            response = json_response(discovery.api_group_list(api.table))
        response.headers["Vary"] = "Accept"
        return response
    if parts[0] == "api" and len(parts) == 2:
        document = discovery.api_resource_list(api.table, "", parts[1])
    elif len(parts) == 2:
        document = discovery.api_group(api.table, parts[1])
    elif len(parts) == 3:
        document = discovery.api_resource_list(api.table, parts[1], parts[2])
    if document is None:
        raise status.StatusError(
            404, "NotFound", "the server could not find the requested resource", {}
        )
    return json_response(document)


async def api_handler(request: web.Request) -> web.StreamResponse:
    """Every request under /api and /apis."""
    request_info = request[REQUEST_INFO_KEY]
    if not request_info.is_resource_request:
        if request.method != "GET":
            raise status.StatusError(
                405, "MethodNotAllowed", "the server does not allow this method", {}
            )
        return await discovery_handler(request)
    api = request.app[API_KEY]
    registry = api.registry(api.lookup(request_info))
    if nodeproxy.handles(request_info):
        return await nodeproxy.serve(request, request_info, api.registry_for)
    try:
        return await handlers.dispatch(request, registry, request_info, api.registry_for)
    except Unavailable as e:
        raise status.service_unavailable(f"storage is unavailable: {e}") from None


def add_api_routes(app: web.Application, api: API) -> None:
    app[API_KEY] = api
    for prefix in ("/api", "/apis"):
        app.router.add_route("*", prefix, api_handler)
        app.router.add_route("*", prefix + "/{tail:.*}", api_handler)
