"""Objects as the store holds them, and the keys they live at.

An object is stored as JSON without `metadata.resourceVersion`: its resource version
is the store revision of its last write, set when it is read back (`StoredObject`).
Keys follow Kubernetes' layout: `/registry/<storage prefix>/<namespace>/<name>` for
namespaced resources, `/registry/<storage prefix>/<name>` for cluster-scoped ones.

A `StoredObject` is immutable once built: `obj` (the decoded object, resourceVersion
set) and `raw` (its JSON) are shared by every reader and watcher and must never be
mutated; copy before changing (`mutable()`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from kybernetes.store import KeyValue

REGISTRY_PREFIX = "/registry/"

Object = dict[str, Any]


def object_key(storage_prefix: str, namespace: str, name: str) -> str:
    """The store key of an object (`namespace` empty for cluster-scoped resources)."""
    if namespace:
        return f"{REGISTRY_PREFIX}{storage_prefix}/{namespace}/{name}"
    return f"{REGISTRY_PREFIX}{storage_prefix}/{name}"


def collection_prefix(storage_prefix: str, namespace: str = "") -> str:
    """The key prefix of every object of a resource, or of those in one namespace."""
    if namespace:
        return f"{REGISTRY_PREFIX}{storage_prefix}/{namespace}/"
    return f"{REGISTRY_PREFIX}{storage_prefix}/"


def encode_for_store(obj: Object) -> bytes:
    """The bytes to store: the object without its resourceVersion (it is the revision)."""
    metadata = obj.get("metadata") or {}
    if "resourceVersion" not in metadata:
        return orjson.dumps(obj)
    stripped = {k: v for k, v in metadata.items() if k != "resourceVersion"}
    return orjson.dumps({**obj, "metadata": stripped})


@dataclass(frozen=True, slots=True)
class StoredObject:
    """An object read from the store at `revision`, with `resourceVersion` set."""

    key: str
    obj: Object
    raw: bytes
    revision: int

    @classmethod
    def from_kv(cls, kv: KeyValue, revision: int | None = None) -> StoredObject:
        """Decodes a store entry; `revision` overrides the version (a deletion's)."""
        rev = kv.mod_revision if revision is None else revision
        obj: Object = orjson.loads(kv.value)
        obj.setdefault("metadata", {})["resourceVersion"] = str(rev)
        return cls(kv.key, obj, orjson.dumps(obj), rev)

    @classmethod
    def unsaved(cls, key: str, obj: Object, revision: int = 0) -> StoredObject:
        """An object that was not written (a dry run), as it would have been stored."""
        return cls(key, obj, orjson.dumps(obj), revision)

    def at_revision(self, revision: int) -> StoredObject:
        """The same object with another resourceVersion."""
        obj = self.mutable()
        obj["metadata"]["resourceVersion"] = str(revision)
        return StoredObject(self.key, obj, orjson.dumps(obj), revision)

    @property
    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.obj["metadata"]
        return meta

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace", ""))

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.metadata.get("labels") or {}
        return labels

    def mutable(self) -> Object:
        """A deep copy of the object that the caller may change."""
        copied: Object = orjson.loads(self.raw)
        return copied
