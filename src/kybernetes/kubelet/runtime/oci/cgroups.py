"""Where a container's cgroups are and what they say (cgroupfs driver; v1, v2 or the
hybrid layout of v1 controllers plus a v2 `unified` mount).

runc creates a container's cgroup at its `cgroupsPath` in every hierarchy; the runtime
places it at POD_PARENT/CONTAINER_ID, POD_PARENT being the sandbox's cgroup_parent or
ROOT/podUID. runc is run with `--keep`, so a container's cgroup outlives its process
until `runc delete`: that is when the OOM-kill counter is read.

Invariants: paths are absolute within each hierarchy ("/kubepods/pod…/ID");
`remove_tree` removes a cgroup and its empty descendants in every hierarchy and is
idempotent; a cgroup still holding processes is left alone (EBUSY) and reported.
"""

from __future__ import annotations

import contextlib
import errno
import os
from functools import cache
from pathlib import Path


@cache
def hierarchies() -> tuple[tuple[Path, frozenset[str], bool], ...]:
    """(mount point, controllers, is v2) of every mounted cgroup hierarchy."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            fstype, opts = fields[sep + 1], fields[sep + 3].split(",")
            point = Path(fields[4])
            if fstype == "cgroup2":
                controllers = (point / "cgroup.controllers").read_text().split()
                found.append((point, frozenset(controllers), True))
            elif fstype == "cgroup":
                names = {o.removeprefix("name=") for o in opts if o not in ("rw", "ro")}
                found.append((point, frozenset(names), False))
    return tuple(found)


def controller_dir(controller: str, path: str) -> Path | None:
    """The directory of cgroup `path` in the hierarchy holding `controller` (a v1
    hierarchy first, as runc prefers in hybrid mode), or None."""
    ordered = sorted(hierarchies(), key=lambda h: h[2])
    for point, controllers, _ in ordered:
        if controller in controllers:
            return point / path.lstrip("/")
    return None


@cache
def swap_controllable() -> bool:
    """Whether a memory+swap limit can be set (v1 swap accounting, or v2's memory
    controller); runc fails on a swap limit it cannot write."""
    d = controller_dir("memory", "/")
    if d is None:
        return False
    return (d / "memory.memsw.limit_in_bytes").exists() or (d / "cgroup.controllers").exists()


def oom_kills(path: str) -> int:
    """How many processes the OOM killer killed in cgroup `path` (0 when unknown)."""
    d = controller_dir("memory", path)
    if d is None:
        return 0
    for name in ("memory.events", "memory.oom_control"):
        with contextlib.suppress(OSError):
            for line in (d / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    return 0


def exists(path: str) -> bool:
    """Whether cgroup `path` exists in any hierarchy."""
    return any((point / path.lstrip("/")).is_dir() for point, _, _ in hierarchies())


def remove_tree(path: str) -> list[str]:
    """Removes cgroup `path` and its descendants (deepest first) in every hierarchy;
    the directories that could not be removed (still busy)."""
    busy = []
    for point, _, _ in hierarchies():
        top = point / path.lstrip("/")
        if not top.is_dir():
            continue
        dirs = [Path(d) for d, _, _ in os.walk(top)]
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            try:
                d.rmdir()
            except FileNotFoundError:
                pass
            except OSError as e:
                if e.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                    raise
                busy.append(str(d))
    return busy


def remove_empty(path: str) -> None:
    """Removes cgroup `path` in every hierarchy where it has no children and no
    processes left; anything else (absent, busy) is left as it is."""
    for point, _, _ in hierarchies():
        with contextlib.suppress(OSError):
            (point / path.lstrip("/")).rmdir()
