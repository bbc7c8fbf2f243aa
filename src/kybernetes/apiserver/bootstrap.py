"""Objects every cluster has from the start: the system namespaces.

Idempotent: run on every start of the API server; objects that exist are left as
they are.
"""

from __future__ import annotations

from .decoding import decode
from .rest import API
from .status import StatusError
from .stored import Object

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


async def ensure_system_namespaces(api: API) -> None:
    registry = api.registry_for("", "v1", "namespaces")
    for name in SYSTEM_NAMESPACES:
        namespace: Object = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        decode(registry, namespace, "Strict")
        try:
            await registry.create("", namespace)
        except StatusError as e:
            if e.code != 409:
                raise
