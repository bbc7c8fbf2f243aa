"""Layer unpacking: compression, confinement to the layer root, whiteouts, metadata."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from kybernetes.kubelet.images import layers
from kybernetes.kubelet.images.layers import LayerError, unpack
from kybernetes.kubelet.images.store import DigestMismatch, ImageStore
from tests.support.images import LayerBuilder, compress, digest

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root (mknod, trusted xattrs, chown)")


def _unpack(tmp_path: Path, data: bytes) -> Path:
    dest = tmp_path / "layer"
    unpack(io.BytesIO(data), dest)
    return dest


@pytest.mark.parametrize("how", ["none", "gzip", "zstd"])
def test_diff_id_is_the_uncompressed_digest(tmp_path: Path, how: str) -> None:
    tar = LayerBuilder().dir("etc").file("etc/motd", b"hello\n").build()
    dest = tmp_path / how
    diff_id, size = unpack(io.BytesIO(compress(tar, how)), dest)
    assert diff_id == digest(tar)
    assert size == 6
    assert (dest / "etc" / "motd").read_bytes() == b"hello\n"


def test_broken_layer_is_an_error(tmp_path: Path) -> None:
    tar = compress(LayerBuilder().file("a", b"x" * 10000).build(), "gzip")
    with pytest.raises(LayerError, match="failed to extract layer"):
        unpack(io.BytesIO(tar[: len(tar) // 2]), tmp_path / "l")


def test_store_rejects_a_layer_whose_diff_id_differs(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "store")
    tar = LayerBuilder().file("a", b"x").build()
    with pytest.raises(DigestMismatch, match="expected sha256:"):
        store.unpack_layer(io.BytesIO(tar), "sha256:" + "0" * 64)
    assert not store.has_layer("sha256:" + "0" * 64)
    assert list((store.root / "tmp").iterdir()) == []  # staging cleaned up


def test_paths_cannot_escape_the_layer(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    tar = (
        LayerBuilder()
        .file("../../escape-dotdot", b"1")
        .file("/abs-file", b"2")
        .symlink("rootlink", "/")
        .file("rootlink/via-absolute-symlink", b"3")
        .symlink("uplink", "../../../..")
        .file("uplink/via-relative-symlink", b"4")
        .symlink("outlink", str(outside))
        .file("outlink/via-host-path", b"5")
        .symlink("loop", "loop")
        .build()
    )
    dest = _unpack(tmp_path, tar)
    assert (dest / "escape-dotdot").read_bytes() == b"1"
    assert (dest / "abs-file").read_bytes() == b"2"
    assert (dest / "via-absolute-symlink").read_bytes() == b"3"
    assert (dest / "via-relative-symlink").read_bytes() == b"4"
    # an absolute symlink target means the layer's own root
    assert (dest / outside.relative_to("/") / "via-host-path").read_bytes() == b"5"
    assert list(outside.iterdir()) == []
    assert not (tmp_path / "escape-dotdot").exists()
    assert os.readlink(dest / "rootlink") == "/"  # stored as is


def test_symlink_loops_are_refused(tmp_path: Path) -> None:
    tar = LayerBuilder().symlink("a", "b").symlink("b", "a").file("a/x", b"").build()
    with pytest.raises(LayerError, match="too many levels of symbolic links"):
        _unpack(tmp_path, tar)


def test_hard_links_stay_inside(tmp_path: Path) -> None:
    tar = (
        LayerBuilder()
        .file("bin/tool", b"#!", 0o755)
        .hardlink("bin/alias", "bin/tool")
        .hardlink("escape", "../../../bin/tool")
        .build()
    )
    dest = _unpack(tmp_path, tar)
    inode = (dest / "bin" / "tool").stat().st_ino
    assert (dest / "bin" / "alias").stat().st_ino == inode
    assert (dest / "escape").stat().st_ino == inode  # ../ clamped at the layer root
    bad = LayerBuilder().hardlink("x", "/etc/passwd").build()
    with pytest.raises(LayerError, match="hard link"):
        unpack(io.BytesIO(bad), tmp_path / "bad")


def test_modes_and_later_entries_replace_earlier(tmp_path: Path) -> None:
    tar = (
        LayerBuilder()
        .dir("ro", 0o555)
        .file("ro/inside", b"x", 0o4755)
        .file("sticky", b"", 0o1777)
        .file("replaced", b"old")
        .symlink("replaced", "target")
        .build()
    )
    dest = _unpack(tmp_path, tar)
    assert stat.S_IMODE((dest / "ro").stat().st_mode) == 0o555
    assert stat.S_IMODE((dest / "ro" / "inside").stat().st_mode) == 0o4755
    assert stat.S_IMODE((dest / "sticky").stat().st_mode) == 0o1777
    assert os.readlink(dest / "replaced") == "target"
    layers.remove_tree(dest)
    assert not dest.exists()


@pytest.mark.root
@needs_root
def test_whiteouts_become_overlayfs_markers(tmp_path: Path) -> None:
    tar = (
        LayerBuilder()
        .dir("etc")
        .whiteout("etc/gone")
        .dir("var/cache")
        .opaque("var/cache")
        .file("var/cache/new", b"n")
        .build()
    )
    dest = _unpack(tmp_path, tar)
    gone = os.lstat(dest / "etc" / "gone")
    assert stat.S_ISCHR(gone.st_mode)
    assert gone.st_rdev == os.makedev(0, 0)
    assert not (dest / "etc" / ".wh.gone").exists()
    assert os.getxattr(dest / "var" / "cache", "trusted.overlay.opaque") == b"y"
    assert not (dest / "var" / "cache" / ".wh..wh..opq").exists()
    assert (dest / "var" / "cache" / "new").read_bytes() == b"n"


def test_whiteouts_are_kept_as_files_without_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    tar = LayerBuilder().whiteout("etc/gone").opaque("var").build()
    dest = _unpack(tmp_path, tar)
    assert (dest / "etc" / ".wh.gone").is_file()
    assert (dest / "var" / ".wh..wh..opq").is_file()


@pytest.mark.root
@needs_root
def test_ownership_and_xattrs_as_root(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("owned")
        info.uid, info.gid, info.mode = 1234, 5678, 0o640
        info.pax_headers = {"SCHILY.xattr.user.note": "hi"}
        tar.addfile(info, io.BytesIO(b""))
        link = tarfile.TarInfo("link")
        link.type, link.linkname, link.uid, link.gid = tarfile.SYMTYPE, "owned", 42, 43
        tar.addfile(link)
    dest = _unpack(tmp_path, buffer.getvalue())
    st = (dest / "owned").stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1234, 5678, 0o640)
    assert os.getxattr(dest / "owned", "user.note") == b"hi"
    lst = os.lstat(dest / "link")
    assert (lst.st_uid, lst.st_gid) == (42, 43)
