"""Importing docker-archive and OCI-archive tarballs of the busybox test image."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from kybernetes.kubelet.images.archive import ArchiveError, import_archive
from kybernetes.kubelet.images.store import DigestMismatch, ImageStore
from tests.support.images import BUSYBOX_REF, LayerBuilder, build_image, digest, goarch
from tests.support.registry import BusyboxArchives


def _check_busybox(store: ImageStore, image_id: str) -> None:
    (rootfs,) = store.layer_paths(image_id)
    assert os.readlink(rootfs / "bin" / "sh") == "busybox"
    for applet in ("ls", "cat", "echo", "sleep", "httpd", "wget", "nc", "env", "id", "true"):
        assert (rootfs / "bin" / applet).is_symlink(), applet
    assert os.access(rootfs / "bin" / "busybox", os.X_OK)
    assert b"nobody:x:65534" in (rootfs / "etc" / "passwd").read_bytes()
    assert (rootfs / "tmp").stat().st_mode & 0o1777 == 0o1777
    config = store.image_config(image_id)
    assert config["config"]["Cmd"] == ["sh"]
    assert config["architecture"] == goarch()


@pytest.mark.parametrize("kind", ["docker_archive", "oci_archive", "oci_zstd_archive"])
def test_import(tmp_path: Path, busybox_archives: BusyboxArchives, kind: str) -> None:
    store = ImageStore(tmp_path / "images")
    (record,) = import_archive(store, getattr(busybox_archives, kind))
    assert record.id == busybox_archives.image.id
    assert record.repo_tags == (BUSYBOX_REF,)
    assert store.resolve(BUSYBOX_REF) == record.id
    if kind != "docker_archive":
        assert record.repo_digests[0].startswith("kyb.test/busybox@sha256:")
        assert store.resolve(record.repo_digests[0]) == record.id
    _check_busybox(store, record.id)


def test_import_index_picks_this_platform(
    tmp_path: Path, busybox_archives: BusyboxArchives
) -> None:
    store = ImageStore(tmp_path / "images")
    (record,) = import_archive(store, busybox_archives.oci_index_archive)
    index_digest = digest(busybox_archives.index)
    assert record.repo_digests == (f"kyb.test/busybox@{index_digest}",)
    _check_busybox(store, record.id)
    assert store.blob(index_digest) == busybox_archives.index


def test_reimport_is_idempotent(tmp_path: Path, busybox_archives: BusyboxArchives) -> None:
    store = ImageStore(tmp_path / "images")
    first = import_archive(store, busybox_archives.docker_archive)
    again = import_archive(store, busybox_archives.oci_archive)
    assert first[0].id == again[0].id
    assert len(store.list()) == 1
    assert len(list((store.root / "layers").iterdir())) == 1


def _rewrite(source: Path, target: Path, change: dict[str, bytes]) -> Path:
    """A copy of the tarball `source` with some members' content replaced."""
    with tarfile.open(source) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member)
            content = change.get(member.name, data.read() if data else b"")
            member.size = len(content)
            dst.addfile(member, io.BytesIO(content))
    return target


def test_tampered_layer_is_rejected(tmp_path: Path, busybox_archives: BusyboxArchives) -> None:
    layer = busybox_archives.image.layers[0]
    tampered = gzip.compress(gzip.decompress(layer) + b"\0" * 1024, mtime=0)
    name = f"blobs/sha256/{digest(layer)[7:]}"
    bad = _rewrite(busybox_archives.oci_archive, tmp_path / "bad.tar", {name: tampered})
    store = ImageStore(tmp_path / "images")
    with pytest.raises(DigestMismatch, match="has digest"):
        import_archive(store, bad)
    assert store.list() == [] and list((store.root / "layers").iterdir()) == []


def test_wrong_diff_id_is_rejected(tmp_path: Path, busybox_archives: BusyboxArchives) -> None:
    config = json.loads(busybox_archives.image.config)
    config["rootfs"]["diff_ids"] = ["sha256:" + "3" * 64]
    raw = json.dumps(config).encode()
    with tarfile.open(busybox_archives.docker_archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    manifest[0]["Config"] = "config.json"
    bad = _rewrite(
        busybox_archives.docker_archive,
        tmp_path / "bad.tar",
        {"manifest.json": json.dumps(manifest).encode()},
    )
    with tarfile.open(bad, "a") as tar:
        info = tarfile.TarInfo("config.json")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    with pytest.raises(DigestMismatch, match="layer diffID"):
        import_archive(ImageStore(tmp_path / "images"), bad)


def test_not_an_image_archive(tmp_path: Path) -> None:
    empty = tmp_path / "empty.tar"
    with tarfile.open(empty, "w"):
        pass
    with pytest.raises(ArchiveError, match=r"no manifest\.json or index\.json"):
        import_archive(ImageStore(tmp_path / "images"), empty)
    text = tmp_path / "text.tar"
    text.write_text("hello")
    with pytest.raises(ArchiveError, match="not a tar archive"):
        import_archive(ImageStore(tmp_path / "images"), text)


def test_docker_archive_with_two_images_sharing_a_layer(tmp_path: Path) -> None:
    """`docker save a b` stores a shared layer once; the other copy is a symlink."""
    base = LayerBuilder().file("base", b"b").build()
    one = build_image("one:1", [base, LayerBuilder().file("one", b"1").build()], "none")
    two = build_image("two:1", [base], "none")
    path = tmp_path / "two-images.tar"
    with tarfile.open(path, "w") as tar:

        def add(name: str, data: bytes) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))

        add("base/layer.tar", base)
        add("one/layer.tar", one.layers[1])
        link = tarfile.TarInfo("shared/layer.tar")
        link.type, link.linkname = tarfile.SYMTYPE, "../base/layer.tar"
        tar.addfile(link)
        add("one.json", one.config)
        add("two.json", two.config)
        entries = [
            {
                "Config": "one.json",
                "RepoTags": ["one:1"],
                "Layers": ["base/layer.tar", "one/layer.tar"],
            },
            {
                "Config": "two.json",
                "RepoTags": ["two:1", "two:latest"],
                "Layers": ["shared/layer.tar"],
            },
        ]
        add("manifest.json", json.dumps(entries).encode())
    store = ImageStore(tmp_path / "images")
    first, second = import_archive(store, path)
    assert first.repo_tags == ("docker.io/library/one:1",)
    assert second.repo_tags == ("docker.io/library/two:1", "docker.io/library/two:latest")
    assert first.diff_ids[0] == second.diff_ids[0]
    assert (store.layer_paths(second.id)[0] / "base").read_bytes() == b"b"
    assert len(list((store.root / "layers").iterdir())) == 2


@pytest.mark.root
@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chroot)")
def test_imported_busybox_runs(tmp_path: Path, busybox_archives: BusyboxArchives) -> None:
    store = ImageStore(tmp_path / "images")
    (record,) = import_archive(store, busybox_archives.oci_archive)
    (rootfs,) = store.layer_paths(record.id)
    result = subprocess.run(
        [
            shutil.which("chroot") or "chroot",
            str(rootfs),
            "/bin/sh",
            "-c",
            "echo hello from $(id -un); ls /bin | wc -l",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/bin"},
    )
    assert result.returncode == 0, result.stderr
    greeting, applets = result.stdout.split("\n", 1)
    assert greeting == "hello from root"
    assert int(applets) > 200
