"""The Node object the kubelet registers and the status it reports
(pkg/kubelet/nodestatus/setters.go of Kubernetes 1.32).

- `Machine.probe(data_dir)`: what this machine really has: cpu count, MemTotal from
  /proc/meminfo, the size of the data dir's filesystem, kernel, OS image, arch,
  machine and boot ids; `Machine.simulated(...)` a made-up one.
- `node_object(...)`: the Node to register: labels kubernetes.io/hostname, /os, /arch
  (plus configured ones), podCIDR if known.
- `node_status(...)`: capacity (cpu, memory, ephemeral-storage, pods), allocatable
  (capacity minus reservations and the hard eviction thresholds: memory 100Mi,
  nodefs 10%), conditions MemoryPressure, DiskPressure, PIDPressure and Ready with the
  kubelet's reasons and messages (heartbeat now; transition time kept while the
  status stays), addresses InternalIP and Hostname, daemonEndpoints, nodeInfo and
  the images. Pure given its inputs.
"""

from __future__ import annotations

import os
import platform
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kybernetes import __version__
from kybernetes.api.quantity import Quantity, quantity_from_json

from .config import KubeletConfig
from .podstatus import rfc3339
from .runtime.interface import Image

Obj = dict[str, Any]
KUBELET_VERSION = f"v1.32.0+kyb{__version__}"
_ARCH = {
    "x86_64": "amd64",
    "aarch64": "arm64",
    "armv7l": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
}
_CONDITIONS = {
    # type: (reason when False, message when False, reason when True, message when True)
    "MemoryPressure": (
        "KubeletHasSufficientMemory", "kubelet has sufficient memory available",
        "KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
    ),
    "DiskPressure": (
        "KubeletHasNoDiskPressure", "kubelet has no disk pressure",
        "KubeletHasDiskPressure", "kubelet has disk pressure",
    ),
    "PIDPressure": (
        "KubeletHasSufficientPID", "kubelet has sufficient PID available",
        "KubeletHasInsufficientPID", "kubelet has insufficient PID available",
    ),
}  # fmt: skip
MAX_IMAGES = 50  # nodeStatusMaxImages


def _read(path: str, default: str = "") -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return default


def _meminfo() -> dict[str, int]:
    info: dict[str, int] = {}
    for line in _read("/proc/meminfo").splitlines():
        key, _, rest = line.partition(":")
        fields = rest.split()
        if fields and fields[0].isdigit():
            info[key] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return info


def _os_image() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip('"')
    return platform.system()


@dataclass(frozen=True)
class Machine:
    """The hardware and software a node reports."""

    cpus: int
    memory: int  # bytes
    storage: int  # bytes of the data dir's filesystem
    kernel: str
    os_image: str
    arch: str
    machine_id: str
    boot_id: str
    system_uuid: str

    @classmethod
    def probe(cls, data_dir: Path) -> Machine:
        data_dir.mkdir(parents=True, exist_ok=True)
        fs = os.statvfs(data_dir)
        machine_id = _read("/etc/machine-id")
        return cls(
            cpus=os.cpu_count() or 1,
            memory=_meminfo().get("MemTotal", 0),
            storage=fs.f_blocks * fs.f_frsize,
            kernel=platform.release(),
            os_image=_os_image(),
            arch=_ARCH.get(platform.machine(), platform.machine()),
            machine_id=machine_id,
            boot_id=_read("/proc/sys/kernel/random/boot_id"),
            system_uuid=_read("/sys/class/dmi/id/product_uuid", machine_id),
        )

    @classmethod
    def simulated(cls, name: str, cpus: int = 32, memory: int = 256 * 2**30) -> Machine:
        return cls(cpus, memory, 1024 * 2**30, "simulated", "kybernetes simulated node",
                   "amd64", name, name, name)  # fmt: skip


@dataclass(frozen=True)
class Pressure:
    memory: bool = False
    disk: bool = False
    pid: bool = False

    @classmethod
    def probe(cls, data_dir: Path) -> Pressure:
        """memory.available < 100Mi, nodefs.available < 10% (Kubernetes' defaults)."""
        available = _meminfo().get("MemAvailable", 2**62)
        fs = os.statvfs(data_dir)
        disk = fs.f_blocks > 0 and fs.f_bavail / fs.f_blocks < 0.10
        return cls(memory=available < 100 * 2**20, disk=disk)


