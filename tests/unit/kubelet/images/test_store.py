"""The image store: names, records, layers, removal and pruning."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kybernetes.kubelet.images.archive import import_archive
from kybernetes.kubelet.images.store import DigestMismatch, ImageStore, digest_hex
from kybernetes.kubelet.runtime.interface import NotFound
from tests.support.images import LayerBuilder, build_image, write_oci_archive

from .conftest import AddImage


def test_resolve_config_and_layers(tmp_path: Path, add_image: AddImage) -> None:
    store = ImageStore(tmp_path / "images")
    record = add_image(store, "example.com/app:1", b"lower", b"upper")
    assert store.resolve("example.com/app:1") == record.id
    assert store.resolve(record.id) == record.id
    assert store.resolve(record.id[7:]) == record.id  # bare hex id
    assert store.resolve(record.repo_digests[0]) == record.id
    assert store.resolve("example.com/app:2") is None
    assert store.resolve("Not A Reference") is None
    assert store.config(record.id)["Cmd"] == ["sh"]
    assert store.image_config(record.id)["rootfs"]["diff_ids"] == list(record.diff_ids)
    paths = store.layer_paths(record.id)
    assert [(p / "data").read_bytes() for p in paths] == [b"lower", b"upper"]
    assert record.size == len(store.blob(record.id)) + sum(
        layer["size"] for layer in json.loads(store.blob(record.manifest))["layers"]
    )
    with pytest.raises(NotFound):
        store.config("sha256:" + "0" * 64)
    with pytest.raises(NotFound):
        store.layer_paths("sha256:" + "0" * 64)


def test_tags_move_and_untagged_images_stay(tmp_path: Path, add_image: AddImage) -> None:
    store = ImageStore(tmp_path / "images")
    old = add_image(store, "app:1", b"v1")
    new = add_image(store, "app:1", b"v2")
    assert store.resolve("app:1") == new.id
    lingering = store.get(old.id)
    assert lingering is not None and lingering.repo_tags == ()
    store.tag("docker.io/library/app:old", old.id)
    assert store.resolve("app:old") == old.id
    assert store.untag("app:old") and not store.untag("app:old")
    with pytest.raises(NotFound):
        store.tag("x", "sha256:" + "1" * 64)
    assert {r.id for r in store.list()} == {old.id, new.id}


def test_remove_prunes_only_unshared_layers(tmp_path: Path, add_image: AddImage) -> None:
    store = ImageStore(tmp_path / "images")
    a = add_image(store, "a:1", b"base", b"only-a")
    b = add_image(store, "b:1", b"base", b"only-b")
    shared, only_a = a.diff_ids
    assert b.diff_ids[0] == shared
    usage = store.disk_usage()
    assert store.remove(a.id)
    assert not store.remove(a.id)
    assert store.resolve("a:1") is None and store.get(a.id) is None
    assert store.has_layer(shared) and not store.has_layer(only_a)
    assert not (store.root / "blobs" / "sha256" / digest_hex(a.id)).exists()
    assert store.disk_usage() < usage
    assert [(p / "data").read_bytes() for p in store.layer_paths(b.id)] == [b"base", b"only-b"]
    store.remove(b.id)
    assert list((store.root / "layers").iterdir()) == []
    assert list((store.root / "blobs" / "sha256").iterdir()) == []


def test_leased_layers_survive_pruning(tmp_path: Path, add_image: AddImage) -> None:
    store = ImageStore(tmp_path / "images")
    a = add_image(store, "a:1", b"x")
    with store.lease(a.diff_ids):
        store.remove(a.id)
        assert store.has_layer(a.diff_ids[0])
    b = add_image(store, "b:1", b"y")
    store.remove(b.id)  # the lease is gone: now both layers go
    assert not store.has_layer(a.diff_ids[0])


def test_blobs_are_verified(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    digest = store.put_blob(b"content")
    assert store.blob(digest) == b"content"
    with pytest.raises(DigestMismatch, match="unexpected commit digest"):
        store.put_blob(b"other", digest)
    with pytest.raises(ValueError, match="only sha256"):
        store.blob("md5:abc")
    with pytest.raises(ValueError, match="not in the store"):
        store.commit(b"{}", b'{"rootfs": {"diff_ids": ["sha256:' + b"2" * 64 + b'"]}}', 1, [])


def test_a_second_store_object_sees_the_same_images(tmp_path: Path, add_image: AddImage) -> None:
    record = add_image(ImageStore(tmp_path / "images"), "app:1", b"x")
    again = ImageStore(tmp_path / "images")
    assert again.resolve("app:1") == record.id
    assert again.capacity() > 0


def test_staging_left_by_a_dead_writer_is_removed(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    mine = store.staging_dir()
    dead = store.root / "tmp" / "999999999-abc"
    (dead / "fs").mkdir(parents=True)
    ImageStore(tmp_path / "images")
    assert mine.exists() and not dead.exists()


@pytest.mark.root
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare"
)
def test_layers_stack_under_overlayfs(tmp_path: Path) -> None:
    """The unpacked layers mounted as overlayfs lowerdirs (in a private mount namespace
    that dies with the child) show the whiteouts' effect."""
    lower = (
        LayerBuilder()
        .dir("etc")
        .file("etc/gone", b"old")
        .file("etc/kept", b"kept")
        .dir("var/cache")
        .file("var/cache/stale", b"s")
        .build()
    )
    upper = (
        LayerBuilder()
        .whiteout("etc/gone")
        .dir("var/cache")
        .opaque("var/cache")
        .file("var/cache/fresh", b"f")
        .build()
    )
    image = build_image("layered:1", [lower, upper], "gzip")
    store = ImageStore(tmp_path / "images")
    (record,) = import_archive(store, write_oci_archive(tmp_path / "l.tar", image))
    lowerdirs = ":".join(str(p) for p in reversed(store.layer_paths(record.id)))
    merged = tmp_path / "merged"
    merged.mkdir()
    script = (
        f"mount -t overlay overlay -o lowerdir={lowerdirs} {merged} && cd {merged} && find . | sort"
    )
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        ".",
        "./etc",
        "./etc/kept",
        "./var",
        "./var/cache",
        "./var/cache/fresh",
    ]
    assert str(merged) not in Path("/proc/mounts").read_text()
