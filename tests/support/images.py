"""Test images built from Debian's busybox-static, written as image tarballs.

`busybox_rootfs_layer()` is an uncompressed layer tar holding /bin/busybox (a copy of
/usr/bin/busybox) with a symlink in /bin for every applet it has (sh, ls, cat, echo,
sleep, httpd, wget, nc, env, id, hostname, true, false, …), /etc/passwd and /etc/group
(root, nobody), /etc/hosts, /tmp (1777), /root and the mount points /proc /sys /dev.
`build_image(name, layers)` turns layer tars into an `Image` (config with Cmd ["sh"],
compressed blobs); `write_docker_archive` and `write_oci_archive` write it as
`docker save` and OCI-archive tarballs, `write_oci_index_archive` as a two-platform
OCI index (this machine plus s390x, sharing the layers).

Invariants: everything is deterministic (fixed mtimes, uid/gid 0, gzip without a
timestamp), so the same inputs give the same digests; nothing outside the given paths
is written. `busybox_available()` says whether the binary is installed; tests skip
without it. The local registry (Debian's docker-registry) lives in
`tests/support/registry.py`.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import platform
import subprocess
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zstandard

BUSYBOX = "/usr/bin/busybox"
BUSYBOX_REF = "kyb.test/busybox:1.36"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MTIME = 1_700_000_000

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TYPES = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}
_GOARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}


def busybox_available() -> bool:
    """Whether Debian's busybox-static binary is installed."""
    return os.access(BUSYBOX, os.X_OK)


def goarch() -> str:
    """This machine's architecture as images name it (amd64, arm64, …)."""
    return _GOARCH.get(platform.machine(), platform.machine())


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class LayerBuilder:
    """Builds one uncompressed layer tar in memory, deterministically."""

    def __init__(self) -> None:
        self._buffer = io.BytesIO()
        self._tar = tarfile.open(  # noqa: SIM115 (closed by build())
            fileobj=self._buffer, mode="w", format=tarfile.PAX_FORMAT
        )

    def _info(self, name: str, kind: bytes, mode: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode, info.mtime = kind, mode, MTIME
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        return info

    def dir(self, name: str, mode: int = 0o755) -> LayerBuilder:
        self._tar.addfile(self._info(name, tarfile.DIRTYPE, mode))
        return self

    def file(self, name: str, content: bytes, mode: int = 0o644) -> LayerBuilder:
        info = self._info(name, tarfile.REGTYPE, mode)
        info.size = len(content)
        self._tar.addfile(info, io.BytesIO(content))
        return self

    def symlink(self, name: str, target: str) -> LayerBuilder:
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self._tar.addfile(info)
        return self

    def hardlink(self, name: str, target: str) -> LayerBuilder:
        info = self._info(name, tarfile.LNKTYPE, 0o644)
        info.linkname = target
        self._tar.addfile(info)
        return self

    def whiteout(self, name: str) -> LayerBuilder:
        """Deletes `name` (a path) from the layers below."""
        head, _, base = name.rpartition("/")
        return self.file(f"{head}/.wh.{base}" if head else f".wh.{base}", b"")

    def opaque(self, directory: str) -> LayerBuilder:
        """Hides everything below `directory` in the layers below."""
        return self.file(f"{directory}/.wh..wh..opq", b"")

    def build(self) -> bytes:
        self._tar.close()
        return self._buffer.getvalue()


def busybox_rootfs_layer() -> bytes:
    """The busybox root filesystem as an uncompressed layer tar."""
    applets = subprocess.run(
        [BUSYBOX, "--list"], check=True, capture_output=True, text=True
    ).stdout.split()
    layer = LayerBuilder()
    for name, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777)):
        layer.dir(name, mode)
    for name in ("proc", "sys", "dev", "var", "var/www", "home", "usr", "usr/bin", "usr/sbin"):
        layer.dir(name)
    layer.file("bin/busybox", Path(BUSYBOX).read_bytes(), 0o755)
    for applet in sorted(set(applets) - {"busybox"}):
        layer.symlink(f"bin/{applet}", "busybox")
    layer.file(
        "etc/passwd",
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    )
    layer.file("etc/group", b"root:x:0:\nnobody:x:65534:\n")
    layer.file("etc/hosts", b"127.0.0.1\tlocalhost\n::1\tlocalhost\n")
    return layer.build()


def compress(data: bytes, how: str) -> bytes:
    """`data` compressed with gzip (no timestamp), zstd, or not at all ("none")."""
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    return data


