"""Workload controllers: Deployment, ReplicaSet, StatefulSet, DaemonSet, ReplicationController.

The counterpart of `pkg/apis/apps/validation` and of the ReplicationController rules of
`pkg/apis/core/validation` (Kubernetes 1.32), plus the selector immutability the apps
registry strategies enforce for `apps/v1` updates. The rules users meet most: a
selector is required and must match the template's labels (`spec.template.metadata.
labels: Invalid value: ...: \\`selector\\` does not match template \\`labels\\``), pods
of these controllers restart `Always`, and a rolling update needs a non-zero budget.

As in Kubernetes, a StatefulSet's pod template is checked only for its labels,
annotations and restart policy, not as a full pod spec.

Invariants: pure functions; objects are defaulted `apps/v1` (or `v1`) dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    as_selector,
    child,
    go_string_map,
    immutable,
    int_or_percent_value,
    nonnegative,
    not_more_than_100_percent,
    number,
    optional_child,
    optional_number,
    positive_int_or_percent,
    semantic_equal,
    string_map,
    text,
)
from kybernetes.api.validation.errors import (
    FieldError,
    FieldPath,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.metadata import validate_label_selector
from kybernetes.api.validation.podspec import validate_pod_template_spec, validate_template_metadata

if TYPE_CHECKING:
    from kybernetes.api.selectors import Selector

SELECTOR_MISMATCH: Final = "`selector` does not match template `labels`"
_SPEC: Final = FieldPath("spec")
_STATUS: Final = FieldPath("status")
_STATEFUL_SET_UPDATE: Final = (
    "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', "
    "'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"
)
_STATEFUL_SET_MUTABLE: Final = (
    "replicas", "template", "updateStrategy", "minReadySeconds", "ordinals",
    "persistentVolumeClaimRetentionPolicy",
)  # fmt: skip


def _template_labels(template: Obj) -> dict[str, str]:
    return string_map(child(template, "metadata"), "labels")


def _mismatch(template: Obj, path: FieldPath) -> FieldError:
    shown = go_string_map(child(template, "metadata"), "labels")
    return invalid(path.child("metadata", "labels"), shown, SELECTOR_MISMATCH)


def _selector_matches(selector: Selector, template: Obj, path: FieldPath) -> Errors:
    if selector.empty or selector.matches(_template_labels(template)):
        return []
    return [_mismatch(template, path)]


def _required_selector(spec: Obj, kind: str) -> Errors:
    """A required, valid, non-empty `spec.selector`."""
    selector = optional_child(spec, "selector")
    if selector is None:
        return [required(_SPEC.child("selector"))]
    errors = validate_label_selector(selector, _SPEC.child("selector"))
    if not child(selector, "matchLabels") and not selector.get("matchExpressions"):
        detail = f"empty selector is invalid for {kind}"
        errors.append(invalid(_SPEC.child("selector"), dict(selector), detail))
    return errors


def _always_restarting(spec: Obj, path: FieldPath, kind: str) -> Errors:
    """Pods of long-running controllers restart Always and have no active deadline."""
    template_spec = child(child(spec, "template"), "spec")
    errors: Errors = []
    restart = text(template_spec, "restartPolicy")
    if restart != "Always":
        errors.append(not_supported(path.child("spec", "restartPolicy"), restart, ["Always"]))
    if template_spec.get("activeDeadlineSeconds") is not None:
        detail = f"activeDeadlineSeconds in {kind} is not Supported"
        errors.append(forbidden(path.child("spec", "activeDeadlineSeconds"), detail))
    return errors


def _replica_set_template(spec: Obj) -> Errors:
    """Selector, then the template (`ValidatePodTemplateSpecForReplicaSet`, whose messages
    say ReplicaSet for Deployments too)."""
    errors = _required_selector(spec, "deployment")
    selector = as_selector(optional_child(spec, "selector"))
    if selector is None:
        selector_value = dict(child(spec, "selector"))
        return [*errors, invalid(_SPEC.child("selector"), selector_value, "invalid label selector")]
    template, path = child(spec, "template"), _SPEC.child("template")
    errors += _selector_matches(selector, template, path)
    errors += validate_pod_template_spec(template, path)
    return errors + _always_restarting(spec, path, "ReplicaSet")


def _rolling_update_deployment(rolling: Obj, path: FieldPath) -> Errors:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errors = positive_int_or_percent(unavailable, path.child("maxUnavailable"))
    errors += positive_int_or_percent(surge, path.child("maxSurge"))
    if int_or_percent_value(unavailable) == 0 and int_or_percent_value(surge) == 0:
        detail = "may not be 0 when `maxSurge` is 0"
        errors.append(invalid(path.child("maxUnavailable"), unavailable, detail))
    return errors + not_more_than_100_percent(unavailable, path.child("maxUnavailable"))


def _deployment_strategy(strategy: Obj, path: FieldPath) -> Errors:
    kind = text(strategy, "type")
    rolling = optional_child(strategy, "rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            detail = "may not be specified when strategy `type` is 'Recreate'"
            return [forbidden(path.child("rollingUpdate"), detail)]
        return []
    if kind == "RollingUpdate":
        if rolling is None:
            detail = "this should be defaulted and never be nil"
            return [required(path.child("rollingUpdate"), detail)]
        return _rolling_update_deployment(rolling, path.child("rollingUpdate"))
    return [not_supported(path, dict(strategy), ["Recreate", "RollingUpdate"])]


def validate_deployment(deployment: Obj) -> Errors:
    """A Deployment (`ValidateDeploymentSpec`)."""
    spec = child(deployment, "spec")
    errors = nonnegative(number(spec, "replicas"), _SPEC.child("replicas"))
    errors += _replica_set_template(spec)
    errors += _deployment_strategy(child(spec, "strategy"), _SPEC.child("strategy"))
    min_ready = number(spec, "minReadySeconds")
    errors += nonnegative(min_ready, _SPEC.child("minReadySeconds"))
    if (history := optional_number(spec, "revisionHistoryLimit")) is not None:
        errors += nonnegative(history, _SPEC.child("revisionHistoryLimit"))
    if (deadline := optional_number(spec, "progressDeadlineSeconds")) is not None:
        errors += nonnegative(deadline, _SPEC.child("progressDeadlineSeconds"))
        if deadline <= min_ready:
            detail = "must be greater than minReadySeconds"
            errors.append(invalid(_SPEC.child("progressDeadlineSeconds"), deadline, detail))
    return errors


def validate_replica_set(replica_set: Obj) -> Errors:
    """A ReplicaSet (`ValidateReplicaSetSpec`)."""
    spec = child(replica_set, "spec")
    errors = nonnegative(number(spec, "replicas"), _SPEC.child("replicas"))
    errors += nonnegative(number(spec, "minReadySeconds"), _SPEC.child("minReadySeconds"))
    return errors + _replica_set_template(spec)


def _rolling_update_daemon_set(rolling: Obj, path: FieldPath) -> Errors:
    unavailable, surge = rolling.get("maxUnavailable"), rolling.get("maxSurge")
    errors = positive_int_or_percent(unavailable, path.child("maxUnavailable"))
    errors += positive_int_or_percent(surge, path.child("maxSurge"))
    errors += not_more_than_100_percent(unavailable, path.child("maxUnavailable"))
    errors += not_more_than_100_percent(surge, path.child("maxSurge"))
    has_unavailable = int_or_percent_value(unavailable) != 0
    has_surge = int_or_percent_value(surge) != 0
    if has_unavailable and has_surge:
        detail = "may not be set when maxUnavailable is non-zero"
        errors.append(invalid(path.child("maxSurge"), surge, detail))
    elif not has_unavailable and not has_surge:
        errors.append(required(path.child("maxUnavailable"), "cannot be 0 when maxSurge is 0"))
    return errors


def validate_daemon_set(daemon_set: Obj) -> Errors:
    """A DaemonSet (`ValidateDaemonSetSpec`)."""
    spec = child(daemon_set, "spec")
    selector = optional_child(spec, "selector")
    errors = validate_label_selector(selector, _SPEC.child("selector"))
    template, path = child(spec, "template"), _SPEC.child("template")
    converted = as_selector(selector)
    if converted is not None and not converted.matches(_template_labels(template)):
        errors.append(_mismatch(template, path))
    if (
        selector is not None
        and not child(selector, "matchLabels")
        and not selector.get("matchExpressions")
    ):
        detail = "empty selector is invalid for daemonset"
        errors.append(invalid(_SPEC.child("selector"), dict(selector), detail))
    errors += validate_pod_template_spec(template, path)
    errors += _always_restarting(spec, path, "DaemonSet")
    errors += nonnegative(number(spec, "minReadySeconds"), _SPEC.child("minReadySeconds"))
    strategy, strategy_path = child(spec, "updateStrategy"), _SPEC.child("updateStrategy")
    kind = text(strategy, "type")
    if kind == "RollingUpdate":
        rolling = optional_child(strategy, "rollingUpdate")
        if rolling is None:
            errors.append(required(strategy_path.child("rollingUpdate")))
        else:
            errors += _rolling_update_daemon_set(rolling, strategy_path.child("rollingUpdate"))
    elif kind != "OnDelete":
        errors.append(not_supported(strategy_path, dict(strategy), ["RollingUpdate", "OnDelete"]))
    if (history := optional_number(spec, "revisionHistoryLimit")) is not None:
        errors += nonnegative(history, _SPEC.child("revisionHistoryLimit"))
    return errors


def _stateful_set_strategy(strategy: Obj, path: FieldPath) -> Errors:
    kind = text(strategy, "type")
    rolling = optional_child(strategy, "rollingUpdate")
    if not kind:
        return [required(path)]
    if kind == "OnDelete":
        if rolling is not None:
            detail = "only allowed for updateStrategy 'RollingUpdate'"
            return [invalid(path.child("rollingUpdate"), dict(rolling), detail)]
        return []
    if kind != "RollingUpdate":
        return [invalid(path, dict(strategy), "must be 'RollingUpdate' or 'OnDelete'")]
    if rolling is None:
        return []
    rolling_path = path.child("rollingUpdate")
    errors = nonnegative(number(rolling, "partition"), rolling_path.child("partition"))
    unavailable = rolling.get("maxUnavailable")
    if unavailable is not None:
        errors += positive_int_or_percent(unavailable, rolling_path.child("maxUnavailable"))
        if int_or_percent_value(unavailable) == 0:
            errors.append(invalid(rolling_path.child("maxUnavailable"), unavailable, "cannot be 0"))
        errors += not_more_than_100_percent(unavailable, rolling_path.child("maxUnavailable"))
    return errors


def _validate_stateful_set_spec(spec: Obj) -> Errors:
    errors: Errors = []
    policy = text(spec, "podManagementPolicy")
    if not policy:
        errors.append(required(_SPEC.child("podManagementPolicy")))
    elif policy not in ("OrderedReady", "Parallel"):
        detail = "must be 'OrderedReady' or 'Parallel'"
        errors.append(invalid(_SPEC.child("podManagementPolicy"), policy, detail))
    errors += _stateful_set_strategy(child(spec, "updateStrategy"), _SPEC.child("updateStrategy"))
    retention = optional_child(spec, "persistentVolumeClaimRetentionPolicy")
    if retention is not None:
        for key in ("whenDeleted", "whenScaled"):
            value = text(retention, key)
            if value not in ("Retain", "Delete"):
                retention_path = _SPEC.child("persistentVolumeClaimRetentionPolicy", key)
                errors.append(not_supported(retention_path, value, ["Retain", "Delete"]))
    errors += nonnegative(number(spec, "replicas"), _SPEC.child("replicas"))
    errors += nonnegative(number(spec, "minReadySeconds"), _SPEC.child("minReadySeconds"))
    if (ordinals := optional_child(spec, "ordinals")) is not None:
        errors += nonnegative(number(ordinals, "start"), _SPEC.child("ordinals.start"))
    errors += _required_selector(spec, "statefulset")
    selector = as_selector(optional_child(spec, "selector"))
    if selector is None:
        errors.append(invalid(_SPEC.child("selector"), dict(child(spec, "selector")), ""))
    else:
        template, path = child(spec, "template"), _SPEC.child("template")
        errors += _selector_matches(selector, template, path)
        errors += validate_template_metadata(template, path)
    return errors + _always_restarting(spec, _SPEC.child("template"), "StatefulSet")


def validate_stateful_set(stateful_set: Obj) -> Errors:
    """A StatefulSet (`ValidateStatefulSetSpec`)."""
    return _validate_stateful_set_spec(child(stateful_set, "spec"))


def validate_replication_controller(controller: Obj) -> Errors:
    """A ReplicationController (`ValidateReplicationControllerSpec`)."""
    spec = child(controller, "spec")
    selector = string_map(spec, "selector")
    errors = nonnegative(number(spec, "minReadySeconds"), _SPEC.child("minReadySeconds"))
    if not selector:
        errors.append(required(_SPEC.child("selector")))
    errors += nonnegative(number(spec, "replicas"), _SPEC.child("replicas"))
    path = _SPEC.child("template")
    template = optional_child(spec, "template")
    if template is None:
        return [*errors, required(path)]
    labels = _template_labels(template)
    if selector and any(labels.get(key) != value for key, value in selector.items()):
        errors.append(_mismatch(template, path))
    errors += validate_pod_template_spec(template, path)
    return errors + _always_restarting(spec, path, "ReplicationController")


# ---------------------------------------------------------------------------
# Updates


def _selector_immutable(new: Obj, old: Obj) -> Errors:
    new_selector = child(new, "spec").get("selector")
    return immutable(new_selector, child(old, "spec").get("selector"), _SPEC.child("selector"))


def validate_stateful_set_update(new: Obj, old: Obj) -> Errors:
    """Only replicas, ordinals, template, update strategy, claim retention and
    minReadySeconds of a StatefulSet may change (`ValidateStatefulSetUpdate`)."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    errors = _validate_stateful_set_spec(new_spec)
    munged = {**new_spec, **{key: old_spec.get(key) for key in _STATEFUL_SET_MUTABLE}}
    if not semantic_equal(munged, old_spec):
        errors.append(forbidden(_SPEC, _STATEFUL_SET_UPDATE))
    return errors


