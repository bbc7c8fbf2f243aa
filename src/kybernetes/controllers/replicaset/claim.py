"""`claim`: Kubernetes' `ControllerRefManager.Claim*` — which objects a controller owns.

Given an owner, its selector and candidate objects (pods for a ReplicaSet,
ReplicaSets for a Deployment), answers those the owner controls after:
- keeping objects it controls whose labels match (or all of them while the owner is
  being deleted: never release then);
- releasing objects it controls whose labels no longer match (removing its
  ownerReference);
- adopting matching orphans (adding a controlling ownerReference), but only after a
  live read of the owner shows it still exists with the same uid and is not being
  deleted (the cache may be stale), and never an orphan that is being deleted.
Objects controlled by somebody else are left alone.

Writes are full updates with the cached resourceVersion (compare-and-swap): a
Conflict raises, and the caller retries the whole sync. Objects that vanished
meanwhile are skipped.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api.selectors import Selector
from kybernetes.client import APIClient, APIError, Resource, is_not_found

from ..base import controller_ref
from .pods import owner_reference

Obj = dict[str, Any]


async def claim(
    client: APIClient,
    owner_resource: Resource,
    owned_resource: Resource,
    owner: Obj,
    selector: Selector,
    objects: list[Obj],
) -> list[Obj]:
    """The objects `owner` controls (see module docstring), adopted ones as written."""
    uid = owner["metadata"]["uid"]
    deleting = bool(owner["metadata"].get("deletionTimestamp"))
    can_adopt: bool | None = None
    claimed: list[Obj] = []
    for obj in objects:
        ref = controller_ref(obj)
        matches = selector.matches(obj["metadata"].get("labels") or {})
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches or deleting:
                claimed.append(obj)
            else:
                await _set_owner_refs(client, owned_resource, obj, _without(obj, uid))
            continue
        if deleting or not matches or obj["metadata"].get("deletionTimestamp"):
            continue
        if can_adopt is None:
            can_adopt = await _can_adopt(client, owner_resource, owner)
        if can_adopt:
            refs = [*_without(obj, uid), owner_reference(owner)]
            adopted = await _set_owner_refs(client, owned_resource, obj, refs)
            if adopted is not None:
                claimed.append(adopted)
    return claimed


async def _can_adopt(client: APIClient, resource: Resource, owner: Obj) -> bool:
    meta = owner["metadata"]
    try:
        fresh = await client.get(resource, meta["name"], meta["namespace"])
    except APIError as e:
        if is_not_found(e):
            return False
        raise
    fresh_meta = fresh["metadata"]
    return fresh_meta.get("uid") == meta["uid"] and not fresh_meta.get("deletionTimestamp")


async def _set_owner_refs(
    client: APIClient, resource: Resource, obj: Obj, refs: list[Obj]
) -> Obj | None:
    updated = {**obj, "metadata": {**obj["metadata"], "ownerReferences": refs}}
    try:
        return await client.update(resource, updated)
    except APIError as e:
        if is_not_found(e):
            return None
        raise


def _without(obj: Obj, uid: str) -> list[Obj]:
    return [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
