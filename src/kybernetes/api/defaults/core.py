"""Defaults of the core (`""`, v1) kinds: k8s.io/kubernetes/pkg/apis/core/v1 in 1.32.

Only what the scheme's defaulters do. Service fields that the REST strategy or the
allocators fill (`clusterIP(s)`, `ipFamilies`, `ipFamilyPolicy`, node ports,
`healthCheckNodePort`), a Pod's `status.phase` / `qosClass`, a Namespace's
`spec.finalizers` and the admission plugins' changes (service account, tolerations,
default storage class) live elsewhere. Kinds without a defaulter (ConfigMap, whose
`data: {}` is invisible on the wire, ServiceAccount, Event) are absent.

Invariants: in place, fills only unset fields, idempotent. The exceptions are
Kubernetes' own: a Service's `sessionAffinityConfig` is dropped unless the affinity is
ClientIP, and a Namespace's `kubernetes.io/metadata.name` label always equals its name.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    Defaulter,
    JSONObject,
    child,
    is_zero,
    items,
    path,
    round_resource_list,
    set_if_absent,
    set_if_zero,
    struct,
)
from kybernetes.api.defaults.podspec import default_pod, default_pod_template
from kybernetes.api.defaults.volumes import default_claim, default_volume_sources

CLIENT_IP_TIMEOUT_SECONDS: Final = 10800
LABEL_METADATA_NAME: Final = "kubernetes.io/metadata.name"

_LIMIT_KEYS: Final = ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio")


def _pod_template(obj: JSONObject) -> None:
    default_pod_template(struct(obj, "template"))


def _replication_controller(rc: JSONObject) -> None:
    spec = struct(rc, "spec")
    if spec is None:
        return
    template = child(spec, "template")
    labels = path(template, "metadata", "labels")
    if labels:  # an empty map is as good as none on the wire
        if is_zero(spec.get("selector")):
            spec["selector"] = dict(labels)
        if (metadata := struct(rc, "metadata")) is not None and is_zero(metadata.get("labels")):
            metadata["labels"] = dict(labels)
    set_if_absent(spec, "replicas", 1)
    default_pod_template(template)


def _service(service: JSONObject) -> None:
    spec = struct(service, "spec")
    if spec is None:
        return
    set_if_zero(spec, "sessionAffinity", "None")
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = path(spec, "sessionAffinityConfig", "clientIP")
        if config is None or config.get("timeoutSeconds") is None:
            timeout = {"timeoutSeconds": CLIENT_IP_TIMEOUT_SECONDS}
            spec["sessionAffinityConfig"] = {"clientIP": timeout}
    set_if_zero(spec, "type", "ClusterIP")
    service_type = spec["type"]
    for port in items(spec, "ports"):
        set_if_zero(port, "protocol", "TCP")
        if port.get("targetPort") in (None, 0, ""):
            port["targetPort"] = port.get("port") or 0
    externally_accessible = service_type in ("LoadBalancer", "NodePort") or (
        service_type == "ClusterIP" and not is_zero(spec.get("externalIPs"))
    )
    if externally_accessible:
        set_if_zero(spec, "externalTrafficPolicy", "Cluster")
    if service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        set_if_absent(spec, "internalTrafficPolicy", "Cluster")
    if service_type == "LoadBalancer":
        set_if_absent(spec, "allocateLoadBalancerNodePorts", True)
        for ingress in items(path(service, "status", "loadBalancer"), "ingress"):
            if not is_zero(ingress.get("ip")):
                set_if_absent(ingress, "ipMode", "VIP")


def _namespace(namespace: JSONObject) -> None:
    metadata = struct(namespace, "metadata")
    name = metadata.get("name") if metadata is not None else None
    if metadata is not None and isinstance(name, str) and name:
        labels = struct(metadata, "labels")
        if labels is not None:
            labels[LABEL_METADATA_NAME] = name
    if (status := struct(namespace, "status")) is not None:
        set_if_zero(status, "phase", "Active")


def _node(node: JSONObject) -> None:
    status = child(node, "status")
    if status is None:
        return
    capacity = child(status, "capacity")
    if status.get("allocatable") is None and capacity is not None:
        status["allocatable"] = dict(capacity)
    round_resource_list(status, "capacity")
    round_resource_list(status, "allocatable")


def _secret(secret: JSONObject) -> None:
    set_if_zero(secret, "type", "Opaque")


def _endpoints(endpoints: JSONObject) -> None:
    for subset in items(endpoints, "subsets"):
        for port in items(subset, "ports"):
            set_if_zero(port, "protocol", "TCP")


def _limit_range(limit_range: JSONObject) -> None:
    for limit in items(child(limit_range, "spec"), "limits"):
        if limit.get("type") == "Container":
            _default_container_limits(limit)
        for key in _LIMIT_KEYS:
            round_resource_list(limit, key)


def _default_container_limits(limit: JSONObject) -> None:
    """Default limit from max; default request from the default limit, then from min."""
    default = limit.get("default")
    default_request = limit.get("defaultRequest")
    if not isinstance(default, dict | None) or not isinstance(default_request, dict | None):
        return
    default = dict(default or {})
    default_request = dict(default_request or {})
    for name, value in (child(limit, "max") or {}).items():
        default.setdefault(name, value)
    for name, value in default.items():
        default_request.setdefault(name, value)
    for name, value in (child(limit, "min") or {}).items():
        default_request.setdefault(name, value)
    for key, resources in (("default", default), ("defaultRequest", default_request)):
        if resources or key in limit:
            limit[key] = resources


def _resource_quota(quota: JSONObject) -> None:
    round_resource_list(child(quota, "spec"), "hard")
    status = child(quota, "status")
    round_resource_list(status, "hard")
    round_resource_list(status, "used")


def _persistent_volume(volume: JSONObject) -> None:
    spec = struct(volume, "spec")
    if spec is not None:
        set_if_zero(spec, "persistentVolumeReclaimPolicy", "Retain")
        set_if_absent(spec, "volumeMode", "Filesystem")
        round_resource_list(spec, "capacity")
        default_volume_sources(spec)
    if (status := struct(volume, "status")) is not None:
        set_if_zero(status, "phase", "Pending")


DEFAULTERS: Final[dict[tuple[str, str, str], Defaulter]] = {
    ("", "v1", "Pod"): default_pod,
    ("", "v1", "PodTemplate"): _pod_template,
    ("", "v1", "ReplicationController"): _replication_controller,
    ("", "v1", "Service"): _service,
    ("", "v1", "Namespace"): _namespace,
    ("", "v1", "Node"): _node,
    ("", "v1", "Secret"): _secret,
    ("", "v1", "Endpoints"): _endpoints,
    ("", "v1", "LimitRange"): _limit_range,
    ("", "v1", "ResourceQuota"): _resource_quota,
    ("", "v1", "PersistentVolume"): _persistent_volume,
    ("", "v1", "PersistentVolumeClaim"): default_claim,
}
