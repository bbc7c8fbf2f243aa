"""LIST: selectors, pagination with continue tokens, and the resourceVersion rules.

Kubernetes' semantics (API concepts, "Resource versions" and "Retrieving large
results sets in chunks"):
- no `resourceVersion`: the most recent state (a consistent read, from the watch cache
  once it has caught up with the store);
- `resourceVersion=0`: any state (the cache as it is);
- `resourceVersion=N` (NotOlderThan, the default match): a state at least as new as N;
- `resourceVersionMatch=Exact`: the state at exactly N, read from the store;
- `limit` pages through one snapshot: the `continue` token carries its revision and the
  last key, later pages read the store at that revision, and a token older than the
  compacted revision gets 410 Expired.

Selectors are applied to each object (labels; the kind's field labels), so a page may
hold fewer than `limit` items while `continue` is still set, as in Kubernetes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import orjson

from kybernetes.api.selectors import (
    FieldSelector,
    Selector,
    SelectorError,
    check_field_labels,
    parse_field_selector,
    parse_label_selector,
)
from kybernetes.store import Compacted, FutureRevision

from . import status
from .registry import Registry
from .stored import StoredObject

_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. "
    "You can start a new list without the continue parameter, or use the continue token "
    "in this response to retrieve the remainder of the results. Continuing with the "
    "provided token results in an inconsistent list - objects that were created, "
    "modified, or deleted between the time the first chunk was returned and now may show "
    "up in the list."
)


def _is_decimal(text: str) -> bool:
    """ASCII digits only, as Go parses numbers (`str.isdigit` also accepts "²")."""
    return text.isascii() and text.isdigit()


@dataclass(frozen=True, slots=True)
class ListOptions:
    """The query parameters of a list or watch, parsed and validated."""

    label_selector: Selector | None = None
    field_selector: FieldSelector | None = None
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""

    @classmethod
    def from_query(cls, query: Mapping[str, str], field_labels: Iterable[str]) -> ListOptions:
        """Parses the query; 400 BadRequest naming the problem."""
        try:
            labels = query.get("labelSelector", "")
            fields = query.get("fieldSelector", "")
            field_selector = parse_field_selector(fields) if fields else None
            if field_selector is not None:
                check_field_labels(field_selector, frozenset(field_labels))
            label_selector = parse_label_selector(labels) if labels else None
        except SelectorError as e:
            raise status.bad_request(str(e)) from None
        limit_text = query.get("limit", "") or "0"
        if not _is_decimal(limit_text):
            raise status.bad_request(f'invalid value "{limit_text}" for limit')
        rv = query.get("resourceVersion", "")
        match = query.get("resourceVersionMatch", "")
        if rv and not _is_decimal(rv):
            raise status.bad_request(f'invalid resource version "{rv}"')
        if match and not rv:
            raise status.bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        if match not in ("", "Exact", "NotOlderThan"):
            raise status.bad_request(
                f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                '"Exact", "NotOlderThan"'
            )
        cont = query.get("continue", "")
        if cont and rv and rv != "0":
            raise status.bad_request(
                "specifying resource version is not allowed when using continue"
            )
        return cls(label_selector, field_selector, int(limit_text), cont, rv, match)


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a list: items in key order, the snapshot's revision, and the token
    for the next page ("" when this is the last)."""

    items: list[StoredObject]
    revision: int
    continue_token: str = ""


def matcher(registry: Registry, options: ListOptions) -> Callable[[StoredObject], bool]:
    """The predicate an object must pass to be listed or watched."""
    labels, fields = options.label_selector, options.field_selector
    fields_of = registry.strategy.fields

    def matches(obj: StoredObject) -> bool:
        if labels is not None and not labels.matches(obj.labels):
            return False
        return fields is None or fields.matches(fields_of(obj.obj))

    return matches


async def list_objects(registry: Registry, namespace: str, options: ListOptions) -> ListPage:
    """The page of objects the options ask for (see the module docstring)."""
    if options.continue_token:
        revision, start_after = _decode_continue(options.continue_token, registry)
        return await _from_store(registry, namespace, options, revision, start_after)
    rv = int(options.resource_version or 0)
    if options.resource_version_match == "Exact":
        return await _from_store(registry, namespace, options, rv, None)
    cache = registry.cache
    try:
        if options.resource_version != "0":
            await cache.wait_fresh()
    except TimeoutError:
        return await _from_store(registry, namespace, options, 0, None)
    if rv > cache.revision:
        raise status.StatusError(
            504, "Timeout", f"Too large resource version: {rv}, current: {cache.revision}"
        )
    revision = cache.revision
    objects = registry.cached(namespace)
    matches = matcher(registry, options)
    items = []
    for obj in objects:
        if matches(obj):
            items.append(obj)
            if options.limit and len(items) == options.limit:
                more = obj is not objects[-1]
                token = _encode_continue(revision, obj.key, registry) if more else ""
                return ListPage(items, revision, token)
    return ListPage(items, revision)


async def _from_store(
    registry: Registry,
    namespace: str,
    options: ListOptions,
    revision: int,
    start_after: str | None,
) -> ListPage:
    prefix = registry.prefix(namespace)
    matches = matcher(registry, options)
    items: list[StoredObject] = []
    page_size = options.limit or 0
    while True:
        try:
            page = await registry.store.list(
                prefix, revision=revision, limit=page_size, start_after=start_after
            )
        except Compacted:
            if options.continue_token:
                raise status.expired(_EXPIRED_CONTINUE) from None
            raise status.expired(
                f"The resourceVersion for the provided list is too old. ({revision})"
            ) from None
        except FutureRevision as e:
            raise status.StatusError(
                504, "Timeout", f"Too large resource version: {e.requested}, current: {e.current}"
            ) from None
        revision = page.revision
        for kv in page.kvs:
            obj = registry.decoded(kv)
            if matches(obj):
                items.append(obj)
        if not page.more:
            return ListPage(items, revision)
        start_after = page.kvs[-1].key
        if options.limit and len(items) >= options.limit:
            return ListPage(items, revision, _encode_continue(revision, start_after, registry))


def _encode_continue(revision: int, last_key: str, registry: Registry) -> str:
    """Kubernetes' token: base64 of {"v":"meta.k8s.io/v1","rv":R,"start":"<key>\\x00"}."""
    start = last_key[len(registry.prefix()) :] + "\x00"
    token = orjson.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _decode_continue(token: str, registry: Registry) -> tuple[int, str]:
    """(revision, start_after key) of a token; 400 if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        decoded = orjson.loads(raw)
        revision, start = int(decoded["rv"]), str(decoded["start"])
        if decoded.get("v") != "meta.k8s.io/v1" or revision <= 0 or not start.endswith("\x00"):
            raise ValueError(token)
    except (binascii.Error, orjson.JSONDecodeError, ValueError, KeyError, TypeError):
        raise status.bad_request(f"continue key is not valid: {token}") from None
    start_key = registry.prefix() + start[:-1]
    if ".." in start.split("/"):
        raise status.bad_request("continue key is not valid: path traversal")
    return revision, start_key


def list_body(registry: Registry, page: ListPage) -> bytes:
    """The `<Kind>List` JSON, assembled from each object's cached JSON."""
    metadata: dict[str, str] = {"resourceVersion": str(page.revision)}
    if page.continue_token:
        metadata["continue"] = page.continue_token
    head = orjson.dumps(
        {
            "kind": registry.info.list_kind,
            "apiVersion": registry.info.group_version,
            "metadata": metadata,
        }
    )
    return head[:-1] + b',"items":[' + b",".join(o.raw for o in page.items) + b"]}"
