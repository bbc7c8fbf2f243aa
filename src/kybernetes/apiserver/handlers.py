"""One handler per verb: decode the request, call the registry, encode the answer.

Status codes as kube-apiserver answers: 201 for a create, 200 for an update (201 when
it created), 200 for a delete that removed the object and 202 for one that only marked
it (finalizers, grace period), 405 for a verb the resource does not support.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from kybernetes.api import protobuf
from kybernetes.api.schemanode import SchemaNode
from kybernetes.api.structural import check

from . import patch, status
from .apply import parse_apply_body as apply_body
from .decoding import decode, field_validation, warning_headers
from .fieldmanager import FieldManager
from .listing import ListOptions, ListPage, list_body, list_objects
from .printing import TableRequest
from .registry import DeleteOptions, Registry
from .requestinfo import RequestInfo
from .stored import Object, StoredObject
from .subresources import SUCCESS_CREATED, bind, evict, scaled, to_scale
from .watch import serve_watch
from .yamlbody import decode_yaml

_JSON = "application/json"
_YAML = "application/yaml"
_ACCEPTED_BODIES = (_JSON, _YAML, protobuf.PROTOBUF)
_SCALE_SCHEMA = SchemaNode.for_kind("autoscaling", "v1", "Scale")
_SCALE_PATCH_TYPES = (patch.JSON_PATCH, patch.MERGE_PATCH, patch.STRATEGIC_MERGE_PATCH)
_DELETE_OPTIONS_SCHEMA = SchemaNode.for_kind("", "v1", "DeleteOptions")
_INT64 = re.compile(r"[+-]?[0-9]{1,19}")  # strconv.ParseInt's syntax (range checked apart)
_SERVED_SUBRESOURCES = frozenset({"status", "binding", "eviction", "finalize", "scale"})


def json_response(document: object, code: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(document), status=code, content_type=_JSON)


def object_response(
    obj: StoredObject, code: int = 200, warnings: list[str] | None = None
) -> web.Response:
    response = web.Response(body=obj.raw, status=code, content_type=_JSON)
    for name, value in warning_headers(warnings or []):
        response.headers.add(name, value)
    return response


async def read_body(request: web.Request) -> Any:
    """The request body decoded from JSON or YAML; 415/400 otherwise."""
    raw = await request.read()
    content_type = request.content_type
    if content_type == _JSON or not request.headers.get("Content-Type"):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise status.bad_request(f"error decoding JSON: {e}") from None
    if content_type == protobuf.PROTOBUF:
        try:
            return protobuf.decode(raw)
        except protobuf.ProtobufError as e:
            raise status.bad_request(f"error decoding protobuf: {e}") from None
    if content_type in (_YAML, "text/yaml"):
        return decode_yaml(raw)
    raise status.unsupported_media_type(_ACCEPTED_BODIES)


async def read_object(request: web.Request) -> Object:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise status.bad_request(
            f"the body of the request must be a JSON object, not {type(body).__name__}"
        )
    return body


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise status.bad_request(f"Invalid dryRun value: {value!r}; only 'All' is supported")
    return bool(values)


def _not_allowed(registry: Registry, verb: str, subresource: str) -> status.StatusError:
    resource = f"{registry.info.plural}/{subresource}" if subresource else registry.info.plural
    return status.method_not_allowed(resource, verb, registry.info.group)


async def dispatch(
    request: web.Request,
    registry: Registry,
    info: RequestInfo,
    registry_for: Callable[[str, str, str], Registry],
) -> web.StreamResponse:
    """Routes a resource request to its verb's handler; `registry_for(group, version,
    plural)` finds the registries a subresource works with (eviction's budgets)."""
    verb, sub = info.verb, info.subresource
    allowed = registry.info.verbs
    if sub:
        sub_info = registry.info.subresource(sub)
        if sub_info is None or sub not in _SERVED_SUBRESOURCES:
            raise status.StatusError(
                404, "NotFound", "the server could not find the requested resource", {}
            )
        allowed = sub_info.verbs
    if verb not in allowed:
        raise _not_allowed(registry, verb, sub)
    namespace = info.namespace if registry.info.namespaced else ""
    if registry.info.namespaced and not namespace and verb not in ("list", "watch"):
        raise status.bad_request("the namespace of the provided object must be set")
    if verb in ("list", "watch"):
        options = ListOptions.from_query(request.query, registry.strategy.field_labels)
        if verb == "watch":
            return await serve_watch(request, registry, namespace, options)
        page = await list_objects(registry, namespace, options)
        if (table := TableRequest.of(request, registry)) is not None:
            list_meta = {"resourceVersion": str(page.revision), "continue": page.continue_token}
            return table.response(table.table(page.items, list_meta))
        return web.Response(body=list_body(registry, page), content_type=_JSON)
    name = info.parts[1] if len(info.parts) > 1 else ""
    if sub == "scale":
        return await _scale(request, registry, namespace, name, verb)
    if verb == "get":
        found = await registry.get(namespace, name)
        if (table := TableRequest.of(request, registry)) is not None:
            list_meta = {"resourceVersion": found.metadata.get("resourceVersion", "")}
            return table.response(table.table([found], list_meta))
        return object_response(found)
    if verb == "create" and sub == "eviction":
        budgets = registry_for("policy", "v1", "poddisruptionbudgets")
        await evict(registry, budgets, namespace, name, await read_object(request))
        return json_response(SUCCESS_CREATED, 201)
    if verb == "create" and sub == "binding":
        await bind(registry, namespace, name, await read_object(request))
        return json_response(SUCCESS_CREATED, 201)
    if verb == "create":
        mode = field_validation(request.query)
        manager = FieldManager.of(request, registry, "CreateOptions")
        obj = await read_object(request)
        warnings = decode(registry, obj, mode)
        manager.track(None, obj)
        created = await registry.create(namespace, obj, dry_run=_dry_run(request))
        return object_response(created, 201, warnings)
    if verb == "update":
        return await _update(request, registry, namespace, name, sub)
    if verb == "patch":
        return await _patch(request, registry, namespace, name, sub)
    if verb == "delete":
        return await _delete(request, registry, namespace, name)
    if verb == "deletecollection":
        return await _delete_collection(request, registry, namespace)
    raise _not_allowed(registry, verb, sub)


async def _update(
    request: web.Request, registry: Registry, namespace: str, name: str, sub: str
) -> web.Response:
    mode = field_validation(request.query)
    manager = FieldManager.of(request, registry, "UpdateOptions")
    obj = await read_object(request)
    warnings = decode(registry, obj, mode)

    def replaced(current: Object) -> Object:
        new = copy.deepcopy(obj)
        manager.track(current, new, sub)
        return new

    written, created = await registry.update(
        namespace,
        name,
        replaced,
        subresource=sub,
        dry_run=_dry_run(request),
        create_if_absent=obj,
    )
    return object_response(written, 201 if created else 200, warnings)


async def _scale(
    request: web.Request, registry: Registry, namespace: str, name: str, verb: str
) -> web.Response:
    """GET, PUT and PATCH of `.../scale`: the object's replicas as a Scale."""
    if verb == "get":
        return json_response(to_scale(registry, await registry.get(namespace, name)))
    options = "UpdateOptions" if verb == "update" else "PatchOptions"
    manager = FieldManager.of(request, registry, options)
    if verb == "update":
        body = await read_object(request)

        def scale_of(current: Object) -> Object:
            return body

    else:
        kind = patch.patch_type(request.content_type, _SCALE_SCHEMA)
        if kind == patch.APPLY_PATCH:
            # Not implemented: server-side apply of a Scale (kube-apiserver has it).
            raise status.unsupported_media_type(_SCALE_PATCH_TYPES)
        raw = await request.read()

        def scale_of(current: Object) -> Object:
            scale = to_scale(registry, StoredObject.unsaved("", current))
            patched = patch.apply_patch(kind, scale, raw, _SCALE_SCHEMA)
            if b'"resourceVersion"' not in raw:
                patched["metadata"].pop("resourceVersion", None)
            return patched

    def mutate(current: Object) -> Object:
        new = scaled(registry, scale_of(current), copy.deepcopy(current))
        manager.track(current, new, "scale")
        return new

    written, _ = await registry.update(
        namespace, name, mutate, subresource="scale", dry_run=_dry_run(request)
    )
    return json_response(to_scale(registry, written))


async def _patch(
    request: web.Request, registry: Registry, namespace: str, name: str, sub: str
) -> web.Response:
    mode = field_validation(request.query)
    kind = patch.patch_type(request.content_type, registry.schema)
    manager = FieldManager.of(request, registry, "PatchOptions")
    if kind == patch.APPLY_PATCH:
        return await _apply(request, registry, namespace, name, sub, manager, mode)
    body = await request.read()
    pins_version = b'"resourceVersion"' in body
    warnings: list[str] = []

    def patched(current: Object) -> Object:
        new = patch.apply_patch(kind, current, body, registry.schema)
        if not pins_version:
            # Only a patch that names a resourceVersion makes the write conditional.
            new.get("metadata", {}).pop("resourceVersion", None)
        warnings[:] = decode(registry, new, mode)
        manager.track(current, new, sub)
        return new

    written, _ = await registry.update(
        namespace, name, patched, subresource=sub, dry_run=_dry_run(request)
    )
    return object_response(written, 200, warnings)


async def _apply(
    request: web.Request,
    registry: Registry,
    namespace: str,
    name: str,
    sub: str,
    manager: FieldManager,
    mode: str,
) -> web.Response:
    """Server-side apply: merges the applied configuration, creating the object (201)
    if it does not exist yet."""
    applied = apply_body(await request.read())
    warnings = decode(registry, applied, mode, defaults=False)
    pins_version = bool((applied.get("metadata") or {}).get("resourceVersion"))
    dry_run = _dry_run(request)

    def applying(current: Object) -> Object:
        new = manager.apply(current, applied, sub)
        if not pins_version:
            new["metadata"].pop("resourceVersion", None)
        decode(registry, new, "Ignore")
        return new

    try:
        written, _ = await registry.update(
            namespace, name, applying, subresource=sub, dry_run=dry_run
        )
    except status.StatusError as e:
        if e.code != 404 or sub:
            raise
        new = manager.apply(None, applied)
        decode(registry, new, "Ignore")
        new.setdefault("metadata", {}).setdefault("name", name)
        return object_response(
            await registry.create(namespace, new, dry_run=dry_run), 201, warnings
        )
    return object_response(written, 200, warnings)


def _delete_options(request: web.Request, body: Any) -> DeleteOptions:
    """The request's DeleteOptions: its body, decoded as Go decodes the struct (400 on a
    type error), overridden by the query parameters."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise status.bad_request("the body of a delete must be a DeleteOptions object")
    assert _DELETE_OPTIONS_SCHEMA is not None
    decode_error = check(body, _DELETE_OPTIONS_SCHEMA, prune=True).decode_error
    if decode_error is not None:
        raise status.bad_request(decode_error)
    query = request.query
    grace = query.get("gracePeriodSeconds")
    if grace is None:
        grace_seconds = body.get("gracePeriodSeconds")
    elif _INT64.fullmatch(grace) and -(2**63) <= int(grace) < 2**63:
        grace_seconds = int(grace)
    else:
        raise status.bad_request(f"invalid gracePeriodSeconds {grace!r}")
    policy = query.get("propagationPolicy", body.get("propagationPolicy"))
    if policy not in (None, "Orphan", "Background", "Foreground"):
        raise status.bad_request(
            f'propagationPolicy: Unsupported value: "{policy}": supported values: '
            '"Foreground", "Background", "Orphan"'
        )
    if body.get("orphanDependents") is True and policy is None:
        policy = "Orphan"
    preconditions = body.get("preconditions") or {}
    dry_run = _dry_run(request) or body.get("dryRun") == ["All"]
    return DeleteOptions(
        grace_period_seconds=grace_seconds,
        propagation_policy=policy,
        precondition_uid=preconditions.get("uid"),
        precondition_resource_version=preconditions.get("resourceVersion"),
        dry_run=dry_run,
    )


async def _delete(
    request: web.Request, registry: Registry, namespace: str, name: str
) -> web.Response:
    body = await read_body(request) if request.can_read_body else None
    options = _delete_options(request, body)
    result, gone = await registry.delete(namespace, name, options)
    pending = not gone and bool(result.metadata.get("deletionTimestamp")) and not options.dry_run
    if pending or registry.strategy.returns_deleted_object:
        return object_response(result, 202 if pending else 200)
    return json_response(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": registry.info.group,
                "kind": registry.info.plural,
                "uid": result.metadata.get("uid", ""),
            },
        }
    )


async def _delete_collection(
    request: web.Request, registry: Registry, namespace: str
) -> web.Response:
    body = await read_body(request) if request.can_read_body else None
    options = _delete_options(request, body)
    listing = ListOptions.from_query(request.query, registry.strategy.field_labels)
    page = await list_objects(registry, namespace, listing)
    deleted = []
    for obj in page.items:
        try:
            deleted.append((await registry.delete(obj.namespace, obj.name, options))[0])
        except status.StatusError as e:
            if e.code != 404:
                raise
    page = ListPage(deleted, page.revision)
    return web.Response(body=list_body(registry, page), content_type=_JSON)
