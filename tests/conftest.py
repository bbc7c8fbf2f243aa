"""Suite-wide cleanup: the parent cgroups the oci runtime creates for pods.

The oci runtime puts pods under a `kubepods` cgroup in every hierarchy (as a kubelet
does, and keeps it). Tests remove their pods' cgroups themselves; this session
fixture removes the `kubepods` parents the test session created, once they are empty,
so a run leaves no cgroup behind. Parents that existed before the run are left alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _kubepods() -> set[Path]:
    if not CGROUP_ROOT.is_dir():
        return set()
    found = {p / "kubepods" for p in CGROUP_ROOT.iterdir() if (p / "kubepods").is_dir()}
    if (CGROUP_ROOT / "kubepods").is_dir():
        found.add(CGROUP_ROOT / "kubepods")
    return found


@pytest.fixture(scope="session", autouse=True)
def remove_created_kubepods_cgroups() -> Iterator[None]:
    before = _kubepods()
    yield
    for parent in sorted(_kubepods() - before, reverse=True):
        with contextlib.suppress(OSError):  # not empty: something still runs there
            parent.rmdir()
