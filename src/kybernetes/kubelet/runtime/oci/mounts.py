"""Mount helpers (mount(2)/umount2(2) through libc): a container's overlayfs root
filesystem, a sandbox's /dev/shm tmpfs, and finding and removing what is mounted below
a directory.

Invariants: `mount_overlay` lists the lower layers highest first, as overlayfs wants
(the image store hands them lowest first); `unmount_all` removes every mount at or
below a path, deepest first, and is idempotent.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Sequence
from pathlib import Path

_OCTAL = re.compile(r"\\([0-7]{3})")
_MNT_DETACH = 2
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_libc = ctypes.CDLL(None, use_errno=True)


def _check(rc: int, what: str, path: Path) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}", str(path))


def mount_overlay(layers: Sequence[Path], upper: Path, work: Path, target: Path) -> None:
    """Mounts an overlayfs at `target`: `layers` (lowest first) read-only below the
    writable `upper` (with its `work` dir). Raises OSError."""
    for d in (upper, work, target):
        d.mkdir(parents=True, exist_ok=True)
    lower = ":".join(str(p).replace(",", "\\,") for p in reversed(layers))
    options = f"lowerdir={lower},upperdir={upper},workdir={work}"
    _check(
        _libc.mount(b"overlay", os.fsencode(target), b"overlay", 0, options.encode()),
        "mount overlay",
        target,
    )


def mount_tmpfs(target: Path, size: str, mode: str) -> None:
    """Mounts a tmpfs (nosuid, nodev, noexec) of `size` at `target`. Raises OSError."""
    target.mkdir(parents=True, exist_ok=True)
    flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
    options = f"size={size},mode={mode}".encode()
    _check(_libc.mount(b"shm", os.fsencode(target), b"tmpfs", flags, options), "mount", target)


def umount(path: Path) -> None:
    """Lazily unmounts `path` (MNT_DETACH). Raises OSError."""
    _check(_libc.umount2(os.fsencode(path), _MNT_DETACH), "umount", path)


def mount_points() -> list[str]:
    """The mount points of this process' mount namespace, in mount order."""
    with open("/proc/self/mountinfo") as f:
        return [_unescape(line.split()[4]) for line in f]


def is_mountpoint(path: Path) -> bool:
    """Whether something is mounted at `path`."""
    return os.path.realpath(path) in mount_points()


def mounts_under(prefix: Path) -> list[str]:
    """Every mount point at or below `prefix`, deepest (and latest) first."""
    root = os.path.realpath(prefix)
    found = [p for p in mount_points() if p == root or p.startswith(root + "/")]
    return sorted(found, key=len, reverse=True)


def unmount_all(prefix: Path) -> None:
    """Unmounts everything at or below `prefix` (stacked mounts included)."""
    while points := mounts_under(prefix):
        for point in points:
            umount(Path(point))


def _unescape(field: str) -> str:
    """Undoes mountinfo's octal escapes (\\040 for a space, …)."""
    return _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), field)
