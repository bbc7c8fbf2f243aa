"""Security contexts and operating-system rules of pods and containers.

The counterpart of `ValidateSecurityContext`, `validatePodSpecSecurityContext`,
`validateSysctls`, the seccomp and AppArmor profile checks and `validateOS` /
`validateLinux` / `validateWindows` of `pkg/apis/core/validation` (Kubernetes 1.32).
Privileged containers are allowed (kube-apiserver's `--allow-privileged`).

Invariants: pure functions; `spec` is a v1 PodSpec dict, where `hostNetwork`,
`hostPID`, `hostIPC` and `shareProcessNamespace` sit beside `securityContext`.
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
    local_descending_path,
    optional_child,
    optional_number,
    text,
    texts,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from kybernetes.api.validation.names import inclusive_range_error

_SECCOMP_TYPES: Final = ("Localhost", "RuntimeDefault", "Unconfined")
_PROC_MOUNTS: Final = ("Default", "Unmasked")


def id_errors(value: int, path: FieldPath) -> Errors:
    """A user or group ID: 0 to 2147483647."""
    return (
        []
        if 0 <= value <= INT32_MAX
        else [invalid(path, value, inclusive_range_error(0, INT32_MAX))]
    )


def validate_seccomp_profile(profile: Obj | None, path: FieldPath) -> Errors:
    """A `seccompProfile`: a known type; a local profile path exactly for Localhost."""
    if profile is None:
        return []
    kind, local = text(profile, "type"), profile.get("localhostProfile")
    errors: Errors = []
    if not kind:
        errors.append(required(path.child("type"), "type is required when seccompProfile is set"))
    elif kind not in _SECCOMP_TYPES:
        errors.append(not_supported(path.child("type"), kind, _SECCOMP_TYPES))
    if kind == "Localhost":
        if not isinstance(local, str):
            detail = "must be set when seccomp type is Localhost"
            errors.append(required(path.child("localhostProfile"), detail))
        else:
            errors += local_descending_path(local, path.child("localhostProfile"))
    elif local is not None:
        detail = "can only be set when seccomp type is Localhost"
        errors.append(invalid(path.child("localhostProfile"), dict(profile), detail))
    return errors


def validate_apparmor_profile(profile: Obj | None, path: FieldPath) -> Errors:
    """An `appArmorProfile`: a known type; a local profile name exactly for Localhost."""
    if profile is None:
        return []
    kind, local = text(profile, "type"), profile.get("localhostProfile")
    local_path = path.child("localhostProfile")
    if kind == "Localhost":
        detail = "must be set when AppArmor type is Localhost"
        if not isinstance(local, str):
            return [required(local_path, detail)]
        errors: Errors = []
        if local.strip() != local:
            errors.append(invalid(local_path, local, "must not be padded with whitespace"))
        elif not local:
            errors.append(required(local_path, detail))
        if len(local.encode()) > 4095:
            errors.append(too_long(local_path, 4095))
        return errors
    if kind in ("RuntimeDefault", "Unconfined"):
        detail = "can only be set when AppArmor type is Localhost"
        return [invalid(local_path, local, detail)] if local is not None else []
    if not kind:
        return [required(path.child("type"), "type is required when appArmorProfile is set")]
    return [not_supported(path.child("type"), kind, _SECCOMP_TYPES)]


def validate_container_security_context(
    context: Obj | None, host_users: bool, path: FieldPath
) -> Errors:
    if context is None:
        return []
    errors: Errors = []
    for key in ("runAsUser", "runAsGroup"):
        if (value := optional_number(context, key)) is not None:
            errors += id_errors(value, path.child(key))
    proc_mount = context.get("procMount")
    if isinstance(proc_mount, str):
        if proc_mount not in _PROC_MOUNTS:
            errors.append(not_supported(path.child("procMount"), proc_mount, _PROC_MOUNTS))
        if host_users and proc_mount == "Unmasked":
            detail = "`hostUsers` must be false to use `Unmasked`"
            errors.append(invalid(path.child("procMount"), proc_mount, detail))
    errors += validate_seccomp_profile(
        optional_child(context, "seccompProfile"), path.child("seccompProfile")
    )
    if context.get("allowPrivilegeEscalation") is False:
        if context.get("privileged") is True:
            detail = "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"
            errors.append(invalid(path, dict(context), detail))
        if "CAP_SYS_ADMIN" in texts(child(context, "capabilities"), "add"):
            detail = (
                "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` "
                "CAP_SYS_ADMIN"
            )
            errors.append(invalid(path, dict(context), detail))
    errors += validate_apparmor_profile(
        optional_child(context, "appArmorProfile"), path.child("appArmorProfile")
    )
    return errors


_FS_GROUP_POLICIES: Final = ("Always", "OnRootMismatch")
_SUPPLEMENTAL_POLICIES: Final = ("Merge", "Strict")
_OS_NAMES: Final = ("linux", "windows")
_SYSCTL_SEGMENT: Final = "[a-z0-9]([-_a-z0-9]*[a-z0-9])?"
_SYSCTL_FMT: Final = f"^({_SYSCTL_SEGMENT}[\\./])*{_SYSCTL_SEGMENT}$"
_SYSCTL_RE: Final = re.compile(_SYSCTL_FMT)
_WINDOWS_POD_FIELDS: Final = (
    "appArmorProfile", "seLinuxOptions", "seccompProfile", "fsGroup", "fsGroupChangePolicy",
    "sysctls", "runAsUser", "runAsGroup", "supplementalGroups", "supplementalGroupsPolicy",
    "seLinuxChangePolicy",
)  # fmt: skip
_WINDOWS_CONTAINER_FIELDS: Final = (
    "appArmorProfile", "seLinuxOptions", "seccompProfile", "capabilities",
    "readOnlyRootFilesystem", "privileged", "allowPrivilegeEscalation", "procMount",
    "runAsUser", "runAsGroup",
)  # fmt: skip


def _all_containers(spec: Obj, path: FieldPath) -> list[tuple[Obj, FieldPath]]:
    """Init, regular and ephemeral containers with their paths (`VisitContainersWithPath`)."""
    return [
        (container, path.child(key).index(index))
        for key in ("initContainers", "containers", "ephemeralContainers")
        for index, container in enumerate(children(spec, key))
    ]


def _sysctl_namespace_conflict(name: str, spec: Obj) -> str:
    if spec.get("hostNetwork") is True and name.replace("/", ".").startswith("net."):
        return "may not be specified when 'hostNetwork' is true"
    name = name.replace("/", ".")
    ipc = name == "kernel.sem" or name.startswith(("kernel.shm", "kernel.msg", "fs.mqueue."))
    if spec.get("hostIPC") is True and ipc:
        return "may not be specified when 'hostIPC' is true"
    return ""


def validate_pod_security_context(spec: Obj, path: FieldPath) -> Errors:
    context = optional_child(spec, "securityContext")
    if context is None:
        return []
    errors: Errors = []
    for key in ("fsGroup", "runAsUser", "runAsGroup"):
        if (value := optional_number(context, key)) is not None:
            errors += id_errors(value, path.child(key))
    for index, gid in enumerate(context.get("supplementalGroups") or []):
        if isinstance(gid, int):
            errors += id_errors(gid, path.child("supplementalGroups").index(index))
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        detail = "ShareProcessNamespace and HostPID cannot both be enabled"
        errors.append(invalid(path.child("shareProcessNamespace"), True, detail))
    names: set[str] = set()
    for index, sysctl in enumerate(children(context, "sysctls")):
        name, name_path = text(sysctl, "name"), path.child("sysctls").index(index).child("name")
        if not name:
            errors.append(required(name_path))
        elif len(name) > 253 or not _SYSCTL_RE.match(name):
            detail = f"must have at most 253 characters and match regex {_SYSCTL_FMT}"
            errors.append(invalid(name_path, name, detail))
        elif name in names:
            errors.append(duplicate(name_path, name))
        if conflict := _sysctl_namespace_conflict(name, spec):
            errors.append(invalid(name_path, name, conflict))
        names.add(name)
    for key, supported in (
        ("fsGroupChangePolicy", _FS_GROUP_POLICIES),
        ("supplementalGroupsPolicy", _SUPPLEMENTAL_POLICIES),
    ):
        value = context.get(key)
        if isinstance(value, str) and value not in supported:
            errors.append(not_supported(path.child(key), value, supported))
    errors += validate_seccomp_profile(
        optional_child(context, "seccompProfile"), path.child("seccompProfile")
    )
    return errors + validate_apparmor_profile(
        optional_child(context, "appArmorProfile"), path.child("appArmorProfile")
    )


def validate_os(spec: Obj, path: FieldPath) -> Errors:
    os = optional_child(spec, "os")
    if os is None:
        return []
    name = text(os, "name")
    if not name:
        return [required(path.child("os", "name"), "cannot be empty")]
    if name not in _OS_NAMES:
        return [not_supported(path.child("os"), name, _OS_NAMES)]
    errors: Errors = []
    context = child(spec, "securityContext")
    if name == "linux":
        detail = "windows options cannot be set for a linux pod"
        if context.get("windowsOptions") is not None:
            errors.append(forbidden(path.child("securityContext", "windowsOptions"), detail))
        for container, container_path in _all_containers(spec, path):
            if child(container, "securityContext").get("windowsOptions") is not None:
                errors.append(
                    forbidden(container_path.child("securityContext", "windowsOptions"), detail)
                )
        return errors
    detail = "cannot be set for a windows pod"
    for key in _WINDOWS_POD_FIELDS[:2]:
        if context.get(key) is not None:
            errors.append(forbidden(path.child("securityContext", key), detail))
    for key in ("hostUsers", "hostPID", "hostIPC"):
        if spec.get(key) is True or (key == "hostUsers" and spec.get(key) is not None):
            errors.append(forbidden(path.child(key), detail))
    for key in _WINDOWS_POD_FIELDS[2:6]:
        if context.get(key) not in (None, []):
            errors.append(forbidden(path.child("securityContext", key), detail))
    if spec.get("shareProcessNamespace") is not None:
        errors.append(forbidden(path.child("shareProcessNamespace"), detail))
    for key in _WINDOWS_POD_FIELDS[6:]:
        if context.get(key) is not None:
            errors.append(forbidden(path.child("securityContext", key), detail))
    for container, container_path in _all_containers(spec, path):
        container_context = child(container, "securityContext")
        for key in _WINDOWS_CONTAINER_FIELDS:
            if container_context.get(key) is not None:
                errors.append(forbidden(container_path.child("securityContext", key), detail))
    return errors