def capacity(config: KubeletConfig, machine: Machine) -> dict[str, str]:
    if config.capacity is not None:
        return {"pods": str(config.max_pods), **config.capacity}
    return {
        "cpu": str(machine.cpus),
        "ephemeral-storage": f"{machine.storage // 1024}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
        "memory": f"{machine.memory // 1024}Ki",
        "pods": str(config.max_pods),
    }


def allocatable(config: KubeletConfig, total: Mapping[str, str]) -> dict[str, str]:
    """Capacity minus reservations and hard eviction thresholds, never negative."""
    result: dict[str, str] = {}
    for name, value in total.items():
        amount = quantity_from_json(value)
        if name in config.reserved:
            amount = amount - quantity_from_json(config.reserved[name])
        if name == "memory":
            amount = amount - quantity_from_json(config.eviction_memory)
        if name == "ephemeral-storage":
            amount = Quantity(amount.value() * 9 // 10, amount.format)
        if amount.decimal < 0:
            amount = Quantity(0, amount.format)
        result[name] = str(amount)
    return result


def node_object(config: KubeletConfig, machine: Machine) -> Obj:
    labels = {
        "beta.kubernetes.io/arch": machine.arch,
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": machine.arch,
        "kubernetes.io/hostname": config.node_name,
        "kubernetes.io/os": "linux",
        **config.node_labels,
    }
    node: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": config.node_name,
            "labels": labels,
            "annotations": {"volumes.kubernetes.io/controller-managed-attach-detach": "true"},
        },
        "spec": {},
    }
    if config.pod_cidr:
        node["spec"] = {"podCIDR": config.pod_cidr, "podCIDRs": [config.pod_cidr]}
    return node


def _condition(
    type_: str, true: bool, reason: str, message: str, old: Mapping[str, Obj], now: str
) -> Obj:
    status = "True" if true else "False"
    before = old.get(type_)
    keep = before is not None and before.get("status") == status
    return {
        "type": type_,
        "status": status,
        "lastHeartbeatTime": now,
        "lastTransitionTime": before.get("lastTransitionTime", now) if keep and before else now,
        "reason": reason,
        "message": message,
    }


def node_status(
    config: KubeletConfig,
    machine: Machine,
    *,
    runtime_name: str,
    runtime_version: str,
    images: Sequence[Image],
    pressure: Pressure,
    runtime_error: str,
    old_conditions: Sequence[Obj],
    now: datetime,
) -> Obj:
    """The status to report (see the module docstring)."""
    stamp = rfc3339(now)
    old = {c.get("type", ""): c for c in old_conditions}
    conditions = []
    flags = {
        "MemoryPressure": pressure.memory,
        "DiskPressure": pressure.disk,
        "PIDPressure": pressure.pid,
    }
    for type_, (ok_reason, ok_message, bad_reason, bad_message) in _CONDITIONS.items():
        bad = flags[type_]
        reason, message = (bad_reason, bad_message) if bad else (ok_reason, ok_message)
        conditions.append(_condition(type_, bad, reason, message, old, stamp))
    if runtime_error:
        ready = _condition("Ready", False, "KubeletNotReady", runtime_error, old, stamp)
    else:
        ready = _condition(
            "Ready", True, "KubeletReady", "kubelet is posting ready status", old, stamp
        )
    conditions.append(ready)
    total = capacity(config, machine)
    ranked = sorted(images, key=lambda i: i.size, reverse=True)[:MAX_IMAGES]
    return {
        "capacity": total,
        "allocatable": allocatable(config, total),
        "conditions": conditions,
        "addresses": [
            {"type": "InternalIP", "address": config.node_ip},
            {"type": "Hostname", "address": config.node_name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": config.port}},
        "nodeInfo": {
            "machineID": machine.machine_id,
            "systemUUID": machine.system_uuid,
            "bootID": machine.boot_id,
            "kernelVersion": machine.kernel,
            "osImage": machine.os_image,
            "containerRuntimeVersion": f"{runtime_name}://{runtime_version}",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": machine.arch,
        },
        "images": [{"names": [*i.repo_digests, *i.repo_tags], "sizeBytes": i.size} for i in ranked],
    }


def hostname() -> str:
    return socket.gethostname().lower()
