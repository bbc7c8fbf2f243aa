"""Image manifests and indexes (OCI image spec and Docker v2 schema 2), and choosing
this machine's platform from a multi-platform index.

Shared by archive import and registry pull; pure functions over parsed JSON.
Invariants: a manifest is accepted only with schemaVersion 2 and a known media type
(Docker schema 1 is refused, as containerd 2 does); `select_platform` picks
`linux/<this machine's GOARCH>` (and its variant when the index gives one), else
raises `ManifestError` in containerd's words (`no match for platform in manifest`).
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"
DOCKER_SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"

INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
ACCEPT = ", ".join((*MANIFEST_TYPES, *INDEX_TYPES))

# Python's platform.machine() → Go's GOARCH (and GOARM variant), as images name them
_ARCHES: dict[str, tuple[str, str]] = {
    "x86_64": ("amd64", ""),
    "amd64": ("amd64", ""),
    "aarch64": ("arm64", ""),
    "arm64": ("arm64", ""),
    "armv7l": ("arm", "v7"),
    "armv6l": ("arm", "v6"),
    "i386": ("386", ""),
    "i686": ("386", ""),
    "ppc64le": ("ppc64le", ""),
    "s390x": ("s390x", ""),
    "riscv64": ("riscv64", ""),
}


class ManifestError(ValueError):
    """A manifest or index that cannot be used."""


@dataclass(frozen=True)
class Descriptor:
    """A content descriptor: media type, digest, size."""

    media_type: str
    digest: str
    size: int

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Descriptor:
        """From a descriptor's JSON; ManifestError when digest or size are missing."""
        try:
            return cls(str(raw.get("mediaType", "")), str(raw["digest"]), int(raw["size"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ManifestError(f"invalid descriptor {raw!r}") from e


@dataclass(frozen=True)
class Manifest:
    """An image manifest: its config and layers (lowest first)."""

    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def size(self) -> int:
        """Config plus layer sizes: the image size containerd reports."""
        return self.config.size + sum(layer.size for layer in self.layers)


def this_platform() -> tuple[str, str, str]:
    """(os, architecture, variant) of this machine in OCI terms."""
    arch, variant = _ARCHES.get(platform.machine().lower(), (platform.machine().lower(), ""))
    return "linux", arch, variant


def media_type(document: dict[str, Any], header: str = "") -> str:
    """The media type of a manifest or index: its own `mediaType` field, else the
    Content-Type it was served with, else guessed from its shape."""
    declared = str(document.get("mediaType") or header.split(";")[0].strip())
    if declared:
        return declared
    if document.get("schemaVersion") == 1:
        return DOCKER_SCHEMA1
    return OCI_INDEX if "manifests" in document else OCI_MANIFEST


def load(data: bytes) -> dict[str, Any]:
    """Parses a manifest or index; ManifestError when it is not a JSON object."""
    try:
        document = json.loads(data)
    except ValueError as e:
        raise ManifestError(f"invalid manifest: {e}") from e
    if not isinstance(document, dict):
        raise ManifestError("invalid manifest: not a JSON object")
    return document


def is_index(document: dict[str, Any], header: str = "") -> bool:
    """Whether the document is an OCI index or a Docker manifest list."""
    return media_type(document, header) in INDEX_TYPES


def parse_manifest(document: dict[str, Any], header: str = "") -> Manifest:
    """The config and layers of an image manifest; ManifestError otherwise."""
    kind = media_type(document, header)
    if kind == DOCKER_SCHEMA1 or document.get("schemaVersion") == 1:
        raise ManifestError(
            "Docker Image Format v1 and Docker Image manifest version 2, schema 1 "
            "support has been removed"
        )
    if kind not in MANIFEST_TYPES:
        raise ManifestError(f"unexpected media type {kind!r} for an image manifest")
    if document.get("schemaVersion") != 2 or "config" not in document:
        raise ManifestError("invalid image manifest: schemaVersion 2 with a config expected")
    layers = tuple(Descriptor.of(layer) for layer in document.get("layers") or ())
    return Manifest(Descriptor.of(document["config"]), layers)


def select_platform(index: dict[str, Any]) -> Descriptor:
    """The entry of `index` for this machine (linux/ARCH[/VARIANT]); an exact variant
    match wins over an entry without variant."""
    want_os, want_arch, want_variant = this_platform()
    best: Descriptor | None = None
    for entry in index.get("manifests") or ():
        plat = entry.get("platform") or {}
        if plat.get("os") != want_os or plat.get("architecture") != want_arch:
            continue
        variant = plat.get("variant", "")
        if variant == want_variant or (want_arch == "arm64" and variant in ("", "v8")):
            return Descriptor.of(entry)
        if best is None and not variant:
            best = Descriptor.of(entry)
    if best is None:
        raise ManifestError(
            f"no match for platform in manifest: {want_os}/{want_arch}"
            f"{'/' + want_variant if want_variant else ''}: not found"
        )
    return best


def diff_ids(config: bytes) -> list[str]:
    """The layer diffIDs (`rootfs.diff_ids`) of an image config; ManifestError when absent."""
    try:
        return [str(d) for d in load(config)["rootfs"]["diff_ids"]]
    except (KeyError, TypeError) as e:
        raise ManifestError(f"image config without rootfs.diff_ids: {e}") from e
