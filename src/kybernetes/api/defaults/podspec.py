"""Defaults of a PodSpec, wherever one appears: in a Pod or in any pod template.

Two layers, as in core/v1:
- `default_pod_spec` (SetDefaults_PodSpec and everything nested: volumes, containers,
  init and ephemeral containers, probes, lifecycle hooks, env field refs, resource
  rounding). Every kind embedding a `PodTemplateSpec` (Deployment, ReplicaSet,
  StatefulSet, DaemonSet, Job, CronJob, ReplicationController, PodTemplate) gets only
  this layer.
- `default_pod` adds what materializes in Pods only (SetDefaults_Pod): requests
  copied from limits, `enableServiceLinks`, host ports under `hostNetwork`, and the
  rounding of resources reported in the status.

Invariants: in place, fills only unset fields, idempotent. Container `restartPolicy`
and other beta/alpha-gated fields of 1.32 with a default-off gate are not defaulted.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    JSONObject,
    child,
    is_zero,
    items,
    path,
    round_requirements,
    round_resource_list,
    set_if_absent,
    set_if_zero,
    struct,
)
from kybernetes.api.defaults.imageref import default_pull_policy
from kybernetes.api.defaults.volumes import default_field_selector, default_volume

TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"
TERMINATION_GRACE_PERIOD_SECONDS: Final = 30
DEFAULT_SCHEDULER_NAME: Final = "default-scheduler"

_CONTAINER_LISTS: Final = ("initContainers", "containers", "ephemeralContainers")
_PROBES: Final = ("livenessProbe", "readinessProbe", "startupProbe")
_STATUS_LISTS: Final = (
    "initContainerStatuses",
    "containerStatuses",
    "ephemeralContainerStatuses",
)


def default_pod(pod: JSONObject) -> None:
    """A whole Pod: the Pod-only defaults, then the PodSpec's."""
    spec = struct(pod, "spec")
    if spec is None:
        return
    for key in ("containers", "initContainers"):
        for container in items(spec, key):
            _default_requests_from_limits(container)
    set_if_absent(spec, "enableServiceLinks", True)
    if spec.get("hostNetwork") is True:
        for key in ("containers", "initContainers"):
            for container in items(spec, key):
                for port in items(container, "ports"):
                    if is_zero(port.get("hostPort")) and not is_zero(port.get("containerPort")):
                        port["hostPort"] = port["containerPort"]
    default_pod_spec(spec)
    status = child(pod, "status")
    for key in _STATUS_LISTS:
        for container_status in items(status, key):
            round_resource_list(container_status, "allocatedResources")
            round_requirements(container_status, "resources")


def default_pod_template(template: JSONObject | None) -> None:
    """A `PodTemplateSpec`: its spec is a non-pointer struct, so it is always defaulted."""
    if template is not None:
        default_pod_spec(struct(template, "spec"))


def default_pod_spec(spec: JSONObject | None) -> None:
    """SetDefaults_PodSpec plus the defaults of everything nested in the spec."""
    if spec is None:
        return
    set_if_zero(spec, "dnsPolicy", "ClusterFirst")
    set_if_zero(spec, "restartPolicy", "Always")
    set_if_absent(spec, "securityContext", {})
    set_if_absent(spec, "terminationGracePeriodSeconds", TERMINATION_GRACE_PERIOD_SECONDS)
    set_if_zero(spec, "schedulerName", DEFAULT_SCHEDULER_NAME)
    for volume in items(spec, "volumes"):
        default_volume(volume)
    for key in _CONTAINER_LISTS:
        for container in items(spec, key):
            default_container(container)
    round_resource_list(spec, "overhead")


def default_container(container: JSONObject) -> None:
    """A container of any kind (regular, init or ephemeral)."""
    set_if_zero(container, "imagePullPolicy", default_pull_policy(container.get("image", "")))
    set_if_zero(container, "terminationMessagePath", TERMINATION_MESSAGE_PATH)
    set_if_zero(container, "terminationMessagePolicy", "File")
    for port in items(container, "ports"):
        set_if_zero(port, "protocol", "TCP")
    for env in items(container, "env"):
        default_field_selector(path(env, "valueFrom", "fieldRef"))
    round_requirements(container, "resources")
    for key in _PROBES:
        if (probe := child(container, key)) is not None:
            _default_probe(probe)
    for key in ("postStart", "preStop"):
        _default_http_get(path(container, "lifecycle", key, "httpGet"))


def _default_probe(probe: JSONObject) -> None:
    set_if_zero(probe, "timeoutSeconds", 1)
    set_if_zero(probe, "periodSeconds", 10)
    set_if_zero(probe, "successThreshold", 1)
    set_if_zero(probe, "failureThreshold", 3)
    _default_http_get(child(probe, "httpGet"))
    if (grpc := child(probe, "grpc")) is not None:
        set_if_absent(grpc, "service", "")


def _default_http_get(action: JSONObject | None) -> None:
    if action is not None:
        set_if_zero(action, "path", "/")
        set_if_zero(action, "scheme", "HTTP")


def _default_requests_from_limits(container: JSONObject) -> None:
    """A limit without a request makes the request equal to the limit (Pods only)."""
    resources = child(container, "resources")
    limits = path(resources, "limits")
    if resources is None or limits is None:
        return
    requests = resources.get("requests")
    if requests is None:
        if limits:
            resources["requests"] = dict(limits)
    elif isinstance(requests, dict):
        for name, value in limits.items():
            requests.setdefault(name, value)
