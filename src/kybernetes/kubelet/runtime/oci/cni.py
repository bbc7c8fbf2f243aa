"""Pod networking through real CNI plugins, invoked as the CNI spec (1.0.0) says.

`Cni` loads one network configuration list (`*.conflist`, the first by name in its conf
dir; when the dir has none, or that first one is its own `10-kybernetes.conflist`, it
(re)writes its default: `bridge` on `kyb0` with `host-local` IPAM on the node's current
pod CIDR, plus `portmap` for hostPorts) and runs its plugins like
libcni does: every plugin of the list in order for ADD, each given the previous one's
result as `prevResult`; in reverse order for DEL and in order for CHECK, each given the
cached ADD result. Capabilities a plugin declares (`portMappings`) are passed as its
`runtimeConfig`. A plugin is the executable named by its `type` in the bin dir; the
network config goes to its stdin, the CNI_* parameters in its environment, and its
result (or `{code, msg}` error) comes back on stdout. Before the list, the `loopback`
plugin brings the namespace's `lo` up.

Invariants: DEL is idempotent (it may run again after a partial ADD or a crash, and
with the netns already gone); in the default network, host-local's allocations live
under the runtime's own state dir, never in /var/lib/cni.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kybernetes.kubelet.runtime.interface import PortMapping

DEFAULT_BIN_DIR = Path("/usr/lib/cni")
DEFAULT_POD_CIDR = "10.42.0.0/24"
NETWORK_NAME = "kybernetes"
BRIDGE_NAME = "kyb0"
IFNAME = "eth0"
DEFAULT_CONFLIST = "10-kybernetes.conflist"
LOOPBACK = {"type": "loopback"}  # run before the list, like containerd and CRI-O do


class CniError(Exception):
    """A plugin failed; the message names the plugin and quotes its error."""


@dataclass(frozen=True)
class PodRef:
    """Who the network is for: the sandbox id (CNI_CONTAINERID) and the pod (CNI_ARGS)."""

    sandbox_id: str
    namespace: str
    name: str
    uid: str


def default_conflist(pod_cidr: str, data_dir: Path) -> dict[str, Any]:
    """The default network: a bridge with host-local IPAM on `pod_cidr` and portmap."""
    return {
        "cniVersion": "1.0.0",
        "name": NETWORK_NAME,
        "plugins": [
            {
                "type": "bridge",
                "bridge": BRIDGE_NAME,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": pod_cidr}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(data_dir),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }


def pod_ips(result: dict[str, Any]) -> list[str]:
    """The addresses of a CNI result (without prefix length), IPv4 first."""
    ips = [ip["address"].split("/")[0] for ip in result.get("ips", [])]
    return sorted(ips, key=lambda a: ":" in a)


class Cni:
    """One network configuration list and the plugins that implement it."""

    def __init__(self, conf_dir: Path, bin_dir: Path, pod_cidr: str, data_dir: Path) -> None:
        conf_dir.mkdir(parents=True, exist_ok=True)
        lists = sorted(conf_dir.glob("*.conflist"))
        if not lists or lists[0].name == DEFAULT_CONFLIST:  # ours: follow the pod CIDR
            path = conf_dir / DEFAULT_CONFLIST
            path.write_text(json.dumps(default_conflist(pod_cidr, data_dir), indent=2))
            lists = [path]
        self.conflist: dict[str, Any] = json.loads(lists[0].read_text())
        self.bin_dir = bin_dir

    async def add(
        self, pod: PodRef, netns: str, port_mappings: Sequence[PortMapping]
    ) -> dict[str, Any]:
        """Attaches the netns at path `netns` to the network; the final CNI result.
        On failure, the plugins that ran are undone (DEL) before CniError is raised."""
        runtime_config = {"portMappings": [_port_mapping(p) for p in port_mappings]}
        result: dict[str, Any] | None = None
        try:
            await self._run("ADD", LOOPBACK, pod, netns, None, {}, ifname="lo", name="cni-loopback")
            for plugin in self.conflist["plugins"]:
                result = await self._run("ADD", plugin, pod, netns, result, runtime_config)
        except CniError:
            with contextlib.suppress(CniError):
                await self.delete(pod, netns, result, port_mappings)
            raise
        return result or {}

    async def delete(
        self,
        pod: PodRef,
        netns: str,
        prev_result: dict[str, Any] | None,
        port_mappings: Sequence[PortMapping],
    ) -> None:
        """Detaches the pod (reverse plugin order) and releases its IP. Idempotent;
        `netns` may be "" when the namespace is already gone."""
        runtime_config = {"portMappings": [_port_mapping(p) for p in port_mappings]}
        for plugin in reversed(self.conflist["plugins"]):
            await self._run("DEL", plugin, pod, netns, prev_result, runtime_config)

    async def check(
        self,
        pod: PodRef,
        netns: str,
        prev_result: dict[str, Any],
        port_mappings: Sequence[PortMapping],
    ) -> None:
        """Raises CniError when the pod's network is not as ADD left it."""
        runtime_config = {"portMappings": [_port_mapping(p) for p in port_mappings]}
        for plugin in self.conflist["plugins"]:
            await self._run("CHECK", plugin, pod, netns, prev_result, runtime_config)

    async def _run(
        self,
        command: str,
        plugin: dict[str, Any],
        pod: PodRef,
        netns: str,
        prev_result: dict[str, Any] | None,
        runtime_config: dict[str, Any],
        *,
        ifname: str = IFNAME,
        name: str = "",
    ) -> dict[str, Any] | None:
        conf = {
            **plugin,
            "cniVersion": self.conflist["cniVersion"],
            "name": name or self.conflist["name"],
        }
        conf.pop("capabilities", None)
        wanted = {
            cap: runtime_config[cap]
            for cap, on in plugin.get("capabilities", {}).items()
            if on and cap in runtime_config
        }
        if wanted:
            conf["runtimeConfig"] = wanted
        if prev_result is not None:
            conf["prevResult"] = prev_result
        cni_args = (
            f"IgnoreUnknown=1;K8S_POD_NAMESPACE={pod.namespace};K8S_POD_NAME={pod.name};"
            f"K8S_POD_INFRA_CONTAINER_ID={pod.sandbox_id};K8S_POD_UID={pod.uid}"
        )
        env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": pod.sandbox_id,
            "CNI_NETNS": netns,
            "CNI_IFNAME": ifname,
            "CNI_ARGS": cni_args,
            "CNI_PATH": str(self.bin_dir),
        }
        exe = self.bin_dir / plugin["type"]
        proc = await asyncio.create_subprocess_exec(
            str(exe),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        out, err = await proc.communicate(json.dumps(conf).encode())
        if proc.returncode != 0:
            raise CniError(f"plugin type={plugin['type']!r} failed ({command}): {_error(out, err)}")
        if command != "ADD":
            return None
        parsed: dict[str, Any] = json.loads(out)
        return parsed


def _port_mapping(p: PortMapping) -> dict[str, Any]:
    m: dict[str, Any] = {
        "hostPort": p.host_port,
        "containerPort": p.container_port,
        "protocol": p.protocol.lower(),
    }
    if p.host_ip:
        m["hostIP"] = p.host_ip
    return m


def _error(out: bytes, err: bytes) -> str:
    try:
        e = json.loads(out)
        msg = str(e.get("msg", ""))
        return f"{msg}: {e['details']}" if e.get("details") else msg
    except (ValueError, AttributeError):
        return (out or err).decode(errors="replace").strip()
