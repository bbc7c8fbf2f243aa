"""What a node leaves behind once its pods are gone, and removing it by force.

`oci_leftovers` / `process_leftovers` list what a node still holds for pods that no
longer exist: runc containers (`runc --root DATA_DIR/runtime/oci/runc list`), mounts
below the data dir, cgroups named for the pods (`/kubepods/podUID` in any hierarchy),
sandbox and container records, pod directories. `force_clean` removes whatever a
failed test left — the node's shim sessions (their containers with them), runc
containers, mounts, pod cgroups — so the host is clean either way. All of them are
idempotent and only look below the given data dir (and at the given pods' cgroups).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kybernetes.kubelet.runtime.oci import cgroups
from kybernetes.kubelet.runtime.oci.mounts import mounts_under, unmount_all


def runc_containers(data_dir: Path) -> list[str]:
    """Ids of the runc containers the node's oci runtime still has."""
    root = data_dir / "runtime" / "oci" / "runc"
    if not root.is_dir():
        return []
    result = subprocess.run(
        ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def pod_cgroups(uids: Sequence[str], cgroup_root: str = "/kubepods") -> list[str]:
    """The cgroups still named for the pods `uids` (any hierarchy)."""
    return [f"{cgroup_root}/pod{uid}" for uid in uids if cgroups.exists(f"{cgroup_root}/pod{uid}")]


def _records(data_dir: Path, runtime: str) -> list[str]:
    root = data_dir / "runtime" / runtime
    return [
        str(entry.relative_to(root))
        for kind in ("sandboxes", "containers")
        if (root / kind).is_dir()
        for entry in (root / kind).iterdir()
    ]


def oci_leftovers(data_dir: Path, uids: Sequence[str]) -> list[str]:
    """What the oci node still holds although no pod exists: runc containers, mounts
    below the data dir, cgroups of the pods `uids`, sandbox and container records."""
    return [
        *(f"runc container {c}" for c in runc_containers(data_dir)),
        *(f"mount {m}" for m in mounts_under(data_dir)),
        *(f"cgroup {c}" for c in pod_cgroups(uids)),
        *(f"record {r}" for r in _records(data_dir, "oci")),
        *(f"pod dir {p.name}" for p in _pod_dirs(data_dir)),
    ]


def process_leftovers(data_dir: Path) -> list[str]:
    """What the process node still holds although no pod exists: sandbox and container
    records (each with its shim) and pod directories."""
    return [
        *(f"record {r}" for r in _records(data_dir, "process")),
        *(f"pod dir {p.name}" for p in _pod_dirs(data_dir)),
    ]


def leftovers(data_dir: Path, runtime: str, uids: Sequence[str]) -> list[str]:
    """`oci_leftovers` or `process_leftovers`, by runtime."""
    return oci_leftovers(data_dir, uids) if runtime == "oci" else process_leftovers(data_dir)


def _pod_dirs(data_dir: Path) -> list[Path]:
    pods = data_dir / "kubelet" / "pods"
    return list(pods.iterdir()) if pods.is_dir() else []


def force_clean(data_dir: Path, runtime: str, uids: Sequence[str]) -> None:
    """Removes what a failed test left: the sessions of the node's shims (their
    containers with them), runc containers, mounts below the data dir, pod cgroups."""
    kill_shim_sessions(data_dir)
    if runtime != "oci":
        return
    root = data_dir / "runtime" / "oci" / "runc"
    for container_id in runc_containers(data_dir):
        subprocess.run(
            ["runc", "--root", str(root), "delete", "--force", container_id], capture_output=True
        )
    unmount_all(data_dir)
    for uid in uids:
        cgroups.remove_tree(f"/kubepods/pod{uid}")


def _stat(pid: str) -> list[str]:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return stat[stat.rindex(b")") + 2 :].decode().split()


def kill_shim_sessions(data_dir: Path) -> None:
    """SIGKILLs every session led by a process whose command line names `data_dir`
    (the node's shims and shim server: each leads its own session, which holds its
    container's processes on the process runtime)."""
    marker = str(data_dir).encode()
    leaders: set[int] = set()
    processes: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            session = int(_stat(entry.name)[3])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        processes[int(entry.name)] = session
        if marker in cmdline and session == int(entry.name):
            leaders.add(session)
    for pid, session in processes.items():
        if session in leaders:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
