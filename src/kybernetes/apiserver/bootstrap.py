"""Objects every cluster has from the start: the system namespaces and the system
PriorityClasses (system-node-critical, system-cluster-critical).

Idempotent: run on every start of the API server; objects that exist are left as
they are.
"""

from __future__ import annotations

from kybernetes.api.validation.policy import SYSTEM_PRIORITY_CLASSES

from .decoding import decode
from .registry import Registry
from .rest import API
from .status import StatusError
from .stored import Object

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_system_namespaces(api: API) -> None:
    """Creates the system namespaces and PriorityClasses that do not exist yet."""
    namespaces = api.registry_for("", "v1", "namespaces")
    for name in SYSTEM_NAMESPACES:
        namespace: Object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        await _ensure(namespaces, namespace)
    classes = api.registry_for("scheduling.k8s.io", "v1", "priorityclasses")
    for name, value in SYSTEM_PRIORITY_CLASSES.items():
        priority_class: Object = {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name},
            "value": value,
            "description": "Used for system critical pods that must not be moved from their "
            "current node."
            if name == "system-node-critical"
            else "Used for system critical pods that must run in the cluster, but can be "
            "moved to another node if necessary.",
        }
        await _ensure(classes, priority_class)


async def _ensure(registry: Registry, obj: Object) -> None:
    decode(registry, obj, "Strict")
    try:
        await registry.create("", obj)
    except StatusError as e:
        if e.code != 409:
            raise
