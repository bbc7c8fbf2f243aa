"""Cluster-wide resources: Nodes, LimitRanges and ResourceQuotas.

The counterpart of `ValidateNode`, `ValidateNodeUpdate`, `ValidateLimitRange` and
`ValidateResourceQuota` / `ValidateResourceQuotaUpdate` of `pkg/apis/core/validation`
(Kubernetes 1.32). A node's pod CIDRs are valid, one per IP family, and fixed once set;
its taints are unique per key and effect (reported under `metadata.taints`, as
Kubernetes reports them). A limit range keeps min <= default request <= default <= max.

`spec.podCIDR` and `spec.podCIDRs` are read together, as v1-to-internal conversion does.

Invariants: pure functions.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.quantity import Quantity
from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    children,
    cidr,
    is_dual_stack,
    parse_cidr_ip,
    pruned,
    text,
    texts,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    required,
)
from kybernetes.api.validation.metadata import FIELD_IMMUTABLE
from kybernetes.api.validation.names import is_qualified_name
from kybernetes.api.validation.resources import (
    is_standard_quota_resource,
    overcommit_allowed,
    quantities,
    validate_container_resource_name,
    validate_quantity_value,
    validate_quota_resource_name,
    validate_resource_list,
    validate_resource_name,
)
from kybernetes.api.validation.scheduling import validate_taints

_LIMIT_TYPES: Final = frozenset({"Pod", "Container", "PersistentVolumeClaim"})
_SCOPES: Final = frozenset(
    {"Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
     "CrossNamespacePodAffinity"}
)  # fmt: skip
_EXISTS_ONLY: Final = frozenset(
    {"Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "CrossNamespacePodAffinity"}
)
_POD_COUNT: Final = frozenset({"pods"})
_POD_COMPUTE: Final = frozenset(
    {"cpu", "memory", "limits.cpu", "limits.memory", "requests.cpu", "requests.memory"}
)
_CONFLICTING_SCOPES: Final = (
    frozenset({"BestEffort", "NotBestEffort"}),
    frozenset({"Terminating", "NotTerminating"}),
)
_CIDR_CHANGE: Final = 'node updates may not change podCIDR except from "" to valid'


def _pod_cidrs(spec: Obj) -> list[str]:
    cidrs = texts(spec, "podCIDRs")
    return cidrs or ([text(spec, "podCIDR")] if text(spec, "podCIDR") else [])


def _node_resources(node: Obj) -> Errors:
    status = child(node, "status")
    errors: Errors = []
    for key in ("capacity", "allocatable"):
        for name, value in quantities(status, key).items():
            errors += validate_quantity_value(name, value, FieldPath("status", key, name))
    return errors


def validate_node(node: Obj) -> Errors:
    """A Node: taints, capacity and allocatable quantities, pod CIDRs."""
    spec = child(node, "spec")
    errors = validate_taints(children(spec, "taints"), FieldPath("metadata", "taints"))
    errors += _node_resources(node)
    cidrs, path = _pod_cidrs(spec), FieldPath("spec", "podCIDRs")
    for index, value in enumerate(cidrs):
        errors += cidr(value, path.index(index))
    if len(cidrs) > 1:
        addresses = [parse_cidr_ip(value) for value in cidrs]
        valid = [address for address in addresses if address is not None]
        if len(valid) != len(cidrs) or not is_dual_stack(valid) or len(cidrs) > 2:
            detail = "may specify no more than one CIDR for each IP family"
            errors.append(invalid(path, cidrs, detail))
        for index, value in enumerate(cidrs):
            if value in cidrs[:index]:
                errors.append(duplicate(path.index(index), value))
    return errors


def validate_node_update(new: Obj, old: Obj) -> Errors:
    """A Node update: unique addresses; pod CIDRs and provider ID fixed once set."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    errors = _node_resources(new)
    addresses = [pruned(address) for address in children(child(new, "status"), "addresses")]
    for index, address in enumerate(addresses):
        if address in addresses[:index]:
            path = FieldPath("status", "addresses").index(index)
            errors.append(duplicate(path, address))
    old_cidrs, new_cidrs = _pod_cidrs(old_spec), _pod_cidrs(new_spec)
    if old_cidrs:
        path = FieldPath("spec", "podCIDRs")
        if len(old_cidrs) != len(new_cidrs):
            errors.append(forbidden(path, _CIDR_CHANGE))
        else:
            changed = [o != n for o, n in zip(old_cidrs, new_cidrs, strict=True)]
            errors += [forbidden(path, _CIDR_CHANGE) for change in changed if change]
    old_provider = text(old_spec, "providerID")
    if old_provider and old_provider != text(new_spec, "providerID"):
        detail = 'node updates may not change providerID except from "" to valid'
        errors.append(forbidden(FieldPath("spec", "providerID"), detail))
    errors += validate_taints(children(new_spec, "taints"), FieldPath("metadata", "taints"))
    if text(new_spec, "externalID") != text(old_spec, "externalID"):
        errors.append(forbidden(FieldPath("spec", "externalID"), "may not be updated"))
    return errors


