"""cgroups on real containers: the memory limit is applied, an OOM kill is reported as
OOMKilled, and removing the pod leaves no trace on the host."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.interface import ContainerState, LinuxResources
from kybernetes.kubelet.runtime.oci import cgroups
from kybernetes.kubelet.runtime.oci.mounts import mounts_under
from tests.unit.kubelet.runtime.oci.conftest import (
    OciEnv,
    container_config,
    eventually,
    in_netns,
    sandbox_config,
)

pytestmark = pytest.mark.root

HOG = "x=0123456789abcdef; while true; do x=$x$x; done"
MIB = 1024 * 1024


@in_netns
async def test_memory_limit_and_oom_killed(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config()
    sid = await rt.run_pod_sandbox(sb)
    limits = LinuxResources(
        memory_limit_in_bytes=32 * MIB, cpu_shares=512, cpu_quota=50000, cpu_period=100000
    )
    sleeper = await rt.create_container(
        sid, container_config("sleeper", ["sleep", "1000"], resources=limits), sb
    )
    await rt.start_container(sleeper)
    path = f"{oci.cgroup_root}/pod{sb.uid}/{sleeper}"
    memory = cgroups.controller_dir("memory", path)
    assert memory is not None
    limit_file = memory / "memory.limit_in_bytes"
    if not limit_file.exists():
        limit_file = memory / "memory.max"
    assert int(limit_file.read_text()) == 32 * MIB
    cpu = cgroups.controller_dir("cpu", path)
    assert cpu is not None and (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"

    hog = await rt.create_container(
        sid,
        container_config(
            "hog", ["sh", "-c", HOG], resources=LinuxResources(memory_limit_in_bytes=16 * MIB)
        ),
        sb,
    )
    await rt.start_container(hog)

    async def hog_exited() -> bool:
        return (await rt.container_status(hog)).state == ContainerState.EXITED

    await eventually(hog_exited, 30)
    st = await rt.container_status(hog)
    assert (st.exit_code, st.reason) == (137, "OOMKilled")
    assert (await rt.container_status(sleeper)).state == ContainerState.RUNNING
    await rt.remove_pod_sandbox(sid)


def veths() -> str:
    return subprocess.run(
        ["ip", "-o", "link", "show", "type", "veth"], capture_output=True, text=True, check=True
    ).stdout


@in_netns
async def test_remove_leaves_nothing(oci: OciEnv) -> None:
    rt = oci.runtime()
    sb = sandbox_config(log_directory=str(oci.logs))
    sid = await rt.run_pod_sandbox(sb)
    ip = (await rt.pod_sandbox_status(sid)).ip
    cid = await rt.create_container(sid, container_config("c", ["sleep", "1000"]), sb)
    await rt.start_container(cid)
    allocations = oci.root / "cni/networks/kybernetes"
    assert (allocations / ip).exists() and veths()
    assert mounts_under(oci.root) and cgroups.exists(f"{oci.cgroup_root}/pod{sb.uid}/{cid}")

    await rt.remove_pod_sandbox(sid)
    await rt.remove_pod_sandbox(sid)  # idempotent
    await rt.remove_container(cid)
    assert mounts_under(oci.root) == []
    assert not cgroups.exists(f"{oci.cgroup_root}/pod{sb.uid}")
    assert runc_list(oci.root) == ""
    assert list((oci.root / "sandboxes").iterdir()) == []
    assert list((oci.root / "containers").iterdir()) == []
    assert not (allocations / ip).exists()
    assert veths() == ""
    assert shims(oci.root) == []
    assert (oci.logs / "c/0.log").exists()  # logs are the kubelet's to remove


def runc_list(root: Path) -> str:
    return subprocess.run(
        ["runc", "--root", str(root / "runc"), "list", "-q"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def shims(root: Path) -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if "runtime.shim" in line and str(root) in line]
