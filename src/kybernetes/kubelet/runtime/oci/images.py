"""What the oci runtime needs from the node's image store (`kubelet/images/store.py`'s
`ImageStore` satisfies it): resolving a reference to an image id, the image's config
section, its repo digests and its unpacked layer directories (lowest first, whiteouts
already in overlayfs form)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class NamedImage(Protocol):
    @property
    def repo_digests(self) -> tuple[str, ...]:
        """The image's REPO@sha256:… names (of the registries it was pulled from)."""
        ...


class ImageSource(Protocol):
    def get(self, image_id: str) -> NamedImage | None:
        """The image's record, or None if unknown."""
        ...

    def resolve(self, ref: str) -> str | None:
        """The id of the image `ref` names, or None."""
        ...

    def config(self, image_id: str) -> dict[str, Any]:
        """Entrypoint, Cmd, Env, WorkingDir, User, StopSignal…; NotFound if unknown."""
        ...

    def layer_paths(self, image_id: str) -> list[Path]:
        """The unpacked layer trees, lowest first; NotFound if unknown."""
        ...
