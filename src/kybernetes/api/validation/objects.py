"""Semantic validation of whole API objects, by API group and kind.

`validate(group, kind, obj)` runs the rules kube-apiserver 1.32 runs when an object is
created, `validate_update(group, kind, new, old)` those of an update, and
`validate_status_update(group, kind, new, old)` those of a write to the `status`
subresource. Each returns the problems as `FieldError`s, in Kubernetes' order and
wording; an empty list means the object is valid. The core group is `""`.

What is *not* checked here: `metadata` (see `validation.metadata`, which the caller
runs first), schema types (the object was decoded against its schema) and defaults
(the object was defaulted). Kinds without semantic rules (ServiceAccount, custom
resources...) validate to `[]`.

Objects are v1 JSON dicts. Some of Kubernetes' rules depend on what its registry does
before validating, and the caller must do the same: a Job's selector and template
labels are generated from its UID (unless `spec.manualSelector`), a Service's cluster
IPs are allocated, a pod's `status` is reset on create.

Invariants: pure functions of their arguments; inputs are never mutated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from kybernetes.api.validation import (
    batch,
    cluster,
    config,
    cron,
    endpoints,
    events,
    pod,
    policy,
    service,
    workloads,
)
from kybernetes.api.validation.common import Obj
from kybernetes.api.validation.errors import FieldError

_Create = Callable[[Obj], list[FieldError]]
_Update = Callable[[Obj, Obj], list[FieldError]]

_APPS: Final = "apps"
_RBAC: Final = policy.RBAC_GROUP

_CREATE: Final[dict[tuple[str, str], _Create]] = {
    ("", "Pod"): pod.validate_pod,
    ("", "PodTemplate"): pod.validate_pod_template,
    ("", "ReplicationController"): workloads.validate_replication_controller,
    ("", "Service"): service.validate_service,
    ("", "Endpoints"): endpoints.validate_endpoints,
    ("", "ConfigMap"): config.validate_config_map,
    ("", "Secret"): config.validate_secret,
    ("", "Namespace"): config.validate_namespace,
    ("", "Node"): cluster.validate_node,
    ("", "LimitRange"): cluster.validate_limit_range,
    ("", "ResourceQuota"): cluster.validate_resource_quota,
    ("", "Event"): lambda obj: events.validate_event("", obj),
    (events.EVENTS_GROUP, "Event"): lambda obj: events.validate_event(events.EVENTS_GROUP, obj),
    (_APPS, "Deployment"): workloads.validate_deployment,
    (_APPS, "ReplicaSet"): workloads.validate_replica_set,
    (_APPS, "StatefulSet"): workloads.validate_stateful_set,
    (_APPS, "DaemonSet"): workloads.validate_daemon_set,
    ("batch", "Job"): batch.validate_job,
    ("batch", "CronJob"): cron.validate_cron_job,
    ("discovery.k8s.io", "EndpointSlice"): endpoints.validate_endpoint_slice,
    ("policy", "PodDisruptionBudget"): policy.validate_pod_disruption_budget,
    ("scheduling.k8s.io", "PriorityClass"): policy.validate_priority_class,
    ("coordination.k8s.io", "Lease"): policy.validate_lease,
    (_RBAC, "Role"): lambda obj: policy.validate_role(obj, True),
    (_RBAC, "ClusterRole"): lambda obj: policy.validate_role(obj, False),
    (_RBAC, "RoleBinding"): lambda obj: policy.validate_role_binding(obj, True),
    (_RBAC, "ClusterRoleBinding"): lambda obj: policy.validate_role_binding(obj, False),
}

_UPDATE: Final[dict[tuple[str, str], _Update]] = {
    ("", "Pod"): pod.validate_pod_update,
    ("", "PodTemplate"): lambda new, _: pod.validate_pod_template(new),
    ("", "ReplicationController"): workloads.UPDATE_RULES["ReplicationController"],
    ("", "Service"): service.validate_service_update,
    ("", "Endpoints"): lambda new, _: endpoints.validate_endpoints(new),
    ("", "ConfigMap"): config.validate_config_map_update,
    ("", "Secret"): config.validate_secret_update,
    ("", "Node"): cluster.validate_node_update,
    ("", "LimitRange"): lambda new, _: cluster.validate_limit_range(new),
    ("", "ResourceQuota"): cluster.validate_resource_quota_update,
    ("", "Event"): lambda new, old: events.validate_event_update("", new, old),
    (events.EVENTS_GROUP, "Event"): lambda new, old: events.validate_event_update(
        events.EVENTS_GROUP, new, old
    ),
    (_APPS, "Deployment"): workloads.UPDATE_RULES["Deployment"],
    (_APPS, "ReplicaSet"): workloads.UPDATE_RULES["ReplicaSet"],
    (_APPS, "StatefulSet"): workloads.UPDATE_RULES["StatefulSet"],
    (_APPS, "DaemonSet"): workloads.UPDATE_RULES["DaemonSet"],
    ("batch", "Job"): batch.validate_job_update,
    ("batch", "CronJob"): cron.validate_cron_job_update,
    ("discovery.k8s.io", "EndpointSlice"): endpoints.validate_endpoint_slice_update,
    ("policy", "PodDisruptionBudget"): lambda new, _: policy.validate_pod_disruption_budget(new),
    ("scheduling.k8s.io", "PriorityClass"): policy.validate_priority_class_update,
    ("coordination.k8s.io", "Lease"): lambda new, _: policy.validate_lease(new),
    (_RBAC, "Role"): lambda new, _: policy.validate_role(new, True),
    (_RBAC, "ClusterRole"): lambda new, _: policy.validate_role(new, False),
    (_RBAC, "RoleBinding"): lambda new, old: policy.validate_role_binding_update(new, old, True),
    (_RBAC, "ClusterRoleBinding"): lambda new, old: policy.validate_role_binding_update(
        new, old, False
    ),
}


def _workload_status(kind: str) -> _Update:
    return lambda new, old: workloads.validate_workload_status_update(kind, new, old)


_STATUS_UPDATE: Final[dict[tuple[str, str], _Update]] = {
    ("", "Pod"): pod.validate_pod_status_update,
    ("", "ReplicationController"): _workload_status("ReplicationController"),
    ("", "Service"): lambda new, _: service.validate_service_status_update(new),
    ("", "Namespace"): lambda new, _: config.validate_namespace_status_update(new),
    ("", "Node"): cluster.validate_node_update,
    ("", "ResourceQuota"): lambda new, _: cluster.validate_resource_quota_status(new),
    (_APPS, "Deployment"): _workload_status("Deployment"),
    (_APPS, "ReplicaSet"): _workload_status("ReplicaSet"),
    (_APPS, "StatefulSet"): _workload_status("StatefulSet"),
    (_APPS, "DaemonSet"): _workload_status("DaemonSet"),
    ("batch", "Job"): lambda new, _: batch.validate_job_status_update(new),
    ("policy", "PodDisruptionBudget"): lambda new, _: policy.validate_pod_disruption_budget_status(
        new
    ),
}


def validate(group: str, kind: str, obj: Obj) -> list[FieldError]:
    """The semantic errors of an object being created (`""` is the core group)."""
    rule = _CREATE.get((group, kind))
    return rule(obj) if rule else []


def validate_update(group: str, kind: str, new: Obj, old: Obj) -> list[FieldError]:
    """The semantic errors of an update of `old` (as stored) to `new`."""
    rule = _UPDATE.get((group, kind))
    return rule(new, old) if rule else []


def validate_status_update(group: str, kind: str, new: Obj, old: Obj) -> list[FieldError]:
    """The semantic errors of a write to the `status` subresource."""
    rule = _STATUS_UPDATE.get((group, kind))
    return rule(new, old) if rule else []
