"""A node's image store: content-addressed blobs, unpacked layers, images and their names.

Layout under `root` (DATA_DIR/images):

    blobs/sha256/HEX       manifests, indexes and image configs, verified against HEX
    layers/HEX/fs/         a layer's unpacked tree (HEX is the layer's diffID, the sha256
                           of its uncompressed tar), whiteouts converted for overlayfs
    layers/HEX/size        bytes of file content in the tree
    images/HEX.json        an image: config digest (its id), manifest digest, diffIDs, size
    refs.json              reference (`name:tag` or `name@digest`) → image id
    leases/                layers a pull or import is writing, safe from pruning
    tmp/                   staging; a layer appears under layers/ only once complete

Invariants:
- An image id is the sha256 digest of its config blob; an image's record is written
  only after its config, manifest and every layer are in place, so `layer_paths` of a
  listed image always exist.
- Compressed layer blobs are not kept: a layer is stored once, unpacked, by diffID, and
  shared between images.
- An image stays until `remove`d, also when it loses its last name (like containerd's
  CRI, which lists such images with tag `<none>`); removing it prunes the layers and
  blobs no other image (and no lease) uses.
- Mutations of records and refs hold an exclusive `flock` on `root/lock`, so a
  `kyb images` command and the kubelet may share a store; files are replaced by
  atomic rename, so readers never see half a file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..runtime.interface import NotFound
from . import layers, reference
from .layers import remove_tree

_HEX64 = re.compile(r"[0-9a-f]{64}")


class DigestMismatch(ValueError):
    """Content whose sha256 is not the digest it was announced with."""


@dataclass(frozen=True)
class ImageRecord:
    """An image in the store. `size` is the sum of its config and (compressed) layer
    sizes as the manifest gives them, as containerd reports it; `manifest` is the
    digest of the platform manifest; `repo_tags`/`repo_digests` are its names."""

    id: str
    manifest: str
    diff_ids: tuple[str, ...]
    size: int
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()


def digest_hex(digest: str) -> str:
    """The hex part of a `sha256:HEX` digest; ValueError for any other form (so that a
    digest is always safe to use as a file name)."""
    algorithm, _, hexpart = digest.partition(":")
    if algorithm != "sha256" or not _HEX64.fullmatch(hexpart):
        raise ValueError(f"unsupported digest {digest!r} (only sha256 is supported)")
    return hexpart


def sha256_digest(data: bytes) -> str:
    """`sha256:HEX` of `data`."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes) -> None:
    """Writes `data` to `path` by renaming a complete temporary file over it."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class ImageStore:
    """The image store rooted at `root` (created on first use)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        for sub in ("blobs/sha256", "layers", "images", "leases", "tmp"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for stale in (self.root / "tmp").iterdir():  # left by a writer that died
            pid = stale.name.split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                remove_tree(stale)

    # ---- reading (the oci runtime's API) -------------------------------------------

    def resolve(self, ref: str) -> str | None:
        """The id (`sha256:…`, the config digest) of the image `ref` names, or None.
        `ref` is a name (`busybox`, `host:5000/x:1`, `name@sha256:…`, normalised like
        docker) or an image id (`sha256:HEX` or bare HEX). Invalid references name
        nothing."""
        image_id = reference.image_id_of(ref)
        if image_id is not None and self._record_path(image_id).exists():
            return image_id
        try:
            parsed = reference.parse(ref)
        except ValueError:
            return None
        key = str(parsed.with_digest(parsed.digest)) if parsed.digest else str(parsed)
        found = self._refs().get(key)
        return found if found is not None and self._record_path(found).exists() else None

    def image_config(self, image_id: str) -> dict[str, Any]:
        """The whole OCI image config (architecture, os, config, rootfs, history).
        Raises NotFound for an unknown image."""
        if not self._record_path(image_id).exists():
            raise NotFound(f"image {image_id} not found")
        config: dict[str, Any] = json.loads(self.blob(image_id))
        return config

    def config(self, image_id: str) -> dict[str, Any]:
        """The `config` section of the image's OCI config: Entrypoint, Cmd, Env,
        WorkingDir, User, ExposedPorts, StopSignal, Labels (keys absent when unset).
        Raises NotFound for an unknown image."""
        section = self.image_config(image_id).get("config") or {}
        return dict(section)

    def layer_paths(self, image_id: str) -> list[Path]:
        """The image's unpacked layer trees, lowest first (overlayfs wants its
        `lowerdir` list highest first: reverse it). Raises NotFound for an unknown image."""
        record = self.get(image_id)
        if record is None:
            raise NotFound(f"image {image_id} not found")
        return [self.layer_dir(d) / "fs" for d in record.diff_ids]

    def get(self, image_id: str) -> ImageRecord | None:
        """The record of image `image_id`, with its names, or None."""
        try:
            raw = json.loads(self._record_path(image_id).read_bytes())
        except (FileNotFoundError, ValueError):
            return None
        names = [r for r, i in self._refs().items() if i == image_id]
        return self._record_from(raw, names)

    def list(self) -> list[ImageRecord]:
        """Every image in the store, with its names, ordered by id."""
        by_id: dict[str, list[str]] = {}
        for ref, image_id in self._refs().items():
            by_id.setdefault(image_id, []).append(ref)
        records = []
        for path in sorted((self.root / "images").glob("*.json")):
            try:
                raw = json.loads(path.read_bytes())
            except (FileNotFoundError, ValueError):
                continue
            records.append(self._record_from(raw, by_id.get(raw["id"], [])))
        return records

    def blob(self, digest: str) -> bytes:
        """The content of blob `digest`; FileNotFoundError when absent."""
        return (self.root / "blobs" / "sha256" / digest_hex(digest)).read_bytes()

    def has_layer(self, diff_id: str) -> bool:
        """Whether the layer with this diffID is unpacked here."""
        return (self.layer_dir(diff_id) / "size").exists()

    def layer_dir(self, diff_id: str) -> Path:
        """Where the layer `diff_id` lives (its tree is the `fs` subdirectory)."""
        return self.root / "layers" / digest_hex(diff_id)

    def disk_usage(self) -> int:
        """Bytes of the store's layers (their file content) and blobs."""
        total = 0
        for layer in (self.root / "layers").iterdir():
            with contextlib.suppress(FileNotFoundError, ValueError):
                total += int((layer / "size").read_text())
        for blob in (self.root / "blobs" / "sha256").iterdir():
            with contextlib.suppress(FileNotFoundError):
                total += blob.stat().st_size
        return total

    def capacity(self) -> int:
        """Total bytes of the filesystem holding the store."""
        return shutil.disk_usage(self.root).total

    # ---- writing -------------------------------------------------------------------

    def put_blob(self, data: bytes, digest: str | None = None) -> str:
        """Stores `data`, verified against `digest` when given; returns its digest.
        Raises DigestMismatch."""
        actual = sha256_digest(data)
        if digest is not None and actual != digest:
            raise DigestMismatch(f"unexpected commit digest {actual}, expected {digest}")
        path = self.root / "blobs" / "sha256" / digest_hex(actual)
        if not path.exists():
            write_atomic(path, data)
        return actual

    def staging_dir(self) -> Path:
        """A fresh empty directory under tmp/ (same filesystem as layers/): unpack a
        layer's tree into its `fs` subdirectory, then `install_layer` it. Named
        PID-RANDOM: a new ImageStore removes those of processes that are gone."""
        path = self.root / "tmp" / f"{os.getpid()}-{uuid.uuid4().hex}"
        path.mkdir()
        return path

    def install_layer(self, diff_id: str, staged: Path, size: int) -> None:
        """Moves `staged` (from `staging_dir()`, its tree in `fs`) into place as layer
        `diff_id`; when another writer got there first, `staged` is discarded."""
        (staged / "size").write_text(str(size))
        try:
            staged.rename(self.layer_dir(diff_id))
        except OSError:
            if not self.has_layer(diff_id):
                raise
            remove_tree(staged)

    def unpack_layer(self, stream: IO[bytes], diff_id: str) -> None:
        """Unpacks the layer tar read from the seekable `stream` (plain, gzip or zstd) as
        layer `diff_id`, unless it is here already. Raises DigestMismatch when the
        uncompressed content's digest is not `diff_id`, LayerError for a broken tar.
        Hold a `lease` on `diff_id` until the image is committed."""
        if self.has_layer(diff_id):
            return
        staged = self.staging_dir()
        try:
            actual, size = layers.unpack(stream, staged / "fs")
            if actual != diff_id:
                raise DigestMismatch(f"layer diffID is {actual}, expected {diff_id}")
            self.install_layer(diff_id, staged, size)
        except BaseException:
            remove_tree(staged)
            raise

    @contextlib.contextmanager
    def lease(self, diff_ids: Iterable[str]) -> Iterator[None]:
        """Protects the layers `diff_ids` from pruning while an image is being written."""
        path = self.root / "leases" / f"{os.getpid()}-{uuid.uuid4().hex}.json"
        write_atomic(path, json.dumps(sorted(diff_ids)).encode())
        try:
            yield
        finally:
            path.unlink(missing_ok=True)

    def commit(
        self, manifest: bytes, config: bytes, size: int, names: Iterable[str]
    ) -> ImageRecord:
        """Records an image whose layers (the config's rootfs.diff_ids) are all
        installed, storing its manifest and config blobs, and points `names`
        (normalised references, tags or digests) at it. Returns the record.
        Raises ValueError for a missing layer or a config without diff_ids."""
        image_id = sha256_digest(config)
        diff_ids = tuple(json.loads(config).get("rootfs", {}).get("diff_ids") or ())
        if not diff_ids:
            raise ValueError("image config has no rootfs.diff_ids")
        with self._locked():
            missing = [d for d in diff_ids if not self.has_layer(d)]
            if missing:
                raise ValueError(f"layers not in the store: {', '.join(missing)}")
            manifest_digest = self.put_blob(manifest)
            self.put_blob(config)
            record = {
                "id": image_id,
                "manifest": manifest_digest,
                "diffIDs": diff_ids,
                "size": size,
            }
            write_atomic(self._record_path(image_id), json.dumps(record).encode())
            refs = self._refs()
            refs.update({reference.normalize(n): image_id for n in names})
            self._write_refs(refs)
        found = self.get(image_id)
        assert found is not None
        return found

    def tag(self, ref: str, image_id: str) -> None:
        """Points the name `ref` at the image `image_id` (taking it from any other
        image). Raises NotFound for an unknown image, ValueError for a bad reference."""
        name = reference.normalize(ref)
        with self._locked():
            if not self._record_path(image_id).exists():
                raise NotFound(f"image {image_id} not found")
            refs = self._refs()
            refs[name] = image_id
            self._write_refs(refs)

    def untag(self, ref: str) -> bool:
        """Removes the name `ref` (the image stays); whether it existed."""
        try:
            name = reference.normalize(ref)
        except ValueError:
            return False
        with self._locked():
            refs = self._refs()
            if refs.pop(name, None) is None:
                return False
            self._write_refs(refs)
            return True

    def remove(self, image_id: str) -> bool:
        """Removes the image and all its names, then the layers and blobs nothing else
        uses; whether it existed."""
        with self._locked():
            path = self._record_path(image_id)
            if not path.exists():
                return False
            refs = {r: i for r, i in self._refs().items() if i != image_id}
            self._write_refs(refs)
            path.unlink()
            self._prune()
            return True

    # ---- internals -----------------------------------------------------------------

    def _record_path(self, image_id: str) -> Path:
        return self.root / "images" / f"{digest_hex(image_id)}.json"

    def _record_from(self, raw: dict[str, Any], names: Iterable[str]) -> ImageRecord:
        names = sorted(names)
        return ImageRecord(
            id=raw["id"],
            manifest=raw["manifest"],
            diff_ids=tuple(raw["diffIDs"]),
            size=int(raw["size"]),
            repo_tags=tuple(n for n in names if "@" not in n),
            repo_digests=tuple(n for n in names if "@" in n),
        )

    def _refs(self) -> dict[str, str]:
        try:
            refs: dict[str, str] = json.loads((self.root / "refs.json").read_bytes())
        except FileNotFoundError:
            return {}
        return refs

    def _write_refs(self, refs: dict[str, str]) -> None:
        write_atomic(self.root / "refs.json", json.dumps(refs, sort_keys=True, indent=1).encode())

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.root / "lock", "a+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _leased(self) -> set[str]:
        leased: set[str] = set()
        for path in (self.root / "leases").glob("*.json"):
            pid = int(path.name.split("-", 1)[0])
            if not _alive(pid):
                path.unlink(missing_ok=True)
                continue
            with contextlib.suppress(FileNotFoundError, ValueError):
                leased.update(json.loads(path.read_bytes()))
        return leased

    def _prune(self) -> None:
        """Deletes layers and blobs no image record or lease uses (lock held)."""
        keep_layers = self._leased()
        keep_blobs: set[str] = set()
        for path in (self.root / "images").glob("*.json"):
            raw = json.loads(path.read_bytes())
            keep_layers.update(raw["diffIDs"])
            keep_blobs.update((raw["id"], raw["manifest"]))
        # manifest lists, named by the repo digests still in use
        keep_blobs.update(ref.rsplit("@", 1)[1] for ref in self._refs() if "@" in ref)
        for layer in (self.root / "layers").iterdir():
            if f"sha256:{layer.name}" not in keep_layers:
                remove_tree(layer)
        for blob in (self.root / "blobs" / "sha256").iterdir():
            if f"sha256:{blob.name}" not in keep_blobs:
                blob.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
