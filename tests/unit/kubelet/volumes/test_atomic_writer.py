"""AtomicWriter: the `..data` layout, atomic updates seen through the visible links,
removals, no-op rewrites, and Kubernetes' path validation table."""

from __future__ import annotations

import os
import re
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kybernetes.kubelet.volumes.atomic_writer import (
    DATA_DIR,
    AtomicWriter,
    FileProjection,
    validate_path,
)

NOW = datetime(2026, 11, 25, 1, 45, 48, tzinfo=UTC)


def _files(**content: str) -> dict[str, FileProjection]:
    return {
        path.replace("__", "/"): FileProjection(data.encode(), 0o644)
        for path, data in content.items()
    }


def test_first_write_layout(tmp_path: Path) -> None:
    writer = AtomicWriter(tmp_path)
    assert writer.write(_files(podName="dapi", user__labels="a=b", k8s__x__y="deep"), NOW)
    target = os.readlink(tmp_path / DATA_DIR)
    assert re.fullmatch(r"\.\.2026_11_25_01_45_48\.\w+", target)
    assert (tmp_path / target).stat().st_mode & 0o777 == 0o755
    assert os.readlink(tmp_path / "podName") == "..data/podName"
    assert os.readlink(tmp_path / "user") == "..data/user"
    assert os.readlink(tmp_path / "k8s") == "..data/k8s"
    assert (tmp_path / "user" / "labels").read_text() == "a=b"
    assert (tmp_path / "k8s" / "x" / "y").read_text() == "deep"
    assert sorted(os.listdir(tmp_path)) == sorted([DATA_DIR, target, "podName", "user", "k8s"])


def test_update_swaps_data_and_drops_old_entries(tmp_path: Path) -> None:
    writer = AtomicWriter(tmp_path)
    writer.write(_files(a="1", b="2", d__x="3"), NOW)
    old = os.readlink(tmp_path / DATA_DIR)
    held = (tmp_path / "a").open()  # a reader holding the old file keeps its content
    later = datetime(2026, 11, 25, 1, 46, 0, tzinfo=UTC)
    assert writer.write(_files(a="one", c="3"), later)
    new = os.readlink(tmp_path / DATA_DIR)
    assert new != old and new.startswith("..2026_11_25_01_46_00.")
    assert not (tmp_path / old).exists()
    assert (tmp_path / "a").read_text() == "one"
    assert (tmp_path / "c").read_text() == "3"
    assert not os.path.lexists(tmp_path / "b")
    assert not os.path.lexists(tmp_path / "d")
    assert held.read() == "1"
    held.close()


def test_unchanged_payload_writes_nothing(tmp_path: Path) -> None:
    writer = AtomicWriter(tmp_path)
    writer.write(_files(a="1"), NOW)
    before = os.readlink(tmp_path / DATA_DIR)
    assert not writer.write(_files(a="1"), NOW)
    assert os.readlink(tmp_path / DATA_DIR) == before
    # A mode change alone is a change.
    assert writer.write({"a": FileProjection(b"1", 0o400)}, NOW)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o400


def test_missing_visible_link_is_repaired(tmp_path: Path) -> None:
    writer = AtomicWriter(tmp_path)
    writer.write(_files(a="1"), NOW)
    (tmp_path / "a").unlink()
    assert writer.write(_files(a="1"), NOW)
    assert (tmp_path / "a").read_text() == "1"


def test_modes_are_exact_whatever_the_umask(tmp_path: Path) -> None:
    old_umask = os.umask(0o077)
    try:
        AtomicWriter(tmp_path).write(
            {"x": FileProjection(b"", 0o666), "y": FileProjection(b"", 0o400)}, NOW
        )
    finally:
        os.umask(old_umask)
    assert (tmp_path / "x").stat().st_mode & 0o777 == 0o666
    assert (tmp_path / "y").stat().st_mode & 0o777 == 0o400


def test_readers_never_see_a_mix(tmp_path: Path) -> None:
    """A reader looping during many updates sees each version whole."""
    writer = AtomicWriter(tmp_path)
    writer.write(_files(a="0", b="0"), NOW)
    stop = threading.Event()
    mixed: list[tuple[str, str]] = []

    def read() -> None:
        while not stop.is_set():
            data = os.readlink(tmp_path / DATA_DIR)
            try:
                a = (tmp_path / data / "a").read_text()
                b = (tmp_path / data / "b").read_text()
            except FileNotFoundError:  # that version was already replaced: read again
                continue
            if a != b:
                mixed.append((a, b))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(1, 60):
            writer.write(_files(a=str(version), b=str(version)), NOW)
    finally:
        stop.set()
        reader.join()
    assert mixed == []
    assert (tmp_path / "a").read_text() == "59"


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("", 'invalid path: must not be empty: ""'),
        ("/abs", "invalid path: must be relative path: /abs"),
        ("foo/../bar", "invalid path: must not contain '..': foo/../bar"),
        ("..", "invalid path: must not contain '..': .."),
        ("..foo", "invalid path: must not start with '..': ..foo"),
        ("..data/x", "invalid path: must not start with '..': ..data/x"),
        ("a" * 256, "invalid path: filenames must be less than or equal to 255 characters"),
        ("a/" * 2049, "invalid path: must be less than or equal to 4096 characters"),
    ],
)
def test_invalid_paths(path: str, error: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_path(path)
    assert str(caught.value) == error


@pytest.mark.parametrize("path", ["foo", "foo/bar", "foo..bar", ".foo", "foo/..bar", "a" * 255])
def test_valid_paths(path: str) -> None:
    validate_path(path)