# ---------------------------------------------------------------------------
# LimitRanges


def _limit_type(kind: str, path: FieldPath) -> Errors:
    errors = [invalid(path, kind, msg) for msg in is_qualified_name(kind)]
    if not errors and "/" not in kind and kind not in _LIMIT_TYPES:
        errors.append(invalid(path, kind, "must be a standard limit type or fully qualified"))
    return errors


def _limit_values(limit: Obj, kind: str) -> dict[str, dict[str, Quantity]]:
    """max, min, default, defaultRequest and maxLimitRequestRatio of one limit, by
    resource (a Pod limit has no defaults)."""
    pod = kind == "Pod"
    return {
        key: {} if pod and key.startswith("default") else quantities(limit, key)
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")
    }


def validate_limit_range(limit_range: Obj) -> Errors:
    """A LimitRange (`ValidateLimitRange` without its ObjectMeta)."""
    errors: Errors = []
    types: set[str] = set()
    for index, limit in enumerate(children(child(limit_range, "spec"), "limits")):
        path = FieldPath("spec", "limits").index(index)
        kind = text(limit, "type")
        errors += _limit_type(kind, path.child("type"))
        if kind in types:
            errors.append(duplicate(path.child("type"), kind))
        types.add(kind)
        check = (
            validate_container_resource_name
            if kind in ("Pod", "Container")
            else validate_resource_name
        )
        values = _limit_values(limit, kind)
        for key in ("max", "min"):
            for name in values[key]:
                errors += check(name, path.child(key).key(name))
        if kind == "Pod":
            for key in ("default", "defaultRequest"):
                if child(limit, key):
                    detail = "may not be specified when `type` is 'Pod'"
                    errors.append(forbidden(path.child(key), detail))
        else:
            for key in ("default", "defaultRequest"):
                for name in values[key]:
                    errors += check(name, path.child(key).key(name))
        if kind == "PersistentVolumeClaim" and not (
            {"storage"} & (values["min"].keys() | values["max"].keys())
        ):
            detail = "either minimum or maximum storage value is required, but neither was provided"
            errors.append(required(path.child("limits"), detail))
        for name in values["maxLimitRequestRatio"]:
            errors += check(name, path.child("maxLimitRequestRatio").key(name))
        errors += _limit_orders(values, path)
    return errors


_ORDERS: Final = (
    ("min", "max", "min", "min value {0} is greater than max value {1}", 0),
    ("min", "defaultRequest", "defaultRequest",
     "min value {0} is greater than default request value {1}", 1),
    ("defaultRequest", "max", "defaultRequest",
     "default request value {0} is greater than max value {1}", 0),
    ("defaultRequest", "default", "defaultRequest",
     "default request value {0} is greater than default limit value {1}", 0),
    ("min", "default", "default", "min value {0} is greater than default value {1}", 0),
    ("default", "max", "default", "default value {0} is greater than max value {1}", 1),
)  # fmt: skip
"""(lower, higher, reported key, message, which of the two values the error shows)."""


def _limit_orders(values: dict[str, dict[str, Quantity]], path: FieldPath) -> Errors:
    errors: Errors = []
    for name in dict.fromkeys(name for per_key in values.values() for name in per_key):
        for lower, higher, key, message, shown in _ORDERS:
            pair = (values[lower].get(name), values[higher].get(name))
            if pair[0] is not None and pair[1] is not None and pair[0] > pair[1]:
                detail = message.format(*pair)
                errors.append(invalid(path.child(key).key(name), str(pair[shown]), detail))
        ratio_path = path.child("maxLimitRequestRatio").key(name)
        ratio = values["maxLimitRequestRatio"].get(name)
        low, high = values["min"].get(name), values["max"].get(name)
        if ratio is not None and ratio < Quantity(1):
            errors.append(invalid(ratio_path, str(ratio), f"ratio {ratio} is less than 1"))
        if ratio is not None and low is not None and high is not None and low.milli_value():
            limit = high.milli_value() / low.milli_value()
            if ratio.milli_value() / 1000 > limit:
                detail = f"ratio {ratio} is greater than max/min = {limit:f}"
                errors.append(invalid(ratio_path, str(ratio), detail))
        default, request = values["default"].get(name), values["defaultRequest"].get(name)
        if not overcommit_allowed(name) and None not in (default, request) and default != request:
            detail = (
                f"default value {default} must equal to defaultRequest value {request} in {name}"
            )
            errors.append(invalid(path.child("defaultRequest").key(name), str(request), detail))
    return errors


