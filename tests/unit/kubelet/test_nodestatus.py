"""Node object and status: labels, allocatable after reservations, conditions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kybernetes.kubelet.config import KubeletConfig
from kybernetes.kubelet.nodestatus import Machine, Pressure, node_object, node_status
from kybernetes.kubelet.runtime.interface import Image

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_real_machine_and_allocatable(tmp_path: Path) -> None:
    machine = Machine.probe(tmp_path)
    assert machine.cpus >= 1 and machine.memory > 0 and machine.storage > 0
    config = KubeletConfig(node_name="n", data_dir=tmp_path, reserved={"cpu": "500m"})
    status = node_status(
        config, machine, runtime_name="oci", runtime_version="1.0", images=[],
        pressure=Pressure(), runtime_error="", old_conditions=[], now=NOW,
    )  # fmt: skip
    assert status["capacity"]["cpu"] == str(machine.cpus)
    assert status["capacity"]["pods"] == "110"
    assert status["allocatable"]["cpu"] == f"{machine.cpus * 1000 - 500}m"
    memory_ki = machine.memory // 1024
    assert status["allocatable"]["memory"] == f"{memory_ki - 100 * 1024}Ki"
    assert status["nodeInfo"]["containerRuntimeVersion"] == "oci://1.0"
    labels = node_object(config, machine)["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "n" and labels["kubernetes.io/os"] == "linux"


def test_conditions_keep_transition_times(tmp_path: Path) -> None:
    config = KubeletConfig(node_name="n", data_dir=tmp_path, capacity={"cpu": "4"})
    machine = Machine.simulated("n")
    image = Image("sha256:1", ["docker.io/library/busybox:latest"], [], 5)
    first = node_status(
        config, machine, runtime_name="simulated", runtime_version="1", images=[image],
        pressure=Pressure(), runtime_error="", old_conditions=[], now=NOW,
    )  # fmt: skip
    later = datetime(2025, 1, 1, 0, 5, tzinfo=UTC)
    second = node_status(
        config, machine, runtime_name="simulated", runtime_version="1", images=[image],
        pressure=Pressure(disk=True), runtime_error="", old_conditions=first["conditions"],
        now=later,
    )  # fmt: skip
    by_type = {c["type"]: c for c in second["conditions"]}
    assert [c["type"] for c in second["conditions"]] == [
        "MemoryPressure", "DiskPressure", "PIDPressure", "Ready",
    ]  # fmt: skip
    assert by_type["Ready"]["reason"] == "KubeletReady"
    assert by_type["Ready"]["lastTransitionTime"] == "2025-01-01T00:00:00Z"
    assert by_type["Ready"]["lastHeartbeatTime"] == "2025-01-01T00:05:00Z"
    assert by_type["DiskPressure"]["status"] == "True"
    assert by_type["DiskPressure"]["reason"] == "KubeletHasDiskPressure"
    assert by_type["DiskPressure"]["lastTransitionTime"] == "2025-01-01T00:05:00Z"
    assert by_type["MemoryPressure"]["message"] == "kubelet has sufficient memory available"
    assert second["images"] == [{"names": ["docker.io/library/busybox:latest"], "sizeBytes": 5}]
