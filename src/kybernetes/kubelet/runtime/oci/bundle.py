"""A container's OCI bundle: its overlayfs root filesystem and its `config.json`.

Layout of CONTAINER_DIR: `bundle/config.json`, `bundle/rootfs` (the overlay mount
point), `upper/` and `work/` (the container's writable layer), `empty/` (the lower
layer of an image without layers).

Invariants: `create_bundle` either leaves a complete bundle (rootfs mounted, config
written) or raises with nothing mounted; `destroy_bundle` unmounts everything below the
container dir and deletes it, idempotently.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kybernetes.kubelet.runtime.interface import ContainerConfig
from kybernetes.kubelet.runtime.oci.mounts import mount_overlay, unmount_all
from kybernetes.kubelet.runtime.oci.spec import SandboxView, build_spec
from kybernetes.kubelet.runtime.oci.users import resolve_user


def create_bundle(
    container_dir: Path,
    config: ContainerConfig,
    image: Mapping[str, Any],
    layers: list[Path],
    sandbox: SandboxView,
    cgroups_path: str,
) -> Path:
    """Mounts the root filesystem and writes config.json; the bundle dir. Raises
    OSError (mount), UserError or SpecError, having unmounted what it mounted."""
    bundle = container_dir / "bundle"
    rootfs = bundle / "rootfs"
    if not layers:
        layers = [container_dir / "empty"]
        layers[0].mkdir(parents=True, exist_ok=True)
    mount_overlay(layers, container_dir / "upper", container_dir / "work", rootfs)
    try:
        user = resolve_user(rootfs, str(image.get("User") or ""), config.security_context)
        spec = build_spec(config, image, sandbox, user, cgroups_path)
        (bundle / "config.json").write_text(json.dumps(spec, indent=1))
    except BaseException:
        unmount_all(rootfs)
        raise
    return bundle


def destroy_bundle(container_dir: Path) -> None:
    """Unmounts the rootfs (and anything below the container dir) and deletes the dir."""
    if container_dir.exists():
        unmount_all(container_dir)
        shutil.rmtree(container_dir, ignore_errors=True)
