"""Service ClusterIP and NodePort allocation, as kube-apiserver's service REST does.

Each allocated address or port is a key in the store (`/kybernetes/allocations/...`),
created with the store's create-if-absent, so two API servers (or two concurrent
requests) can never hand out the same one. A Service's allocations are made before it
is written and released if the write fails or when the Service is deleted.

Rules (Kubernetes 1.32): `clusterIP` unset → a random free address of the service
CIDR (default 10.43.0.0/16; the first address belongs to the `kubernetes` Service);
`None` → headless, nothing allocated; a given address must be in the range and free.
Types NodePort and LoadBalancer get a node port (30000-32767) for every port lacking
one; ExternalName services get neither. Errors are 422 Invalid on the field, worded
as Kubernetes words them.
"""

from __future__ import annotations

import contextlib
import ipaddress
import random
from collections.abc import Awaitable, Callable
from typing import Any

from kybernetes.api.validation.errors import FieldError, FieldPath, invalid
from kybernetes.store import KeyExists, KeyNotFound, Store

from . import status

ALLOCATIONS = "/kybernetes/allocations/"
DEFAULT_SERVICE_CIDR = "10.43.0.0/16"
DEFAULT_NODE_PORTS = range(30000, 32768)

Object = dict[str, Any]
Undo = Callable[[], Awaitable[None]]


class AllocationError(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(str(errors[0]))
        self.errors = errors


class ServiceAllocator:
    """Allocates and releases Service cluster IPs and node ports in the store."""

    def __init__(
        self,
        store: Store,
        service_cidr: str = DEFAULT_SERVICE_CIDR,
        node_ports: range = DEFAULT_NODE_PORTS,
    ) -> None:
        self._store = store
        self.network = ipaddress.ip_network(service_cidr)
        self.node_ports = node_ports

    @property
    def kubernetes_service_ip(self) -> str:
        """The address of the `kubernetes` Service: the range's first host address."""
        return str(self.network.network_address + 1)

    # --- hooks the registry calls -------------------------------------------------

    async def before_create(self, svc: Object) -> Undo:
        """Allocates what a new Service needs; returns the undo. Raises AllocationError."""
        taken: list[str] = []
        try:
            spec = svc.setdefault("spec", {})
            if spec.get("type") != "ExternalName":
                taken += await self._cluster_ip(spec)
            taken += await self._node_ports(spec, old_ports=set())
        except BaseException:
            await self._release_keys(taken)
            raise
        return lambda: self._release_keys(taken)

    async def before_update(self, new: Object, old: Object) -> Undo:
        """Allocates node ports a type change or new port needs; keeps the cluster IP."""
        spec, old_spec = new.setdefault("spec", {}), old.get("spec") or {}
        for field in ("clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"):
            if field in old_spec and not spec.get(field):
                spec[field] = old_spec[field]
        taken = await self._node_ports(spec, old_ports=set(_node_ports_of(old_spec)))
        return lambda: self._release_keys(taken)

    async def after_update(self, new: Object, old: Object) -> None:
        """Releases the node ports the update dropped."""
        dropped = set(_node_ports_of(old.get("spec") or {})) - set(
            _node_ports_of(new.get("spec") or {})
        )
        await self._release_keys([self._port_key(p) for p in dropped])

    async def after_delete(self, svc: Object) -> None:
        spec = svc.get("spec") or {}
        keys = [self._ip_key(ip) for ip in spec.get("clusterIPs") or [] if ip != "None"]
        keys += [self._port_key(p) for p in _node_ports_of(spec)]
        await self._release_keys(keys)

    # --- cluster IPs ----------------------------------------------------------------

    async def _cluster_ip(self, spec: Object) -> list[str]:
        wanted = spec.get("clusterIP") or ((spec.get("clusterIPs") or [None])[0])
        if wanted == "None":
            spec["clusterIP"], spec["clusterIPs"] = "None", ["None"]
            return []
        if wanted:
            key = await self._reserve_ip(wanted)
        else:
            wanted, key = await self._random_ip()
        spec["clusterIP"], spec["clusterIPs"] = wanted, [wanted]
        spec.setdefault("ipFamilies", ["IPv4" if self.network.version == 4 else "IPv6"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        return [key]

    async def _reserve_ip(self, ip: str) -> str:
        path = FieldPath("spec", "clusterIPs").index(0)
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            raise AllocationError([invalid(path, ip, "must be a valid IP address")]) from None
        if address not in self.network or address == self.network.network_address:
            raise AllocationError(
                [
                    invalid(
                        path,
                        ip,
                        "provided IP is not in the valid range. The range of valid IPs is "
                        f"{self.network}",
                    )
                ]
            )
        key = self._ip_key(ip)
        try:
            await self._store.create(key, b"{}")
        except KeyExists:
            raise AllocationError([invalid(path, ip, "provided IP is already allocated")]) from None
        return key

    async def _random_ip(self) -> tuple[str, str]:
        size = self.network.num_addresses
        first = 2  # skip the network address and the kubernetes Service's
        start = random.randrange(first, size - 1)
        for offset in range(size - 1 - first):
            candidate = first + (start - first + offset) % (size - 1 - first)
            ip = str(self.network.network_address + candidate)
            try:
                await self._store.create(self._ip_key(ip), b"{}")
            except KeyExists:
                continue
            return ip, self._ip_key(ip)
        raise status.internal_error("failed to allocate a serviceIP: range is full")

    # --- node ports -----------------------------------------------------------------

    async def _node_ports(self, spec: Object, old_ports: set[int]) -> list[str]:
        if spec.get("type") not in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                port.pop("nodePort", None)
            return []
        taken: list[str] = []
        try:
            for i, port in enumerate(spec.get("ports") or []):
                wanted = port.get("nodePort")
                if wanted in old_ports:
                    continue
                if wanted:
                    taken.append(await self._reserve_port(int(wanted), i))
                else:
                    port["nodePort"], key = await self._random_port()
                    taken.append(key)
        except BaseException:
            await self._release_keys(taken)
            raise
        return taken

    async def _reserve_port(self, port: int, index: int) -> str:
        path = FieldPath("spec", "ports").index(index).child("nodePort")
        if port not in self.node_ports:
            raise AllocationError(
                [
                    invalid(
                        path,
                        port,
                        "provided port is not in the valid range. The range of valid ports is "
                        f"{self.node_ports.start}-{self.node_ports.stop - 1}",
                    )
                ]
            )
        key = self._port_key(port)
        try:
            await self._store.create(key, b"{}")
        except KeyExists:
            raise AllocationError(
                [invalid(path, port, "provided port is already allocated")]
            ) from None
        return key

    async def _random_port(self) -> tuple[int, str]:
        ports = self.node_ports
        start = random.randrange(len(ports))
        for offset in range(len(ports)):
            port = ports[(start + offset) % len(ports)]
            try:
                await self._store.create(self._port_key(port), b"{}")
            except KeyExists:
                continue
            return port, self._port_key(port)
        raise status.internal_error("failed to allocate a nodePort: range is full")

    # --- keys -----------------------------------------------------------------------

    @staticmethod
    def _ip_key(ip: str) -> str:
        return f"{ALLOCATIONS}serviceips/{ip}"

    @staticmethod
    def _port_key(port: int) -> str:
        return f"{ALLOCATIONS}servicenodeports/{port}"

    async def _release_keys(self, keys: list[str]) -> None:
        for key in keys:
            with contextlib.suppress(KeyNotFound):
                await self._store.delete(key)


def _node_ports_of(spec: Object) -> list[int]:
    return [int(p["nodePort"]) for p in spec.get("ports") or [] if p.get("nodePort")]
