"""The layout of a local cluster, computed from its name and size alone (pure).

A cluster N with K agents is:

    network namespace kyb-N-net        bridge BR with 172.31.X.1/24 (routes between nodes)
    network namespace kyb-N-server     eth0 172.31.X.2/24, default via .1 → `kyb server`
    network namespace kyb-N-agentI     eth0 172.31.X.(2+I)/24 → `kyb agent` (I = 1..K)
    directory DIR/N/                   cluster.json, logs/, and one data dir per node

X is derived from the name (SHA-256), so a cluster always gets the same /24. Two
clusters may share an X: nothing routes between their namespaces or to the host, so
the overlap is harmless. Each node's veth is `eth0` in its namespace and `v-<node>` in
the bridge namespace. Kubernetes node names are `N-server`, `N-agentI`.

Invariants: every interface name fits Linux's IFNAMSIZ (15 characters); every address
lies in 172.31.0.0/16; names are valid DNS-1123 labels so node names are valid too.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

SUPERNET = ipaddress.IPv4Network("172.31.0.0/16")
MAX_NAME = 32
MAX_AGENTS = 200
IFNAMSIZ = 15
API_PORT = 6443
DEFAULT_BASE = Path("/var/lib/kybernetes/clusters")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def validate_name(name: str) -> str:
    """`name` if it is a DNS-1123 label of at most MAX_NAME characters; else ValueError."""
    if not name or len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise ValueError(
            f"invalid cluster name {name!r}: lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_NAME} characters"
        )
    return name


def subnet_for(name: str) -> ipaddress.IPv4Network:
    """The cluster's deterministic /24 inside 172.31.0.0/16."""
    octet = int.from_bytes(hashlib.sha256(name.encode()).digest()[:2], "big") % 256
    return ipaddress.IPv4Network(f"172.31.{octet}.0/24")


def bridge_name(name: str) -> str:
    """`kyb-N-br`, or `kyb-<hash>-br` when that would not fit IFNAMSIZ."""
    wanted = f"kyb-{name}-br"
    if len(wanted) <= IFNAMSIZ:
        return wanted
    return f"kyb-{hashlib.sha256(name.encode()).hexdigest()[:8]}-br"


@dataclass(frozen=True, slots=True)
class NodePlan:
    """One node: its role ("server" or "agent"), names, address and data directory."""

    role: str
    short: str
    node_name: str
    netns: str
    ip: str
    veth: str
    data_dir: Path


@dataclass(frozen=True, slots=True)
class ClusterPlan:
    """Everything `create` makes and `delete` removes, by name."""

    name: str
    directory: Path
    subnet: ipaddress.IPv4Network
    bridge_netns: str
    bridge: str
    nodes: tuple[NodePlan, ...]

    @property
    def prefix_len(self) -> int:
        return self.subnet.prefixlen

    @property
    def gateway(self) -> str:
        """The bridge's address, every node's default route."""
        return str(self.subnet.network_address + 1)

    @property
    def server(self) -> NodePlan:
        return self.nodes[0]

    @property
    def api_url(self) -> str:
        """The API server as seen from inside the cluster's namespaces."""
        return f"https://{self.server.ip}:{API_PORT}"

    @property
    def namespaces(self) -> tuple[str, ...]:
        """Every network namespace of the cluster (bridge namespace last)."""
        return (*(n.netns for n in self.nodes), self.bridge_netns)

    @property
    def state_file(self) -> Path:
        return self.directory / "cluster.json"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"


def plan(name: str, agents: int, base: Path = DEFAULT_BASE) -> ClusterPlan:
    """The layout of cluster `name` with `agents` agents under `base`. ValueError for
    a bad name or agent count."""
    validate_name(name)
    if not 0 <= agents <= MAX_AGENTS:
        raise ValueError(f"--agents must be between 0 and {MAX_AGENTS}, not {agents}")
    subnet = subnet_for(name)
    directory = base / name
    shorts = ["server", *(f"agent{i}" for i in range(1, agents + 1))]
    nodes = tuple(
        NodePlan(
            role="server" if i == 0 else "agent",
            short=short,
            node_name=f"{name}-{short}",
            netns=f"kyb-{name}-{short}",
            ip=str(subnet.network_address + 2 + i),
            veth=f"v-{short}",
            data_dir=directory / short,
        )
        for i, short in enumerate(shorts)
    )
    return ClusterPlan(
        name=name,
        directory=directory,
        subnet=subnet,
        bridge_netns=f"kyb-{name}-net",
        bridge=bridge_name(name),
        nodes=nodes,
    )
