"""Removing every trace of a local cluster (`kyb cluster delete`, and a failed create).

Order: the daemon (which stops its nodes gracefully), the recorded node processes,
every process left in the cluster's namespaces (container shims, `process`-runtime
containers); then the oci runtime's containers (`runc delete --force` in each node's
runc root) and their pod cgroups; then the namespaces (their interfaces, routes and
nftables/iptables rules go with them); then mounts left under the cluster directory,
the directory itself and the host kubeconfig the cluster wrote.

Invariants: only the cluster's own processes (recorded, or inside its namespaces), its
own namespaces and its own paths are touched; every step runs even if an earlier one
failed, and the errors are collected; the directory is removed only when no mount is
left beneath it (so a bind mount can never lead the removal into another tree).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

from kybernetes.kubelet.runtime.oci import cgroups
from kybernetes.kubelet.runtime.oci.state import Records

from .netns import delete_namespaces, netns_inode
from .plan import ClusterPlan
from .processes import ProcessRef, in_namespaces, stop

DAEMON_GRACE = 30.0
OCI_CGROUP_ROOT = "/kubepods"
"""The oci runtime's default cgroup root (its pods' cgroups are ROOT/pod<uid>)."""


def sweep_namespaces(plan: ClusterPlan) -> list[ProcessRef]:
    """Stops every process inside the cluster's namespaces; the survivors."""
    inodes = [i for ns in plan.namespaces if (i := netns_inode(ns)) is not None]
    survivors: list[ProcessRef] = []
    for _ in range(3):  # processes may fork while being stopped
        found = in_namespaces(inodes)
        if not found:
            return []
        survivors = stop(found, grace=2.0, kill_timeout=5.0)
    return survivors


def remove_oci_containers(plan: ClusterPlan) -> list[str]:
    """`runc delete --force` of every container in each node's runc root, then the pod
    cgroups of every sandbox the node's oci runtime recorded; the errors."""
    errors = []
    for node in plan.nodes:
        root = node.data_dir / "runtime" / "oci"
        runc_root = root / "runc"
        if runc_root.is_dir():
            for container in sorted(p.name for p in runc_root.iterdir() if p.is_dir()):
                done = subprocess.run(
                    ["runc", "--root", str(runc_root), "delete", "--force", container],
                    capture_output=True, text=True, check=False,
                )  # fmt: skip
                if done.returncode != 0 and "does not exist" not in done.stderr:
                    errors.append(f"runc delete {container}: {done.stderr.strip()}")
        if (root / "sandboxes").is_dir():
            records = Records(root)
            for sandbox in records.sandbox_ids():
                with contextlib.suppress(Exception):  # a torn record: nothing to find
                    config = records.sandbox(sandbox).config
                    parent = config.cgroup_parent or f"{OCI_CGROUP_ROOT}/pod{config.uid}"
                    errors += [f"cgroup {d} still busy" for d in cgroups.remove_tree(parent)]
    return errors


def mounts_under(directory: Path) -> list[str]:
    """Mount points at or below `directory` in this mount namespace, deepest first."""
    top = str(directory.resolve())
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4].encode().decode("unicode_escape")
            if point == top or point.startswith(top + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def remove_directory(directory: Path) -> list[str]:
    """Unmounts what is mounted below `directory` (lazily), then removes it."""
    if not directory.exists():
        return []
    for point in mounts_under(directory):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)
    left = mounts_under(directory)
    if left:
        return [f"not removing {directory}: still mounted: {', '.join(left)}"]
    try:
        shutil.rmtree(directory)
    except OSError as e:
        return [f"removing {directory}: {e}"]
    return []


def teardown(
    plan: ClusterPlan,
    daemon: ProcessRef | None,
    processes: list[ProcessRef],
    kubeconfig: Path | None,
) -> list[str]:
    """Removes the cluster (see the module docstring); the errors, empty on success."""
    errors = []
    if daemon is not None:
        errors += [f"daemon {p.pid} would not stop" for p in stop([daemon], DAEMON_GRACE)]
    errors += [f"process {p.pid} would not stop" for p in stop(processes, grace=10.0)]
    errors += [f"process {p.pid} would not stop" for p in sweep_namespaces(plan)]
    errors += remove_oci_containers(plan)
    errors += [f"process {p.pid} would not stop" for p in sweep_namespaces(plan)]
    errors += delete_namespaces(plan.namespaces)
    errors += remove_directory(plan.directory)
    if kubeconfig is not None:
        with contextlib.suppress(FileNotFoundError):
            kubeconfig.unlink()
    return errors
