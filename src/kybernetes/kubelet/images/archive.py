"""Importing image tarballs into the store: `docker save` archives and OCI archives.

- docker-archive: `manifest.json` lists each image's `Config`, `RepoTags` and `Layers`
  (tar files, possibly symlinks to a shared copy; plain, gzip or zstd). The store gets
  a Docker v2 schema 2 manifest made from them, as containerd's import does.
- OCI archive (an OCI image layout in a tar): `oci-layout`, `index.json` and
  `blobs/sha256/…`. An index entry is named by its `io.containerd.image.name`
  annotation, else by `org.opencontainers.image.ref.name` when that is a full reference
  (a bare tag names nothing); a multi-platform entry is resolved to this machine.

Invariants: every blob read is checked against its digest (file names in
docker-archives that are digests too) and every layer against the config's diffIDs
before the image is committed; an archive with both `manifest.json` and `index.json`
(docker 25+) is read as a docker-archive, which carries the tags. The whole archive
may itself be compressed (gzip, bzip2, xz). Synchronous: run it in a thread.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import IO, Any

from . import manifests
from .layers import clean_path
from .reference import parse
from .store import DigestMismatch, ImageRecord, ImageStore, sha256_digest

_HEX_IN_NAME = re.compile(r"(?:^|/)([a-f0-9]{64})(?:\.json)?$")
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


class ArchiveError(ValueError):
    """A tarball that is not a usable image archive."""


class _Archive:
    """Random access to the members of an image tarball by cleaned name."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self.tar = tar
        self.members = {clean_path(m.name): m for m in tar.getmembers()}

    def has(self, name: str) -> bool:
        return clean_path(name) in self.members

    def open(self, name: str) -> IO[bytes]:
        """A seekable reader of member `name` (links followed)."""
        member = self.members.get(clean_path(name))
        reader = self.tar.extractfile(member) if member is not None else None
        if reader is None:
            raise ArchiveError(f"{name}: not found in archive")
        return reader

    def read(self, name: str) -> bytes:
        with self.open(name) as f:
            return f.read()

    def blob(self, digest: str) -> bytes:
        """An OCI layout blob, verified."""
        data = self.read(_blob_path(digest))
        if sha256_digest(data) != digest:
            raise DigestMismatch(f"blob {digest} in archive has digest {sha256_digest(data)}")
        return data


def _blob_path(digest: str) -> str:
    algorithm, _, hexpart = digest.partition(":")
    return f"blobs/{algorithm}/{hexpart}"


def _file_digest(reader: IO[bytes]) -> tuple[str, int]:
    """sha256 digest and size of a member; leaves the reader at its start."""
    h, size = hashlib.sha256(), 0
    while chunk := reader.read(1 << 20):
        h.update(chunk)
        size += len(chunk)
    reader.seek(0)
    return "sha256:" + h.hexdigest(), size


def import_archive(store: ImageStore, path: Path) -> list[ImageRecord]:
    """Imports every image in the tarball at `path`; returns their records.
    Raises ArchiveError, DigestMismatch, ManifestError or LayerError (a ValueError)
    for a bad archive, OSError when it cannot be read."""
    try:
        with tarfile.open(path, "r:*") as tar:
            archive = _Archive(tar)
            if archive.has("manifest.json"):
                return _import_docker(store, archive)
            if archive.has("index.json"):
                return _import_oci(store, archive)
    except tarfile.TarError as e:
        raise ArchiveError(f"{path}: not a tar archive: {e}") from e
    raise ArchiveError(
        f"{path}: not a docker-archive or OCI archive (no manifest.json or index.json)"
    )


def _import_docker(store: ImageStore, archive: _Archive) -> list[ImageRecord]:
    try:
        entries = json.loads(archive.read("manifest.json"))
    except ValueError as e:
        raise ArchiveError(f"manifest.json: {e}") from e
    if not isinstance(entries, list):
        raise ArchiveError("manifest.json: a list of images expected")
    records = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise ArchiveError("manifest.json: an image without a Config")
        config = archive.read(entry["Config"])
        named = _HEX_IN_NAME.search(clean_path(entry["Config"]))
        if named and sha256_digest(config) != f"sha256:{named.group(1)}":
            raise DigestMismatch(f"config {entry['Config']} has digest {sha256_digest(config)}")
        diff_ids = manifests.diff_ids(config)
        layer_names = list(entry.get("Layers") or ())
        if len(layer_names) != len(diff_ids):
            raise ArchiveError(
                f"{entry['Config']}: {len(layer_names)} layers for {len(diff_ids)} diffIDs"
            )
        descriptors: list[dict[str, Any]] = []
        with store.lease(diff_ids):
            for name, diff_id in zip(layer_names, diff_ids, strict=True):
                with archive.open(name) as layer:
                    digest, size = _file_digest(layer)
                    store.unpack_layer(layer, diff_id)
                descriptors.append(
                    {"mediaType": manifests.DOCKER_LAYER, "digest": digest, "size": size}
                )
            manifest = {
                "schemaVersion": 2,
                "mediaType": manifests.DOCKER_MANIFEST,
                "config": {
                    "mediaType": manifests.DOCKER_CONFIG,
                    "digest": sha256_digest(config),
                    "size": len(config),
                },
                "layers": descriptors,
            }
            size = len(config) + sum(d["size"] for d in descriptors)
            names = [str(parse(tag)) for tag in entry.get("RepoTags") or ()]
            records.append(store.commit(json.dumps(manifest).encode(), config, size, names))
    return records


def _import_oci(store: ImageStore, archive: _Archive) -> list[ImageRecord]:
    index = manifests.load(archive.read("index.json"))
    records = []
    for raw in index.get("manifests") or ():
        top = manifests.Descriptor.of(raw)
        data = archive.blob(top.digest)
        document = manifests.load(data)
        if manifests.is_index(document, top.media_type):
            store.put_blob(data, top.digest)
            chosen = manifests.select_platform(document)
            data = archive.blob(chosen.digest)
            document = manifests.load(data)
        manifest = manifests.parse_manifest(document, top.media_type)
        config = archive.blob(manifest.config.digest)
        diff_ids = manifests.diff_ids(config)
        if len(diff_ids) != len(manifest.layers):
            raise ArchiveError(
                f"{top.digest}: {len(manifest.layers)} layers for {len(diff_ids)} diffIDs"
            )
        with store.lease(diff_ids):
            for layer, diff_id in zip(manifest.layers, diff_ids, strict=True):
                with archive.open(_blob_path(layer.digest)) as blob:
                    digest, _ = _file_digest(blob)
                    if digest != layer.digest:
                        raise DigestMismatch(f"layer {layer.digest} in archive has digest {digest}")
                    store.unpack_layer(blob, diff_id)
            names = _oci_names(raw.get("annotations") or {})
            names += [str(parse(n).with_digest(top.digest)) for n in names]
            records.append(store.commit(data, config, manifest.size, names))
    return records


def _oci_names(annotations: dict[str, Any]) -> list[str]:
    """The reference an OCI index entry names, normalised (none for a bare tag)."""
    for key in (CONTAINERD_NAME, REF_NAME):
        value = str(annotations.get(key, ""))
        if value and ("/" in value or ":" in value or "@" in value):
            try:
                return [str(parse(value))]
            except ValueError:
                continue
    return []
