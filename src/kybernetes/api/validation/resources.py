"""Resource names and quantities: container requirements, quotas, limit ranges, node capacity.

The counterpart of the resource helpers of `pkg/apis/core/helper` and of
`validateResourceRequirements` / `ValidateResourceQuantityValue` in
`pkg/apis/core/validation` (Kubernetes 1.32). A resource name is either standard
(`cpu`, `memory`, `hugepages-2Mi`, `requests.cpu`...) or fully qualified
(`example.com/gpu`); names without a `/` or in a `kubernetes.io/` domain are native.

Invariants: pure functions; maps are walked in their dict order (Go's order is random).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final

from kybernetes.api.quantity import Quantity
from kybernetes.api.validation.common import Errors, Obj, child, children, quantity, text
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_found,
    required,
)
from kybernetes.api.validation.metadata import IS_NEGATIVE
from kybernetes.api.validation.names import is_dns1123_label, is_qualified_name

HUGEPAGES_PREFIX: Final = "hugepages-"
_REQUESTS_HUGEPAGES_PREFIX: Final = "requests.hugepages-"
_STANDARD_CONTAINER: Final = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_QUOTA: Final = frozenset(
    {
        "cpu", "memory", "ephemeral-storage", "requests.cpu", "requests.memory",
        "requests.storage", "requests.ephemeral-storage", "limits.cpu", "limits.memory",
        "limits.ephemeral-storage", "pods", "resourcequotas", "services",
        "replicationcontrollers", "secrets", "persistentvolumeclaims", "configmaps",
        "services.nodeports", "services.loadbalancers",
    }
)  # fmt: skip
_STANDARD: Final = _STANDARD_QUOTA | {"storage"}
_INTEGER: Final = frozenset(
    {
        "pods", "resourcequotas", "services", "replicationcontrollers", "secrets",
        "configmaps", "persistentvolumeclaims", "services.nodeports", "services.loadbalancers",
    }
)  # fmt: skip
_QOS_COMPUTE: Final = frozenset({"cpu", "memory"})

NameCheck = Callable[[str, FieldPath], Errors]


def is_hugepages(name: str) -> bool:
    """`hugepages-<size>`."""
    return name.startswith(HUGEPAGES_PREFIX)


def _is_quota_hugepages(name: str) -> bool:
    return name.startswith((HUGEPAGES_PREFIX, _REQUESTS_HUGEPAGES_PREFIX))


def is_native(name: str) -> bool:
    """Unprefixed or in a `kubernetes.io/` domain."""
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    """A fully qualified, non-native name that is also valid as `requests.<name>`."""
    if is_native(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def overcommit_allowed(name: str) -> bool:
    """Native resources other than hugepages may be requested below their limit."""
    return is_native(name) and not is_hugepages(name)


def _is_integer(name: str) -> bool:
    return name in _INTEGER or is_extended(name)


def validate_resource_name(name: str, path: FieldPath) -> Errors:
    """A standard or fully qualified resource name."""
    errors = [invalid(path, name, msg) for msg in is_qualified_name(name)]
    if errors:
        return errors
    if "/" not in name and not (name in _STANDARD or _is_quota_hugepages(name)):
        return [invalid(path, name, "must be a standard resource type or fully qualified")]
    return []


def validate_container_resource_name(name: str, path: FieldPath) -> Errors:
    """A resource name a container may request (standard, hugepages or extended)."""
    errors = validate_resource_name(name, path)
    if "/" not in name:
        if not (name in _STANDARD_CONTAINER or is_hugepages(name)):
            errors.append(invalid(path, name, "must be a standard resource for containers"))
    elif not is_native(name) and not is_extended(name):
        errors.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return errors


def is_standard_quota_resource(name: str) -> bool:
    """A resource the quota system counts (`IsStandardQuotaResourceName`)."""
    return name in _STANDARD_QUOTA or _is_quota_hugepages(name)


def validate_quota_resource_name(name: str, path: FieldPath) -> Errors:
    """A resource name a ResourceQuota may limit."""
    errors = validate_resource_name(name, path)
    if "/" not in name and not is_standard_quota_resource(name):
        errors.append(invalid(path, name, "must be a standard resource for quota"))
    return errors


def validate_quantity_value(name: str, value: Quantity, path: FieldPath) -> Errors:
    """Non-negative, and whole for countable resources (`ValidateResourceQuantityValue`)."""
    errors: Errors = []
    if value < Quantity():
        errors.append(invalid(path, str(value), IS_NEGATIVE))
    if _is_integer(name) and value.milli_value() % 1000:
        errors.append(invalid(path, str(value), "must be an integer"))
    return errors


def quantities(obj: Obj, key: str) -> dict[str, Quantity]:
    """A resource list (`{"cpu": "500m"}`) read as quantities; unreadable ones dropped."""
    values: Mapping[str, Any] = child(obj, key)
    parsed = {name: quantity(value) for name, value in values.items()}
    return {name: value for name, value in parsed.items() if value is not None}


def validate_resource_list(
    resources: Mapping[str, Quantity], path: FieldPath, name_check: NameCheck
) -> Errors:
    """Names and quantity values of a resource list (quota, node capacity)."""
    errors: Errors = []
    for name, value in resources.items():
        errors += name_check(name, path.key(name))
        errors += validate_quantity_value(name, value, path.key(name))
    return errors


def _hugepages_error(name: str, value: Quantity) -> str | None:
    """Why a hugepages quantity is not a whole number of pages, if it is not."""
    page = quantity(name.removeprefix(HUGEPAGES_PREFIX))
    divisible = (
        page is not None
        and page > Quantity()
        and page.milli_value() % 1000 == 0
        and value.value() % page.value() == 0
    )
    return None if divisible else f"{value} is not positive integer multiple of {name}"


def validate_requirements(
    requirements: Obj,
    claim_names: Collection[str],
    path: FieldPath,
    name_check: NameCheck = validate_container_resource_name,
) -> Errors:
    """A container's `resources`: names, quantities, requests within limits, claims."""
    limits_path, requests_path = path.child("limits"), path.child("requests")
    limits, requests = quantities(requirements, "limits"), quantities(requirements, "requests")
    errors: Errors = []
    for name, value in limits.items():
        errors += name_check(name, limits_path.key(name))
        errors += validate_quantity_value(name, value, limits_path.key(name))
        if is_hugepages(name) and (reason := _hugepages_error(name, value)):
            errors.append(invalid(limits_path.key(name), str(value), reason))
    for name, value in requests.items():
        errors += name_check(name, requests_path.key(name))
        errors += validate_quantity_value(name, value, requests_path.key(name))
        limit = limits.get(name)
        if limit is not None:
            if value != limit and not overcommit_allowed(name):
                detail = f"must be equal to {name} limit of {limit}"
                errors.append(invalid(requests_path, str(value), detail))
            elif value > limit:
                detail = f"must be less than or equal to {name} limit of {limit}"
                errors.append(invalid(requests_path, str(value), detail))
        elif not overcommit_allowed(name):
            detail = "Limit must be set for non overcommitable resources"
            errors.append(required(limits_path, detail))
        if is_hugepages(name) and (reason := _hugepages_error(name, value)):
            errors.append(invalid(requests_path.key(name), str(value), reason))
    names = set(limits) | set(requests)
    if any(map(is_hugepages, names)) and not names & _QOS_COMPUTE:
        errors.append(forbidden(path, "HugePages require cpu or memory"))
    return errors + _validate_claims(children(requirements, "claims"), claim_names, path)


def _validate_claims(claims: list[Obj], pod_claims: Collection[str], path: FieldPath) -> Errors:
    """`resources.claims` name entries of the pod's `resourceClaims`, each once."""
    errors: Errors = []
    seen: set[str] = set()
    for index, claim in enumerate(claims):
        entry_path = path.child("claims").index(index)
        name, request = text(claim, "name"), text(claim, "request")
        if not name:
            errors.append(required(entry_path))
            continue
        if name in seen:
            errors.append(duplicate(entry_path, name))
        else:
            key = name
            if request:
                errors += [
                    invalid(entry_path.child("request"), request, msg)
                    for msg in is_dns1123_label(request)
                ]
                key = f"{name}/{request}"
            if key in seen:
                errors.append(duplicate(entry_path, key))
            elif not request and any(k.partition("/")[0] == name for k in seen if "/" in k):
                errors.append(duplicate(entry_path, name))
            seen.add(key)
        if name not in pod_claims:
            detail = "must be one of the names in pod.spec.resourceClaims" + (
                ": " + ", ".join(sorted(pod_claims)) if pod_claims else " which is empty"
            )
            errors.append(dataclasses.replace(not_found(entry_path, name), detail=detail))
    return errors
