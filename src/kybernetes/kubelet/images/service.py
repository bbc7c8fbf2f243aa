"""The CRI ImageService over a node's image store (used by the oci runtime).

`LocalImageService(store)` lists, inspects, pulls, imports and removes images.
Invariants: concurrent pulls of the same reference are serialised (the second finds
the layers present and only re-checks the manifest); store work that touches the disk
runs in threads; pull failures are `ContainerRuntimeError("ErrImagePull", containerd's
wording)`, and a reference that does not parse is `InvalidImageName` with the
kubelet's message; removing an image that is not there is a no-op, as in CRI.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from ..runtime.interface import AuthConfig, ContainerRuntimeError, Image
from . import archive, registry
from .reference import normalize
from .store import ImageRecord, ImageStore


class LocalImageService:
    """ImageService (see runtime/interface.py) on an ImageStore."""

    def __init__(self, store: ImageStore, session: aiohttp.ClientSession | None = None) -> None:
        """`session` is used for pulls when given (the caller closes it); otherwise each
        pull opens and closes its own."""
        self.store = store
        self.session = session
        self._pull_locks: dict[str, asyncio.Lock] = {}  # one per name ever pulled

    def _image(self, record: ImageRecord) -> Image:
        user = str(self.store.config(record.id).get("User") or "")
        return Image(
            id=record.id,
            repo_tags=list(record.repo_tags),
            repo_digests=list(record.repo_digests),
            size=record.size,
            user=user,
        )

    def _images(self) -> list[Image]:
        return [self._image(r) for r in self.store.list()]

    async def list_images(self) -> list[Image]:
        return await asyncio.to_thread(self._images)

    def _status(self, ref: str) -> Image | None:
        image_id = self.store.resolve(ref)
        record = self.store.get(image_id) if image_id is not None else None
        return self._image(record) if record is not None else None

    async def image_status(self, ref: str) -> Image | None:
        """The image `ref` (a name, normalised like docker, or an image id) names, or None."""
        return await asyncio.to_thread(self._status, ref)

    async def pull_image(self, ref: str, auth: AuthConfig | None = None) -> str:
        """Pulls `ref` and returns its image id. Raises ContainerRuntimeError with reason
        `ErrImagePull` (or `InvalidImageName` for a reference that does not parse)."""
        try:
            name = normalize(ref)
        except ValueError as e:
            raise ContainerRuntimeError(
                "InvalidImageName",
                f'Failed to apply default image tag "{ref}": couldn\'t parse image name '
                f'"{ref}": {e}',
            ) from e
        lock = self._pull_locks.setdefault(name, asyncio.Lock())
        try:
            async with lock:
                record = await registry.pull(self.store, name, auth, self.session)
        except registry.PullError as e:
            raise ContainerRuntimeError("ErrImagePull", str(e)) from e
        return record.id

    async def import_archive(self, path: Path) -> list[Image]:
        """Imports a docker-archive or OCI-archive tarball; the images it held.
        Raises ValueError (bad archive) or OSError (unreadable)."""
        records = await asyncio.to_thread(archive.import_archive, self.store, path)
        return [self._image(r) for r in records]

    async def remove_image(self, ref: str) -> None:
        """Removes the image `ref` names with all its tags (like crictl rmi); a
        missing image is not an error."""
        image_id = await asyncio.to_thread(self.store.resolve, ref)
        if image_id is not None:
            await asyncio.to_thread(self.store.remove, image_id)

    async def image_fs_usage(self) -> tuple[int, int]:
        """(bytes used by images, capacity in bytes of the image filesystem)."""
        used = await asyncio.to_thread(self.store.disk_usage)
        return used, await asyncio.to_thread(self.store.capacity)