@dataclass(frozen=True)
class Image:
    """An image's blobs: its config, its compressed layers (lowest first) and manifest."""

    name: str
    config: bytes
    layers: Sequence[bytes]
    diff_ids: Sequence[str]
    compression: str
    manifest: bytes = field(default=b"")

    @property
    def id(self) -> str:
        return digest(self.config)

    @property
    def manifest_digest(self) -> str:
        return digest(self.manifest)


def build_image(
    name: str = BUSYBOX_REF,
    layers: Sequence[bytes] | None = None,
    compression: str = "gzip",
    config: dict[str, Any] | None = None,
    architecture: str | None = None,
) -> Image:
    """An image named `name` from uncompressed layer tars (default: the busybox rootfs);
    `config` entries override the image config's `config` section (Cmd ["sh"])."""
    tars = list(layers) if layers is not None else [busybox_rootfs_layer()]
    diff_ids = [digest(t) for t in tars]
    blobs = [compress(t, compression) for t in tars]
    image_config = {
        "created": "2023-11-14T22:13:20Z",
        "architecture": architecture or goarch(),
        "os": "linux",
        "config": {"Env": [PATH_ENV], "Cmd": ["sh"], **(config or {})},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "kybernetes tests"}],
    }
    config_bytes = json.dumps(image_config, sort_keys=True).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": digest(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {"mediaType": LAYER_TYPES[compression], "digest": digest(b), "size": len(b)}
            for b in blobs
        ],
    }
    return Image(
        name,
        config_bytes,
        blobs,
        diff_ids,
        compression,
        json.dumps(manifest, sort_keys=True).encode(),
    )


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def write_docker_archive(path: Path, image: Image) -> Path:
    """`image` as a `docker save` tarball (manifest.json, repositories, HEX.json,
    HEX/layer.tar with the compressed layer blobs)."""
    repo, _, tag = image.name.rpartition(":")
    layer_names = [f"{digest(b)[7:]}/layer.tar" for b in image.layers]
    with tarfile.open(path, "w") as tar:
        config_name = f"{image.id[7:]}.json"
        _add(tar, config_name, image.config)
        for name, blob in zip(layer_names, image.layers, strict=True):
            _add(tar, name, blob)
        entry = {"Config": config_name, "RepoTags": [image.name], "Layers": layer_names}
        _add(tar, "manifest.json", json.dumps([entry]).encode())
        top = layer_names[-1].split("/")[0]
        _add(tar, "repositories", json.dumps({repo: {tag: top}}).encode())
    return path


def _write_layout(path: Path, blobs: Sequence[bytes], index: dict[str, Any]) -> Path:
    with tarfile.open(path, "w") as tar:
        _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        for blob in dict.fromkeys(blobs):
            _add(tar, f"blobs/sha256/{digest(blob)[7:]}", blob)
        _add(tar, "index.json", json.dumps(index).encode())
    return path


def _annotations(name: str) -> dict[str, str]:
    return {
        "io.containerd.image.name": name,
        "org.opencontainers.image.ref.name": name.rpartition(":")[2],
    }


def write_oci_archive(path: Path, image: Image) -> Path:
    """`image` as an OCI-archive tarball, annotated like containerd's export."""
    entry = {
        "mediaType": OCI_MANIFEST,
        "digest": image.manifest_digest,
        "size": len(image.manifest),
        "annotations": _annotations(image.name),
    }
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    return _write_layout(path, [image.manifest, image.config, *image.layers], index)


def multi_platform_index(native: Image, foreign: Image) -> bytes:
    """An OCI index of `native` (this machine) and `foreign` (s390x)."""
    entries = [
        {
            "mediaType": OCI_MANIFEST,
            "digest": image.manifest_digest,
            "size": len(image.manifest),
            "platform": {"os": "linux", "architecture": arch},
        }
        for image, arch in ((foreign, "s390x"), (native, goarch()))
    ]
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()


def write_oci_index_archive(path: Path, name: str = BUSYBOX_REF) -> tuple[Path, Image, bytes]:
    """A two-platform busybox (this machine and s390x) as an OCI archive whose index.json
    points at the platform index; returns (path, this machine's image, index bytes)."""
    rootfs = busybox_rootfs_layer()
    native = build_image(name, [rootfs])
    foreign = build_image(name, [rootfs], architecture="s390x")
    inner = multi_platform_index(native, foreign)
    entry = {
        "mediaType": OCI_INDEX,
        "digest": digest(inner),
        "size": len(inner),
        "annotations": _annotations(name),
    }
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [entry]}
    blobs = [
        inner,
        native.manifest,
        foreign.manifest,
        native.config,
        foreign.config,
        *native.layers,
    ]
    return _write_layout(path, blobs, index), native, inner
