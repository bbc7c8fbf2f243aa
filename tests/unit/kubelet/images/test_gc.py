"""Image garbage collection: thresholds, LRU order, in-use and minimum age."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kybernetes.client.clock import FakeClock
from kybernetes.kubelet.images.gc import ImageGC, ImageGCError, statvfs_stats
from kybernetes.kubelet.images.service import LocalImageService
from kybernetes.kubelet.images.store import ImageStore

from .conftest import AddImage

MB = 1_000_000


class Disk:
    """A pretend image filesystem: `capacity` bytes, of which `other` are not images."""

    def __init__(self, store: ImageStore, capacity: int, other: int) -> None:
        self.store, self.capacity, self.other = store, capacity, other

    def __call__(self) -> tuple[int, int]:
        return self.capacity, self.capacity - self.other - self.store.disk_usage()


def _setup(tmp_path: Path, add_image: AddImage) -> tuple[LocalImageService, dict[str, str]]:
    """Four images a, b, c, d of ~1 MB each (incompressible, so size ≈ disk use)."""
    store = ImageStore(tmp_path / "images")
    ids = {n: add_image(store, f"{n}:1", os.urandom(MB)).id for n in ("a", "b", "c", "d")}
    return LocalImageService(store), ids


async def _ids(service: LocalImageService) -> set[str]:
    return {i.id for i in await service.list_images()}


async def test_frees_least_recently_used_down_to_low(tmp_path: Path, add_image: AddImage) -> None:
    service, ids = _setup(tmp_path, add_image)
    clock = FakeClock()
    disk = Disk(service.store, capacity=10 * MB, other=4_500_000)  # ~85% used
    gc = ImageGC(service, disk, clock, min_age=0)
    await gc.detect({"a:1", "b:1", "c:1", "d:1"})  # all used now...
    clock.advance(10)
    await gc.detect({ids["a"], "c:1", "d:1"})  # ...all but b used again later
    clock.advance(10)
    before = service.store.disk_usage()
    freed = await gc.garbage_collect({"c:1"})
    # 80% of 10 MB may be used: ~0.5 MB of images must go; b is the least recently used
    assert MB <= freed < 2 * MB
    assert await _ids(service) == {ids["a"], ids["c"], ids["d"]}
    assert before - service.store.disk_usage() >= MB


async def test_nothing_below_high_threshold(tmp_path: Path, add_image: AddImage) -> None:
    service, _ = _setup(tmp_path, add_image)
    gc = ImageGC(service, Disk(service.store, 100 * MB, 0), FakeClock(), min_age=0)
    assert await gc.garbage_collect(set()) == 0
    assert len(await _ids(service)) == 4


async def test_min_age_and_in_use_protect(tmp_path: Path, add_image: AddImage) -> None:
    service, ids = _setup(tmp_path, add_image)
    clock = FakeClock()
    gc = ImageGC(service, Disk(service.store, 5 * MB, MB), clock)  # ~100% used
    with pytest.raises(ImageGCError, match="but only found 0 bytes eligible to free"):
        await gc.garbage_collect(set())  # all first seen just now (< 2 minutes)
    assert len(await _ids(service)) == 4
    clock.advance(121)
    with pytest.raises(ImageGCError, match="Failed to garbage collect required amount"):
        await gc.garbage_collect({"a:1", "b:1", "c:1"})  # only d may go: not enough
    assert await _ids(service) == {ids["a"], ids["b"], ids["c"]}


async def test_delete_unused(tmp_path: Path, add_image: AddImage) -> None:
    service, ids = _setup(tmp_path, add_image)
    gc = ImageGC(service, Disk(service.store, 100 * MB, 0), FakeClock(), min_age=0)
    assert await gc.delete_unused({ids["b"]}) >= 3 * MB
    assert await _ids(service) == {ids["b"]}


def test_thresholds_and_real_stats(tmp_path: Path) -> None:
    service = LocalImageService(ImageStore(tmp_path))
    with pytest.raises(ValueError, match="invalid thresholds"):
        ImageGC(service, lambda: (1, 1), FakeClock(), high_threshold_percent=70)
    capacity, available = statvfs_stats(str(tmp_path))
    assert 0 < available <= capacity
