"""A container's bind mount of one volumeMount (Kubernetes' `makeMounts`, per entry),
and the termination-message file's reading side.

A volumeMount maps to the volume's host path, or to its `subPath` / `subPathExpr`
(expanded with the container's environment; every referenced variable must be set
and non-empty): relative, without `..`, created when missing (with the volume's
mode) and refused when it resolves outside the volume (a symlink escape). The mount
is read-only if asked or if the volume is (configMap, secret, downwardAPI,
projected); `mountPropagation` maps HostToContainer → rslave, Bidirectional →
rshared, None/unset → private.

Invariants: errors are `ContainerMountError` with Kubernetes' message (the kubelet
reports them as `CreateContainerConfigError`); the host path returned for a subPath
is fully resolved, so it cannot change under the runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from kybernetes.kubelet.envvars import expand_with
from kybernetes.kubelet.runtime.interface import Mount

Obj = Mapping[str, Any]

DEFAULT_TERMINATION_PATH: Final = "/dev/termination-log"
MAX_TERMINATION_MESSAGE: Final = 4096
_PROPAGATION: Final = {
    None: "private", "None": "private", "HostToContainer": "rslave", "Bidirectional": "rshared",
}  # fmt: skip


class ContainerMountError(ValueError):
    """A container's mounts cannot be made; str(e) is Kubernetes' message."""

    reason = "CreateContainerConfigError"


def read_termination_message(path: Path) -> str | None:
    """The last 4096 bytes of a termination-message file; None if it does not exist."""
    try:
        with path.open("rb") as file:
            size = file.seek(0, os.SEEK_END)
            file.seek(max(0, size - MAX_TERMINATION_MESSAGE))
            return file.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None


def volume_mount(
    entry: Obj,
    paths: Mapping[str, Path],
    read_only_volume: bool,
    container: Obj,
    env: Sequence[tuple[str, str]],
) -> Mount:
    """The Mount for one `volumeMounts` entry; `paths` maps volume names to host paths."""
    name = str(entry.get("name", ""))
    if name not in paths:
        raise ContainerMountError(
            f'cannot find volume "{name}" to mount into container "{container["name"]}"'
        )
    propagation = entry.get("mountPropagation")
    if propagation not in _PROPAGATION:
        raise ContainerMountError(f'invalid MountPropagation mode: "{propagation}"')
    return Mount(
        container_path=str(entry.get("mountPath", "")),
        host_path=str(_host_path(entry, paths[name], container, env)),
        readonly=bool(entry.get("readOnly")) or read_only_volume,
        propagation=_PROPAGATION[propagation],
    )


def _host_path(
    volume_mount: Obj, volume_path: Path, container: Obj, env: Sequence[tuple[str, str]]
) -> Path:
    """The volume path, or its subPath (created if missing, never outside it)."""
    sub_path = str(volume_mount.get("subPath") or "")
    if volume_mount.get("subPathExpr"):
        sub_path = _expand_sub_path(str(volume_mount["subPathExpr"]), env)
    if not sub_path:
        return volume_path
    if sub_path.startswith("/"):
        raise ContainerMountError(f"error SubPath `{sub_path}` must not be an absolute path")
    if ".." in sub_path.split("/"):
        raise ContainerMountError(
            f"unable to provision SubPath `{sub_path}`: must not contain '..'"
        )
    names = f'volumeMount "{volume_mount["name"]}" of container "{container["name"]}"'
    candidate = volume_path / sub_path
    try:
        if not os.path.lexists(candidate):
            candidate.mkdir(mode=volume_path.stat().st_mode & 0o7777, parents=True)
        resolved = candidate.resolve(strict=True)
    except OSError as error:
        raise ContainerMountError(f"failed to create subPath directory for {names}") from error
    if not resolved.is_relative_to(volume_path.resolve()):
        raise ContainerMountError(f"failed to prepare subPath for {names}")
    return resolved


def _expand_sub_path(expression: str, env: Sequence[tuple[str, str]]) -> str:
    """`subPathExpr` expanded; every reference must name a non-empty variable."""
    values = dict(env)
    missing: set[str] = set()

    def lookup(name: str) -> str:
        if not values.get(name):
            missing.add(name)
        return values.get(name, "")

    expanded = expand_with(expression, lookup)
    if missing:
        raise ContainerMountError(f"missing value for {', '.join(sorted(missing))}")
    return expanded
