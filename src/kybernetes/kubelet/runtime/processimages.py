"""Images for the `process` runtime, which runs host binaries and so needs none.

`ProcessImageService` pulls and stores nothing. `image_status` returns the node's
ImageStore image when it has one (the runtime then uses its Entrypoint, Cmd, WorkingDir
and StopSignal), else a synthetic image (id: sha256 of the normalised reference, size
0), so the kubelet never tries to pull; a reference that does not parse resolves to
nothing and pulling it fails with `InvalidImageName`, the kubelet's words. `list_images`
is empty: the node has no images of its own to report or collect.
"""

from __future__ import annotations

import hashlib
import shutil
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from ..images.reference import normalize
from .interface import AuthConfig, ContainerRuntimeError, Image


class ImageConfigSource(Protocol):
    """What the process runtime needs of the node's ImageStore (images/store.py)."""

    def resolve(self, ref: str) -> str | None: ...

    def config(self, image_id: str) -> dict[str, Any]: ...


def synthetic_id(ref: str) -> str:
    """The stand-in id of an image the ImageStore does not have: sha256 of its name."""
    with suppress(ValueError):
        ref = normalize(ref)
    return "sha256:" + hashlib.sha256(ref.encode()).hexdigest()


class ProcessImageService:
    """ImageService for the process runtime: nothing to pull (see module docstring)."""

    def __init__(self, root: Path, images: ImageConfigSource | None = None) -> None:
        self.root = Path(root)
        self.images = images

    async def list_images(self) -> list[Image]:
        return []

    async def image_status(self, ref: str) -> Image | None:
        try:
            name = normalize(ref)
        except ValueError:
            return None
        image_id = self.images.resolve(ref) if self.images is not None else None
        image_id = image_id or synthetic_id(name)
        return Image(id=image_id, repo_tags=[name], repo_digests=[], size=0)

    async def pull_image(self, ref: str, auth: AuthConfig | None = None) -> str:
        image = await self.image_status(ref)
        if image is None:
            raise ContainerRuntimeError(
                "InvalidImageName",
                f'Failed to apply default image tag "{ref}": couldn\'t parse image name '
                f'"{ref}": invalid reference format',
            )
        return image.id

    async def remove_image(self, ref: str) -> None:
        return None

    async def image_fs_usage(self) -> tuple[int, int]:
        return 0, shutil.disk_usage(self.root).total
