"""Defaults of the rbac.authorization.k8s.io/v1 kinds (pkg/apis/rbac/v1 in 1.32).

A binding's `roleRef.apiGroup` and its subjects' `apiGroup` (by subject kind: the RBAC
group for User and Group, `""` for ServiceAccount) are filled when empty.

Invariants: in place, fills only unset fields, idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import Defaulter, JSONObject, items, set_if_zero, struct

GROUP: Final = "rbac.authorization.k8s.io"
# Subject kinds whose empty apiGroup means the RBAC group (a ServiceAccount's stays "").
_RBAC_SUBJECT_KINDS: Final = frozenset({"User", "Group"})


def _binding(binding: JSONObject) -> None:
    if (role_ref := struct(binding, "roleRef")) is not None:
        set_if_zero(role_ref, "apiGroup", GROUP)
    for subject in items(binding, "subjects"):
        if subject.get("kind") in _RBAC_SUBJECT_KINDS:
            set_if_zero(subject, "apiGroup", GROUP)


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    (GROUP, "v1", "RoleBinding"): _binding,
    (GROUP, "v1", "ClusterRoleBinding"): _binding,
}
