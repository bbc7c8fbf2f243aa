"""`RecordIndex`: the cluster zone's records, kept from Services and EndpointSlices.

The records of Kubernetes' DNS specification (kubernetes/dns docs/specification.md),
for one cluster domain (`cluster.local`), as CoreDNS's `kubernetes` plugin serves them:

- `svc.ns.svc.ZONE` A/AAAA: the Service's ClusterIPs; for a headless Service
  (`clusterIP: None`) the ready endpoint addresses instead, and
  `host.svc.ns.svc.ZONE` A/AAAA for each ready endpoint, `host` being the endpoint's
  `hostname` (StatefulSet pods, pods with hostname + subdomain) or else its address
  with dashes (`10-1-2-3`, IPv6 `fd00--1`), as CoreDNS names them;
- `_port._proto.svc.ns.svc.ZONE` SRV for each named port: priority 0, weight
  100 / count, target the Service's name (headless: one per ready endpoint, target the
  endpoint's name, port the endpoint slice's port of that name);
- PTR for every ClusterIP (-> the Service's name) and every ready endpoint address of
  a headless Service (-> the endpoint's name);
- ExternalName Services: `svc.ns.svc.ZONE` CNAME the external name;
- `dns-version.ZONE` TXT "1.1.0" (the specification's schema version);
- `ns.dns.ZONE` A/AAAA: the ClusterIPs of `kube-system/kube-dns`, the zone's name server.

Invariants: no I/O; a lookup is one dict get (`lookup(name)`); every change of a
Service or slice recomputes that one Service's records and touches only its names.
Only ready endpoints (`conditions.ready` absent or true) are published (the
EndpointSlice controller already marks every endpoint ready under
`publishNotReadyAddresses`). Several Services may share a name only through PTR
records (one address in two headless Services); each owner's records are kept apart
and merged on lookup. Names are lowercase, absolute, with the trailing dot.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

SCHEMA_VERSION: Final = "1.1.0"
SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"

Obj = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SRV:
    priority: int
    weight: int
    port: int
    target: str


@dataclass
class Records:
    """One owner's records at one name, by type ("A", "AAAA", "SRV", "PTR", "CNAME",
    "TXT"); A/AAAA/PTR/CNAME/TXT values are text, SRV values `SRV`."""

    by_type: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, rdtype: str, value: Any) -> None:
        values = self.by_type.setdefault(rdtype, [])
        if value not in values:
            values.append(value)


def reverse_name(address: str) -> str:
    """The in-addr.arpa / ip6.arpa name of an address (trailing dot)."""
    return ipaddress.ip_address(address).reverse_pointer + "."


def dashed(address: str) -> str:
    """An address as a DNS label: dots (IPv4) or colons (IPv6) become dashes."""
    return address.replace(".", "-").replace(":", "-")


def address_type(address: str) -> str:
    """ "A" or "AAAA"; ValueError if `address` is not an IP address."""
    return "A" if ipaddress.ip_address(address).version == 4 else "AAAA"


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _cluster_ips(spec: Obj) -> list[str]:
    ips = list(spec.get("clusterIPs") or ())
    if not ips and spec.get("clusterIP"):
        ips = [spec["clusterIP"]]
    return [ip for ip in ips if is_address(ip)]


def _is_headless(spec: Obj) -> bool:
    return spec.get("clusterIP") == "None" or "None" in (spec.get("clusterIPs") or ())


@dataclass(frozen=True, slots=True)
class _Endpoint:
    name: str  # the label under the service name
    address: str
    ports: tuple[tuple[str, str, int], ...]  # (name, protocol, port) of the slice


def _ready_endpoints(slices: Mapping[str, Obj]) -> list[_Endpoint]:
    """The ready endpoints of a Service's slices, one per address, in a stable order."""
    seen: dict[str, _Endpoint] = {}
    for key in sorted(slices):
        eps = slices[key]
        if eps.get("addressType") not in ("IPv4", "IPv6"):
            continue
        ports = tuple(
            (str(p.get("name") or ""), str(p.get("protocol") or "TCP"), int(p["port"]))
            for p in eps.get("ports") or ()
            if p.get("port") is not None
        )
        for endpoint in eps.get("endpoints") or ():
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            hostname = endpoint.get("hostname") or ""
            for address in endpoint.get("addresses") or ():
                if address in seen or not is_address(address):
                    continue
                seen[address] = _Endpoint(hostname or dashed(address), address, ports)
    return list(seen.values())


