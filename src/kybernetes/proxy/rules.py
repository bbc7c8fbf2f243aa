"""What kube-proxy must program, as a pure function of Services and EndpointSlices.

`compute(services, endpointslices, node)` turns API objects into a `RuleSet`: one
`ServicePort` per (Service, port) that the proxy handles, each with the endpoints its
internal (ClusterIP) and external (NodePort, externalIPs, LoadBalancer ingress)
traffic goes to and what happens when there are none. The appliers (`nftables`,
`iptables`) render it; they never look at API objects.

Semantics follow kube-proxy (pkg/proxy, topology.go and the nftables proxier):
- Skipped: headless Services (clusterIP None/""), type ExternalName, ports whose
  protocol is not TCP/UDP/SCTP, and IPv6 addresses (this proxy programs IPv4 only).
- Endpoints: IPv4 EndpointSlices labelled `kubernetes.io/service-name`, matched to a
  Service port by port name and protocol, de-duplicated by IP. Ready ones if any are
  ready; otherwise those both serving and terminating (graceful termination).
  `ready`/`serving` unset count as true, `terminating` unset as false.
- internalTrafficPolicy Local: ClusterIP traffic goes only to this node's endpoints;
  externalTrafficPolicy Local (NodePort/LoadBalancer types): external traffic likewise.
- No usable endpoints: REJECT (the client sees "connection refused" at once), or
  DROP when the policy is Local and only other nodes have endpoints (as kube-proxy).
- sessionAffinity ClientIP: `affinity_seconds` (default 10800) else 0.

`hash_name(text, n)` is the naming helper of both appliers: chain and set names
carry the first `n` base32 characters of the SHA-256 of their text, like kube-proxy's.

Invariants: `compute` does no I/O and depends only on its arguments; `compute_service`
on one Service and its slices only, so a caller may cache its result per Service.
"""

from __future__ import annotations

import base64
import hashlib
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Obj = Mapping[str, Any]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
DEFAULT_AFFINITY_SECONDS = 10800
PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """What a proxy knows about its node and cluster (kube-proxy's flags).

    `nodeport_addresses` empty means every local address but 127.0.0.0/8.
    `cluster_cidr` empty: only `masquerade_all` marks ClusterIP traffic for SNAT.
    """

    name: str
    cluster_cidr: str = ""
    nodeport_addresses: tuple[str, ...] = ()
    service_cidrs: tuple[str, ...] = ("10.43.0.0/16",)
    masquerade_all: bool = False


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: str
    port: int
    local: bool = False


