"""Volume mounts and volume devices of a container.

The counterpart of `ValidateVolumeMounts` and `ValidateVolumeDevices` of
`pkg/apis/core/validation` (Kubernetes 1.32): each mount names a valid volume of the pod,
mount and device paths are unique and do not overlap. Sub-path and propagation errors
name the list (`volumeMounts.subPath`), not the entry, as Kubernetes does.

Invariants: pure functions; `volumes` holds only the pod's valid volumes, by name.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    local_descending_path,
    no_backsteps,
    text,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    forbidden,
    invalid,
    not_found,
    not_supported,
    required,
)


def validate_volume_mounts(
    mounts: list[Obj],
    devices: dict[str, str],
    volumes: dict[str, Obj],
    privileged: bool,
    path: FieldPath,
) -> Errors:
    """A container's `volumeMounts`: each names a valid volume, paths are unique."""
    errors: Errors = []
    mount_paths: set[str] = set()
    for index, mount in enumerate(mounts):
        mount_path_field = path.index(index)
        name, mount_path = text(mount, "name"), text(mount, "mountPath")
        sub_path, sub_path_expr = text(mount, "subPath"), text(mount, "subPathExpr")
        if not name:
            errors.append(required(mount_path_field.child("name")))
        if name not in volumes:
            errors.append(not_found(mount_path_field.child("name"), name))
        if not mount_path:
            errors.append(required(mount_path_field.child("mountPath")))
        if mount_path in mount_paths:
            errors.append(
                invalid(mount_path_field.child("mountPath"), mount_path, "must be unique")
            )
        mount_paths.add(mount_path)
        if name in devices:
            detail = "must not already exist in volumeDevices"
            errors.append(invalid(mount_path_field.child("name"), name, detail))
        if mount_path in devices.values():
            detail = "must not already exist as a path in volumeDevices"
            errors.append(invalid(mount_path_field.child("mountPath"), mount_path, detail))
        if "image" in volumes.get(name, {}):
            for key, value in (("subPath", sub_path), ("subPathExpr", sub_path_expr)):
                if value:
                    detail = "not allowed in image volume sources"
                    errors.append(invalid(mount_path_field.child(key), value, detail))
        if sub_path:
            errors += local_descending_path(sub_path, path.child("subPath"))
        if sub_path_expr:
            if sub_path:
                detail = "subPathExpr and subPath are mutually exclusive"
                errors.append(invalid(mount_path_field.child("subPathExpr"), sub_path_expr, detail))
            errors += local_descending_path(sub_path_expr, path.child("subPathExpr"))
        errors += _validate_propagation(mount, privileged, path)
    return errors


_PROPAGATIONS: Final = ("Bidirectional", "HostToContainer", "None")
_RECURSIVE_READ_ONLY: Final = ("Disabled", "Enabled", "IfPossible")


def _validate_propagation(mount: Obj, privileged: bool, path: FieldPath) -> Errors:
    errors: Errors = []
    propagation = mount.get("mountPropagation")
    if isinstance(propagation, str):
        propagation_path = path.child("mountPropagation")
        if propagation not in _PROPAGATIONS:
            errors.append(not_supported(propagation_path, propagation, _PROPAGATIONS))
        if propagation == "Bidirectional" and not privileged:
            detail = "Bidirectional mount propagation is available only to privileged containers"
            errors.append(forbidden(propagation_path, detail))
    recursive = mount.get("recursiveReadOnly")
    if isinstance(recursive, str) and recursive != "Disabled":
        recursive_path = path.child("recursiveReadOnly")
        if recursive not in _RECURSIVE_READ_ONLY:
            errors.append(not_supported(recursive_path, recursive, _RECURSIVE_READ_ONLY))
        else:
            if not mount.get("readOnly"):
                errors.append(
                    forbidden(recursive_path, "may only be specified when readOnly is true")
                )
            if propagation not in (None, "None"):
                detail = "may only be specified when mountPropagation is None or not specified"
                errors.append(forbidden(recursive_path, detail))
    return errors


def validate_volume_devices(
    devices: list[Obj], mounts: dict[str, str], volumes: dict[str, Obj], path: FieldPath
) -> Errors:
    """A container's `volumeDevices`: block volumes from claims, unique names and paths."""
    errors: Errors = []
    names: set[str] = set()
    device_paths: set[str] = set()
    for index, device in enumerate(devices):
        device_field = path.index(index)
        name, device_path = text(device, "name"), text(device, "devicePath")
        volume = volumes.get(name)
        if not name:
            errors.append(required(device_field.child("name")))
        if name in names:
            errors.append(invalid(device_field.child("name"), name, "must be unique"))
        if volume is not None and not ({"persistentVolumeClaim", "ephemeral"} & volume.keys()):
            detail = (
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for "
                "block mode"
            )
            errors.append(invalid(device_field.child("name"), name, detail))
        if volume is None:
            errors.append(not_found(device_field.child("name"), name))
        if not device_path:
            errors.append(required(device_field.child("devicePath")))
        if device_path in device_paths:
            errors.append(invalid(device_field.child("devicePath"), device_path, "must be unique"))
        if device_path and no_backsteps(device_path, path):
            detail = "can not contain backsteps ('..')"
            errors.append(invalid(device_field.child("devicePath"), device_path, detail))
        else:
            device_paths.add(device_path)
        if name in mounts:
            detail = "must not already exist in volumeMounts"
            errors.append(invalid(device_field.child("name"), name, detail))
        if device_path in mounts.values():
            detail = "must not already exist as a path in volumeMounts"
            errors.append(invalid(device_field.child("devicePath"), device_path, detail))
        if name:
            names.add(name)
    return errors