def service_records(service: Obj, slices: Mapping[str, Obj], zone: str) -> dict[str, Records]:
    """A Service's records by name (see the module docstring); pure."""
    meta, spec = service.get("metadata") or {}, service.get("spec") or {}
    base = f"{meta.get('name', '')}.{meta.get('namespace', '')}.svc.{zone}".lower()
    out: dict[str, Records] = {}

    def at(name: str) -> Records:
        return out.setdefault(name.lower(), Records())

    if spec.get("type") == "ExternalName":
        if spec.get("externalName"):
            at(base).add("CNAME", str(spec["externalName"]).rstrip(".").lower() + ".")
        return out
    named = [
        (str(p["name"]), str(p.get("protocol") or "TCP"), int(p["port"]))
        for p in spec.get("ports") or ()
        if p.get("name") and p.get("port") is not None
    ]
    if not _is_headless(spec):
        for ip in _cluster_ips(spec):
            at(base).add(address_type(ip), ip)
            at(reverse_name(ip)).add("PTR", base)
        for port_name, protocol, port in named:
            at(f"_{port_name}._{protocol}.{base}").add("SRV", SRV(0, 100, port, base))
        return out
    endpoints = _ready_endpoints(slices)
    for ep in endpoints:
        host = f"{ep.name}.{base}"
        rdtype = address_type(ep.address)
        at(base).add(rdtype, ep.address)
        at(host).add(rdtype, ep.address)
        at(reverse_name(ep.address)).add("PTR", host.lower())
    for port_name, protocol, _ in named:
        targets = [
            (ep, port)
            for ep in endpoints
            for (name, proto, port) in ep.ports
            if name == port_name and proto == protocol
        ]
        for ep, port in targets:
            weight = max(1, 100 // len(targets))
            srv = SRV(0, weight, port, f"{ep.name}.{base}".lower())
            at(f"_{port_name}._{protocol}.{base}").add("SRV", srv)
    return out


class RecordIndex:
    """The zone's records; mutate with the `set_*`/`delete_*` methods (idempotent),
    read with `lookup` and `exists`. Not thread-safe; one event loop owns it."""

    def __init__(self, zone: str = "cluster.local") -> None:
        self.zone = zone.strip(".").lower() + "."
        self.generation = 0  # bumped on every change of the records
        self._services: dict[str, Obj] = {}
        self._slices: dict[str, dict[str, Obj]] = {}  # service key -> slice key -> slice
        self._slice_owner: dict[str, str] = {}  # slice key -> service key
        self._owned: dict[str, dict[str, Records]] = {}  # service key -> name -> records
        self._names: dict[str, dict[str, Records]] = {}  # name -> owner -> records
        self._ancestors: Counter[str] = Counter()
        version = Records()
        version.add("TXT", SCHEMA_VERSION)
        self._put("", {f"dns-version.{self.zone}": version})

    # --- reading -----------------------------------------------------------------------

    def lookup(self, name: str) -> dict[str, list[Any]] | None:
        """The records at `name` (lowercase, trailing dot) by type; None if no records
        are there (the name may still exist as an ancestor: see `exists`)."""
        owners = self._names.get(name)
        if owners is None:
            return None
        if len(owners) == 1:
            return next(iter(owners.values())).by_type
        merged = Records()
        for records in owners.values():
            for rdtype, values in records.by_type.items():
                for value in values:
                    merged.add(rdtype, value)
        return merged.by_type

    def exists(self, name: str) -> bool:
        """Whether `name` owns records or has a descendant that does (an empty
        non-terminal such as `ns.svc.ZONE`, which answers NODATA, not NXDOMAIN)."""
        return name in self._names or name in self._ancestors or name == self.zone

    # --- writing -----------------------------------------------------------------------

    def set_service(self, service: Obj) -> None:
        """Adds or replaces a Service."""
        key = _key(service)
        self._services[key] = service
        self._recompute(key)

    def delete_service(self, namespace: str, name: str) -> None:
        key = f"{namespace}/{name}"
        if self._services.pop(key, None) is not None:
            self._recompute(key)

    def set_slice(self, eps: Obj) -> None:
        """Adds or replaces an EndpointSlice (owned by the Service its
        `kubernetes.io/service-name` label names; unlabelled slices are ignored)."""
        meta = eps.get("metadata") or {}
        key = _key(eps)
        service = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        owner = f"{meta.get('namespace', '')}/{service}" if service else None
        previous = self._slice_owner.get(key)
        if previous is not None and previous != owner:
            self._drop_slice(key)
        if owner is None:
            return
        self._slices.setdefault(owner, {})[key] = eps
        self._slice_owner[key] = owner
        self._recompute(owner)

    def delete_slice(self, namespace: str, name: str) -> None:
        self._drop_slice(f"{namespace}/{name}")

    def _drop_slice(self, key: str) -> None:
        owner = self._slice_owner.pop(key, None)
        if owner is None:
            return
        slices = self._slices.get(owner, {})
        slices.pop(key, None)
        if not slices:
            self._slices.pop(owner, None)
        self._recompute(owner)

    def _recompute(self, key: str) -> None:
        service = self._services.get(key)
        records: dict[str, Records] = {}
        if service is not None:
            records = service_records(service, self._slices.get(key, {}), self.zone)
        if key == "kube-system/kube-dns":
            records = dict(records)
            glue = Records()
            for ip in _cluster_ips((service or {}).get("spec") or {}):
                glue.add(address_type(ip), ip)
            if glue.by_type:
                records[f"ns.dns.{self.zone}"] = glue
        self._put(key, records)

    def _put(self, owner: str, records: dict[str, Records]) -> None:
        old = self._owned.pop(owner, {})
        if old == records:
            if records:
                self._owned[owner] = records
            return
        self.generation += 1
        for name in old:
            owners = self._names[name]
            del owners[owner]
            if not owners:
                del self._names[name]
            for ancestor in self._ancestry(name):
                self._ancestors[ancestor] -= 1
                if not self._ancestors[ancestor]:
                    del self._ancestors[ancestor]
        for name, value in records.items():
            self._names.setdefault(name, {})[owner] = value
            for ancestor in self._ancestry(name):
                self._ancestors[ancestor] += 1
        if records:
            self._owned[owner] = records

    @staticmethod
    def _ancestry(name: str) -> list[str]:
        """`a.b.c.` -> [`b.c.`, `c.`]: every proper ancestor but the root."""
        labels = name.split(".")
        return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]


def _key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"
