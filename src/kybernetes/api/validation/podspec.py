"""Pod specs and pod templates, wherever they appear (pods, workloads, jobs).

The counterpart of `ValidatePodSpec` and `ValidatePodTemplateSpec` of
`pkg/apis/core/validation` (Kubernetes 1.32): volumes, containers, restart and DNS
policies, node selector, security context, affinity, tolerations, DNS config, host
names, priority, overhead and OS. A template's labels and annotations (its metadata)
are checked here too, under `<template>.labels`, as Kubernetes reports them.

Kubernetes keeps `hostNetwork`, `hostPID`, `hostIPC`, `shareProcessNamespace` and
`hostUsers` in the pod security context internally; errors name them as it does
(`spec.securityContext.shareProcessNamespace`, `spec.HostPID`).

Invariants: pure functions; `spec` is a defaulted v1 PodSpec dict.
"""

from __future__ import annotations

import re
from typing import Final

from kybernetes.api.validation.common import (
    INT32_MAX,
    Errors,
    Obj,
    child,
    children,
    dns_label,
    dns_subdomain,
    ip,
    optional_child,
    optional_number,
    qualified_name,
    string_map,
    text,
    texts,
)
from kybernetes.api.validation.containers import (
    validate_containers,
    validate_init_containers,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.metadata import validate_annotations, validate_labels
from kybernetes.api.validation.names import inclusive_range_error
from kybernetes.api.validation.resources import validate_requirements
from kybernetes.api.validation.scheduling import (
    validate_affinity,
    validate_tolerations,
    validate_topology_spread,
)
from kybernetes.api.validation.security import validate_os, validate_pod_security_context
from kybernetes.api.validation.volumes import validate_volumes

RESTART_POLICIES: Final = ("Always", "OnFailure", "Never")
_DNS_POLICIES: Final = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PREEMPTION_POLICIES: Final = ("PreemptLowerPriority", "Never")
DELETION_COST: Final = "controller.kubernetes.io/pod-deletion-cost"
MIRROR_POD: Final = "kubernetes.io/config.mirror"


def _validate_dns_config(spec: Obj, path: FieldPath) -> Errors:
    config = optional_child(spec, "dnsConfig")
    if text(spec, "dnsPolicy") == "None":
        if config is None:
            return [required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not texts(config, "nameservers"):
            detail = "must provide at least one DNS nameserver when `dnsPolicy` is None"
            return [required(path.child("nameservers"), detail)]
    if config is None:
        return []
    errors: Errors = []
    nameservers, searches = texts(config, "nameservers"), texts(config, "searches")
    if len(nameservers) > 3:
        detail = "must not have more than 3 nameservers"
        errors.append(invalid(path.child("nameservers"), nameservers, detail))
    for index, server in enumerate(nameservers):
        errors += ip(server, path.child("nameservers").index(index))
    if len(searches) > 32:
        detail = "must not have more than 32 search paths"
        errors.append(invalid(path.child("searches"), searches, detail))
    if len(" ".join(searches)) > 2048:
        detail = "must not have more than 2048 characters (including spaces) in the search list"
        errors.append(invalid(path.child("searches"), searches, detail))
    for index, search in enumerate(searches):
        errors += dns_subdomain(search.removesuffix("."), path.child("searches").index(index))
    for index, option in enumerate(children(config, "options")):
        if not text(option, "name"):
            errors.append(required(path.child("options").index(index), "must not be empty"))
    return errors


def validate_pod_spec(
    spec: Obj, path: FieldPath, pod_name: str = "", is_pod: bool = False
) -> Errors:
    """A pod spec (`ValidatePodSpec`); `pod_name` and `is_pod` are set for real pods."""
    errors: Errors = []
    grace = optional_number(spec, "terminationGracePeriodSeconds")
    if grace is None:
        errors.append(required(path.child("terminationGracePeriodSeconds")))
    host_users = spec.get("hostUsers") is not False
    volumes, volume_errors = validate_volumes(
        children(spec, "volumes"), pod_name, path.child("volumes"), is_pod
    )
    errors += volume_errors
    claims = {
        text(claim, "name") for claim in children(spec, "resourceClaims") if text(claim, "name")
    }
    errors += _validate_resource_claims(
        children(spec, "resourceClaims"), path.child("resourceClaims")
    )
    containers = children(spec, "containers")
    errors += validate_containers(
        containers, volumes, claims, grace, host_users, path.child("containers")
    )
    init_containers = children(spec, "initContainers")
    errors += validate_init_containers(
        init_containers,
        containers,
        volumes,
        claims,
        grace,
        host_users,
        path.child("initContainers"),
    )
    if spec.get("hostNetwork") is True:
        for index, container in enumerate(containers):
            for port_index, port in enumerate(children(container, "ports")):
                host_port = optional_number(port, "hostPort") or 0
                if (is_pod or host_port) and host_port != (
                    optional_number(port, "containerPort") or 0
                ):
                    port_path = (
                        path.child("containers").index(index).child("ports").index(port_index)
                    )
                    detail = "must match `containerPort` when `hostNetwork` is true"
                    errors.append(invalid(port_path.child("hostPort"), host_port, detail))
    restart = text(spec, "restartPolicy")
    if not restart:
        errors.append(required(path.child("restartPolicy")))
    elif restart not in RESTART_POLICIES:
        errors.append(not_supported(path.child("restartPolicy"), restart, RESTART_POLICIES))
    dns_policy = text(spec, "dnsPolicy")
    if not dns_policy:
        errors.append(required(path.child("dnsPolicy")))
    elif dns_policy not in _DNS_POLICIES:
        errors.append(not_supported(path.child("dnsPolicy"), dns_policy, _DNS_POLICIES))
    errors += validate_labels(string_map(spec, "nodeSelector"), path.child("nodeSelector"))
    errors += validate_pod_security_context(spec, path.child("securityContext"))
    errors += validate_affinity(optional_child(spec, "affinity"), path.child("affinity"))
    errors += _validate_dns_config(spec, path.child("dnsConfig"))
    for index, gate in enumerate(children(spec, "readinessGates")):
        errors += qualified_name(
            text(gate, "conditionType"),
            path.child("readinessGates").index(index).child("conditionType"),
        )
    gates: set[str] = set()
    for index, gate in enumerate(children(spec, "schedulingGates")):
        name, gate_path = text(gate, "name"), path.child("schedulingGates").index(index)
        errors += qualified_name(name, gate_path)
        if name in gates:
            errors.append(duplicate(gate_path, name))
        gates.add(name)
    errors += validate_topology_spread(
        children(spec, "topologySpreadConstraints"), path.child("topologySpreadConstraints")
    )
    if spec.get("hostUsers") is False:
        for key, spelled in (
            ("hostNetwork", "hostNetwork"),
            ("hostPID", "HostPID"),
            ("hostIPC", "HostIPC"),
        ):
            if spec.get(key) is True:
                errors.append(forbidden(path.child(spelled), "when `pod.Spec.HostUsers` is false"))
    for key in ("serviceAccountName", "nodeName"):
        if value := text(spec, key):
            errors += dns_subdomain(value, path.child(key))
    deadline = optional_number(spec, "activeDeadlineSeconds")
    if deadline is not None and not 1 <= deadline <= INT32_MAX:
        detail = inclusive_range_error(1, INT32_MAX)
        errors.append(invalid(path.child("activeDeadlineSeconds"), deadline, detail))
    for key in ("hostname", "subdomain"):
        if value := text(spec, key):
            errors += dns_label(value, path.child(key))
    errors += validate_tolerations(children(spec, "tolerations"), path.child("tolerations"))
    for index, alias in enumerate(children(spec, "hostAliases")):
        alias_path = path.child("hostAliases").index(index)
        errors += ip(text(alias, "ip"), alias_path.child("ip"))
        for host_index, hostname in enumerate(texts(alias, "hostnames")):
            errors += dns_subdomain(hostname, alias_path.child("hostnames").index(host_index))
    if priority_class := text(spec, "priorityClassName"):
        errors += dns_subdomain(priority_class, path.child("priorityClassName"))
    if isinstance(runtime_class := spec.get("runtimeClassName"), str):
        errors += dns_subdomain(runtime_class, path.child("runtimeClassName"))
    preemption = spec.get("preemptionPolicy")
    if isinstance(preemption, str):
        errors += validate_preemption_policy(preemption, path.child("preemptionPolicy"))
    if spec.get("overhead") is not None:
        overhead = {"limits": child(spec, "overhead")}
        errors += validate_requirements(overhead, (), path.child("overhead"))
    return errors + validate_os(spec, path)


def validate_preemption_policy(policy: str, path: FieldPath) -> Errors:
    """PreemptLowerPriority or Never."""
    if not policy:
        return [required(path)]
    return (
        [] if policy in PREEMPTION_POLICIES else [not_supported(path, policy, PREEMPTION_POLICIES)]
    )


def _validate_resource_claims(claims: list[Obj], path: FieldPath) -> Errors:
    errors: Errors = []
    names: set[str] = set()
    for index, claim in enumerate(claims):
        entry = path.index(index)
        name = text(claim, "name")
        if not name:
            errors.append(required(entry.child("name")))
        elif name in names:
            errors.append(duplicate(entry.child("name"), name))
        else:
            errors += dns_label(name, entry.child("name"))
            names.add(name)
        claim_name, template = (
            claim.get("resourceClaimName"),
            claim.get("resourceClaimTemplateName"),
        )
        if claim_name is not None and template is not None:
            detail = (
                "at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified"
            )
            errors.append(invalid(entry, dict(claim), detail))
        if claim_name is None and template is None:
            detail = "must specify one of: `resourceClaimName`, `resourceClaimTemplateName`"
            errors.append(invalid(entry, dict(claim), detail))
        for key, value in (
            ("resourceClaimName", claim_name),
            ("resourceClaimTemplateName", template),
        ):
            if isinstance(value, str):
                errors += dns_subdomain(value, entry.child(key))
    return errors


def validate_pod_specific_annotations(
    annotations: dict[str, str], spec: Obj, path: FieldPath
) -> Errors:
    """The mirror-pod and deletion-cost annotations (`ValidatePodSpecificAnnotations`)."""
    errors: Errors = []
    if MIRROR_POD in annotations and not text(spec, "nodeName"):
        detail = "must set spec.nodeName if mirror pod annotation is set"
        errors.append(invalid(path.key(MIRROR_POD), annotations[MIRROR_POD], detail))
    if DELETION_COST in annotations:
        cost = annotations[DELETION_COST]
        if not _is_int32(cost):
            errors.append(invalid(path.key(DELETION_COST), cost, "must be a 32bit integer"))
    return errors


def _is_int32(value: str) -> bool:
    """Go's deletion-cost parse: no `+`, no leading zeros, within int32."""
    if not re.fullmatch(r"-[0-9]+|0|[1-9][0-9]*", value):
        return False
    return -(2**31) <= int(value) <= INT32_MAX


def validate_template_metadata(template: Obj, path: FieldPath) -> Errors:
    """A pod template's labels and annotations, reported under `<template>.labels`."""
    metadata = child(template, "metadata")
    annotations = string_map(metadata, "annotations")
    errors = validate_labels(string_map(metadata, "labels"), path.child("labels"))
    errors += validate_annotations(annotations, path.child("annotations"))
    return errors + validate_pod_specific_annotations(
        annotations, child(template, "spec"), path.child("annotations")
    )


def validate_pod_template_spec(template: Obj, path: FieldPath) -> Errors:
    """A pod template (`ValidatePodTemplateSpec`): metadata, spec, no ephemeral containers."""
    spec = child(template, "spec")
    errors = validate_template_metadata(template, path)
    errors += validate_pod_spec(spec, path.child("spec"))
    if children(spec, "ephemeralContainers"):
        detail = "ephemeral containers not allowed in pod template"
        errors.append(forbidden(path.child("spec", "ephemeralContainers"), detail))
    return errors