@dataclass(frozen=True, slots=True)
class ServicePort:
    """One port of one Service, as the proxy programs it.

    `name` is kube-proxy's chain base `namespace/service/protocol/portname`.
    `endpoints` are all usable endpoints, `local_endpoints` this node's usable ones;
    internal (ClusterIP) traffic uses the local ones iff `internal_local`, external
    traffic (`node_port`, `external_ips`) iff `external_local`.
    """

    name: str
    protocol: str  # "tcp" | "udp" | "sctp"
    cluster_ip: str
    port: int
    node_port: int = 0
    external_ips: tuple[str, ...] = ()
    endpoints: tuple[Endpoint, ...] = ()
    local_endpoints: tuple[Endpoint, ...] = ()
    internal_local: bool = False
    external_local: bool = False
    affinity_seconds: int = 0

    @property
    def has_external(self) -> bool:
        return bool(self.node_port or self.external_ips)

    @property
    def uses_cluster_endpoints(self) -> bool:
        """Whether some traffic goes to `endpoints` (kube-proxy's cluster chain)."""
        return not self.internal_local or (self.has_external and not self.external_local)

    @property
    def uses_local_endpoints(self) -> bool:
        return self.internal_local or (self.has_external and self.external_local)

    @property
    def internal_endpoints(self) -> tuple[Endpoint, ...]:
        return self.local_endpoints if self.internal_local else self.endpoints

    @property
    def external_endpoints(self) -> tuple[Endpoint, ...]:
        return self.local_endpoints if self.external_local else self.endpoints

    @property
    def internal_no_endpoints(self) -> str:
        """ "drop" when only other nodes have endpoints for a Local policy, else "reject"."""
        return "drop" if self.internal_local and self.endpoints else "reject"

    @property
    def external_no_endpoints(self) -> str:
        return "drop" if self.external_local and self.endpoints else "reject"


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything to program: the node's settings and the service ports by `name`.

    A hint for appliers (optional, compared by identity): `ports` equals `base`
    except for the names in `changed`, so an applier that last applied `base` can
    diff in O(changed) instead of comparing every port.
    """

    node: NodeConfig
    ports: Mapping[str, ServicePort] = field(default_factory=dict)
    base: Mapping[str, ServicePort] | None = field(default=None, compare=False)
    changed: frozenset[str] = field(default=frozenset(), compare=False)

    def changed_since(self, applied: Mapping[str, ServicePort]) -> list[str]:
        """The names whose port differs between `applied` and `ports`."""
        old, new = applied, self.ports
        names = self.changed if self.base is applied else old.keys() | new.keys()
        return [n for n in names if old.get(n) is not new.get(n) and old.get(n) != new.get(n)]


def hash_name(text: str, length: int) -> str:
    """The first `length` characters of base32(sha256(text)), kube-proxy's chain hash."""
    digest = hashlib.sha256(text.encode()).digest()
    # Base32 encodes 5-byte groups independently: encode only the bytes needed.
    return base64.b32encode(digest[: -(-length * 5 // 8)]).decode()[:length]


def service_key(obj: Obj) -> str:
    """ "namespace/name" of a Service, or of the Service an EndpointSlice belongs to
    ("" for a slice without the service-name label)."""
    meta = obj.get("metadata") or {}
    if obj.get("kind") == "EndpointSlice" or "addressType" in obj:
        name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, "")
        return f"{meta.get('namespace', '')}/{name}" if name else ""
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def compute(services: Iterable[Obj], endpointslices: Iterable[Obj], node: NodeConfig) -> RuleSet:
    """The rule set for these Services and EndpointSlices on `node` (pure)."""
    slices: dict[str, list[Obj]] = {}
    for eps in endpointslices:
        key = service_key(eps)
        if key:
            slices.setdefault(key, []).append(eps)
    ports: dict[str, ServicePort] = {}
    for svc in services:
        for sp in compute_service(svc, slices.get(service_key(svc), ()), node):
            ports[sp.name] = sp
    return RuleSet(node, ports)


def _is_ipv4(address: str) -> bool:
    """A dotted-quad IPv4 address (inet_pton is strict, and fast)."""
    try:
        socket.inet_pton(socket.AF_INET, address)
    except (OSError, TypeError):
        return False
    return True


@dataclass(slots=True)
class _Candidate:
    endpoint: Endpoint
    ready: bool
    serving: bool
    terminating: bool


def _candidates(
    slices: Iterable[Obj], port_name: str, protocol: str, node: str
) -> list[_Candidate]:
    """Endpoints of the slices for this port, de-duplicated by IP (first wins)."""
    seen: dict[str, _Candidate] = {}
    for eps in slices:
        if eps.get("addressType") != "IPv4":
            continue
        number = 0
        for p in eps.get("ports") or []:
            if (p.get("name") or "") == port_name and (p.get("protocol") or "TCP") == protocol:
                number = int(p.get("port") or 0)
                break
        if not number:
            continue
        for ep in eps.get("endpoints") or []:
            cond = ep.get("conditions") or {}
            ready = cond.get("ready") is not False
            serving = cond.get("serving", cond.get("ready")) is not False
            terminating = cond.get("terminating") is True
            local = bool(node) and ep.get("nodeName") == node
            for address in (ep.get("addresses") or [])[:1]:
                if _is_ipv4(address) and address not in seen:
                    seen[address] = _Candidate(
                        Endpoint(address, number, local), ready, serving, terminating
                    )
    return sorted(seen.values(), key=lambda c: (c.endpoint.ip, c.endpoint.port))


def _usable(candidates: list[_Candidate]) -> tuple[Endpoint, ...]:
    """Ready endpoints, else serving-and-terminating ones (kube-proxy's fallback)."""
    ready = tuple(c.endpoint for c in candidates if c.ready)
    if ready:
        return ready
    return tuple(c.endpoint for c in candidates if c.serving and c.terminating)


def _external_ips(svc: Obj) -> tuple[str, ...]:
    spec, status = svc.get("spec") or {}, svc.get("status") or {}
    ips = list(spec.get("externalIPs") or [])
    if spec.get("type") == "LoadBalancer":
        ingress = (status.get("loadBalancer") or {}).get("ingress") or []
        ips += [i["ip"] for i in ingress if i.get("ip")]
    return tuple(dict.fromkeys(ip for ip in ips if _is_ipv4(ip)))


def compute_service(svc: Obj, slices: Iterable[Obj], node: NodeConfig) -> list[ServicePort]:
    """The ports of one Service given its EndpointSlices (pure); [] when skipped."""
    meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
    cluster_ip = spec.get("clusterIP") or ""
    if spec.get("type") == "ExternalName" or not _is_ipv4(cluster_ip):
        return []
    namespace, name = meta.get("namespace", ""), meta.get("name", "")
    svc_type = spec.get("type") or "ClusterIP"
    external_ips = _external_ips(svc)
    node_port_type = svc_type in ("NodePort", "LoadBalancer")
    external_local = (node_port_type or bool(external_ips)) and spec.get(
        "externalTrafficPolicy"
    ) == "Local"
    internal_local = spec.get("internalTrafficPolicy") == "Local"
    affinity = 0
    if spec.get("sessionAffinity") == "ClientIP":
        client_ip = (spec.get("sessionAffinityConfig") or {}).get("clientIP") or {}
        affinity = int(client_ip.get("timeoutSeconds") or DEFAULT_AFFINITY_SECONDS)
    slices = list(slices)
    result: list[ServicePort] = []
    for port in spec.get("ports") or []:
        protocol = port.get("protocol") or "TCP"
        if protocol not in PROTOCOLS:
            continue
        port_name = port.get("name") or ""
        candidates = _candidates(slices, port_name, protocol, node.name)
        all_eps = _usable(candidates)
        local_eps = _usable([c for c in candidates if c.endpoint.local])
        proto = PROTOCOLS[protocol]
        result.append(
            ServicePort(
                name=f"{namespace}/{name}/{proto}/{port_name}",
                protocol=proto,
                cluster_ip=cluster_ip,
                port=int(port.get("port") or 0),
                node_port=int(port.get("nodePort") or 0) if node_port_type else 0,
                external_ips=external_ips,
                endpoints=all_eps,
                local_endpoints=local_eps,
                internal_local=internal_local,
                external_local=external_local,
                affinity_seconds=affinity,
            )
        )
    return result
