"""Mount helpers (root only): overlayfs layer order, tmpfs, finding and removing the
mounts below a directory (paths with spaces included)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.oci.mounts import (
    is_mountpoint,
    mount_overlay,
    mount_tmpfs,
    mounts_under,
    unmount_all,
)

pytestmark = pytest.mark.root


@pytest.fixture
def base(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    d = tmp_path / "with space"
    d.mkdir()
    try:
        yield d
    finally:
        unmount_all(tmp_path)


def test_overlay_lists_the_highest_layer_first(base: Path) -> None:
    low, high = base / "low", base / "high"
    for layer, text in ((low, "low"), (high, "high")):
        layer.mkdir()
        (layer / "f").write_text(text)
        (layer / text).write_text(text)
    root = base / "rootfs"
    mount_overlay([low, high], base / "upper", base / "work", root)
    assert (root / "f").read_text() == "high"
    assert {p.name for p in root.iterdir()} == {"f", "low", "high"}
    (root / "new").write_text("x")
    assert (base / "upper/new").read_text() == "x" and not (high / "new").exists()


def test_tmpfs_and_unmount_all(base: Path) -> None:
    shm = base / "files/shm"
    mount_tmpfs(shm, "1m", "1777")
    mount_tmpfs(shm / "inner", "1m", "755")
    assert is_mountpoint(shm) and is_mountpoint(shm / "inner")
    assert mounts_under(base) == [str(shm / "inner"), str(shm)]
    assert oct(shm.stat().st_mode & 0o7777) == "0o1777"
    unmount_all(base)
    unmount_all(base)
    assert mounts_under(base) == [] and not is_mountpoint(shm)
