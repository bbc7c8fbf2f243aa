"""Test doubles for controller unit tests: a client that records writes (and can be
told to fail), a recorder that records events, and object builders."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from kybernetes.client import APIError, Resource

Obj = dict[str, Any]


def error(code: int, reason: str, message: str = "") -> APIError:
    return APIError({"code": code, "reason": reason, "message": message})


class FakeClient:
    """Records every write as (verb, resource plural, object or name)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, Any]] = []
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.fail: dict[str, APIError] = {}
        self._names = itertools.count()

    def _check(self, verb: str) -> None:
        if verb in self.fail:
            raise self.fail[verb]

    async def get(self, resource: Resource, name: str, namespace: str = "", **_: Any) -> Obj:
        obj = self.objects.get((resource.plural, namespace, name))
        if obj is None:
            raise error(404, "NotFound", f"{name} not found")
        return obj

    async def create(self, resource: Resource, obj: Obj, **_: Any) -> Obj:
        self._check("create")
        obj = copy.deepcopy(obj)
        meta = obj["metadata"]
        if not meta.get("name"):
            meta["name"] = f"{meta['generateName']}{next(self._names)}"
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("resourceVersion", "1")
        self.writes.append(("create", resource.plural, obj))
        return obj

    async def update(self, resource: Resource, obj: Obj, **_: Any) -> Obj:
        self._check("update")
        self.writes.append(("update", resource.plural, obj))
        return obj

    async def update_status(self, resource: Resource, obj: Obj, **_: Any) -> Obj:
        self._check("update_status")
        self.writes.append(("update_status", resource.plural, obj))
        return obj

    async def patch(self, resource: Resource, name: str, patch: Any, **_: Any) -> Obj:
        self._check("patch")
        self.writes.append(("patch", resource.plural, (name, patch)))
        return {"metadata": {"name": name}}

    async def delete(self, resource: Resource, name: str, namespace: str = "", **_: Any) -> Obj:
        self._check("delete")
        self.writes.append(("delete", resource.plural, name))
        return {}

    def of(self, verb: str, plural: str) -> list[Any]:
        return [w[2] for w in self.writes if w[0] == verb and w[1] == plural]


class FakeRecorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def event(self, obj: Obj, type: str, reason: str, message: str) -> None:
        self.events.append((type, reason, message))


def pod(
    name: str,
    *,
    labels: dict[str, str] | None = None,
    owner: Obj | None = None,
    node: str = "",
    phase: str = "Running",
    ready: bool = True,
    ready_since: str = "2025-01-01T00:00:00Z",
    created: str = "2025-01-01T00:00:00Z",
    namespace: str = "ns",
) -> Obj:
    meta: Obj = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "resourceVersion": "1",
        "labels": labels if labels is not None else {"app": "web"},
        "creationTimestamp": created,
    }
    if owner is not None:
        meta["ownerReferences"] = [
            {
                "apiVersion": owner["apiVersion"],
                "kind": owner["kind"],
                "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"],
                "controller": True,
            }
        ]
    condition = {
        "type": "Ready",
        "status": "True" if ready else "False",
        "lastTransitionTime": ready_since,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "a"}]},
        "status": {"phase": phase, "conditions": [condition]},
    }
