"""Defaults of volume sources and claims, shared by Pods, PersistentVolumes and claims.

The hand-written `SetDefaults_*VolumeSource` functions of core/v1 plus the declarative
`+default=` markers of the in-tree plugins (rbd, iscsi, azureDisk, scaleIO), which
apply alike to a Pod volume and to a PersistentVolume's source, and the claim defaults
used by PersistentVolumeClaims, StatefulSet claim templates and ephemeral volumes.

Invariants: each function defaults one decoded JSON object in place, fills only unset
fields and is idempotent.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.defaults._fields import (
    JSONObject,
    child,
    items,
    path,
    round_requirements,
    round_resource_list,
    set_if_absent,
    set_if_zero,
    struct,
)

# 0644, the mode of files projected from secrets, config maps and the downward API.
DEFAULT_MODE: Final = 0o644
TOKEN_EXPIRATION_SECONDS: Final = 3600


def default_field_selector(selector: JSONObject | None) -> None:
    """`ObjectFieldSelector`: `apiVersion` defaults to `v1`."""
    if selector is not None:
        set_if_zero(selector, "apiVersion", "v1")


def default_volume(volume: JSONObject) -> None:
    """A Pod volume: an `emptyDir` when no source is set, then the source's defaults."""
    if all(value is None for key, value in volume.items() if key != "name"):
        volume["emptyDir"] = {}
    default_volume_sources(volume)
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        if (source := child(volume, key)) is not None:
            set_if_absent(source, "defaultMode", DEFAULT_MODE)
    for item in items(child(volume, "downwardAPI"), "items"):
        default_field_selector(child(item, "fieldRef"))
    for projection in items(child(volume, "projected"), "sources"):
        for item in items(child(projection, "downwardAPI"), "items"):
            default_field_selector(child(item, "fieldRef"))
        if (token := child(projection, "serviceAccountToken")) is not None:
            set_if_absent(token, "expirationSeconds", TOKEN_EXPIRATION_SECONDS)
    if (template := path(volume, "ephemeral", "volumeClaimTemplate")) is not None:
        default_claim_spec(struct(template, "spec"))


def default_volume_sources(source: JSONObject) -> None:
    """The sources a Pod volume and a PersistentVolume share (hostPath and in-tree plugins)."""
    if (host_path := child(source, "hostPath")) is not None:
        set_if_absent(host_path, "type", "")
    if (iscsi := child(source, "iscsi")) is not None:
        set_if_zero(iscsi, "iscsiInterface", "default")
    if (rbd := child(source, "rbd")) is not None:
        set_if_zero(rbd, "pool", "rbd")
        set_if_zero(rbd, "user", "admin")
        set_if_zero(rbd, "keyring", "/etc/ceph/keyring")
    if (azure_disk := child(source, "azureDisk")) is not None:
        set_if_absent(azure_disk, "cachingMode", "ReadWrite")
        set_if_absent(azure_disk, "fsType", "ext4")
        set_if_absent(azure_disk, "readOnly", False)
        set_if_absent(azure_disk, "kind", "Shared")
    if (scale_io := child(source, "scaleIO")) is not None:
        set_if_zero(scale_io, "storageMode", "ThinProvisioned")
        set_if_zero(scale_io, "fsType", "xfs")


def default_claim_spec(spec: JSONObject | None) -> None:
    """`PersistentVolumeClaimSpec`: `volumeMode` Filesystem; resources rounded to 1m."""
    if spec is None:
        return
    set_if_absent(spec, "volumeMode", "Filesystem")
    round_requirements(spec, "resources")


def default_claim(claim: JSONObject) -> None:
    """A whole `PersistentVolumeClaim` (also a StatefulSet's claim template)."""
    default_claim_spec(struct(claim, "spec"))
    if (status := struct(claim, "status")) is not None:
        set_if_zero(status, "phase", "Pending")
        round_resource_list(status, "capacity")
        round_resource_list(status, "allocatedResources")
