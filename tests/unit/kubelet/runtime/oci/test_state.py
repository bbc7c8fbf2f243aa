"""Records survive a round trip through their JSON files unchanged (what a restarted
runtime reads back is what was written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kybernetes.kubelet.runtime.interface import (
    ContainerConfig,
    DNSConfig,
    LinuxResources,
    Mount,
    NotFound,
    PodSandboxConfig,
    PortMapping,
    SecurityContext,
)
from kybernetes.kubelet.runtime.oci.state import ContainerRecord, Records, SandboxRecord


def test_round_trip(tmp_path: Path) -> None:
    records = Records(tmp_path)
    sandbox = SandboxRecord(
        id="s1",
        config=PodSandboxConfig(
            name="web",
            namespace="default",
            uid="u1",
            dns_config=DNSConfig(("10.43.0.10",), ("svc.cluster.local",), ("ndots:5",)),
            port_mappings=(PortMapping(80, 8080, "UDP", "127.0.0.1"),),
            labels={"io.kubernetes.pod.name": "web"},
            sysctls={"kernel.shm_rmid_forced": "1"},
        ),
        created_at=123,
        ip="10.42.0.5",
        cni_result={"ips": [{"address": "10.42.0.5/24"}]},
    )
    container = ContainerRecord(
        id="c1",
        sandbox_id="s1",
        config=ContainerConfig(
            name="app",
            image="busybox",
            command=("sh", "-c"),
            args=("echo",),
            envs=(("A", "1"),),
            mounts=(Mount("/data", "/host", readonly=True, propagation="rslave"),),
            resources=LinuxResources(cpu_quota=5, memory_limit_in_bytes=7),
            security_context=SecurityContext(
                run_as_user=1, add_capabilities=("NET_ADMIN",), supplemental_groups=(3,)
            ),
            annotations={"io.kubernetes.container.restartCount": "2"},
        ),
        created_at=456,
        image="busybox",
        image_ref="sha256:ab",
        cgroups_path="/kubepods/podu1/c1",
    )
    for record in (sandbox, container):
        d = records.sandbox_dir("s1") if record is sandbox else records.container_dir("c1")
        d.mkdir()
        records.save(record)
    assert records.sandbox("s1") == sandbox
    assert records.container("c1") == container
    assert records.sandbox_ids() == ["s1"] and records.container_ids() == ["c1"]
    with pytest.raises(NotFound):
        records.sandbox("nope")
    with pytest.raises(NotFound):
        records.container("nope")
