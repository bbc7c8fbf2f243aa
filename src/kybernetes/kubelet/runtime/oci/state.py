"""On-disk records of the oci runtime's sandboxes and containers.

Everything the runtime knows lives under its state directory, so that a new `OciRuntime`
on the same root (after a kubelet restart) finds every sandbox and container again:

    ROOT/sandboxes/ID/sandbox.json      a `SandboxRecord`
    ROOT/containers/ID/container.json   a `ContainerRecord`

Invariants: a record file is replaced atomically (write to a temporary file, fsync-free
rename), so a reader sees either the old or the new record, never a torn one; the
configs round-trip exactly through `to_json`/`*_from_json`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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


@dataclass
class SandboxRecord:
    """A sandbox: its config, whether its network is up (`ready`), the CNI result."""

    id: str
    config: PodSandboxConfig
    created_at: int
    ready: bool = True
    ip: str = ""
    additional_ips: list[str] = field(default_factory=list)
    cni_result: dict[str, Any] | None = None


@dataclass
class ContainerRecord:
    """A container: its config, the sandbox it belongs to and the image it runs.
    `log_path` is absolute (empty: no log file)."""

    id: str
    sandbox_id: str
    config: ContainerConfig
    created_at: int
    image: str
    image_ref: str
    log_path: str = ""
    stop_signal: str = "SIGTERM"
    cgroups_path: str = ""


def write_json(path: Path, data: Any) -> None:
    """Atomically replaces `path` with `data` as JSON."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, path)


def to_json(record: SandboxRecord | ContainerRecord) -> dict[str, Any]:
    """The record as JSON-ready data (tuples become lists)."""
    return dataclasses.asdict(record)


def sandbox_config_from_json(d: dict[str, Any]) -> PodSandboxConfig:
    dns = d.get("dns_config")
    return PodSandboxConfig(
        **{
            **d,
            "dns_config": DNSConfig(
                servers=tuple(dns["servers"]),
                searches=tuple(dns["searches"]),
                options=tuple(dns["options"]),
            )
            if dns is not None
            else None,
            "port_mappings": tuple(PortMapping(**p) for p in d["port_mappings"]),
        }
    )


def container_config_from_json(d: dict[str, Any]) -> ContainerConfig:
    sc = d["security_context"]
    return ContainerConfig(
        **{
            **d,
            "command": tuple(d["command"]),
            "args": tuple(d["args"]),
            "envs": tuple((k, v) for k, v in d["envs"]),
            "mounts": tuple(Mount(**m) for m in d["mounts"]),
            "resources": LinuxResources(**d["resources"]),
            "security_context": SecurityContext(
                **{
                    **sc,
                    "supplemental_groups": tuple(sc["supplemental_groups"]),
                    "add_capabilities": tuple(sc["add_capabilities"]),
                    "drop_capabilities": tuple(sc["drop_capabilities"]),
                }
            ),
        }
    )


def load_sandbox(path: Path) -> SandboxRecord:
    d = json.loads(path.read_text())
    return SandboxRecord(**{**d, "config": sandbox_config_from_json(d["config"])})


def load_container(path: Path) -> ContainerRecord:
    d = json.loads(path.read_text())
    return ContainerRecord(**{**d, "config": container_config_from_json(d["config"])})


class Records:
    """The record files under the runtime's ROOT (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("sandboxes", "containers"):
            (root / sub).mkdir(parents=True, exist_ok=True)

    def sandbox_dir(self, sandbox_id: str) -> Path:
        return self.root / "sandboxes" / sandbox_id

    def container_dir(self, container_id: str) -> Path:
        return self.root / "containers" / container_id

    def sandbox(self, sandbox_id: str) -> SandboxRecord:
        """The sandbox's record; NotFound if there is none."""
        try:
            return load_sandbox(self.sandbox_dir(sandbox_id) / "sandbox.json")
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"pod sandbox {sandbox_id} not found") from None

    def container(self, container_id: str) -> ContainerRecord:
        """The container's record; NotFound if there is none."""
        try:
            return load_container(self.container_dir(container_id) / "container.json")
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"container {container_id} not found") from None

    def save(self, record: SandboxRecord | ContainerRecord) -> None:
        if isinstance(record, SandboxRecord):
            path = self.sandbox_dir(record.id) / "sandbox.json"
        else:
            path = self.container_dir(record.id) / "container.json"
        write_json(path, to_json(record))

    def sandbox_ids(self) -> list[str]:
        return sorted(p.name for p in (self.root / "sandboxes").iterdir())

    def container_ids(self) -> list[str]:
        return sorted(p.name for p in (self.root / "containers").iterdir())
