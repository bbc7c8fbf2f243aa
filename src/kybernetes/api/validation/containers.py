"""Containers of a pod spec: names, images, ports, environment, probes, security context.

The counterpart of `validateContainers`, `validateInitContainers` and
`validateContainerCommon` of `pkg/apis/core/validation` (Kubernetes 1.32), with the
feature gates of a default 1.32 cluster: relaxed environment variable names (beta, on),
sleep actions of at least one second (the zero-sleep gate is off).

Invariants: pure functions; error order and paths are Kubernetes' (including its
quirks, e.g. an init container's host port conflicts are reported at index 0).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    children,
    dns_label,
    nonnegative,
    optional_child,
    optional_number,
    text,
    texts,
)
from kybernetes.api.validation.env import validate_env, validate_env_from
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.mounts import validate_volume_devices, validate_volume_mounts
from kybernetes.api.validation.names import (
    is_valid_port_name,
    is_valid_port_num,
    regex_error,
)
from kybernetes.api.validation.resources import validate_requirements
from kybernetes.api.validation.security import validate_container_security_context

PROTOCOLS: Final = ("SCTP", "TCP", "UDP")
_PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")
_MESSAGE_POLICIES: Final = ("File", "FallbackToLogsOnError")
_ENV_FIELD_PATHS: Final = (
    "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
    "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP",
    "status.podIPs",
)  # fmt: skip
_PROBE_HANDLERS: Final = ("exec", "httpGet", "tcpSocket", "grpc")
_LIFECYCLE_HANDLERS: Final = ("exec", "httpGet", "tcpSocket", "sleep")
_SCHEMES: Final = ("HTTP", "HTTPS")
_HEADER_FMT: Final = "[-A-Za-z0-9]+"
_RESIZE_RESOURCES: Final = ("cpu", "memory")
_RESIZE_POLICIES: Final = ("NotRequired", "RestartContainer")
_INIT_ONLY: Final = "may not be set for init containers without restartPolicy=Always"


def protocol_errors(protocol: str, path: FieldPath) -> Errors:
    """A port protocol: TCP, UDP or SCTP (required)."""
    if not protocol:
        return [required(path)]
    return [] if protocol in PROTOCOLS else [not_supported(path, protocol, PROTOCOLS)]


def _validate_ports(ports: list[Obj], path: FieldPath) -> Errors:
    errors: Errors = []
    names: set[str] = set()
    for index, port in enumerate(ports):
        port_path = path.index(index)
        name = text(port, "name")
        if name:
            if messages := is_valid_port_name(name):
                errors += [invalid(port_path.child("name"), name, msg) for msg in messages]
            elif name in names:
                errors.append(duplicate(port_path.child("name"), name))
            else:
                names.add(name)
        container_port = optional_number(port, "containerPort") or 0
        if not container_port:
            errors.append(required(port_path.child("containerPort")))
        else:
            errors += [
                invalid(port_path.child("containerPort"), container_port, msg)
                for msg in is_valid_port_num(container_port)
            ]
        host_port = optional_number(port, "hostPort") or 0
        if host_port:
            errors += [
                invalid(port_path.child("hostPort"), host_port, msg)
                for msg in is_valid_port_num(host_port)
            ]
        errors += protocol_errors(text(port, "protocol"), port_path.child("protocol"))
    return errors


def _port_num_or_name(port: object, path: FieldPath) -> Errors:
    if isinstance(port, str):
        return [invalid(path, port, msg) for msg in is_valid_port_name(port)]
    number = port if isinstance(port, int) else 0
    return [invalid(path, number, msg) for msg in is_valid_port_num(number)]


def _validate_handler(
    handler: Obj, kinds: tuple[str, ...], grace: int | None, path: FieldPath
) -> Errors:
    errors: Errors = []
    count = 0
    for kind in kinds:
        if handler.get(kind) is None:
            continue
        kind_path = path.child(kind)
        if count:
            errors.append(forbidden(kind_path, "may not specify more than 1 handler type"))
            continue
        count += 1
        action = child(handler, kind)
        if kind == "exec" and not texts(action, "command"):
            errors.append(required(kind_path.child("command")))
        elif kind == "httpGet":
            if not text(action, "path"):
                errors.append(required(kind_path.child("path")))
            errors += _port_num_or_name(action.get("port"), kind_path.child("port"))
            if (scheme := text(action, "scheme")) not in _SCHEMES:
                errors.append(not_supported(kind_path.child("scheme"), scheme, _SCHEMES))
            for header in children(action, "httpHeaders"):
                header_name = text(header, "name")
                if not _is_header_name(header_name):
                    message = "a valid HTTP header must consist of alphanumeric characters or '-'"
                    detail = regex_error(message, _HEADER_FMT, "X-Header-Name")
                    errors.append(invalid(kind_path.child("httpHeaders"), header_name, detail))
        elif kind == "tcpSocket":
            errors += _port_num_or_name(action.get("port"), kind_path.child("port"))
        elif kind == "grpc":
            errors += _port_num_or_name(
                optional_number(action, "port") or 0, kind_path.child("port")
            )
        elif kind == "sleep":
            seconds = optional_number(action, "seconds") or 0
            if grace is not None and not 0 < seconds <= grace:
                detail = (
                    "must be greater than 0 and less than terminationGracePeriodSeconds "
                    f"({grace}). Enable AllowPodLifecycleSleepActionZeroValue feature gate "
                    "for zero sleep."
                )
                errors.append(invalid(kind_path, seconds, detail))
    if not count:
        errors.append(required(path, "must specify a handler type"))
    return errors


def _is_header_name(name: str) -> bool:
    return bool(name) and all(char.isascii() and (char.isalnum() or char == "-") for char in name)


def _validate_probe(container: Obj, kind: str, grace: int | None, path: FieldPath) -> Errors:
    if container.get(kind) is None:
        return []
    probe, probe_path = child(container, kind), path.child(kind)
    errors = _validate_handler(probe, _PROBE_HANDLERS, grace, probe_path)
    for key in (
        "initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
        "failureThreshold",
    ):  # fmt: skip
        errors += nonnegative(optional_number(probe, key) or 0, probe_path.child(key))
    probe_grace = optional_number(probe, "terminationGracePeriodSeconds")
    if probe_grace is not None and probe_grace <= 0:
        detail = "must be greater than 0"
        errors.append(
            invalid(probe_path.child("terminationGracePeriodSeconds"), probe_grace, detail)
        )
    if (
        kind != "readinessProbe"
        and (threshold := optional_number(probe, "successThreshold") or 0) != 1
    ):
        errors.append(invalid(probe_path.child("successThreshold"), threshold, "must be 1"))
    if kind == "readinessProbe" and probe_grace is not None:
        detail = "must not be set for readinessProbes"
        errors.append(
            invalid(probe_path.child("terminationGracePeriodSeconds"), probe_grace, detail)
        )
    return errors


def _validate_lifecycle_and_probes(container: Obj, grace: int | None, path: FieldPath) -> Errors:
    errors: Errors = []
    if container.get("lifecycle") is not None:
        lifecycle = child(container, "lifecycle")
        for hook in ("postStart", "preStop"):
            if lifecycle.get(hook) is not None:
                hook_path = path.child("lifecycle", hook)
                errors += _validate_handler(
                    child(lifecycle, hook), _LIFECYCLE_HANDLERS, grace, hook_path
                )
    for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
        errors += _validate_probe(container, kind, grace, path)
    return errors


def _validate_resize_policy(policies: list[Obj], path: FieldPath) -> Errors:
    errors: Errors = []
    seen: set[str] = set()
    for index, policy in enumerate(policies):
        name, restart = text(policy, "resourceName"), text(policy, "restartPolicy")
        if name in seen:
            errors.append(duplicate(path.index(index), name))
        seen.add(name)
        for value, supported in ((name, _RESIZE_RESOURCES), (restart, _RESIZE_POLICIES)):
            if not value:
                errors.append(required(path))
            elif value not in supported:
                errors.append(not_supported(path, value, supported))
    return errors


def _validate_common(
    container: Obj,
    volumes: dict[str, Obj],
    claims: Collection[str],
    host_users: bool,
    path: FieldPath,
) -> Errors:
    name = text(container, "name")
    errors = dns_label(name, path.child("name")) if name else [required(path.child("name"))]
    if not text(container, "image"):
        errors.append(required(path.child("image")))
    policy = text(container, "terminationMessagePolicy")
    if not policy:
        errors.append(required(path.child("terminationMessagePolicy")))
    elif policy not in _MESSAGE_POLICIES:
        errors.append(
            not_supported(path.child("terminationMessagePolicy"), policy, _MESSAGE_POLICIES)
        )
    mounts = {text(m, "name"): text(m, "mountPath") for m in children(container, "volumeMounts")}
    devices = {text(d, "name"): text(d, "devicePath") for d in children(container, "volumeDevices")}
    context = optional_child(container, "securityContext")
    privileged = context is not None and context.get("privileged") is True
    errors += _validate_ports(children(container, "ports"), path.child("ports"))
    errors += validate_env(children(container, "env"), path.child("env"))
    errors += validate_env_from(children(container, "envFrom"), path.child("envFrom"))
    errors += validate_volume_mounts(
        children(container, "volumeMounts"),
        devices,
        volumes,
        privileged,
        path.child("volumeMounts"),
    )
    errors += validate_volume_devices(
        children(container, "volumeDevices"), mounts, volumes, path.child("volumeDevices")
    )
    pull = text(container, "imagePullPolicy")
    if not pull:
        errors.append(required(path.child("imagePullPolicy")))
    elif pull not in _PULL_POLICIES:
        errors.append(not_supported(path.child("imagePullPolicy"), pull, _PULL_POLICIES))
    errors += validate_requirements(child(container, "resources"), claims, path.child("resources"))
    errors += _validate_resize_policy(
        children(container, "resizePolicy"), path.child("resizePolicy")
    )
    return errors + validate_container_security_context(
        context, host_users, path.child("securityContext")
    )


def host_port_conflicts(containers: list[Obj], path: FieldPath) -> Errors:
    """Each (protocol, host IP, host port) is used once (`AccumulateUniqueHostPorts`)."""
    errors: Errors = []
    seen: set[str] = set()
    for index, container in enumerate(containers):
        for port_index, port in enumerate(children(container, "ports")):
            host_port = optional_number(port, "hostPort") or 0
            if not host_port:
                continue
            key = f"{text(port, 'protocol')}/{text(port, 'hostIP')}/{host_port}"
            if key in seen:
                port_path = path.index(index).child("ports").index(port_index).child("hostPort")
                errors.append(duplicate(port_path, key))
            seen.add(key)
    return errors


def validate_containers(
    containers: list[Obj],
    volumes: dict[str, Obj],
    claims: Collection[str],
    grace: int | None,
    host_users: bool,
    path: FieldPath,
) -> Errors:
    """The regular containers: at least one, unique names, no restart policy of their own."""
    if not containers:
        return [required(path)]
    errors: Errors = []
    names: set[str] = set()
    for index, container in enumerate(containers):
        container_path = path.index(index)
        errors += _validate_common(container, volumes, claims, host_users, container_path)
        name = text(container, "name")
        if name in names:
            errors.append(duplicate(container_path.child("name"), name))
        names.add(name)
        errors += _validate_lifecycle_and_probes(container, grace, container_path)
        if container.get("restartPolicy") is not None:
            detail = "may not be set for non-init containers"
            errors.append(forbidden(container_path.child("restartPolicy"), detail))
    return errors + host_port_conflicts(containers, path)


def validate_init_containers(
    containers: list[Obj],
    regular: list[Obj],
    volumes: dict[str, Obj],
    claims: Collection[str],
    grace: int | None,
    host_users: bool,
    path: FieldPath,
) -> Errors:
    """Init containers: names unique among all containers; probes only for sidecars."""
    errors: Errors = []
    names = {text(container, "name") for container in regular}
    for index, container in enumerate(containers):
        container_path = path.index(index)
        errors += _validate_common(container, volumes, claims, host_users, container_path)
        restart = container.get("restartPolicy")
        if isinstance(restart, str) and restart != "Always":
            errors.append(not_supported(container_path.child("restartPolicy"), restart, ["Always"]))
        name = text(container, "name")
        if name in names:
            errors.append(duplicate(container_path.child("name"), name))
        elif name:
            names.add(name)
        errors += host_port_conflicts([container], path)
        if restart == "Always":
            errors += _validate_lifecycle_and_probes(container, grace, container_path)
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(key) is not None:
                    errors.append(forbidden(container_path.child(key), _INIT_ONLY))
        if children(container, "resizePolicy"):
            detail = "must not be set for init containers"
            policies = [dict(p) for p in children(container, "resizePolicy")]
            errors.append(invalid(container_path.child("resizePolicy"), policies, detail))
    return errors
