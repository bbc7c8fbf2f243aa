"""`SliceWriter`: carries out a `reconcile.Plan` for one owner's EndpointSlices and
remembers what it wrote — shared by the EndpointSlice and EndpointSlice mirroring
controllers (Kubernetes' reconciler `finalize` and `endpointSliceTracker`).

`apply(key, plan, template)` creates (`generateName` from the template), updates
and then deletes slices, creates and updates first so that endpoints never
disappear in between; every written slice gets the template's labels and
annotations. The tracker records each written slice's resourceVersion and each
deleted slice under the owner `key`; `stale(key, cached_slices)` answers whether the
informer cache has not caught up with those writes yet (forgetting those it shows),
in which case the caller must wait for the slice events instead of acting on a
stale cache, which would duplicate slices. Not thread-safe: one event loop.
"""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient, APIError, is_not_found
from kybernetes.client.resource import ENDPOINTSLICES

from .reconcile import Plan

Obj = dict[str, Any]


class SliceWriter:
    """See the module docstring."""

    def __init__(self, client: APIClient) -> None:
        self.client = client
        # Owner key -> {slice name: resourceVersion written, or None once deleted}.
        self.written: dict[str, dict[str, str | None]] = {}

    def forget(self, key: str) -> None:
        self.written.pop(key, None)

    def stale(self, key: str, slices: list[Obj]) -> bool:
        """Whether the cache misses a write of ours (forgetting those it shows)."""
        expected = self.written.get(key)
        if not expected:
            return False
        cached = {s["metadata"]["name"]: s["metadata"].get("resourceVersion") for s in slices}
        for name, version in list(expected.items()):
            caught_up = (
                name not in cached if version is None else _at_least(cached.get(name), version)
            )
            if caught_up:
                del expected[name]
        if not expected:
            del self.written[key]
        return bool(expected)

    async def apply(self, key: str, plan: Plan, template: Obj) -> None:
        """Writes `plan`; `template` is a slice without endpoints and ports (metadata
        with namespace, generateName, labels, annotations, ownerReferences, and the
        addressType). Kept slices whose labels differ from the template's are
        relabelled."""
        meta = template["metadata"]
        labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
        for ports, endpoints in plan.create:
            body = {**template, "endpoints": endpoints, "ports": ports}
            self._record(key, await self.client.create(ENDPOINTSLICES, body))
        updates = list(plan.update)
        updates += [
            (s, s.get("ports") or [], s.get("endpoints") or [])
            for s in plan.keep
            if (s["metadata"].get("labels") or {}) != labels
        ]
        for slice_, ports, endpoints in updates:
            new_meta = {
                **slice_["metadata"],
                "labels": labels,
                "annotations": {**(slice_["metadata"].get("annotations") or {}), **annotations},
            }
            body = {**slice_, "metadata": new_meta, "endpoints": endpoints, "ports": ports}
            self._record(key, await self.client.update(ENDPOINTSLICES, body))
        for slice_ in plan.delete:
            await self.delete(key, slice_)

    async def delete(self, key: str, slice_: Obj) -> None:
        meta = slice_["metadata"]
        try:
            await self.client.delete(ENDPOINTSLICES, meta["name"], meta["namespace"])
        except APIError as e:
            if not is_not_found(e):
                raise
            return
        self.written.setdefault(key, {})[meta["name"]] = None

    def _record(self, key: str, written: Obj) -> None:
        meta = written.get("metadata") or {}
        if meta.get("name"):
            self.written.setdefault(key, {})[meta["name"]] = meta.get("resourceVersion")


def _at_least(cached: str | None, written: str) -> bool:
    """Whether the cached resourceVersion is the written one or newer."""
    if cached is None:
        return False
    if cached.isdigit() and written.isdigit():
        return int(cached) >= int(written)
    return cached == written
