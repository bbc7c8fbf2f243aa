"""Events, in both their `v1` and `events.k8s.io/v1` shapes.

The counterpart of `ValidateEventCreate` / `ValidateEventUpdate` of
`pkg/apis/core/validation` (Kubernetes 1.32). Both APIs store the same object, so an
`events.k8s.io/v1` Event (`regarding`, `note`, `deprecated*`) is read in core terms and
errors name the core fields (`involvedObject.namespace`, `message`), as Kubernetes
reports them. Core `v1` requests get only the legacy checks; `events.k8s.io` requests
also the strict ones, and on update most fields are fixed.

Invariants: pure functions.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    immutable,
    number,
    optional_child,
    semantic_equal,
    text,
)
from kybernetes.api.validation.errors import FieldPath, invalid, required
from kybernetes.api.validation.names import is_dns1123_subdomain, is_qualified_name

EVENTS_GROUP: Final = "events.k8s.io"
_LIMITS: Final = (("reportingInstance", 128), ("action", 128), ("reason", 128), ("message", 1024))
# events.k8s.io/v1 field -> core v1 field.
_RENAMED: Final = {
    "regarding": "involvedObject",
    "note": "message",
    "deprecatedSource": "source",
    "deprecatedFirstTimestamp": "firstTimestamp",
    "deprecatedLastTimestamp": "lastTimestamp",
    "deprecatedCount": "count",
    "reportingController": "reportingComponent",
}
_IMMUTABLE: Final = (
    "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp",
    "count", "reason", "type", "eventTime", "action", "related", "reportingComponent",
    "reportingInstance",
)  # fmt: skip
_SPELLED: Final = {"reportingComponent": "reportingController"}


def as_core_event(event: Obj) -> dict[str, Any]:
    """An `events.k8s.io/v1` Event in `v1` field names."""
    return {_RENAMED.get(key, key): value for key, value in event.items()}


def _legacy(event: Obj) -> Errors:
    namespace = text(child(event, "metadata"), "namespace")
    involved = text(child(event, "involvedObject"), "namespace")
    path = FieldPath("involvedObject", "namespace")
    errors: Errors = []
    if not event.get("eventTime"):
        if (not involved and namespace not in ("", "default")) or (
            involved and namespace != involved
        ):
            errors.append(invalid(path, involved, "does not match event.namespace"))
    else:
        if not involved and namespace not in ("default", "kube-system"):
            errors.append(invalid(path, involved, "does not match event.namespace"))
        controller = text(event, "reportingComponent")
        if not controller:
            errors.append(required(FieldPath("reportingController")))
        for message in is_qualified_name(controller):
            errors.append(invalid(FieldPath("reportingController"), controller, message))
        for key, limit in _LIMITS:
            value = text(event, key)
            if not value and key != "message":
                errors.append(required(FieldPath(key)))
            if len(value.encode()) > limit:
                errors.append(invalid(FieldPath(key), "", f"can have at most {limit} characters"))
    errors += [
        invalid(FieldPath("namespace"), namespace, m) for m in is_dns1123_subdomain(namespace)
    ]
    return errors


def _series(event: Obj) -> Errors:
    series = optional_child(event, "series")
    if series is None:
        return []
    errors: Errors = []
    if number(series, "count") < 2:
        errors.append(invalid(FieldPath("series.count"), "", "should be at least 2"))
    if not series.get("lastObservedTime"):
        errors.append(required(FieldPath("series.lastObservedTime")))
    return errors


def validate_event(group: str, event: Obj) -> Errors:
    """An Event on create; `group` is the API group of the request."""
    if group != EVENTS_GROUP:
        return _legacy(event)
    core = as_core_event(event)
    errors = _legacy(core) + _series(core)
    if not core.get("eventTime"):
        errors.append(required(FieldPath("eventTime")))
    if text(core, "type") not in ("Normal", "Warning"):
        errors.append(invalid(FieldPath("type"), "", f"has invalid value: {text(core, 'type')}"))
    for key in ("firstTimestamp", "lastTimestamp", "count"):
        if core.get(key):
            errors.append(invalid(FieldPath(key), "", "needs to be unset"))
    source = child(core, "source")
    if text(source, "component") or text(source, "host"):
        errors.append(invalid(FieldPath("source"), "", "needs to be unset"))
    return errors


def validate_event_update(group: str, new: Obj, old: Obj) -> Errors:
    """An Event update; through `events.k8s.io` most fields are fixed."""
    if group != EVENTS_GROUP:
        return _legacy(new)
    core, old_core = as_core_event(new), as_core_event(old)
    errors = _legacy(core)
    if not semantic_equal(core.get("series"), old_core.get("series")):
        errors += _series(core)
    for key in _IMMUTABLE:
        errors += immutable(core.get(key), old_core.get(key), FieldPath(_SPELLED.get(key, key)))
    return errors
