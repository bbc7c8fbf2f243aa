"""Pod volumes: one source each, with that source's required fields and paths.

The counterpart of `ValidateVolumes` and `validateVolumeSource` of
`pkg/apis/core/validation` (Kubernetes 1.32); mounts are in `mounts`. Each volume
names exactly one source; the common sources (emptyDir, hostPath, configMap, secret,
persistentVolumeClaim, downwardAPI, projected, csi, nfs, ephemeral, image) are checked in
full, the legacy in-tree plugins for their required fields.

Paths keep Kubernetes' quirks, since clients match on them: a second source is reported
under its Go spelling (`cephFS`, `downwarAPI`), and downward API items under their
volume rather than their index.

Invariants: pure functions. A volume with any error is left out of the returned name
map, so mounts of it are reported `Not found`, as Kubernetes does.
"""

from __future__ import annotations

import posixpath
from typing import Final

from kybernetes.api.quantity import Quantity
from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    children,
    dns_label,
    dns_subdomain,
    local_descending_path,
    local_non_reserved_path,
    no_backsteps,
    number,
    optional_number,
    quantity,
    text,
)
from kybernetes.api.validation.downward import (
    VOLUME_FIELD_PATHS,
    validate_object_field_selector,
    validate_resource_field_selector,
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
from kybernetes.api.validation.names import is_dns1123_subdomain, name_is_dns_subdomain

FILE_MODE_ERROR: Final = "must be a number between 0 and 0777 (octal), both inclusive"
_ONE_TYPE: Final = "may not specify more than 1 volume type"

# Volume source fields in Kubernetes' order: (JSON key, name in the "more than 1" error).
_SOURCES: Final = (
    ("emptyDir", "emptyDir"), ("hostPath", "hostPath"), ("gitRepo", "gitRepo"),
    ("gcePersistentDisk", "gcePersistentDisk"), ("awsElasticBlockStore", "awsElasticBlockStore"),
    ("secret", "secret"), ("nfs", "nfs"), ("iscsi", "iscsi"), ("glusterfs", "glusterfs"),
    ("flocker", "flocker"), ("persistentVolumeClaim", "persistentVolumeClaim"), ("rbd", "rbd"),
    ("cinder", "cinder"), ("cephfs", "cephFS"), ("quobyte", "quobyte"),
    ("downwardAPI", "downwarAPI"), ("fc", "fc"), ("flexVolume", "flexVolume"),
    ("configMap", "configMap"), ("azureFile", "azureFile"), ("vsphereVolume", "vsphereVolume"),
    ("photonPersistentDisk", "photonPersistentDisk"), ("portworxVolume", "portworxVolume"),
    ("azureDisk", "azureDisk"), ("storageos", "storageos"), ("projected", "projected"),
    ("scaleIO", "scaleIO"), ("csi", "csi"), ("ephemeral", "ephemeral"), ("image", "image"),
)  # fmt: skip

# Legacy plugins: the path their checks report under, and their required fields.
_REQUIRED_FIELDS: Final = {
    "gcePersistentDisk": ("persistentDisk", ("pdName",)),
    "awsElasticBlockStore": ("awsElasticBlockStore", ("volumeID",)),
    "iscsi": ("iscsi", ("targetPortal", "iqn")),
    "glusterfs": ("glusterfs", ("endpoints", "path")),
    "rbd": ("rbd", ("monitors", "image")),
    "cinder": ("cinder", ("volumeID",)),
    "cephfs": ("cephfs", ("monitors",)),
    "quobyte": ("quobyte", ("registry", "volume")),
    "flexVolume": ("flexVolume", ("driver",)),
    "azureFile": ("azureFile", ("secretName", "shareName")),
    "vsphereVolume": ("vsphereVolume", ("volumePath",)),
    "photonPersistentDisk": ("photonPersistentDisk", ("pdID",)),
    "portworxVolume": ("portworxVolume", ("volumeID",)),
    "azureDisk": ("azureDisk", ("diskName", "diskURI")),
    "scaleIO": ("scaleIO", ("gateway", "system", "volumeName")),
}
_HOST_PATH_TYPES: Final = (
    "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
    "Socket",
)  # fmt: skip
_PULL_POLICIES: Final = ("Always", "IfNotPresent", "Never")


def _file_mode(obj: Obj, key: str, path: FieldPath) -> Errors:
    mode = optional_number(obj, key)
    if mode is not None and not 0 <= mode <= 0o777:
        return [invalid(path.child(key), mode, FILE_MODE_ERROR)]
    return []


def validate_volumes(
    volumes: list[Obj], pod_name: str, path: FieldPath, is_pod: bool
) -> tuple[dict[str, Obj], Errors]:
    """The volumes of a pod spec, and the valid ones by name.

    `pod_name` is the pod's name (empty for templates); `is_pod` is false for specs
    embedded in templates, which may leave an image volume's reference to be filled.
    """
    errors: Errors = []
    valid: dict[str, Obj] = {}
    names: set[str] = set()
    ephemeral_claims = {
        f"{pod_name}-{text(volume, 'name')}"
        for volume in volumes
        if pod_name and "ephemeral" in volume
    }
    for index, volume in enumerate(volumes):
        volume_path = path.index(index)
        name_path = volume_path.child("name")
        name = text(volume, "name")
        own = _validate_source(volume, name, pod_name, volume_path, is_pod)
        own += dns_label(name, name_path) if name else [required(name_path)]
        if name in names:
            own.append(duplicate(name_path, name))
        if own:
            errors += own
        else:
            names.add(name)
            valid[name] = volume
        claim = text(child(volume, "persistentVolumeClaim"), "claimName")
        if "persistentVolumeClaim" in volume and claim in ephemeral_claims:
            detail = "must not reference a PVC that gets created for an ephemeral volume"
            claim_path = volume_path.child("persistentVolumeClaim", "claimName")
            errors.append(invalid(claim_path, claim, detail))
    return valid, errors


def _validate_source(
    volume: Obj, name: str, pod_name: str, path: FieldPath, is_pod: bool
) -> Errors:
    errors: Errors = []
    count = 0
    for key, spelled in _SOURCES:
        if volume.get(key) is None:
            continue
        if count:
            errors.append(forbidden(path.child(spelled), _ONE_TYPE))
            continue
        count += 1
        errors += _validate_one_source(key, child(volume, key), name, pod_name, path, is_pod)
    if not count:
        errors.append(required(path, "must specify a volume type"))
    return errors


def _validate_one_source(
    key: str, source: Obj, name: str, pod_name: str, volume_path: FieldPath, is_pod: bool
) -> Errors:
    path = volume_path.child(key)
    if key in _REQUIRED_FIELDS:
        spelled, fields = _REQUIRED_FIELDS[key]
        return [required(volume_path.child(spelled, f)) for f in fields if not source.get(f)]
    if key == "emptyDir":
        limit = quantity(source.get("sizeLimit")) if "sizeLimit" in source else None
        if limit is not None and limit < Quantity():
            detail = "SizeLimit field must be a valid resource quantity"
            return [forbidden(path.child("sizeLimit"), detail)]
        return []
    if key == "hostPath":
        host_path, kind = text(source, "path"), text(source, "type")
        if not host_path:
            return [required(path.child("path"))]
        errors = no_backsteps(host_path, path.child("path"))
        if kind not in _HOST_PATH_TYPES:
            errors.append(not_supported(path.child("type"), kind, _HOST_PATH_TYPES))
        return errors
    if key == "gitRepo":
        errors = [] if text(source, "repository") else [required(path.child("repository"))]
        return errors + local_descending_path(text(source, "directory"), path.child("directory"))
    if key in ("secret", "configMap"):
        name_key = "secretName" if key == "secret" else "name"
        errors = [] if text(source, name_key) else [required(path.child(name_key))]
        errors += _file_mode(source, "defaultMode", path)
        for index, item in enumerate(children(source, "items")):
            errors += _validate_key_to_path(item, path.child("items").index(index))
        return errors
    if key == "nfs":
        errors = [required(path.child(f)) for f in ("server", "path") if not text(source, f)]
        if not posixpath.isabs(text(source, "path")):
            errors.append(
                invalid(path.child("path"), text(source, "path"), "must be an absolute path")
            )
        return errors
    if key == "persistentVolumeClaim":
        return [] if text(source, "claimName") else [required(path.child("claimName"))]
    if key == "flocker":
        if not text(source, "datasetName") and not text(source, "datasetUUID"):
            return [required(path, "one of datasetName and datasetUUID is required")]
        return []
    if key == "fc":
        if not source.get("targetWWNs") and not source.get("wwids"):
            detail = "must specify either targetWWNs or wwids, but not both"
            return [required(path.child("targetWWNs"), detail)]
        return []
    if key == "storageos":
        return [] if text(source, "volumeName") else [required(path.child("volumeName"))]
    if key == "downwardAPI":
        errors = _file_mode(source, "defaultMode", path)
        for item in children(source, "items"):
            errors += _validate_downward_file(item, path)
        return errors
    if key == "projected":
        return _file_mode(source, "defaultMode", path) + _validate_projection(source, path)
    if key == "csi":
        return _validate_csi(source, path)
    if key == "ephemeral":
        return _validate_ephemeral(source, name, pod_name, volume_path)
    # image
    errors = [required(path.child("reference"))] if is_pod and not text(source, "reference") else []
    policy = text(source, "pullPolicy")
    if not policy:
        errors.append(required(path.child("pullPolicy")))
    elif policy not in _PULL_POLICIES:
        errors.append(not_supported(path.child("pullPolicy"), policy, _PULL_POLICIES))
    return errors


def _validate_key_to_path(item: Obj, path: FieldPath) -> Errors:
    errors = [required(path.child(f)) for f in ("key", "path") if not text(item, f)]
    errors += local_non_reserved_path(text(item, "path"), path.child("path"))
    return errors + _file_mode(item, "mode", path)


def _validate_downward_file(item: Obj, path: FieldPath) -> Errors:
    file_path = text(item, "path")
    errors = [] if file_path else [required(path.child("path"))]
    errors += local_non_reserved_path(file_path, path.child("path"))
    if "fieldRef" in item:
        errors += validate_object_field_selector(
            child(item, "fieldRef"), VOLUME_FIELD_PATHS, path.child("fieldRef")
        )
        if "resourceFieldRef" in item:
            detail = "fieldRef and resourceFieldRef can not be specified simultaneously"
            errors.append(invalid(path, "resource", detail))
    elif "resourceFieldRef" in item:
        field_ref = child(item, "resourceFieldRef")
        errors += validate_resource_field_selector(field_ref, path.child("resourceFieldRef"), True)
    else:
        errors.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    return errors + _file_mode(item, "mode", path)


def _validate_projection(source: Obj, path: FieldPath) -> Errors:
    errors: Errors = []
    paths: set[str] = set()

    def claim(target: str, shown: str) -> None:
        if target in paths:
            errors.append(invalid(path, shown, "conflicting duplicate paths"))
        paths.add(target)

    for index, projection in enumerate(children(source, "sources")):
        source_path = path.child("sources").index(index)
        kinds = [k for k in ("secret", "configMap", "downwardAPI", "serviceAccountToken",
                             "clusterTrustBundle") if projection.get(k) is not None]  # fmt: skip
        for kind in kinds:
            part, part_path = child(projection, kind), source_path.child(kind)
            if kind in ("secret", "configMap"):
                if not text(part, "name"):
                    errors.append(required(part_path.child("name")))
                for item_index, item in enumerate(children(part, "items")):
                    errors += _validate_key_to_path(
                        item, part_path.child("items").index(item_index)
                    )
                    if text(item, "path"):
                        claim(text(item, "path"), text(part, "name"))
            elif kind == "downwardAPI":
                for item in children(part, "items"):
                    errors += _validate_downward_file(item, part_path)
                    if text(item, "path"):
                        claim(text(item, "path"), text(item, "path"))
            elif kind == "serviceAccountToken":
                errors += _validate_token_projection(part, part_path, path)
            else:
                if not text(part, "path"):
                    errors.append(required(part_path.child("path")))
                errors += local_non_reserved_path(text(part, "path"), part_path.child("path"))
                claim(text(part, "path"), text(part, "path"))
        if len(kinds) > 1:
            errors.append(
                forbidden(source_path, "may not specify more than 1 volume type per source")
            )
    return errors


def _validate_token_projection(token: Obj, path: FieldPath, projected_path: FieldPath) -> Errors:
    errors: Errors = []
    expiration = number(token, "expirationSeconds")
    if expiration < 600:
        detail = "may not specify a duration less than 10 minutes"
        errors.append(invalid(path.child("expirationSeconds"), expiration, detail))
    if expiration > 1 << 32:
        detail = "may not specify a duration larger than 2^32 seconds"
        errors.append(invalid(path.child("expirationSeconds"), expiration, detail))
    if not text(token, "path"):
        errors.append(required(projected_path.child("path")))
    else:
        errors += local_non_reserved_path(text(token, "path"), projected_path.child("path"))
    return errors


def _validate_csi(source: Obj, path: FieldPath) -> Errors:
    driver = text(source, "driver")
    driver_path = path.child("driver")
    errors = [] if driver else [required(driver_path)]
    if len(driver) > 63:
        errors.append(too_long(driver_path, 63))
    errors += [invalid(driver_path, driver, msg) for msg in is_dns1123_subdomain(driver.lower())]
    if "nodePublishSecretRef" in source:
        secret = text(child(source, "nodePublishSecretRef"), "name")
        if not secret:
            errors.append(required(path.child("nodePublishSecretRef", "name")))
        else:
            errors += dns_subdomain(secret, path.child("name"))
    return errors


def _validate_ephemeral(source: Obj, name: str, pod_name: str, volume_path: FieldPath) -> Errors:
    path = volume_path.child("ephemeral")
    if source.get("volumeClaimTemplate") is None:
        return [required(path.child("volumeClaimTemplate"))]
    errors: Errors = []
    if pod_name and name:
        claim = f"{pod_name}-{name}"
        errors += [
            invalid(volume_path.child("name"), name, f'PVC name "{claim}": {msg}')
            for msg in name_is_dns_subdomain(claim, False)
        ]
    return errors