def _counters(status: Obj, counters: tuple[str, ...], bounded: int, ready: str) -> Errors:
    """Replica counters are non-negative; the first `bounded` of them are at most
    `replicas`, and `availableReplicas` at most `readyReplicas` (if `ready` words it)."""
    errors: Errors = []
    for key in ("replicas", *counters, "observedGeneration", "collisionCount"):
        if (value := optional_number(status, key)) is not None:
            errors += nonnegative(value, _STATUS.child(key))
    for key in counters[:bounded]:
        if (value := number(status, key)) > number(status, "replicas"):
            errors.append(
                invalid(_STATUS.child(key), value, "cannot be greater than status.replicas")
            )
    available = number(status, "availableReplicas")
    if ready and available > number(status, "readyReplicas"):
        errors.append(invalid(_STATUS.child("availableReplicas"), available, ready))
    return errors


_READY: Final = "cannot be greater than readyReplicas"
_REPLICA_SET_COUNTERS: Final = ("fullyLabeledReplicas", "readyReplicas", "availableReplicas")
_STATUS_RULES: Final[dict[str, Callable[[Obj], Errors]]] = {
    "Deployment": lambda s: _counters(
        s, ("updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas"), 3,
        _READY,
    ),
    "ReplicaSet": lambda s: _counters(s, _REPLICA_SET_COUNTERS, 3, _READY),
    "ReplicationController": lambda s: _counters(s, _REPLICA_SET_COUNTERS, 3, _READY),
    "StatefulSet": lambda s: _counters(
        s, ("readyReplicas", "currentReplicas", "updatedReplicas", "availableReplicas"), 4,
        "cannot be greater than status.readyReplicas",
    ),
    "DaemonSet": lambda s: _counters(
        s, ("currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled",
            "numberReady", "updatedNumberScheduled", "numberAvailable", "numberUnavailable"),
        0, "",
    ),
}  # fmt: skip


def validate_workload_status_update(kind: str, new: Obj, old: Obj) -> Errors:
    """A status update of a workload: sane counters, collisionCount never decremented."""
    new_status, old_status = child(new, "status"), child(old, "status")
    errors = _STATUS_RULES[kind](new_status)
    new_count = optional_number(new_status, "collisionCount")
    old_count = optional_number(old_status, "collisionCount")
    if old_count is not None and (new_count is None or new_count < old_count):
        detail = "cannot be decremented"
        errors.append(invalid(_STATUS.child("collisionCount"), new_count or 0, detail))
    return errors


UPDATE_RULES: Final[dict[str, Callable[[Obj, Obj], Errors]]] = {
    "Deployment": lambda new, old: validate_deployment(new) + _selector_immutable(new, old),
    "ReplicaSet": lambda new, old: validate_replica_set(new) + _selector_immutable(new, old),
    "DaemonSet": lambda new, old: validate_daemon_set(new) + _selector_immutable(new, old),
    "StatefulSet": validate_stateful_set_update,
    "ReplicationController": lambda new, _: validate_replication_controller(new),
}
