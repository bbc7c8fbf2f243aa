"""Defaults of scheduling.k8s.io/v1 (pkg/apis/scheduling/v1 in 1.32).

A PriorityClass preempts lower priorities unless told otherwise.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import Defaulter, JSONObject, set_if_absent


def _priority_class(priority_class: JSONObject) -> None:
    set_if_absent(priority_class, "preemptionPolicy", "PreemptLowerPriority")


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("scheduling.k8s.io", "v1", "PriorityClass"): _priority_class,
}
