"""Defaults of storage.k8s.io/v1 (pkg/apis/storage/v1 in 1.32).

StorageClass: reclaim policy Delete, binding mode Immediate. CSIDriver: attach
required, no pod info on mount, no storage capacity, fsGroup policy
ReadWriteOnceWithFSType, Persistent lifecycle only, no republish, and `seLinuxMount:
false` (the SELinuxMountReadWriteOncePod gate is beta and on in 1.32).

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    set_if_absent,
    set_if_zero,
    struct,
)


def _storage_class(storage_class: JSONObject) -> None:
    set_if_absent(storage_class, "reclaimPolicy", "Delete")
    set_if_absent(storage_class, "volumeBindingMode", "Immediate")


def _csi_driver(driver: JSONObject) -> None:
    spec = struct(driver, "spec")
    if spec is None:
        return
    set_if_absent(spec, "attachRequired", True)
    set_if_absent(spec, "podInfoOnMount", False)
    set_if_absent(spec, "storageCapacity", False)
    set_if_absent(spec, "fsGroupPolicy", "ReadWriteOnceWithFSType")
    set_if_zero(spec, "volumeLifecycleModes", ["Persistent"])
    set_if_absent(spec, "requiresRepublish", False)
    set_if_absent(spec, "seLinuxMount", False)


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("storage.k8s.io", "v1", "StorageClass"): _storage_class,
    ("storage.k8s.io", "v1", "CSIDriver"): _csi_driver,
}
