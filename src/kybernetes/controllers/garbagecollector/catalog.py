"""`Catalog`: the resources whose objects may own or depend on others, and how an
ownerReference's `apiVersion` + `kind` names one of them.

The built-in rows come from `ResourceTable.builtin()`; a CustomResourceDefinition adds
its storage version's row (`add_crd`). Only persisted resources that support list,
watch and delete are kept, one per storage location (core `events` and
`events.k8s.io` Events are one resource: the first served row wins).

Invariants: lookups by kind ignore the version (every version of a kind shares one
storage, so any served version names the same objects). Not thread-safe: one event
loop. Used by the garbage collector and the namespace controller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kybernetes.api.resources import ResourceInfo, ResourceTable, custom_resources
from kybernetes.client import Resource

_NEEDED_VERBS = frozenset({"list", "watch", "delete"})


class Catalog:
    """The deletable, watchable resources, by (group, kind)."""

    def __init__(self, table: ResourceTable | None = None) -> None:
        self._by_kind: dict[tuple[str, str], Resource] = {}
        self._storage: set[str] = set()
        for info in table if table is not None else ResourceTable.builtin():
            self._add(info)

    @property
    def resources(self) -> list[Resource]:
        return list(self._by_kind.values())

    def namespaced(self) -> list[Resource]:
        return [r for r in self._by_kind.values() if r.namespaced]

    def resolve(self, api_version: str, kind: str) -> Resource | None:
        """The resource an ownerReference names, or None if it is unknown."""
        group = api_version.rpartition("/")[0]
        return self._by_kind.get((group, kind))

    def add_crd(self, crd: Mapping[str, Any]) -> Resource | None:
        """Adds a CRD's storage-version row; answers the new resource, or None if the
        CRD is malformed or already known."""
        try:
            rows = custom_resources(crd)
        except (KeyError, StopIteration, TypeError):
            return None
        for info in rows:
            storage = info.storage
            if storage is not None and storage.version == info.version:
                return self._add(info)
        return self._add(rows[0]) if rows else None

    def _add(self, info: ResourceInfo) -> Resource | None:
        if info.storage is None or not set(info.verbs) >= _NEEDED_VERBS:
            return None
        key = (info.group, info.kind)
        if key in self._by_kind or info.storage.prefix in self._storage:
            return None
        self._storage.add(info.storage.prefix)
        resource = self._by_kind[key] = Resource.of(info)
        return resource
