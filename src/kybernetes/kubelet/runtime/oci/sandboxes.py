"""Pod sandboxes of the oci runtime: pinned namespaces, the pod's /dev/shm, its
network through CNI, its /etc files; and what a container's spec needs from them.

Invariants: `run` either returns a READY sandbox or raises CreatePodSandboxError
having undone all it did; the network is torn down (CNI DEL, which releases the IP) at
most once per ADD, recorded by clearing `cni_result` — `stop` and `remove` are
idempotent; `remove` leaves no mount, namespace file, cgroup or directory behind.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from kybernetes.kubelet.runtime.interface import ContainerRuntimeError, PodSandboxConfig
from kybernetes.kubelet.runtime.oci import cgroups, namespaces
from kybernetes.kubelet.runtime.oci.cni import Cni, CniError, PodRef, pod_ips
from kybernetes.kubelet.runtime.oci.files import write_files
from kybernetes.kubelet.runtime.oci.mounts import is_mountpoint, mount_tmpfs, unmount_all
from kybernetes.kubelet.runtime.oci.spec import SandboxView
from kybernetes.kubelet.runtime.oci.state import Records, SandboxRecord

SHM_SIZE = "64m"


class Sandboxes:
    """Sandbox lifecycle on the runtime's records, CNI network and cgroup root."""

    def __init__(self, records: Records, cni: Cni, cgroup_root: str) -> None:
        self.records = records
        self.cni = cni
        self.cgroup_root = "/" + cgroup_root.strip("/")

    def pod_cgroup(self, config: PodSandboxConfig) -> str:
        """The pod's cgroup: its cgroup_parent, else CGROUP_ROOT/podUID."""
        return config.cgroup_parent or f"{self.cgroup_root}/pod{config.uid}"

    def netns(self, record: SandboxRecord) -> Path | None:
        """The pinned network namespace (None: the host's)."""
        if record.config.host_network:
            return None
        return self.records.sandbox_dir(record.id) / "ns" / "net"

    def pinned(self, record: SandboxRecord, mounted: set[str]) -> bool:
        """Whether the sandbox's own namespaces are still pinned (`mounted`: this mount
        namespace's mount points); false after a reboot."""
        c = record.config
        ns = self.records.sandbox_dir(record.id) / "ns"
        own = [k for k, host in (("net", c.host_network), ("ipc", c.host_ipc)) if not host]
        return all(os.path.realpath(ns / kind) in mounted for kind in own)

    def view(self, record: SandboxRecord) -> SandboxView:
        """What a container's spec needs from the sandbox."""
        d = self.records.sandbox_dir(record.id)
        c = record.config
        return SandboxView(
            namespaces={
                "net": None if c.host_network else str(d / "ns" / "net"),
                "ipc": None if c.host_ipc else str(d / "ns" / "ipc"),
                "uts": None if c.host_network else str(d / "ns" / "uts"),
            },
            files_dir=d / "files",
            hostname=(d / "files" / "hostname").read_text().strip(),
            sysctls=c.sysctls,
            host_pid=c.host_pid,
        )

    def _ref(self, record: SandboxRecord) -> PodRef:
        c = record.config
        return PodRef(record.id, c.namespace, c.name, c.uid)

    async def run(self, config: PodSandboxConfig, created_at: int) -> str:
        """Creates a READY sandbox; its id. Raises ContainerRuntimeError."""
        sandbox_id = secrets.token_hex(32)
        d = self.records.sandbox_dir(sandbox_id)
        own = {"net": not config.host_network, "ipc": not config.host_ipc}
        own["uts"] = own["net"]
        record = SandboxRecord(sandbox_id, config, created_at, ready=False)
        d.mkdir(parents=True)
        self.records.save(record)
        hostname = config.hostname or config.name
        try:
            await namespaces.pin(d / "ns", [k for k, v in own.items() if v], hostname)
            if own["ipc"]:
                mount_tmpfs(d / "files" / "shm", SHM_SIZE, "1777")
            netns = self.netns(record)
            if netns is not None:
                record.cni_result = {}  # ADD may leave something behind even if it fails
                self.records.save(record)
                record.cni_result = await self.cni.add(
                    self._ref(record), str(netns), config.port_mappings
                )
                ips = pod_ips(record.cni_result)
                record.ip, record.additional_ips = (ips[0] if ips else ""), ips[1:]
            write_files(d / "files", hostname, record.ip, config.host_network, config.dns_config)
        except (OSError, CniError, namespaces.NamespaceError) as e:
            await self.remove(record)
            raise ContainerRuntimeError("CreatePodSandboxError", str(e)) from e
        record.ready = True
        self.records.save(record)
        return sandbox_id

    async def _teardown_network(self, record: SandboxRecord) -> None:
        if record.cni_result is None:
            return
        netns = self.netns(record)
        # CNI_NETNS is empty once the namespace is gone (a plain file after a reboot)
        path = str(netns) if netns is not None and is_mountpoint(netns) else ""
        try:
            await self.cni.delete(
                self._ref(record), path, record.cni_result or None, record.config.port_mappings
            )
        except CniError as e:
            raise ContainerRuntimeError("StopPodSandboxError", str(e)) from e
        record.cni_result = None
        self.records.save(record)

    async def stop(self, record: SandboxRecord) -> None:
        """Tears the network down (releasing the IP); the sandbox is NOTREADY."""
        await self._teardown_network(record)
        record.ready = False
        self.records.save(record)

    async def remove(self, record: SandboxRecord) -> None:
        """Undoes everything `run` did (idempotent)."""
        d = self.records.sandbox_dir(record.id)
        await self._teardown_network(record)
        namespaces.unpin(d / "ns")
        unmount_all(d)
        cgroups.remove_empty(self.pod_cgroup(record.config))
        shutil.rmtree(d, ignore_errors=True)
