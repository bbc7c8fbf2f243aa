"""A fake `APIClient` for controllers' unit tests: it records every write and answers
reads from `objects` (keyed by (resource, namespace, name)); `errors` makes chosen
calls fail. Also `seeded(...)`: a factory whose informers' caches hold given objects
without running."""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field
from typing import Any, cast

from kybernetes.client import APIClient, APIError, Resource, SharedInformerFactory

Obj = dict[str, Any]


def api_error(code: int, reason: str) -> APIError:
    return APIError({"kind": "Status", "code": code, "reason": reason, "message": reason})


@dataclass
class FakeClient:
    objects: dict[tuple[Resource, str, str], Obj] = field(default_factory=dict)
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    errors: dict[str, APIError] = field(default_factory=dict)

    def _maybe_fail(self, verb: str) -> None:
        if verb in self.errors:
            raise self.errors[verb]

    async def get(self, resource: Resource, name: str, namespace: str = "") -> Obj:
        self._maybe_fail("get")
        try:
            return self.objects[(resource, namespace, name)]
        except KeyError:
            raise api_error(404, "NotFound") from None

    async def list(self, resource: Resource, namespace: str = "", **_: Any) -> Obj:
        self._maybe_fail("list")
        items = [o for (r, ns, _n), o in self.objects.items() if r == resource and ns == namespace]
        return {"items": items, "metadata": {"resourceVersion": "1"}}

    async def create(self, resource: Resource, obj: Obj, **_: Any) -> Obj:
        self.calls.append(("create", resource, obj))
        self._maybe_fail("create")
        return obj

    async def delete(self, resource: Resource, name: str, namespace: str = "", **kw: Any) -> Obj:
        self.calls.append(("delete", resource, namespace, name, kw))
        self._maybe_fail("delete")
        return {}

    async def patch(self, resource: Resource, name: str, patch: Any, **kw: Any) -> Obj:
        self.calls.append(("patch", resource, kw.get("namespace", ""), name, patch))
        self._maybe_fail("patch")
        return {}

    async def update(self, resource: Resource, obj: Obj, **kw: Any) -> Obj:
        self.calls.append(("update", resource, obj, kw.get("subresource", "")))
        self._maybe_fail("update")
        return obj

    async def update_status(self, resource: Resource, obj: Obj, **_: Any) -> Obj:
        self.calls.append(("update_status", resource, obj))
        self._maybe_fail("update_status")
        return obj

    @property
    def api(self) -> APIClient:
        return cast(APIClient, self)

    def verbs(self) -> builtins.list[str]:
        return [call[0] for call in self.calls]


def seed(factory: SharedInformerFactory, resource: Resource, *objects: Obj) -> None:
    """Puts objects into the (not running) informer's cache; handlers added later get
    `on_add` for them."""
    indexer = factory.informer(resource).indexer
    for item in objects:
        indexer.add(item)


def obj(
    kind: str,
    name: str,
    uid: str,
    *,
    namespace: str = "ns",
    api_version: str = "v1",
    owners: list[Obj] | None = None,
    finalizers: list[str] | None = None,
    deleting: bool = False,
) -> Obj:
    meta: Obj = {"name": name, "uid": uid, "resourceVersion": "7"}
    if namespace:
        meta["namespace"] = namespace
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    if deleting:
        meta["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    return {"apiVersion": api_version, "kind": kind, "metadata": meta}


def owner_ref(owner: Obj, *, block: bool = False) -> Obj:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if block:
        ref["blockOwnerDeletion"] = True
    return ref
