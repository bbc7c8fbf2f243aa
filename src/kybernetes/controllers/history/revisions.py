"""ControllerRevisions: the template history of DaemonSets and StatefulSets (Kubernetes'
`pkg/controller/history` and the two controllers' use of it).

A revision is an apps/v1 ControllerRevision owned (controller=true) by its parent:
`data` is the patch that restores the parent's pod template
(`{"spec": {"template": {..., "$patch": "replace"}}}`), `revision` a number that
grows with every new or re-used template, and its name `PARENT-HASH`, HASH being
the FNV-32a hash of `data` (plus the parent's `status.collisionCount`, see
`deployment.util.compute_hash`); the hash is also its `controller-revision-hash`
label, beside the template's labels.

`History(client, informer)`:
- `claim(parent, selector)`: the parent's revisions (adopting matching orphans,
  releasing mismatched ones), oldest revision number first.
- `ensure(parent, revisions)`: the revision of the parent's current template: an
  existing one with equal data (renumbered to the highest number if it is not the
  latest, as a rollback is a new revision) or a new one. A name taken by a revision
  with different data is a hash collision: it answers the bumped collision count,
  which the caller stores in `status.collisionCount` before retrying.
- `truncate(revisions, live, limit)`: deletes the oldest revisions not in `live`
  beyond `limit` (`spec.revisionHistoryLimit`).

Writes are compare-and-swap or create; errors raise (the caller's sync retries).
"""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.api.selectors import Selector
from kybernetes.client import APIClient, APIError, Informer, is_already_exists, is_not_found
from kybernetes.client.resource import CONTROLLERREVISIONS, Resource

from ..deployment.util import compute_hash
from ..replicaset.claim import claim
from ..replicaset.pods import owner_reference

Obj = dict[str, Any]

CONTROLLER_REVISION_HASH = "controller-revision-hash"
_MAX_PREFIX = 223


class HashCollision(Exception):
    """The revision name is taken by different data; retry with `collision_count`."""

    def __init__(self, collision_count: int) -> None:
        super().__init__(f"hash collision, collision count now {collision_count}")
        self.collision_count = collision_count


def revision_patch(parent: Obj) -> Obj:
    """The `data` of the parent's current template (see module docstring)."""
    template = copy.deepcopy((parent.get("spec") or {}).get("template") or {})
    return {"spec": {"template": {**template, "$patch": "replace"}}}


def revision_hash(revision: Obj) -> str:
    return str((revision["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH, ""))


def template_of(revision: Obj) -> Obj:
    """The pod template a revision restores (without the `$patch` directive)."""
    template = dict(((revision.get("data") or {}).get("spec") or {}).get("template") or {})
    template.pop("$patch", None)
    return template


def new_revision(parent: Obj, number: int, collision_count: int) -> Obj:
    """A revision of the parent's current template (see module docstring)."""
    data = revision_patch(parent)
    digest = compute_hash(data, collision_count)
    labels = dict(
        (((parent.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")
        or {}
    )
    labels[CONTROLLER_REVISION_HASH] = digest
    meta = parent["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ControllerRevision",
        "metadata": {
            "name": f"{meta['name'][:_MAX_PREFIX]}-{digest}",
            "namespace": meta["namespace"],
            "labels": labels,
            "ownerReferences": [owner_reference(parent)],
        },
        "data": data,
        "revision": number,
    }


def _number(revision: Obj) -> int:
    return int(revision.get("revision") or 0)


class History:
    """A parent kind's revisions, read from `informer` (see module docstring)."""

    def __init__(self, client: APIClient, informer: Informer, parent_resource: Resource) -> None:
        self.client = client
        self.informer = informer
        self.parent_resource = parent_resource

    async def claim(self, parent: Obj, selector: Selector) -> list[Obj]:
        namespace = parent["metadata"]["namespace"]
        candidates = [
            r for r in self.informer.indexer.list() if r["metadata"].get("namespace") == namespace
        ]
        owned = await claim(
            self.client, self.parent_resource, CONTROLLERREVISIONS, parent, selector, candidates
        )
        return sorted(owned, key=lambda r: (_number(r), r["metadata"]["name"]))

    async def ensure(self, parent: Obj, revisions: list[Obj]) -> Obj:
        """The current revision (see module docstring); HashCollision on a collision."""
        data = revision_patch(parent)
        latest = max((_number(r) for r in revisions), default=0)
        equal = [r for r in revisions if r.get("data") == data]
        if equal:
            current = equal[-1]
            if _number(current) == latest:
                return current
            return await self.client.update(
                CONTROLLERREVISIONS, {**current, "revision": latest + 1}
            )
        collision_count = int((parent.get("status") or {}).get("collisionCount") or 0)
        revision = new_revision(parent, latest + 1, collision_count)
        try:
            return await self.client.create(CONTROLLERREVISIONS, revision)
        except APIError as e:
            if not is_already_exists(e):
                raise
        meta = revision["metadata"]
        existing = await self.client.get(CONTROLLERREVISIONS, meta["name"], meta["namespace"])
        owners = {r.get("uid") for r in existing["metadata"].get("ownerReferences") or []}
        if existing.get("data") == data and parent["metadata"]["uid"] in owners:
            return existing
        raise HashCollision(collision_count + 1)

    async def truncate(self, revisions: list[Obj], live: set[str], limit: int) -> None:
        """Deletes the oldest non-live revisions beyond `limit` (by name in `live`)."""
        dead = [r for r in revisions if r["metadata"]["name"] not in live]
        for revision in dead[: max(len(dead) - limit, 0)]:
            meta = revision["metadata"]
            try:
                await self.client.delete(CONTROLLERREVISIONS, meta["name"], meta["namespace"])
            except APIError as e:
                if not is_not_found(e):
                    raise
