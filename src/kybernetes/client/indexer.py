"""`Indexer`: an informer's local cache of objects, keyed and indexed.

Objects are keyed `namespace/name` (just `name` when cluster-scoped), client-go's
`MetaNamespaceKeyFunc`. Named indexes map an index value to the keys whose objects
produce it: `BY_NAMESPACE`, `BY_NODE` (a pod's `spec.nodeName`) and `BY_OWNER` (the
uids of `metadata.ownerReferences`) are always there; callers add their own index
functions (an object may produce any number of values).

Invariants: every index reflects exactly the objects stored; `replace` swaps the whole
content. Cached objects are shared with every reader: treat them as read-only (copy
before changing one). Not thread-safe: one event loop, and the informer is its only
writer.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Obj = dict[str, Any]
IndexFunc = Callable[[Obj], Iterable[str]]

BY_NAMESPACE = "by_namespace"
BY_NODE = "by_node"
BY_OWNER = "by_owner"


def object_key(obj: Obj) -> str:
    """`namespace/name`, or `name` for a cluster-scoped object."""
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace") or "", meta.get("name") or ""
    return f"{namespace}/{name}" if namespace else str(name)


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name) of a key; namespace "" for a cluster-scoped one."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def by_namespace(obj: Obj) -> list[str]:
    namespace = (obj.get("metadata") or {}).get("namespace")
    return [namespace] if namespace else []


def by_node(obj: Obj) -> list[str]:
    node = (obj.get("spec") or {}).get("nodeName")
    return [node] if node else []


def by_owner(obj: Obj) -> list[str]:
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    return [owner["uid"] for owner in owners if owner.get("uid")]


DEFAULT_INDEXERS: Mapping[str, IndexFunc] = {
    BY_NAMESPACE: by_namespace,
    BY_NODE: by_node,
    BY_OWNER: by_owner,
}


class Indexer:
    """Objects by key, with named indexes (see module docstring)."""

    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None) -> None:
        self._items: dict[str, Obj] = {}
        self._funcs: dict[str, IndexFunc] = {**DEFAULT_INDEXERS, **(indexers or {})}
        self._indices: dict[str, dict[str, set[str]]] = {name: {} for name in self._funcs}

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Adds index functions, indexing the objects already stored. ValueError if a
        name is taken."""
        for name, func in indexers.items():
            if name in self._funcs:
                raise ValueError(f"index {name!r} already exists")
            self._funcs[name] = func
            self._indices[name] = {}
            for key, obj in self._items.items():
                self._index_one(name, key, obj)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def get(self, key: str) -> Obj | None:
        return self._items.get(key)

    def get_by_name(self, namespace: str, name: str) -> Obj | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def keys(self) -> list[str]:
        return list(self._items)

    def list(self) -> list[Obj]:
        return list(self._items.values())

    def by_index(self, index: str, value: str) -> builtins.list[Obj]:
        """The objects whose index function `index` produced `value`. KeyError for an
        unknown index."""
        return [self._items[key] for key in self.index_keys(index, value)]

    def index_keys(self, index: str, value: str) -> builtins.list[str]:
        """The keys of `by_index(index, value)`, sorted."""
        return sorted(self._indices[index].get(value, ()))

    def add(self, obj: Obj) -> Obj | None:
        """Stores `obj` under its key, replacing (and answering) any previous one."""
        key = object_key(obj)
        old = self._items.get(key)
        if old is not None:
            self._unindex(key, old)
        self._items[key] = obj
        for name in self._funcs:
            self._index_one(name, key, obj)
        return old

    def delete(self, key: str) -> Obj | None:
        """Removes and answers the object under `key` (None if absent)."""
        old = self._items.pop(key, None)
        if old is not None:
            self._unindex(key, old)
        return old

    def replace(self, objects: Iterable[Obj]) -> None:
        """Makes `objects` the whole content."""
        self._items = {}
        self._indices = {name: {} for name in self._funcs}
        for obj in objects:
            self.add(obj)

    def _index_one(self, name: str, key: str, obj: Obj) -> None:
        index = self._indices[name]
        for value in self._funcs[name](obj):
            index.setdefault(value, set()).add(key)

    def _unindex(self, key: str, obj: Obj) -> None:
        for name, func in self._funcs.items():
            index = self._indices[name]
            for value in func(obj):
                keys = index.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del index[value]
