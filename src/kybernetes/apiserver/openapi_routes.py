"""The paths kube-apiserver documents for a resource, with their operations.

`resource_routes` lists, for the verbs the resource serves: its collection (list,
create, deletecollection), its objects (read, replace, patch, delete), the list across
namespaces, the deprecated `/watch/` paths, and each subresource: kind-typed ones
(`status`, `scale`, `binding`, `eviction`, `token`, `finalize`, `ephemeralcontainers`),
`log`, and the streaming `exec`, `attach`, `portforward` and `proxy` (kube-apiserver's
"connect" operations). Paths without any operation are left out.
"""

from __future__ import annotations

from kybernetes.api.resources import ResourceInfo, Subresource

from . import openapi_params as params
from .openapi_operations import (
    ANY_MEDIA,
    GVK,
    OBJECT_MEDIA,
    STREAM_MEDIA,
    Names,
    Operation,
    OperationFactory,
    Route,
)
from .openapi_params import Param

_WATCH_EVENT = "io.k8s.apimachinery.pkg.apis.meta.v1.WatchEvent"
_LOG_MEDIA = ("text/plain", *OBJECT_MEDIA)
_CONNECT_METHODS = ("get", "post")
_PROXY_METHODS = ("delete", "get", "head", "options", "patch", "post", "put")


def resource_routes(info: ResourceInfo, names: Names, custom: bool) -> list[Route]:
    """The documented paths of one resource; `custom` marks a custom resource."""
    factory = OperationFactory(info, names, custom)
    namespace = "/namespaces/{namespace}" if info.namespaced else ""
    collection = f"{info.api_path_prefix}{namespace}/{info.plural}"
    routes = [_collection(factory, collection), _objects(factory, collection + "/{name}")]
    if "list" in info.verbs and info.namespaced and factory.list_schema:
        everywhere = _list(factory, (params.PRETTY,), "ForAllNamespaces")
        routes.append(Route(f"{info.api_path_prefix}/{info.plural}", (everywhere,)))
    if "watch" in info.verbs:
        routes += _watches(factory, f"{info.api_path_prefix}/watch")
    for sub in info.subresources:
        routes += _subresource(factory, f"{collection}/{{name}}/{sub.name}", sub)
    return [r for r in routes if r.operations]


def _list(factory: OperationFactory, common: tuple[Param, ...], suffix: str) -> Operation:
    verb = "list or watch" if "watch" in factory.info.verbs else "list"
    return factory.op(
        "get",
        "list",
        f"{verb} objects of kind {factory.info.kind}",
        (*common, *params.LIST),
        (200,),
        factory.list_schema,
        action="list",
        scope="" if suffix else None,
        suffix=suffix,
        produces=STREAM_MEDIA,
    )


def _collection(factory: OperationFactory, path: str) -> Route:
    kind, verbs = factory.info.kind, factory.info.verbs
    common = (*factory.scope_params, params.PRETTY)
    ops = []
    if "list" in verbs and factory.list_schema:
        ops.append(_list(factory, common, ""))
    if "create" in verbs:
        ops.append(factory.write("post", f"create a {kind}", common, factory.gvk))
    if "deletecollection" in verbs:
        text, parameters = f"delete collection of {kind}", (*common, *params.DELETE_COLLECTION)
        ops.append(factory.delete(text, parameters, collection=True))
    return Route(path, tuple(ops))


def _objects(factory: OperationFactory, path: str) -> Route:
    kind, verbs, gvk = factory.info.kind, factory.info.verbs, factory.gvk
    common = (params.name_param(kind), *factory.scope_params, params.PRETTY)
    ops = []
    if "get" in verbs:
        ops.append(factory.read(f"read the specified {kind}", common, gvk))
    if "update" in verbs:
        ops.append(factory.write("put", f"replace the specified {kind}", common, gvk))
    if "patch" in verbs:
        ops.append(factory.patch(f"partially update the specified {kind}", common, gvk))
    if "delete" in verbs:
        text, parameters = f"delete a {kind}", (*common, *params.DELETE)
        ops.append(factory.delete(text, parameters, collection=False))
    return Route(path, tuple(ops))


