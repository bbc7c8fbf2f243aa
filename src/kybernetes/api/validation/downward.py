"""Downward API selectors: the pod fields and container resources a pod may read.

The counterpart of `validateObjectFieldSelector`, `validateContainerResourceFieldSelector`
and `podshelper.ConvertDownwardAPIFieldLabel` (Kubernetes 1.32), shared by environment
variables (`valueFrom.fieldRef`) and downward API volume files.

Invariants: pure functions.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.quantity import Quantity
from kybernetes.api.validation.common import Errors, Obj, qualified_name, quantity, text
from kybernetes.api.validation.errors import FieldPath, invalid, not_supported, required

VOLUME_FIELD_PATHS: Final = (
    "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
    "metadata.uid",
)  # fmt: skip
_DOWNWARD_LABELS: Final = frozenset(
    {
        "metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
        "metadata.uid", "spec.nodeName", "spec.restartPolicy", "spec.serviceAccountName",
        "spec.schedulerName", "status.phase", "status.hostIP", "status.hostIPs",
        "status.podIP", "status.podIPs",
    }
)  # fmt: skip
CONTAINER_RESOURCE_PATHS: Final = (
    "limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
    "requests.ephemeral-storage", "requests.memory",
)  # fmt: skip
_HUGEPAGES_RESOURCE_PREFIXES: Final = ("limits.hugepages-", "requests.hugepages-")
_BINARY_DIVISORS_TEXT: Final = "1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei"
_BINARY_DIVISORS: Final = frozenset(_BINARY_DIVISORS_TEXT.split(", "))


def _split_subscript(field_path: str) -> tuple[str, str] | None:
    """`metadata.labels['app']` as (`metadata.labels`, `app`); None if not subscripted."""
    if not field_path.endswith("']"):
        return None
    head, sep, subscript = field_path.removesuffix("']").partition("['")
    return (head, subscript) if sep and head else None


def validate_object_field_selector(
    selector: Obj, expressions: tuple[str, ...], path: FieldPath
) -> Errors:
    """A `fieldRef`: a supported (possibly subscripted) pod field of API version v1."""
    api_version, field_path = text(selector, "apiVersion"), text(selector, "fieldPath")
    if not api_version:
        return [required(path.child("apiVersion"))]
    if not field_path:
        return [required(path.child("fieldPath"))]
    subscripted = _split_subscript(field_path)
    reason = ""
    if api_version != "v1":
        reason = f"unsupported pod version: {api_version}"
    elif subscripted is not None and subscripted[0] not in VOLUME_FIELD_PATHS[:2]:
        reason = f"field label does not support subscript: {field_path}"
    elif subscripted is None and field_path not in _DOWNWARD_LABELS | {"spec.host"}:
        reason = f"field label not supported: {field_path}"
    if reason:
        detail = f"error converting fieldPath: {reason}"
        return [invalid(path.child("fieldPath"), field_path, detail)]
    if subscripted is not None:
        key = subscripted[1].lower() if subscripted[0] == "metadata.annotations" else subscripted[1]
        return qualified_name(key, path)
    internal = "spec.nodeName" if field_path == "spec.host" else field_path
    if internal not in expressions:
        return [not_supported(path.child("fieldPath"), internal, sorted(expressions))]
    return []


def validate_resource_field_selector(selector: Obj, path: FieldPath, volume: bool) -> Errors:
    """A `resourceFieldRef`: a container resource, and a divisor that fits it."""
    resource = text(selector, "resource")
    errors: Errors = []
    if volume and not text(selector, "containerName"):
        errors.append(required(path.child("containerName")))
    elif not resource:
        errors.append(required(path.child("resource")))
    elif resource not in CONTAINER_RESOURCE_PATHS and not resource.startswith(
        _HUGEPAGES_RESOURCE_PREFIXES
    ):
        errors.append(not_supported(path.child("resource"), resource, CONTAINER_RESOURCE_PATHS))
    divisor = quantity(selector.get("divisor"))
    if divisor is None or divisor == Quantity():
        return errors
    kind, supported = "", _BINARY_DIVISORS
    if resource in ("limits.cpu", "requests.cpu"):
        kind, supported = "cpu", frozenset({"1m", "1"})
    elif resource in ("limits.memory", "requests.memory"):
        kind = "memory"
    elif resource in ("limits.ephemeral-storage", "requests.ephemeral-storage"):
        kind = "local ephemeral storage"
    elif resource.startswith(_HUGEPAGES_RESOURCE_PREFIXES):
        kind = "hugepages"
    if kind and str(divisor) not in supported:
        values = "1m and 1" if kind == "cpu" else _BINARY_DIVISORS_TEXT
        detail = f"only divisor's values {values} are supported with the {kind} resource"
        errors.append(invalid(path.child("divisor"), resource, detail))
    return errors
