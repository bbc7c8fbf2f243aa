"""Scheduling constraints: tolerations, node taints, affinity, topology spread constraints.

The counterpart of `ValidateTolerations`, `validateNodeTaints`, `validateAffinity` and
`validateTopologySpreadConstraints` of `pkg/apis/core/validation` (Kubernetes 1.32),
for new objects (invalid label values in required node affinity are refused).

Invariants: pure functions; errors in Kubernetes' order and wording.
"""

from __future__ import annotations

import dataclasses
from typing import Final

from kybernetes.api.validation.common import (
    IS_NOT_POSITIVE,
    Errors,
    Obj,
    child,
    children,
    optional_child,
    optional_number,
    text,
    texts,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.metadata import validate_label_name, validate_label_selector
from kybernetes.api.validation.names import (
    is_valid_label_value,
    name_is_dns_label,
    name_is_dns_subdomain,
)

TAINT_EFFECTS: Final = ("NoSchedule", "PreferNoSchedule", "NoExecute")
_WHEN_UNSATISFIABLE: Final = ("DoNotSchedule", "ScheduleAnyway")
_INCLUSION_POLICIES: Final = ("Honor", "Ignore")
_WEIGHT_RANGE: Final = "must be in the range 1-100"


def taint_effect(effect: str, allow_empty: bool, path: FieldPath) -> Errors:
    """One of NoSchedule, PreferNoSchedule, NoExecute (empty allowed in tolerations)."""
    if not allow_empty and not effect:
        return [required(path)]
    return [] if effect in TAINT_EFFECTS else [not_supported(path, effect, TAINT_EFFECTS)]


def validate_tolerations(tolerations: list[Obj], path: FieldPath) -> Errors:
    """Pod tolerations: a key or Exists, a value fitting the operator, a known effect."""
    errors: Errors = []
    for index, toleration in enumerate(tolerations):
        entry = path.index(index)
        key, operator = text(toleration, "key"), text(toleration, "operator")
        value, effect = text(toleration, "value"), text(toleration, "effect")
        if key:
            errors += validate_label_name(key, entry.child("key"))
        if not key and operator != "Exists":
            detail = (
                "operator must be Exists when `key` is empty, which means "
                '"match all values and all keys"'
            )
            errors.append(invalid(entry.child("operator"), operator, detail))
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            detail = "effect must be 'NoExecute' when `tolerationSeconds` is set"
            errors.append(invalid(entry.child("effect"), effect, detail))
        if operator in ("Equal", ""):
            if messages := is_valid_label_value(value):
                errors.append(invalid(entry.child("operator"), value, ";".join(messages)))
        elif operator == "Exists":
            if value:
                detail = "value must be empty when `operator` is 'Exists'"
                errors.append(invalid(entry.child("operator"), value, detail))
        else:
            errors.append(not_supported(entry.child("operator"), operator, ["Equal", "Exists"]))
        if effect:
            errors += taint_effect(effect, True, entry.child("effect"))
    return errors


def validate_taints(taints: list[Obj], path: FieldPath) -> Errors:
    """Node taints: label-like key and value, a known effect, unique (key, effect) pairs."""
    errors: Errors = []
    seen: set[tuple[str, str]] = set()
    for index, taint in enumerate(taints):
        entry = path.index(index)
        key, value, effect = text(taint, "key"), text(taint, "value"), text(taint, "effect")
        errors += validate_label_name(key, entry.child("key"))
        if messages := is_valid_label_value(value):
            errors.append(invalid(entry.child("value"), value, ";".join(messages)))
        errors += taint_effect(effect, False, entry.child("effect"))
        if (key, effect) in seen:
            error = duplicate(entry, dict(taint))
            errors.append(
                dataclasses.replace(error, detail="taints must be unique by key and effect pair")
            )
            continue
        seen.add((key, effect))
    return errors


# ---------------------------------------------------------------------------
# Node affinity


def _node_selector_requirement(requirement: Obj, path: FieldPath, check_values: bool) -> Errors:
    operator, values = text(requirement, "operator"), texts(requirement, "values")
    errors: Errors = []
    if operator in ("In", "NotIn"):
        if not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errors.append(required(path.child("values"), detail))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errors.append(forbidden(path.child("values"), detail))
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            detail = "must be specified single value when `operator` is 'Lt' or 'Gt'"
            errors.append(required(path.child("values"), detail))
    else:
        errors.append(invalid(path.child("operator"), operator, "not a valid selector operator"))
    errors += validate_label_name(text(requirement, "key"), path.child("key"))
    if check_values:
        for index, value in enumerate(values):
            errors += [
                invalid(path.child("values").index(index), value, msg)
                for msg in is_valid_label_value(value)
            ]
    return errors


def _node_field_requirement(requirement: Obj, path: FieldPath) -> Errors:
    operator, values = text(requirement, "operator"), texts(requirement, "values")
    errors: Errors = []
    if operator in ("In", "NotIn"):
        if len(values) != 1:
            detail = (
                "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"
            )
            errors.append(required(path.child("values"), detail))
    else:
        errors.append(invalid(path.child("operator"), operator, "not a valid selector operator"))
    key = text(requirement, "key")
    if key != "metadata.name":
        errors.append(invalid(path.child("key"), key, "not a valid field selector key"))
    else:
        for index, value in enumerate(values):
            errors += [
                invalid(path.child("values").index(index), value, msg)
                for msg in name_is_dns_subdomain(value, False)
            ]
    return errors


def validate_node_selector_term(term: Obj, check_values: bool, path: FieldPath) -> Errors:
    """One term of a node selector: label expressions and field expressions."""
    errors: Errors = []
    for index, requirement in enumerate(children(term, "matchExpressions")):
        requirement_path = path.child("matchExpressions").index(index)
        errors += _node_selector_requirement(requirement, requirement_path, check_values)
    for index, requirement in enumerate(children(term, "matchFields")):
        errors += _node_field_requirement(requirement, path.child("matchFields").index(index))
    return errors


def _node_affinity(affinity: Obj, path: FieldPath) -> Errors:
    errors: Errors = []
    required_selector = optional_child(affinity, "requiredDuringSchedulingIgnoredDuringExecution")
    if required_selector is not None:
        terms_path = path.child(
            "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"
        )
        terms = children(required_selector, "nodeSelectorTerms")
        if not terms:
            errors.append(required(terms_path, "must have at least one node selector term"))
        for index, term in enumerate(terms):
            errors += validate_node_selector_term(term, True, terms_path.index(index))
    preferred_path = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for index, term in enumerate(
        children(affinity, "preferredDuringSchedulingIgnoredDuringExecution")
    ):
        weight = optional_number(term, "weight") or 0
        if not 0 < weight <= 100:
            errors.append(
                invalid(preferred_path.index(index).child("weight"), weight, _WEIGHT_RANGE)
            )
        preference_path = preferred_path.index(index).child("preference")
        errors += validate_node_selector_term(child(term, "preference"), False, preference_path)
    return errors


# ---------------------------------------------------------------------------
# Pod affinity


def _label_keys(keys: list[str], selector: Obj | None, path: FieldPath) -> Errors:
    if not keys:
        return []
    if selector is None:
        return [forbidden(path, "must not be specified when labelSelector is not set")]
    errors: Errors = []
    for index, key in enumerate(keys):
        errors += validate_label_name(key, path.index(index))
    return errors


def _pod_affinity_term(term: Obj, path: FieldPath) -> Errors:
    selector = optional_child(term, "labelSelector")
    errors = validate_label_selector(selector, path.child("labelSelector"))
    errors += validate_label_selector(
        optional_child(term, "namespaceSelector"), path.child("namespaceSelector")
    )
    for namespace in texts(term, "namespaces"):
        errors += [
            invalid(path.child("namespace"), namespace, m)
            for m in name_is_dns_label(namespace, False)
        ]
    match_keys, mismatch_keys = texts(term, "matchLabelKeys"), texts(term, "mismatchLabelKeys")
    errors += _label_keys(match_keys, selector, path.child("matchLabelKeys"))
    errors += _label_keys(mismatch_keys, selector, path.child("mismatchLabelKeys"))
    if selector is not None:
        positions = {key: index for index, key in enumerate(match_keys)}
        selector_keys = set(child(selector, "matchLabels"))
        for expression in children(selector, "matchExpressions"):
            key = text(expression, "key")
            if key in positions and key in selector_keys:
                detail = "exists in both matchLabelKeys and labelSelector"
                errors.append(invalid(path.index(positions[key]), key, detail))
            selector_keys.add(key)
    for index, key in enumerate(match_keys):
        if key in mismatch_keys:
            detail = "exists in both matchLabelKeys and mismatchLabelKeys"
            errors.append(invalid(path.child("matchLabelKeys").index(index), key, detail))
    topology_key = text(term, "topologyKey")
    if not topology_key:
        errors.append(required(path.child("topologyKey"), "can not be empty"))
    return errors + validate_label_name(topology_key, path.child("topologyKey"))


def _pod_affinity(affinity: Obj, path: FieldPath) -> Errors:
    errors: Errors = []
    required_path = path.child("requiredDuringSchedulingIgnoredDuringExecution")
    for index, term in enumerate(
        children(affinity, "requiredDuringSchedulingIgnoredDuringExecution")
    ):
        errors += _pod_affinity_term(term, required_path.index(index))
    preferred_path = path.child("preferredDuringSchedulingIgnoredDuringExecution")
    for index, weighted in enumerate(
        children(affinity, "preferredDuringSchedulingIgnoredDuringExecution")
    ):
        weight = optional_number(weighted, "weight") or 0
        if not 0 < weight <= 100:
            errors.append(
                invalid(preferred_path.index(index).child("weight"), weight, _WEIGHT_RANGE)
            )
        term_path = preferred_path.index(index).child("podAffinityTerm")
        errors += _pod_affinity_term(child(weighted, "podAffinityTerm"), term_path)
    return errors


def validate_affinity(affinity: Obj | None, path: FieldPath) -> Errors:
    """`spec.affinity`: node affinity, pod affinity and pod anti-affinity."""
    if affinity is None:
        return []
    errors: Errors = []
    if (node := optional_child(affinity, "nodeAffinity")) is not None:
        errors += _node_affinity(node, path.child("nodeAffinity"))
    for kind in ("podAffinity", "podAntiAffinity"):
        if (pod := optional_child(affinity, kind)) is not None:
            errors += _pod_affinity(pod, path.child(kind))
    return errors


# ---------------------------------------------------------------------------
# Topology spread constraints


def validate_topology_spread(constraints: list[Obj], path: FieldPath) -> Errors:
    """`spec.topologySpreadConstraints` (`validateTopologySpreadConstraints`)."""
    errors: Errors = []
    for index, constraint in enumerate(constraints):
        entry = path.index(index)
        max_skew = optional_number(constraint, "maxSkew") or 0
        key, action = text(constraint, "topologyKey"), text(constraint, "whenUnsatisfiable")
        if max_skew <= 0:
            errors.append(invalid(entry.child("maxSkew"), max_skew, IS_NOT_POSITIVE))
        if not key:
            errors.append(required(entry.child("topologyKey"), "can not be empty"))
        if action not in _WHEN_UNSATISFIABLE:
            errors.append(
                not_supported(entry.child("whenUnsatisfiable"), action, _WHEN_UNSATISFIABLE)
            )
        if any(
            text(other, "topologyKey") == key and text(other, "whenUnsatisfiable") == action
            for other in constraints[index + 1 :]
        ):
            errors.append(
                duplicate(entry.child("{topologyKey, whenUnsatisfiable}"), f"{{{key}, {action}}}")
            )
        min_domains = optional_number(constraint, "minDomains")
        if min_domains is not None:
            if min_domains <= 0:
                errors.append(invalid(entry.child("minDomains"), min_domains, IS_NOT_POSITIVE))
            if action != "DoNotSchedule":
                detail = f"can only use minDomains if whenUnsatisfiable=DoNotSchedule, not {action}"
                errors.append(invalid(entry.child("minDomains"), min_domains, detail))
        for policy_key in ("nodeAffinityPolicy", "nodeTaintsPolicy"):
            policy = constraint.get(policy_key)
            if isinstance(policy, str) and policy not in _INCLUSION_POLICIES:
                errors.append(not_supported(entry.child(policy_key), policy, _INCLUSION_POLICIES))
        selector = optional_child(constraint, "labelSelector")
        errors += _spread_match_label_keys(texts(constraint, "matchLabelKeys"), selector, entry)
        errors += validate_label_selector(selector, entry.child("labelSelector"))
    return errors


def _spread_match_label_keys(keys: list[str], selector: Obj | None, entry: FieldPath) -> Errors:
    if not keys:
        return []
    path = entry.child("matchLabelKeys")
    errors: Errors = []
    selector_keys: set[str] = set()
    if selector is None:
        errors.append(forbidden(path, "must not be specified when labelSelector is not set"))
    else:
        selector_keys = set(child(selector, "matchLabels"))
        selector_keys |= {text(e, "key") for e in children(selector, "matchExpressions")}
    for index, key in enumerate(keys):
        errors += validate_label_name(key, path.index(index))
        if key in selector_keys:
            detail = "exists in both matchLabelKeys and labelSelector"
            errors.append(invalid(path.index(index), key, detail))
    return errors
