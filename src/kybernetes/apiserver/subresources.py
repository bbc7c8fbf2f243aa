"""Subresources with their own semantics: `pods/binding`.

`POST pods/NAME/binding` with a `Binding` assigns a pending pod to a node, as the
scheduler does: it sets `spec.nodeName` and the `PodScheduled=True` condition in one
write, and fails with 409 if the pod is already assigned or being deleted.
"""

from __future__ import annotations

from typing import Any

from . import status
from .registry import Registry, now_rfc3339
from .stored import Object

SUCCESS_CREATED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Success",
    "code": 201,
}


async def bind(registry: Registry, namespace: str, name: str, binding: Object) -> None:
    """Assigns the pod to `binding.target.name`; 409/422/404 as kube-apiserver."""
    target: dict[str, Any] = binding.get("target") or {}
    node = target.get("name") or ""
    if not node:
        raise status.invalid(
            "Binding",
            name,
            [status.StatusCause("FieldValueRequired", "Required value", "target.name")],
        )
    meta = binding.get("metadata") or {}
    if meta.get("name") not in (None, "", name):
        raise status.bad_request(
            f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
        )

    def assign(pod: Object) -> Object:
        spec = pod.setdefault("spec", {})
        if pod["metadata"].get("deletionTimestamp"):
            raise _binding_conflict(
                name, f"pod {name} is being deleted, cannot be assigned to a host"
            )
        if spec.get("nodeName"):
            raise _binding_conflict(
                name, f'pod {name} is already assigned to node "{spec["nodeName"]}"'
            )
        spec["nodeName"] = node
        conditions = [
            c
            for c in (pod.setdefault("status", {}).get("conditions") or [])
            if c.get("type") != "PodScheduled"
        ]
        conditions.append(
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now_rfc3339(),
            }
        )
        pod["status"]["conditions"] = conditions
        return pod

    await registry.update(namespace, name, assign, subresource="binding")


def _binding_conflict(name: str, reason: str) -> status.StatusError:
    return status.conflict("pods/binding", name, reason)
