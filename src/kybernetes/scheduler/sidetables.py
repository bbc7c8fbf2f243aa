"""Feeds the snapshot's side tables from informers (namespaces, PDBs, workloads).

`watch_side_tables(factory, snapshot, on_namespace_change)` registers handlers that keep
`snapshot.namespace_labels` (for namespaceSelector in pod affinity terms),
`snapshot.pdbs` (for preemption) and `snapshot.workload_selectors` (Services,
ReplicaSets, ReplicationControllers and StatefulSets, for default topology spreading)
equal to the cluster's. Handlers only update the tables; a namespace whose labels
change calls `on_namespace_change` so parked pods can be retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kybernetes.api.selectors import (
    NOTHING,
    Selector,
    SelectorError,
    label_selector_as_selector,
    selector_from_set,
)
from kybernetes.client import DeletedFinalStateUnknown, SharedInformerFactory
from kybernetes.client.resource import (
    NAMESPACES,
    PODDISRUPTIONBUDGETS,
    REPLICASETS,
    REPLICATIONCONTROLLERS,
    SERVICES,
    STATEFULSETS,
)
from kybernetes.scheduler.snapshot import NodeSnapshot

Obj = dict[str, Any]
_WORKLOADS = {
    SERVICES: "Service",
    REPLICATIONCONTROLLERS: "ReplicationController",
    REPLICASETS: "ReplicaSet",
    STATEFULSETS: "StatefulSet",
}


def _unwrap(obj: Obj | DeletedFinalStateUnknown) -> Obj:
    return obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj


def _workload_selector(kind: str, obj: Mapping[str, Any]) -> Selector | None:
    """The selector the workload's pods carry; None when it selects nothing."""
    selector = (obj.get("spec") or {}).get("selector")
    if selector is None:
        return None
    if kind in ("Service", "ReplicationController"):
        return selector_from_set(selector)
    try:
        parsed = label_selector_as_selector(selector)
    except SelectorError:
        return None
    return None if parsed is NOTHING else parsed


def watch_side_tables(
    factory: SharedInformerFactory,
    snapshot: NodeSnapshot,
    on_namespace_change: Callable[[], None],
) -> None:
    """Registers the informers and handlers (see the module docstring)."""
    tables = _SideTables(snapshot, on_namespace_change)
    factory.informer(NAMESPACES).add_handler(
        tables.namespace_set, tables.namespace_updated, tables.namespace_deleted
    )
    factory.informer(PODDISRUPTIONBUDGETS, namespace="").add_handler(
        tables.pdb_set, tables.pdb_updated, tables.pdb_deleted
    )
    for resource, kind in _WORKLOADS.items():
        handlers = _WorkloadHandlers(snapshot, kind)
        factory.informer(resource, namespace="").add_handler(
            handlers.set, handlers.updated, handlers.deleted
        )


class _SideTables:
    def __init__(self, snapshot: NodeSnapshot, on_namespace_change: Callable[[], None]) -> None:
        self.snapshot = snapshot
        self.on_namespace_change = on_namespace_change

    def namespace_set(self, obj: Obj) -> None:
        name = obj["metadata"]["name"]
        labels = dict(obj["metadata"].get("labels") or {})
        if self.snapshot.namespace_labels.get(name) != labels:
            self.snapshot.namespace_labels[name] = labels
            self.on_namespace_change()

    def namespace_updated(self, old: Obj, new: Obj) -> None:
        self.namespace_set(new)

    def namespace_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.snapshot.namespace_labels.pop(_unwrap(obj)["metadata"]["name"], None)

    @staticmethod
    def _pdb_key(obj: Obj) -> str:
        return f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}"

    def pdb_set(self, obj: Obj) -> None:
        self.snapshot.pdbs[self._pdb_key(obj)] = obj

    def pdb_updated(self, old: Obj, new: Obj) -> None:
        self.pdb_set(new)

    def pdb_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        self.snapshot.pdbs.pop(self._pdb_key(_unwrap(obj)), None)


class _WorkloadHandlers:
    def __init__(self, snapshot: NodeSnapshot, kind: str) -> None:
        self.snapshot = snapshot
        self.kind = kind

    def set(self, obj: Obj) -> None:
        metadata = obj["metadata"]
        owners = self.snapshot.workload_selectors.setdefault(metadata.get("namespace", ""), {})
        selector = _workload_selector(self.kind, obj)
        if selector is None:
            owners.pop((self.kind, metadata["name"]), None)
        else:
            owners[(self.kind, metadata["name"])] = selector

    def updated(self, old: Obj, new: Obj) -> None:
        self.set(new)

    def deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        metadata = _unwrap(obj)["metadata"]
        owners = self.snapshot.workload_selectors.get(metadata.get("namespace", ""), {})
        owners.pop((self.kind, metadata["name"]), None)
