"""A columnar view of every node and the pods assigned to it (`NodeSnapshot`).

Nodes live in stable *slots*: row i of every array describes the node in slot i, and
`present[i]` says whether slot i holds a node. Removing a node frees its slot for the
next added node; slots never move, so side tables can key on them. Columns:

- resources: `allocatable` and `requested` (`resource_names` x slots, int64, one
  contiguous row per resource; cpu in millicores, others in units; cpu, memory,
  ephemeral-storage first, scalar resources appended as they appear),
  `non_zero_requested` (rows cpu, memory with scoring defaults), `allowed_pods` and
  `pod_count`;
- `unschedulable`, `taint_signature` (an index into `signatures`, each a tuple of
  (key, value, effect) taints in node order; timeAdded is ignored);
- labels: one int32 column per label key holding an index into that key's values
  (-1 when the node lacks the label), see `label_column`;
- images (`image_nodes`: name as the node reports it -> {slot: size}) and used host
  ports (`used_ports`: (protocol, port) -> {slot: Counter of host IPs}).

Pods are also counted per node for registered predicates (`pod_counts`, see
`podcounts`), and `affinity_terms` is the multiset of the pod (anti-)affinity terms
(`podaffinity.TermEntry`) of every accounted pod. Side tables the plugins read, filled
by the scheduler's informers: `namespace_labels` (namespace -> labels), `pdbs`
(namespace/name -> PodDisruptionBudget) and `workload_selectors` (namespace -> (kind, name)
-> Selector of its Services, ReplicaSets, ReplicationControllers and StatefulSets, for
default topology spreading).

Pods are accounted by key (uid, else namespace/name) against a node *name*: a pod
whose node is not (yet) in the snapshot is remembered and counted once the node is
added, as Kubernetes' cache does. Assumed pods are added the same way and removed by
`remove_pod` when forgotten. Every method is idempotent, pure (no I/O) and O(changed
columns); `generation` increases on every change, `node_generation` on node changes
only. `memo(key, compute)` caches values derived from node columns alone (not from
pods) until the next node change: plugins use it for per-pod-shape work such as taint
or affinity masks, keyed by the pod fields they depend on. Not thread-safe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

from kybernetes.api.quantity import quantity_from_json
from kybernetes.api.selectors import Selector
from kybernetes.scheduler.podaffinity import TermEntry
from kybernetes.scheduler.podcounts import Counts, PodCounters, Predicate
from kybernetes.scheduler.podinfo import (
    CPU,
    EPHEMERAL_STORAGE,
    MEMORY,
    PODS,
    PodInfo,
    is_accounted,
    to_int,
)

Taint = tuple[str, str, str]
Int64Array = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
BASE_RESOURCES: Final = (CPU, MEMORY, EPHEMERAL_STORAGE)
_INITIAL_CAPACITY: Final = 64
_MEMO_SIZE: Final = 4096
T = TypeVar("T")


class NodeSnapshot:
    """See the module docstring."""

    def __init__(self) -> None:
        self.capacity = 0
        self.generation = 0
        self.node_generation = 0
        self._memo: dict[Hashable, Any] = {}
        self.names: list[str | None] = []
        self.slots: dict[str, int] = {}
        self._free: list[int] = []
        self.resource_names: list[str] = list(BASE_RESOURCES)
        self.present = np.zeros(0, dtype=np.bool_)
        self.allocatable = np.zeros((len(BASE_RESOURCES), 0), dtype=np.int64)
        self.requested = np.zeros((len(BASE_RESOURCES), 0), dtype=np.int64)
        self.non_zero_requested = np.zeros((2, 0), dtype=np.int64)
        self.allowed_pods = np.zeros(0, dtype=np.int64)
        self.pod_count = np.zeros(0, dtype=np.int64)
        self.unschedulable = np.zeros(0, dtype=np.bool_)
        self.taint_signature = np.zeros(0, dtype=np.int32)
        self.signatures: list[tuple[Taint, ...]] = [()]
        self._signature_ids: dict[tuple[Taint, ...], int] = {(): 0}
        self._labels: list[Mapping[str, str]] = []
        self._label_columns: dict[str, Int32Array] = {}
        self._label_ids: dict[str, dict[str, int]] = {}
        self.label_values: dict[str, list[str]] = {}
        self._images: list[dict[str, int]] = []
        self.image_nodes: dict[str, dict[int, int]] = {}
        self.used_ports: dict[tuple[str, int], dict[int, Counter[str]]] = {}
        self._pods: dict[str, dict[str, PodInfo]] = {}
        self._pod_node: dict[str, str] = {}
        self._counters = PodCounters(0)
        self.affinity_terms: Counter[TermEntry] = Counter()
        self.namespace_labels: dict[str, Mapping[str, str]] = {}
        self.pdbs: dict[str, Mapping[str, Any]] = {}
        self.workload_selectors: dict[str, dict[tuple[str, str], Selector]] = {}
        self._grow(_INITIAL_CAPACITY)

    # -- queries -------------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        return len(self.slots)

    def resource_index(self, name: str) -> int | None:
        """The column of `name` in `allocatable`/`requested`, or None if no node has it."""
        try:
            return self.resource_names.index(name)
        except ValueError:
            return None

    def label_column(self, key: str) -> tuple[Int32Array | None, Mapping[str, int]]:
        """The value-index column of label `key` (None if no node ever had it) and the
        value -> index map; `label_values[key][i]` is the value of index i."""
        return self._label_columns.get(key), self._label_ids.get(key, {})

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` cached until the next node change; it must depend on nodes only."""
        try:
            value: T = self._memo[key]
        except KeyError:
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            value = self._memo[key] = compute()
        return value

    def node_order(self) -> npt.NDArray[np.intp]:
        """The occupied slots in ascending order (memoized)."""
        return self.memo("node_order", lambda: np.flatnonzero(self.present))

    def labels(self, slot: int) -> Mapping[str, str]:
        return self._labels[slot]

    def pod_counts(self, key: Hashable, predicate: Predicate) -> Counts:
        """Per-slot counts of the accounted pods matching `predicate`, identified by
        `key` (same key, same predicate); live, read-only."""
        return self._counters.get(key, predicate, self._placed)

    def _placed(self) -> Iterator[tuple[int, PodInfo]]:
        for node_name, pods in self._pods.items():
            slot = self.slots.get(node_name)
            if slot is not None:
                for pod in pods.values():
                    yield slot, pod

    def pods_on(self, slot: int) -> list[PodInfo]:
        """The pods accounted on the node in `slot`."""
        name = self.names[slot]
        return list(self._pods.get(name, {}).values()) if name is not None else []

    def node_of(self, key: str) -> str | None:
        """The node name a pod (by key) is accounted on, if any."""
        return self._pod_node.get(key)

    # -- nodes ---------------------------------------------------------------------

    def add_node(self, node: Mapping[str, Any]) -> int:
        """Add (or replace) a node; returns its slot."""
        name = node["metadata"]["name"]
        slot = self.slots.get(name)
        if slot is None:
            if not self._free:
                self._grow(self.capacity + max(self.capacity // 4, _INITIAL_CAPACITY))
            slot = self._free.pop()
            self.slots[name] = slot
            self.names[slot] = name
            self.present[slot] = True
        else:
            self._clear_node_columns(slot)
        self._fill_node_columns(slot, node)
        self._recount(slot, name)
        self._node_changed()
        return slot

    update_node = add_node

    def remove_node(self, name: str) -> None:
        """Forget a node (its pods stay remembered until removed); no-op if absent."""
        slot = self.slots.pop(name, None)
        if slot is None:
            return
        self._clear_node_columns(slot)
        self.present[slot] = False
        self.names[slot] = None
        self.requested[:, slot] = 0
        self.non_zero_requested[:, slot] = 0
        self.pod_count[slot] = 0
        self._counters.clear_slot(slot)
        self._drop_ports(slot)
        self._free.append(slot)
        self._node_changed()

    def _node_changed(self) -> None:
        self.generation += 1
        self.node_generation += 1
        self._memo.clear()

    def _fill_node_columns(self, slot: int, node: Mapping[str, Any]) -> None:
        spec, status = node.get("spec") or {}, node.get("status") or {}
        for resource, value in (status.get("allocatable") or {}).items():
            if resource == PODS:
                self.allowed_pods[slot] = quantity_from_json(value).value()
            elif is_accounted(resource):
                column = self._resource_column(resource)
                self.allocatable[column, slot] = to_int(resource, quantity_from_json(value).decimal)
        self.unschedulable[slot] = bool(spec.get("unschedulable"))
        taints = tuple(
            (t.get("key") or "", t.get("value") or "", t.get("effect") or "")
            for t in spec.get("taints") or ()
        )
        signature = self._signature_ids.setdefault(taints, len(self.signatures))
        if signature == len(self.signatures):
            self.signatures.append(taints)
        self.taint_signature[slot] = signature
        labels = dict((node.get("metadata") or {}).get("labels") or {})
        self._labels[slot] = labels
        for key, value in labels.items():
            self._label_cell(key, value, slot)
        images = {
            image_name: int(image.get("sizeBytes") or 0)
            for image in status.get("images") or ()
            for image_name in image.get("names") or ()
        }
        self._images[slot] = images
        for image_name, size in images.items():
            self.image_nodes.setdefault(image_name, {})[slot] = size

    def _clear_node_columns(self, slot: int) -> None:
        self.allocatable[:, slot] = 0
        self.allowed_pods[slot] = 0
        self.unschedulable[slot] = False
        self.taint_signature[slot] = 0
        for key in self._labels[slot]:
            self._label_columns[key][slot] = -1
        self._labels[slot] = {}
        for image_name in self._images[slot]:
            holders = self.image_nodes[image_name]
            del holders[slot]
            if not holders:
                del self.image_nodes[image_name]
        self._images[slot] = {}

    def _label_cell(self, key: str, value: str, slot: int) -> None:
        column = self._label_columns.get(key)
        if column is None:
            column = self._label_columns[key] = np.full(self.capacity, -1, dtype=np.int32)
            self._label_ids[key] = {}
            self.label_values[key] = []
        ids = self._label_ids[key]
        index = ids.get(value)
        if index is None:
            index = ids[value] = len(ids)
            self.label_values[key].append(value)
        column[slot] = index

    def _resource_column(self, name: str) -> int:
        index = self.resource_index(name)
        if index is None:
            index = len(self.resource_names)
            self.resource_names.append(name)
            extra = np.zeros((1, self.capacity), dtype=np.int64)
            self.allocatable = np.vstack([self.allocatable, extra])
            self.requested = np.vstack([self.requested, extra])
        return index

    def _grow(self, capacity: int) -> None:
        old = self.capacity
        extra = capacity - old

        def pad(array: npt.NDArray[Any], fill: int = 0) -> npt.NDArray[Any]:
            shape = (*array.shape[:-1], extra)
            return np.concatenate([array, np.full(shape, fill, dtype=array.dtype)], axis=-1)

        self.present = pad(self.present)
        self.allocatable = pad(self.allocatable)
        self.requested = pad(self.requested)
        self.non_zero_requested = pad(self.non_zero_requested)
        self.allowed_pods = pad(self.allowed_pods)
        self.pod_count = pad(self.pod_count)
        self.unschedulable = pad(self.unschedulable)
        self.taint_signature = pad(self.taint_signature)
        for key, column in self._label_columns.items():
            self._label_columns[key] = pad(column, -1)
        self.names.extend([None] * extra)
        self._labels.extend({} for _ in range(extra))
        self._images.extend({} for _ in range(extra))
        self._counters.grow(capacity)
        self._free.extend(range(capacity - 1, old - 1, -1))
        self.capacity = capacity

    # -- pods ----------------------------------------------------------------------

    def add_pod(self, pod: PodInfo, node_name: str) -> None:
        """Account `pod` on `node_name` (replacing an earlier entry for the same key)."""
        self.remove_pod(pod.key)
        self._pods.setdefault(node_name, {})[pod.key] = pod
        self._pod_node[pod.key] = node_name
        self.affinity_terms.update(pod.affinity.entries)
        slot = self.slots.get(node_name)
        if slot is not None:
            self._account(slot, pod, 1)
        self.generation += 1

    def remove_pod(self, key: str) -> None:
        """Stop accounting the pod with this key; no-op if unknown."""
        node_name = self._pod_node.pop(key, None)
        if node_name is None:
            return
        pods = self._pods[node_name]
        pod = pods.pop(key)
        for entry in pod.affinity.entries:
            self.affinity_terms[entry] -= 1
            if self.affinity_terms[entry] <= 0:
                del self.affinity_terms[entry]
        if not pods:
            del self._pods[node_name]
        slot = self.slots.get(node_name)
        if slot is not None:
            self._account(slot, pod, -1)
        self.generation += 1

    def _recount(self, slot: int, node_name: str) -> None:
        self.requested[:, slot] = 0
        self.non_zero_requested[:, slot] = 0
        self.pod_count[slot] = 0
        self._counters.clear_slot(slot)
        self._drop_ports(slot)
        for pod in self._pods.get(node_name, {}).values():
            self._account(slot, pod, 1)

    def _account(self, slot: int, pod: PodInfo, sign: int) -> None:
        for resource, amount in pod.requests.items():
            self.requested[self._resource_column(resource), slot] += sign * amount
        self.non_zero_requested[0, slot] += sign * pod.non_zero_requests.get(CPU, 0)
        self.non_zero_requested[1, slot] += sign * pod.non_zero_requests.get(MEMORY, 0)
        self.pod_count[slot] += sign
        self._counters.account(slot, pod, sign)
        for port in pod.host_ports:
            holders = self.used_ports.setdefault((port.protocol, port.port), {})
            ips = holders.setdefault(slot, Counter())
            ips[port.ip] += sign
            if ips[port.ip] <= 0:
                del ips[port.ip]
            if not ips:
                del holders[slot]
            if not holders:
                del self.used_ports[(port.protocol, port.port)]

    def _drop_ports(self, slot: int) -> None:
        for key in list(self.used_ports):
            holders = self.used_ports[key]
            holders.pop(slot, None)
            if not holders:
                del self.used_ports[key]