# ---------------------------------------------------------------------------
# ResourceQuotas


def _scopes(spec: Obj, hard: list[str], path: FieldPath) -> Errors:
    scopes = texts(spec, "scopes")
    errors: Errors = []
    for scope in scopes:
        if scope not in _SCOPES:
            errors.append(invalid(path.child("scopes"), scopes, "unsupported scope"))
        for name in sorted(hard):
            if not _scope_fits(scope, name):
                errors.append(
                    invalid(path.child("scopes"), scopes, "unsupported scope applied to resource")
                )
    for pair in _CONFLICTING_SCOPES:
        if pair <= set(scopes):
            errors.append(invalid(path.child("scopes"), scopes, "conflicting scopes"))
    return errors


def _scope_fits(scope: str, name: str) -> bool:
    """Whether a quota scope can apply to a standard resource (others always fit)."""
    if not is_standard_quota_resource(name):
        return True
    if scope in ("Terminating", "NotTerminating", "NotBestEffort"):
        return name in _POD_COUNT | _POD_COMPUTE
    return name in _POD_COUNT if scope == "BestEffort" else True


def _scope_selector(spec: Obj, hard: list[str], path: FieldPath) -> Errors:
    selector = child(spec, "scopeSelector")
    expressions_path = path.child("scopeSelector", "matchExpressions")
    errors: Errors = []
    scopes: set[str] = set()
    for requirement in children(selector, "matchExpressions"):
        scope, operator = text(requirement, "scopeName"), text(requirement, "operator")
        values = texts(requirement, "values")
        if scope not in _SCOPES:
            errors.append(invalid(expressions_path.child("scopeName"), scope, "unsupported scope"))
        for name in sorted(hard):
            if not _scope_fits(scope, name):
                detail = "unsupported scope applied to resource"
                errors.append(invalid(expressions_path, dict(selector), detail))
        if scope in _EXISTS_ONLY and operator != "Exists":
            detail = (
                "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, "
                "ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, "
                "ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity"
            )
            errors.append(invalid(expressions_path.child("operator"), operator, detail))
        if operator in ("In", "NotIn"):
            if not values:
                detail = (
                    "must be at least one value when `operator` is 'In' or 'NotIn' for scope "
                    "selector"
                )
                errors.append(required(expressions_path.child("values"), detail))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                detail = (
                    "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope "
                    "selector"
                )
                errors.append(invalid(expressions_path.child("values"), values, detail))
        else:
            errors.append(
                invalid(
                    expressions_path.child("operator"), operator, "not a valid selector operator"
                )
            )
        scopes.add(scope)
    for pair in _CONFLICTING_SCOPES:
        if pair <= scopes:
            errors.append(invalid(expressions_path, texts(spec, "scopes"), "conflicting scopes"))
    return errors


def _quota_spec(spec: Obj) -> Errors:
    path = FieldPath("spec")
    hard = quantities(spec, "hard")
    errors = validate_resource_list(hard, path.child("hard"), validate_quota_resource_name)
    errors += _scopes(spec, list(hard), path)
    return errors + _scope_selector(spec, list(hard), path)


def validate_resource_quota_status(quota: Obj) -> Errors:
    """Hard and used amounts of a quota's status."""
    status, path = child(quota, "status"), FieldPath("status")
    errors: Errors = []
    for key in ("hard", "used"):
        errors += validate_resource_list(
            quantities(status, key), path.child(key), validate_quota_resource_name
        )
    return errors


def validate_resource_quota(quota: Obj) -> Errors:
    """A ResourceQuota: resource names and amounts, scopes that fit them."""
    return _quota_spec(child(quota, "spec")) + validate_resource_quota_status(quota)


def validate_resource_quota_update(new: Obj, old: Obj) -> Errors:
    """A ResourceQuota update: the scopes never change."""
    errors = _quota_spec(child(new, "spec"))
    new_scopes, old_scopes = (
        texts(child(new, "spec"), "scopes"),
        texts(child(old, "spec"), "scopes"),
    )
    if set(new_scopes) != set(old_scopes):
        errors.append(invalid(FieldPath("spec", "scopes"), new_scopes, FIELD_IMMUTABLE))
    return errors