def _watches(factory: OperationFactory, prefix: str) -> list[Route]:
    """The deprecated `/watch/` paths: one object, a namespace's (or the cluster's)
    objects and, for namespaced resources, the objects of every namespace."""
    info = factory.info
    listing = (params.PRETTY, *params.LIST)
    namespace = "/namespaces/{namespace}" if info.namespaced else ""
    one = (
        f"watch changes to an object of kind {info.kind}. deprecated: use the 'watch' "
        "parameter with a list operation instead, filtered to a single item with the "
        "'fieldSelector' parameter."
    )
    many = (
        f"watch individual changes to a list of {info.kind}. deprecated: use the 'watch' "
        "parameter with a list operation instead."
    )
    variants: list[tuple[str, str, str, str, str | None]] = [
        (f"{namespace}/{info.plural}/{{name}}", one, "watch", "", None),
        (f"{namespace}/{info.plural}", many, "watchlist", "List", None),
    ]
    if info.namespaced:
        variants.append((f"/{info.plural}", many, "watchlist", "ListForAllNamespaces", ""))
    routes = []
    for path, text, action, suffix, scope in variants:
        common = (*factory.scope_params, *listing) if scope is None else listing
        if action == "watch":
            common = (params.name_param(info.kind), *common)
        op = factory.op(
            "get",
            "watch",
            text,
            common,
            (200,),
            _WATCH_EVENT,
            action=action,
            scope=scope,
            suffix=suffix,
            produces=STREAM_MEDIA,
        )
        routes.append(Route(prefix + path, (op,)))
    return routes


def _subresource(factory: OperationFactory, path: str, sub: Subresource) -> list[Route]:
    info = factory.info
    gvk = GVK(sub.group or info.group, sub.version or info.version, sub.kind)
    title = sub.name[:1].upper() + sub.name[1:]
    if sub.name == "proxy":
        query = params.proxy_params(info.kind)
        return [
            _connect(factory, path, sub, gvk, query, _PROXY_METHODS, ""),
            _connect(factory, path + "/{path}", sub, gvk, query, _PROXY_METHODS, "WithPath"),
        ]
    if sub.name in params.CONNECT:
        query = params.CONNECT[sub.name]
        return [_connect(factory, path, sub, gvk, query, _CONNECT_METHODS, "")]
    common = (params.name_param(sub.kind), *factory.scope_params, params.PRETTY)
    if sub.name == "log":
        op = factory.op(
            "get",
            "read",
            f"read log of the specified {info.kind}",
            (*common, *params.POD_LOG),
            (200,),
            None,
            action="get",
            gvk=gvk,
            suffix=title,
            produces=_LOG_MEDIA,
        )
        return [Route(path, (op,))]
    of_kind = f"{sub.name} of the specified {info.kind}"
    ops = []
    if "get" in sub.verbs:
        ops.append(factory.read(f"read {of_kind}", common, gvk, title))
    if "update" in sub.verbs:
        ops.append(factory.write("put", f"replace {of_kind}", common, gvk, title))
    if "patch" in sub.verbs:
        ops.append(factory.patch(f"partially update {of_kind}", common, gvk, title))
    if "create" in sub.verbs:
        text = f"create {sub.name} of a {info.kind}"
        ops.append(factory.write("post", text, common, gvk, title))
    return [Route(path, tuple(ops))]


def _connect(
    factory: OperationFactory,
    path: str,
    sub: Subresource,
    gvk: GVK,
    query: tuple[Param, ...],
    methods: tuple[str, ...],
    suffix: str,
) -> Route:
    """A streaming subresource: one "connect" operation per HTTP method it takes."""
    path_params = (params.name_param(sub.kind), *factory.scope_params)
    if suffix:
        path_params += (params.PROXY_PATH,)
    title = sub.name[:1].upper() + sub.name[1:]
    ops = tuple(
        factory.op(
            method,
            "connect",
            f"connect {method.upper()} requests to {sub.name} of {factory.info.kind}",
            (*path_params, *query),
            (200,),
            None,
            action="connect",
            gvk=gvk,
            scope=method.title() + factory.scope,
            suffix=title + suffix,
            produces=ANY_MEDIA,
        )
        for method in methods
    )
    return Route(path, ops)
