"""Subresources with their own semantics: `pods/binding`, `pods/eviction`, `*/scale`.

`POST pods/NAME/binding` with a `Binding` assigns a pending pod to a node, as the
scheduler does: it sets `spec.nodeName` and the `PodScheduled=True` condition in one
write, and fails with 409 if the pod is already assigned or being deleted.

`deployments/scale` (and the other scalable kinds) read and write the object's
`spec.replicas` through an `autoscaling/v1 Scale`, whose `status.selector` is the
object's label selector as a string.
"""

from __future__ import annotations

from typing import Any

from kybernetes.api.selectors import label_selector_as_selector

from . import status
from .registry import DeleteOptions, Registry, now_rfc3339
from .stored import Object, StoredObject

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


def to_scale(registry: Registry, obj: StoredObject) -> Object:
    """The `autoscaling/v1 Scale` view of a scalable object (`.../scale` GET)."""
    meta = obj.metadata
    spec = obj.obj.get("spec") or {}
    status_part = obj.obj.get("status") or {}
    selector = spec.get("selector") or {}
    if registry.info.kind == "ReplicationController":
        selector_text = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    else:
        selector_text = str(label_selector_as_selector(selector)) if selector else ""
    scale_meta = {
        key: meta[key]
        for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        if key in meta
    }
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": scale_meta,
        "spec": {"replicas": spec.get("replicas", 0)},
        "status": {"replicas": status_part.get("replicas", 0), "selector": selector_text},
    }


def scaled(registry: Registry, scale: Object, current: Object) -> Object:
    """`current` with the replicas a Scale asks for; 422 for a negative count."""
    replicas = (scale.get("spec") or {}).get("replicas", 0)
    if not isinstance(replicas, int) or replicas < 0:
        raise status.invalid(
            "Scale",
            current["metadata"].get("name", ""),
            [
                status.StatusCause(
                    "FieldValueInvalid",
                    f"Invalid value: {replicas}: must be greater than or equal to 0",
                    "spec.replicas",
                )
            ],
            "autoscaling",
        )
    pinned = (scale.get("metadata") or {}).get("resourceVersion")
    current.setdefault("spec", {})["replicas"] = replicas
    if pinned:
        current["metadata"]["resourceVersion"] = pinned
    else:
        current["metadata"].pop("resourceVersion", None)
    return current


async def evict(
    pods: Registry, budgets: Registry, namespace: str, name: str, eviction: Object
) -> None:
    """`pods/eviction`: deletes the pod unless a PodDisruptionBudget forbids it (429).

    As kube-apiserver: a pod that is terminal, pending or already terminating ignores
    budgets; one covered by several budgets is refused (500); otherwise the budget's
    `status.disruptionsAllowed` must be positive and is decremented (with the pod in
    `status.disruptedPods`) before the pod is deleted with the eviction's options.
    """
    pod = await pods.get(namespace, name)
    options = eviction.get("deleteOptions") or {}
    if not _ignores_budgets(pod.obj):
        matching = [
            b
            for b in budgets.cached(namespace)
            if label_selector_as_selector((b.obj.get("spec") or {}).get("selector")).matches(
                pod.labels
            )
        ]
        if len(matching) > 1:
            raise status.internal_error(
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support."
            )
        if matching:
            await _spend_disruption(budgets, namespace, matching[0].name, name)
    preconditions = options.get("preconditions") or {}
    await pods.delete(
        namespace,
        name,
        DeleteOptions(
            grace_period_seconds=options.get("gracePeriodSeconds"),
            propagation_policy=options.get("propagationPolicy"),
            precondition_uid=preconditions.get("uid"),
            precondition_resource_version=preconditions.get("resourceVersion"),
        ),
    )


def _ignores_budgets(pod: Object) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Succeeded", "Failed", "Pending") or bool(
        pod["metadata"].get("deletionTimestamp")
    )


async def _spend_disruption(budgets: Registry, namespace: str, budget: str, pod: str) -> None:
    def spend(pdb: Object) -> Object:
        state = pdb.setdefault("status", {})
        allowed = int(state.get("disruptionsAllowed", 0))
        observed = state.get("observedGeneration", 0)
        if observed < pdb["metadata"].get("generation", 1) or allowed <= 0:
            current = state.get("currentHealthy", 0)
            desired = state.get("desiredHealthy", 0)
            raise status.StatusError(
                429,
                "TooManyRequests",
                "Cannot evict pod as it would violate the pod's disruption budget.",
                {
                    "causes": [
                        {
                            "reason": "DisruptionBudget",
                            "message": f"The disruption budget {budget} needs {desired} "
                            f"healthy pods and has {current} currently",
                        }
                    ]
                },
            )
        state["disruptionsAllowed"] = allowed - 1
        state.setdefault("disruptedPods", {})[pod] = now_rfc3339()
        return pdb

    await budgets.update(namespace, budget, spend, subresource="status")
