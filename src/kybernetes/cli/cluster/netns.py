"""Network plumbing of a local cluster, with iproute2's `ip`, all inside its namespaces.

`setup_network(plan)` creates the bridge namespace with its bridge (the gateway
address, IP forwarding on), then per node a namespace with loopback up and a veth pair
(`eth0` in the node, `v-<node>` enslaved to the bridge), the node's address and a
default route via the bridge. `delete_namespaces` removes namespaces (their
interfaces, routes and packet-filter rules go with them).

Invariants (network safety): every command names a namespace of the cluster (`ip -n`
or `in_netns`) except `ip netns add/del` themselves; nothing is ever configured
in the host's namespace; no NAT. Failures raise `ClusterError` with the command's
stderr. `setup_network` is not transactional: the caller deletes the namespaces of a
plan whose setup failed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

from .plan import ClusterPlan, NodePlan

NETNS_DIR = Path("/run/netns")


class ClusterError(Exception):
    """A step of creating, using or deleting a cluster failed."""


def run(argv: Sequence[str]) -> str:
    """Runs `argv`; its stdout. ClusterError with its stderr if it fails."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ClusterError(f"{' '.join(argv)}: {e}") from None
    if done.returncode != 0:
        raise ClusterError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def in_netns(netns: str, argv: Sequence[str]) -> list[str]:
    """`argv` run inside network namespace `netns` — and only that: util-linux
    `nsenter --net`, not `ip netns exec`, which also makes a mount namespace with a
    fresh /sys, hiding the cgroup hierarchies runc needs under /sys/fs/cgroup."""
    return ["nsenter", f"--net={NETNS_DIR / netns}", "--", *argv]


def existing_namespaces() -> set[str]:
    """The named network namespaces (`ip netns list`)."""
    try:
        return {p.name for p in NETNS_DIR.iterdir()}
    except FileNotFoundError:
        return set()


def netns_inode(netns: str) -> int | None:
    """The inode identifying namespace `netns` (as /proc/PID/ns/net shows it); None if
    there is no such namespace."""
    try:
        return os.stat(NETNS_DIR / netns).st_ino
    except OSError:
        return None


def _sysctl_forwarding(netns: str) -> None:
    run(in_netns(netns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))


def setup_bridge(plan: ClusterPlan) -> None:
    """The bridge namespace and its bridge with the gateway address."""
    ns = plan.bridge_netns
    run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", ns, "link", "add", plan.bridge, "type", "bridge"])
    run(["ip", "-n", ns, "addr", "add", f"{plan.gateway}/{plan.prefix_len}", "dev", plan.bridge])
    run(["ip", "-n", ns, "link", "set", plan.bridge, "up"])
    _sysctl_forwarding(ns)


def setup_node(plan: ClusterPlan, node: NodePlan) -> None:
    """The node's namespace, wired to the bridge, addressed, routed via the gateway."""
    ns, bridge_ns = node.netns, plan.bridge_netns
    run(["ip", "netns", "add", ns])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", bridge_ns, "link", "add", node.veth, "type", "veth",
         "peer", "name", "eth0", "netns", ns])  # fmt: skip
    run(["ip", "-n", bridge_ns, "link", "set", node.veth, "master", plan.bridge, "up"])
    run(["ip", "-n", ns, "addr", "add", f"{node.ip}/{plan.prefix_len}", "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    run(["ip", "-n", ns, "route", "add", "default", "via", plan.gateway, "dev", "eth0"])
    _sysctl_forwarding(ns)


def setup_network(plan: ClusterPlan) -> None:
    """Every namespace, interface and route of the plan (see the module docstring)."""
    setup_bridge(plan)
    for node in plan.nodes:
        setup_node(plan, node)


def delete_namespaces(names: Iterable[str]) -> list[str]:
    """Deletes those of `names` that exist; the errors (empty when all went)."""
    errors = []
    present = existing_namespaces()
    for name in names:
        if name in present:
            try:
                run(["ip", "netns", "del", name])
            except ClusterError as e:
                errors.append(str(e))
    return errors
