"""The CRI ImageService on the store: status, pull, remove, usage, errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kybernetes.kubelet.images.service import LocalImageService
from kybernetes.kubelet.images.store import ImageStore
from kybernetes.kubelet.runtime.interface import ContainerRuntimeError, ImageService
from tests.support.registry import BusyboxArchives, LocalRegistry, free_port


def _service(tmp_path: Path) -> LocalImageService:
    service = LocalImageService(ImageStore(tmp_path / "images"))
    _typed: ImageService = service  # it implements the CRI contract
    return service


async def test_pull_status_list_remove(
    tmp_path: Path, local_registry: LocalRegistry, busybox_archives: BusyboxArchives
) -> None:
    service = _service(tmp_path)
    ref = f"{local_registry.host}/busybox:1.36"
    assert await service.image_status(ref) is None
    image_id = await service.pull_image(ref)
    assert image_id == busybox_archives.image.id
    status = await service.image_status(ref)
    assert status is not None
    assert status.id == image_id and status.repo_tags == [ref]
    assert status.repo_digests[0].startswith(f"{local_registry.host}/busybox@sha256:")
    assert status.size > 900_000 and status.user == ""
    assert await service.image_status(image_id) == status
    assert await service.list_images() == [status]
    used, capacity = await service.image_fs_usage()
    assert 1_900_000 < used < capacity  # the unpacked busybox binary and the blobs
    await service.remove_image(ref)
    await service.remove_image(ref)  # removing what is gone is a no-op
    assert await service.list_images() == []
    assert (await service.image_fs_usage())[0] == 0


async def test_concurrent_pulls_of_one_image(tmp_path: Path, local_registry: LocalRegistry) -> None:
    service = _service(tmp_path)
    ref = f"{local_registry.host}/busybox:1.36"
    ids = await asyncio.gather(*(service.pull_image(ref) for _ in range(4)))
    assert len(set(ids)) == 1
    assert len(await service.list_images()) == 1


async def test_pull_errors_are_err_image_pull(
    tmp_path: Path, local_registry: LocalRegistry
) -> None:
    service = _service(tmp_path)
    with pytest.raises(ContainerRuntimeError) as missing:
        await service.pull_image(f"{local_registry.host}/nope:1")
    assert missing.value.reason == "ErrImagePull"
    assert str(missing.value).endswith(f"{local_registry.host}/nope:1: not found")
    with pytest.raises(ContainerRuntimeError) as down:
        await service.pull_image(f"127.0.0.1:{free_port()}/busybox")
    assert down.value.reason == "ErrImagePull"
    assert str(down.value).endswith("connect: connection refused")


async def test_invalid_name(tmp_path: Path) -> None:
    with pytest.raises(ContainerRuntimeError) as caught:
        await _service(tmp_path).pull_image("Not/Valid")
    assert caught.value.reason == "InvalidImageName"
    assert str(caught.value).startswith(
        'Failed to apply default image tag "Not/Valid": couldn\'t parse image name "Not/Valid": '
        "invalid reference format"
    )


async def test_import_and_user(tmp_path: Path, busybox_archives: BusyboxArchives) -> None:
    service = _service(tmp_path)
    (image,) = await service.import_archive(busybox_archives.oci_archive)
    assert image.repo_tags == ["kyb.test/busybox:1.36"]
    assert await service.image_status("kyb.test/busybox:1.36") == image


async def test_concurrent_pulls_sharing_a_layer(
    tmp_path: Path, local_registry: LocalRegistry
) -> None:
    """Two images with the same layer, pulled at once: both unpack it, one copy stays."""
    service = _service(tmp_path)
    refs = [f"{local_registry.host}/busybox:1.36", f"{local_registry.host}/busybox-multi:1.36"]
    ids = await asyncio.gather(*(service.pull_image(r) for r in refs))
    assert len(set(ids)) == 1  # same config: one image with both names
    (image,) = await service.list_images()
    assert sorted(image.repo_tags) == sorted(refs)
    assert len(list((service.store.root / "layers").iterdir())) == 1
    assert list((service.store.root / "tmp").iterdir()) == []
    assert list((service.store.root / "leases").iterdir()) == []
