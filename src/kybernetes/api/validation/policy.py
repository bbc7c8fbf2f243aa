"""Policy objects: PodDisruptionBudgets, PriorityClasses, RBAC roles and bindings, Leases.

The counterparts of `pkg/apis/policy/validation`, `pkg/apis/scheduling/validation`,
`pkg/apis/rbac/validation` and `pkg/apis/coordination/validation` (Kubernetes 1.32).
A disruption budget sets `minAvailable` or `maxUnavailable`, not both; a user priority
class is at most one billion and names starting `system-` are reserved; a binding's
`roleRef` never changes and its subjects are users, groups or service accounts.

Invariants: pure functions.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    as_selector,
    child,
    children,
    immutable,
    not_more_than_100_percent,
    number,
    optional_child,
    optional_number,
    positive_int_or_percent,
    pruned,
    qualified_name,
    text,
    texts,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.metadata import validate_label_selector
from kybernetes.api.validation.names import name_is_dns_subdomain
from kybernetes.api.validation.podspec import validate_preemption_policy

RBAC_GROUP: Final = "rbac.authorization.k8s.io"
HIGHEST_USER_PRIORITY: Final = 1_000_000_000
SYSTEM_PRIORITY_CLASSES: Final = {
    "system-node-critical": 2 * HIGHEST_USER_PRIORITY + 1000,
    "system-cluster-critical": 2 * HIGHEST_USER_PRIORITY,
}
_EVICTION_POLICIES: Final = ("AlwaysAllow", "IfHealthyBudget")
_SPEC: Final = FieldPath("spec")


def validate_pod_disruption_budget(budget: Obj) -> Errors:
    """A PodDisruptionBudget (`ValidatePodDisruptionBudgetSpec`)."""
    spec = child(budget, "spec")
    errors: Errors = []
    if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
        detail = "minAvailable and maxUnavailable cannot be both set"
        errors.append(invalid(_SPEC, dict(spec), detail))
    for key in ("minAvailable", "maxUnavailable"):
        if (value := spec.get(key)) is not None:
            errors += positive_int_or_percent(value, _SPEC.child(key))
            errors += not_more_than_100_percent(value, _SPEC.child(key))
    errors += validate_label_selector(optional_child(spec, "selector"), _SPEC.child("selector"))
    policy = spec.get("unhealthyPodEvictionPolicy")
    if isinstance(policy, str) and policy not in _EVICTION_POLICIES:
        path = _SPEC.child("unhealthyPodEvictionPolicy")
        errors.append(not_supported(path, policy, _EVICTION_POLICIES))
    return errors


def validate_pod_disruption_budget_status(budget: Obj) -> Errors:
    """Status counters of a PodDisruptionBudget are non-negative."""
    status, path = child(budget, "status"), FieldPath("status")
    errors: Errors = []
    for key in ("disruptionsAllowed", "currentHealthy", "desiredHealthy", "expectedPods"):
        if (value := number(status, key)) < 0:
            errors.append(invalid(path.child(key), value, "must be greater than or equal to 0"))
    return errors


def validate_priority_class(priority_class: Obj) -> Errors:
    """A PriorityClass: reserved system names, the user priority ceiling."""
    name = text(child(priority_class, "metadata"), "name")
    value = number(priority_class, "value")
    errors: Errors = []
    if name.startswith("system-"):
        reason = ""
        if name not in SYSTEM_PRIORITY_CLASSES:
            reason = f"{name} is not a known system priority class"
        elif value != SYSTEM_PRIORITY_CLASSES[name]:
            reason = f"value of {name} PriorityClass must be {SYSTEM_PRIORITY_CLASSES[name]}"
        elif priority_class.get("globalDefault") is True:
            reason = f"globalDefault of {name} PriorityClass must be false"
        if reason:
            detail = (
                "priority class names with 'system-' prefix are reserved for system use only. "
                f"error: {reason}"
            )
            errors.append(forbidden(FieldPath("metadata", "name"), detail))
    elif value > HIGHEST_USER_PRIORITY:
        detail = f"maximum allowed value of a user defined priority is {HIGHEST_USER_PRIORITY}"
        errors.append(forbidden(FieldPath("value"), detail))
    if isinstance(policy := priority_class.get("preemptionPolicy"), str):
        errors += validate_preemption_policy(policy, FieldPath("preemptionPolicy"))
    return errors


def validate_priority_class_update(new: Obj, old: Obj) -> Errors:
    """A PriorityClass update: value and preemption policy never change."""
    errors: Errors = []
    if number(new, "value") != number(old, "value"):
        errors.append(forbidden(FieldPath("value"), "may not be changed in an update."))
    new_policy, old_policy = new.get("preemptionPolicy"), old.get("preemptionPolicy")
    return errors + immutable(new_policy, old_policy, FieldPath("preemptionPolicy"))


# ---------------------------------------------------------------------------
# RBAC


def rbac_name_errors(name: str) -> list[str]:
    """RBAC names are path segments (`path.IsValidPathSegmentName`)."""
    if name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]


def _policy_rule(rule: Obj, namespaced: bool, path: FieldPath) -> Errors:
    errors: Errors = []
    if not texts(rule, "verbs"):
        errors.append(required(path.child("verbs"), "verbs must contain at least one value"))
    urls = texts(rule, "nonResourceURLs")
    if urls:
        urls_path = path.child("nonResourceURLs")
        if namespaced:
            detail = "namespaced rules cannot apply to non-resource URLs"
            errors.append(invalid(urls_path, urls, detail))
        if any(texts(rule, key) for key in ("apiGroups", "resources", "resourceNames")):
            detail = "rules cannot apply to both regular resources and non-resource URLs"
            errors.append(invalid(urls_path, urls, detail))
        return errors
    if not texts(rule, "apiGroups"):
        detail = "resource rules must supply at least one api group"
        errors.append(required(path.child("apiGroups"), detail))
    if not texts(rule, "resources"):
        detail = "resource rules must supply at least one resource"
        errors.append(required(path.child("resources"), detail))
    return errors


def validate_role(role: Obj, namespaced: bool) -> Errors:
    """A Role (`namespaced`) or ClusterRole: its rules and aggregation rule."""
    errors: Errors = []
    for index, rule in enumerate(children(role, "rules")):
        errors += _policy_rule(rule, namespaced, FieldPath("rules").index(index))
    aggregation = optional_child(role, "aggregationRule")
    if not namespaced and aggregation is not None:
        selectors = children(aggregation, "clusterRoleSelectors")
        path = FieldPath("aggregationRule", "clusterRoleSelectors")
        if not selectors:
            detail = "at least one clusterRoleSelector required if aggregationRule is non-nil"
            errors.append(required(path, detail))
        for index, selector in enumerate(selectors):
            errors += validate_label_selector(selector, path.index(index))
            if as_selector(selector) is None:
                errors.append(invalid(path.index(index), dict(selector), "invalid label selector."))
    return errors


def _subject(subject: Obj, namespaced: bool, path: FieldPath) -> Errors:
    name, kind, group = text(subject, "name"), text(subject, "kind"), text(subject, "apiGroup")
    errors = [] if name else [required(path.child("name"))]
    if kind == "ServiceAccount":
        if name:
            errors += [
                invalid(path.child("name"), name, m) for m in name_is_dns_subdomain(name, False)
            ]
        if group:
            errors.append(not_supported(path.child("apiGroup"), group, [""]))
        if not namespaced and not text(subject, "namespace"):
            errors.append(required(path.child("namespace")))
    elif kind in ("User", "Group"):
        if not name:
            detail = f"{kind.lower()} name cannot be empty"
            errors.append(invalid(path.child("name"), name, detail))
        if group != RBAC_GROUP:
            errors.append(not_supported(path.child("apiGroup"), group, [RBAC_GROUP]))
    else:
        supported = ["ServiceAccount", "User", "Group"]
        errors.append(not_supported(path.child("kind"), kind, supported))
    return errors


def validate_role_binding(binding: Obj, namespaced: bool) -> Errors:
    """A RoleBinding (`namespaced`) or ClusterRoleBinding: its roleRef and subjects."""
    ref, path = child(binding, "roleRef"), FieldPath("roleRef")
    errors: Errors = []
    if (group := text(ref, "apiGroup")) != RBAC_GROUP:
        errors.append(not_supported(path.child("apiGroup"), group, [RBAC_GROUP]))
    kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if (kind := text(ref, "kind")) not in kinds:
        errors.append(not_supported(path.child("kind"), kind, kinds))
    name = text(ref, "name")
    if not name:
        errors.append(required(path.child("name")))
    errors += [invalid(path.child("name"), name, msg) for msg in rbac_name_errors(name)]
    for index, subject in enumerate(children(binding, "subjects")):
        errors += _subject(subject, namespaced, FieldPath("subjects").index(index))
    return errors


def validate_role_binding_update(new: Obj, old: Obj, namespaced: bool) -> Errors:
    """A binding update: the roleRef is fixed (`cannot change roleRef`)."""
    errors = validate_role_binding(new, namespaced)
    new_ref, old_ref = child(new, "roleRef"), child(old, "roleRef")
    if pruned(new_ref) != pruned(old_ref):
        errors.append(invalid(FieldPath("roleRef"), dict(new_ref), "cannot change roleRef"))
    return errors


# ---------------------------------------------------------------------------
# Leases


def validate_lease(lease: Obj) -> Errors:
    """A Lease: a positive duration, non-negative transitions, a known strategy."""
    spec = child(lease, "spec")
    errors: Errors = []
    duration = optional_number(spec, "leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errors.append(
            invalid(_SPEC.child("leaseDurationSeconds"), duration, "must be greater than 0")
        )
    transitions = optional_number(spec, "leaseTransitions")
    if transitions is not None and transitions < 0:
        detail = "must be greater than or equal to 0"
        errors.append(invalid(_SPEC.child("leaseTransitions"), transitions, detail))
    strategy = spec.get("strategy")
    if isinstance(strategy, str):
        strategy_path = _SPEC.child("strategy")
        if "/" in strategy:
            errors += qualified_name(strategy, strategy_path)
        elif strategy != "OldestEmulationVersion":
            errors.append(not_supported(strategy_path, strategy, ["OldestEmulationVersion"]))
    if text(spec, "preferredHolder") and not strategy:
        detail = "may only be specified if `strategy` is defined"
        errors.append(forbidden(_SPEC.child("preferredHolder"), detail))
    return errors
