"""CustomResourceDefinitions: serving custom resources as their definitions come and go.

`CustomResources.run()` follows the CRDs in the watch cache (as kube-apiserver's
apiextensions controllers do, folded into one loop):
- a new or changed CRD puts its served versions into the resource table (so discovery
  and the REST routes serve them at once), with each version's structural schema for
  decoding, and its status gets `acceptedNames`, `storedVersions` and the
  `NamesAccepted` and `Established` conditions;
- a CRD being deleted leaves the table, its custom resources are deleted, then its
  `customresourcecleanup.apiextensions.k8s.io` finalizer is removed so it goes too.

Invariants: only this loop changes the table's custom rows; a CRD's rows are always
those of its latest state seen.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from kybernetes.api.resources import ResourceInfo, custom_resources
from kybernetes.api.schemanode import SchemaNode
from kybernetes.store import KeyNotFound

from .openapi_schemas import SchemaCatalog
from .registry import now_rfc3339
from .rest import API
from .status import StatusError
from .stored import Object, StoredObject, collection_prefix
from .strategy import CRD_CLEANUP_FINALIZER
from .watchcache import CacheEvent

log = logging.getLogger(__name__)

CRD_STORAGE = "apiextensions.k8s.io/customresourcedefinitions"


class CustomResources:
    """Keeps the served custom resources in step with the CRDs (see module docstring)."""

    def __init__(self, api: API, catalog: SchemaCatalog | None = None) -> None:
        """`catalog`, if given, gets each served version's schema for /openapi."""
        self._api = api
        self._catalog = catalog
        self._served: dict[str, list[ResourceInfo]] = {}
        self._crds = api.registry_for("apiextensions.k8s.io", "v1", "customresourcedefinitions")

    async def run(self) -> None:
        """Follows the CRDs until cancelled."""
        cache = self._api.cache
        await cache.ready.wait()
        prefix = collection_prefix(CRD_STORAGE)
        watcher = cache.watch(prefix, cache.revision, lambda _: True)
        try:
            for crd in cache.list(prefix, namespaced=False):
                await self._sync(crd)
            async for event in watcher.events():
                await self._handle(event)
        finally:
            cache.stop_watching(watcher)

    async def _handle(self, event: CacheEvent) -> None:
        if event.obj is None:
            return
        if event.type == "DELETED":
            self._unserve(event.obj.name)
        else:
            await self._sync(event.obj)

    async def _sync(self, crd: StoredObject) -> None:
        try:
            if crd.metadata.get("deletionTimestamp"):
                self._unserve(crd.name)
                await self._clean_up(crd)
            else:
                self._serve(crd)
                await self._establish(crd)
        except StatusError as e:  # the CRD changed or went meanwhile: a later event follows
            log.info("CRD %s not synced yet: %s", crd.name, e.message)

    def _serve(self, crd: StoredObject) -> None:
        rows = custom_resources(crd.obj)
        self._unserve(crd.name, keep=rows)
        versions = {v["name"]: v for v in crd.obj["spec"]["versions"]}
        for info in rows:
            version = versions[info.version]
            schema = (version.get("schema") or {}).get("openAPIV3Schema")
            node = None if schema is None else SchemaNode.from_crd_schema(schema)
            self._api.set_custom(info, node, version.get("additionalPrinterColumns") or [])
            self._api.table.add(info)
            if self._catalog is not None:
                self._catalog.set_custom_resource(info, schema)
        self._served[crd.name] = rows

    def _unserve(self, name: str, keep: Sequence[ResourceInfo] = ()) -> None:
        for info in self._served.pop(name, []):
            if info not in keep:
                self._api.table.remove(info.group, info.version, info.plural)
                if self._catalog is not None:
                    self._catalog.remove_custom_resource(info.group, info.version, info.kind)

    async def _establish(self, crd: StoredObject) -> None:
        """Sets acceptedNames, storedVersions and the conditions, once."""
        if _condition(crd.obj, "Established") == "True":
            return
        spec = crd.obj["spec"]
        now = now_rfc3339()

        def established(obj: Object) -> Object:
            stored = next(v["name"] for v in spec["versions"] if v.get("storage"))
            obj["status"] = {
                "acceptedNames": spec["names"],
                "storedVersions": sorted(
                    {*obj.get("status", {}).get("storedVersions", []), stored}
                ),
                "conditions": [
                    _true("NamesAccepted", "NoConflicts", "no conflicts found", now),
                    _true(
                        "Established",
                        "InitialNamesAccepted",
                        "the initial names have been accepted",
                        now,
                    ),
                ],
            }
            return obj

        await self._crds.update("", crd.name, established, subresource="status")

    async def _clean_up(self, crd: StoredObject) -> None:
        """Deletes every custom resource of a CRD being deleted, then its finalizer."""
        spec = crd.obj["spec"]
        store = self._api.store
        page = await store.list(collection_prefix(f"{spec['group']}/{spec['names']['plural']}"))
        for kv in page.kvs:
            with contextlib.suppress(KeyNotFound):
                await store.delete(kv.key)

        def finalized(obj: Object) -> Object:
            finalizers = obj["metadata"].get("finalizers") or []
            obj["metadata"]["finalizers"] = [f for f in finalizers if f != CRD_CLEANUP_FINALIZER]
            return obj

        if CRD_CLEANUP_FINALIZER in (crd.metadata.get("finalizers") or []):
            await self._crds.update("", crd.name, finalized)


def _condition(obj: Object, kind: str) -> str | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return str(condition.get("status"))
    return None


def _true(kind: str, reason: str, message: str, now: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "lastTransitionTime": now,
        "reason": reason,
        "message": message,
    }
