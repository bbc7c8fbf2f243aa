"""Admission: checks and mutations of a create or update after defaulting, before
validation (`Registry.admit`), as kube-apiserver's admission plugins.

An admission plugin is `async (obj, old) -> None` (old is None on create): it may
mutate `obj` and raises `StatusError` (403 Forbidden as Kubernetes words it) to refuse
the write. Plugins run in order; the first refusal wins and nothing is stored.

- `PriorityAdmission` (Kubernetes' `Priority` plugin): on pod create, resolves
  `spec.priorityClassName` to `spec.priority` and `spec.preemptionPolicy` (a pod without
  a class gets the globalDefault class with the highest value, else priority 0); a
  missing class or a conflicting priority / preemptionPolicy in the pod is 403; on
  update both fields keep their stored values.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from kybernetes.store import Store

from . import status
from .stored import StoredObject, collection_prefix, object_key
from .watchcache import WatchCache

Object = dict[str, Any]
Admit = Callable[[Object, Object | None], Awaitable[None]]


class PriorityAdmission:
    """See the module docstring; reads PriorityClasses from the watch cache, falling
    back to the store for one created a moment ago."""

    def __init__(self, store: Store, cache: WatchCache) -> None:
        self.store = store
        self.cache = cache

    async def __call__(self, obj: Object, old: Object | None) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return  # validation rejects it
        if old is not None:
            old_spec = old.get("spec") or {}
            for field in ("priority", "preemptionPolicy"):
                if field in old_spec:
                    spec[field] = old_spec[field]
                else:
                    spec.pop(field, None)
            return
        name = (obj.get("metadata") or {}).get("name") or ""
        class_name = spec.get("priorityClassName")
        if class_name:
            priority_class = await self._get(class_name)
            if priority_class is None:
                raise self._forbidden(name, f"no PriorityClass with name {class_name} was found")
        else:
            priority_class = self._global_default()
            if priority_class is not None:
                spec["priorityClassName"] = priority_class["metadata"]["name"]
        value = int(priority_class.get("value") or 0) if priority_class else 0
        given = spec.get("priority")
        if given is not None and given != value:
            raise self._forbidden(
                name,
                f"the integer value of priority ({given}) must not be provided in pod spec; "
                f"priority admission controller computed {value} from the given PriorityClass "
                "name",
            )
        spec["priority"] = value
        policy = priority_class.get("preemptionPolicy") if priority_class else None
        if policy:
            given_policy = spec.get("preemptionPolicy")
            if given_policy is not None and given_policy != policy:
                raise self._forbidden(
                    name,
                    f"the string value of PreemptionPolicy ({given_policy}) must not be "
                    f"provided in pod spec; priority admission controller computed {policy} "
                    "from the given PriorityClass name",
                )
            spec["preemptionPolicy"] = policy

    @staticmethod
    def _forbidden(name: str, message: str) -> status.StatusError:
        return status.forbidden("pods", name, message, "")

    async def _get(self, class_name: str) -> Object | None:
        key = object_key("priorityclasses", "", class_name)
        found = self.cache.get(key)
        if found is None:
            kv = await self.store.get(key)
            if kv is None:
                return None
            found = StoredObject.from_kv(kv)
        return found.obj

    def _global_default(self) -> Object | None:
        best: Object | None = None
        for stored in self.cache.list(collection_prefix("priorityclasses"), namespaced=False):
            pc = stored.obj
            if pc.get("globalDefault") and (best is None or pc["value"] > best["value"]):
                best = pc
        return best
