"""Pod routes across nodes, host-gw style: every other node's podCIDR via its InternalIP.

`desired_routes(own_node, nodes)` is pure: for each other Node with an InternalIP and
pod CIDRs (spec.podCIDRs, else spec.podCIDR) it yields `Route(cidr, ip)` for every pod
CIDR of the same IP family as an InternalIP, inside the cluster CIDR (10.42.0.0/16 by
default). `sync_routes` makes the node's table match through a `RouteApplier`;
`IpRouteApplier` is the real one (`ip route`, iproute2).

Invariants (network safety):
- Only routes whose destination lies inside the cluster CIDR(s) are ever added, changed
  or removed — never a default route, never a route outside the pod network.
- Routes this module installs carry the protocol `ROUTE_PROTOCOL`; only routes with
  that protocol are ever removed, so the CNI bridge's own (kernel) route to this
  node's podCIDR and anything another program made are left alone.
- `sync_routes` is idempotent and converges from any state: missing or changed routes
  are replaced (`ip route replace`), stale ones deleted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

DEFAULT_CLUSTER_CIDR = "10.42.0.0/16"
ROUTE_PROTOCOL = 142
"""rtnetlink protocol number marking kybernetes' routes (unassigned in rt_protos)."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, order=True, slots=True)
class Route:
    """`destination` (a pod CIDR) reached via `gateway` (a node's InternalIP)."""

    destination: str
    gateway: str


@dataclass(frozen=True, slots=True)
class RouteChanges:
    """What one `sync_routes` did."""

    replaced: tuple[Route, ...] = ()
    deleted: tuple[Route, ...] = ()


def _networks(cidrs: Iterable[str]) -> list[Network]:
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _inside(destination: str, clusters: Sequence[Network]) -> bool:
    try:
        network = ipaddress.ip_network(destination, strict=False)
    except ValueError:
        return False
    return any(
        network.version == c.version and network.subnet_of(c)  # type: ignore[arg-type]
        for c in clusters
    )


def _internal_ips(node: Mapping[str, Any]) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    found = []
    for address in (node.get("status") or {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            try:
                found.append(ipaddress.ip_address(address.get("address", "")))
            except ValueError:
                continue
    return found


def desired_routes(
    own_node: str,
    nodes: Iterable[Mapping[str, Any]],
    cluster_cidrs: Sequence[str] = (DEFAULT_CLUSTER_CIDR,),
) -> list[Route]:
    """The routes this node should have (sorted). Nodes without an InternalIP or a pod
    CIDR, and pod CIDRs outside `cluster_cidrs`, give none; the first InternalIP of
    each family is the gateway."""
    clusters = _networks(cluster_cidrs)
    routes: set[Route] = set()
    for node in nodes:
        if (node.get("metadata") or {}).get("name") == own_node:
            continue
        spec = node.get("spec") or {}
        cidrs = spec.get("podCIDRs") or ([spec["podCIDR"]] if spec.get("podCIDR") else [])
        gateways = _internal_ips(node)
        for cidr in cidrs:
            if not _inside(cidr, clusters):
                continue
            network = ipaddress.ip_network(cidr, strict=False)
            gateway = next((ip for ip in gateways if ip.version == network.version), None)
            if gateway is not None:
                routes.add(Route(str(network), str(gateway)))
    return sorted(routes)


class RouteApplier(Protocol):
    """Reads and changes one network namespace's main routing table."""

    async def list_routes(self) -> list[Route]:
        """The routes carrying `ROUTE_PROTOCOL` (via a gateway)."""
        ...

    async def replace(self, route: Route) -> None:
        """Adds the route, or changes the one to the same destination."""
        ...

    async def delete(self, route: Route) -> None:
        """Removes the route; no error if it is already gone."""
        ...


class RouteError(Exception):
    """An `ip` command failed."""


@dataclass
class IpRouteApplier:
    """`RouteApplier` with iproute2's `ip` (`command`; default: in this process's
    network namespace, `("ip", "-n", NAME)` for a named one)."""

    command: tuple[str, ...] = ("ip",)
    families: tuple[str, ...] = field(default=("-4", "-6"))

    async def _run(self, *args: str) -> str:
        process = await asyncio.create_subprocess_exec(
            *self.command, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RouteError(f"ip {' '.join(args)}: {err.decode(errors='replace').strip()}")
        return out.decode()

    async def list_routes(self) -> list[Route]:
        routes = []
        for family in self.families:
            try:
                text = await self._run("-j", family, "route", "show", "proto", str(ROUTE_PROTOCOL))
            except RouteError as e:
                if "not supported" in str(e):  # e.g. a kernel without IPv6: no such routes
                    continue
                raise
            for entry in json.loads(text or "[]"):
                if entry.get("gateway") and entry.get("dst") not in (None, "default"):
                    routes.append(Route(_canonical(entry["dst"]), entry["gateway"]))
        return routes

    async def replace(self, route: Route) -> None:
        await self._run("route", "replace", route.destination, "via", route.gateway,
                        "proto", str(ROUTE_PROTOCOL))  # fmt: skip

    async def delete(self, route: Route) -> None:
        try:
            await self._run("route", "del", route.destination, "via", route.gateway,
                            "proto", str(ROUTE_PROTOCOL))  # fmt: skip
        except RouteError as e:
            if "No such process" not in str(e):  # the kernel's ESRCH: already gone
                raise


def _canonical(destination: str) -> str:
    """`ip` prints a host route without its prefix length."""
    return str(ipaddress.ip_network(destination, strict=False))


async def sync_routes(
    own_node: str,
    nodes: Iterable[Mapping[str, Any]],
    apply: RouteApplier | None = None,
    cluster_cidrs: Sequence[str] = (DEFAULT_CLUSTER_CIDR,),
) -> RouteChanges:
    """Makes the table match `desired_routes` (see the module docstring). Raises
    RouteError (or the applier's error) when a change fails; a later call retries."""
    applier = apply or IpRouteApplier()
    clusters = _networks(cluster_cidrs)
    desired = desired_routes(own_node, nodes, cluster_cidrs)
    wanted = {r.destination: r for r in desired}
    current = [r for r in await applier.list_routes() if _inside(r.destination, clusters)]
    have = {r.destination: r for r in current}
    replaced = [r for r in desired if have.get(r.destination) != r]
    deleted = [r for r in current if r.destination not in wanted]
    for route in replaced:
        await applier.replace(route)
    for route in deleted:
        await applier.delete(route)
    return RouteChanges(tuple(replaced), tuple(deleted))
