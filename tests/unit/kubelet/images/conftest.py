"""Fixtures of the image tests: the busybox test image and a local registry (session),
and `add_image`, which puts a small made-up image into a store through an OCI archive."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kybernetes.kubelet.images.archive import import_archive
from kybernetes.kubelet.images.store import ImageRecord, ImageStore
from tests.support.images import LayerBuilder, build_image, write_oci_archive
from tests.support.registry import busybox_archives, local_registry

__all__ = ["add_image", "busybox_archives", "local_registry"]

AddImage = Callable[..., ImageRecord]


@pytest.fixture
def add_image(tmp_path: Path) -> AddImage:
    """`add_image(store, name, *layer_contents)`: an image whose layers each hold one
    file `data` with the given bytes; returns its record."""

    def add(store: ImageStore, name: str, *contents: bytes) -> ImageRecord:
        tars = [LayerBuilder().file("data", c).build() for c in contents]
        image = build_image(name, tars)
        path = write_oci_archive(tmp_path / f"{image.id[7:19]}.tar", image)
        (record,) = import_archive(store, path)
        return record

    return add
