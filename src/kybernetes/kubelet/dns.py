"""The pod's resolv.conf, as the kubelet composes it (`pkg/kubelet/network/dns`).

`pod_dns_config(pod, ...)` is a pure function from the pod, the kubelet's cluster DNS
settings and the node's resolv.conf text to the runtime's `DNSConfig`:

- `ClusterFirst` (the default; `Default` behaviour for hostNetwork pods) and
  `ClusterFirstWithHostNet`: the cluster DNS servers only, searches
  `NS.svc.DOMAIN svc.DOMAIN DOMAIN` then the node's, `options ndots:5`; without a
  cluster DNS IP the pod falls back to `Default` with a `MissingClusterDNS` warning;
- `Default`: the node's resolv.conf (with no resolv.conf configured: 127.0.0.1 / ::1
  per node IP family and search `.`);
- `None`: nothing but `spec.dnsConfig`;
- `spec.dnsConfig` is then merged in (servers and searches appended without
  duplicates, options overriding by name), and the result is cut to 3 nameservers,
  32 search paths of at most 253 characters each and 2048 characters in all, with
  Kubernetes' `DNSConfigForming` warnings.

Invariants: no I/O; warnings go to the optional `warn(reason, message)` callback.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

from kybernetes.kubelet.runtime.interface import DNSConfig

Obj = Mapping[str, Any]
Warn = Callable[[str, str], None]

MAX_NAMESERVERS: Final = 3
MAX_SEARCH_PATHS: Final = 32
MAX_SEARCH_CHARS: Final = 2048
MAX_SEARCH_PATH_LENGTH: Final = 253
DEFAULT_OPTIONS: Final = ("ndots:5",)
FORMING_REASON: Final = "DNSConfigForming"
MISSING_CLUSTER_DNS: Final = "MissingClusterDNS"


def parse_resolv_conf(text: str) -> tuple[list[str], list[str], list[str]]:
    """(nameservers, searches, options) of a resolv.conf; ValueError on a bare
    `nameserver`. Nameservers accumulate; the last `search` line wins (trailing dots
    dropped, `.` ignored); options accumulate, a later one replacing its namesake."""
    servers: list[str] = []
    searches: list[str] = []
    options: dict[str, str] = {}
    empty_nameserver = False
    for line in text.split("\n"):
        fields = line.strip().split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "nameserver":
            if len(fields) >= 2:
                servers.append(fields[1])
            else:
                empty_nameserver = True
        elif fields[0] == "search":
            searches = [s.removesuffix(".") for s in fields[1:] if s != "."]
        elif fields[0] == "options":
            for option in fields[1:]:
                options[option.split(":")[0]] = option
    if empty_nameserver:
        raise ValueError("nameserver list is empty ")
    return servers, searches, list(options.values())


def _unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _loopback(node_ip: str) -> str:
    return "::1" if ipaddress.ip_address(node_ip).version == 6 else "127.0.0.1"


def _dns_type(pod: Obj) -> str:
    """`None`, `Cluster` or `Host` (`getPodDNSType`; unknown policies act as Cluster)."""
    spec: Obj = pod.get("spec") or {}
    policy = spec.get("dnsPolicy") or "ClusterFirst"
    if policy == "None":
        return "None"
    if policy == "ClusterFirstWithHostNet":
        return "Cluster"
    if policy == "ClusterFirst" and not spec.get("hostNetwork"):
        return "Cluster"
    if policy in ("ClusterFirst", "Default"):
        return "Host"
    return "Cluster"


def _merge_options(existing: Sequence[str], extra: Sequence[Obj]) -> list[str]:
    options: dict[str, str] = {}
    for option in existing:
        name, _, value = option.partition(":")
        options[name] = value
    for entry in extra:
        options[str(entry.get("name", ""))] = str(entry.get("value") or "")
    return [f"{name}:{value}" if value else name for name, value in options.items()]


def _fit_searches(searches: list[str], warn: Warn | None) -> list[str]:
    exceeded = len(searches) > MAX_SEARCH_PATHS
    searches = searches[:MAX_SEARCH_PATHS]
    kept = [s for s in searches if len(s) <= MAX_SEARCH_PATH_LENGTH]
    exceeded = exceeded or len(kept) != len(searches)
    while kept and len(" ".join(kept)) > MAX_SEARCH_CHARS:
        kept.pop()
        exceeded = True
    if exceeded and warn is not None:
        warn(
            FORMING_REASON,
            "Search Line limits were exceeded, some search paths have been omitted, "
            f"the applied search line is: {' '.join(kept)}",
        )
    return kept


def _fit_servers(servers: list[str], warn: Warn | None) -> list[str]:
    if len(servers) <= MAX_NAMESERVERS:
        return servers
    servers = servers[:MAX_NAMESERVERS]
    if warn is not None:
        warn(
            FORMING_REASON,
            "Nameserver limits were exceeded, some nameservers have been omitted, "
            f"the applied nameserver line is: {' '.join(servers)}",
        )
    return servers


def pod_dns_config(
    pod: Obj,
    *,
    cluster_dns: Sequence[str],
    cluster_domain: str = "cluster.local",
    resolv_conf: str | None = "",
    node_ips: Sequence[str] = (),
    warn: Warn | None = None,
) -> DNSConfig:
    """The pod's DNS settings; see the module docstring.

    `resolv_conf` is the text of the kubelet's `--resolv-conf` file, or None when that
    flag is empty (no host resolver configuration). Raises ValueError for a
    malformed resolv.conf.
    """
    host_servers, host_searches, host_options = parse_resolv_conf(resolv_conf or "")
    servers, searches, options = host_servers, host_searches, host_options
    dns_type = _dns_type(pod)
    if dns_type == "None":
        servers, searches, options = [], [], []
    elif dns_type == "Cluster" and cluster_dns:
        servers = list(cluster_dns)
        if cluster_domain:
            namespace = (pod.get("metadata") or {}).get("namespace", "")
            cluster = [f"{namespace}.svc.{cluster_domain}", f"svc.{cluster_domain}", cluster_domain]
            searches = _unique(cluster + host_searches)
        options = list(DEFAULT_OPTIONS)
    else:
        if dns_type == "Cluster" and warn is not None:
            name = (pod.get("metadata") or {}).get("name", "")
            namespace = (pod.get("metadata") or {}).get("namespace", "")
            warn(
                MISSING_CLUSTER_DNS,
                f'pod: "{name}_{namespace}({(pod.get("metadata") or {}).get("uid", "")})". '
                "kubelet does not have ClusterDNS IP configured and cannot create Pod using "
                '"ClusterFirst" policy. Falling back to "Default" policy.',
            )
        if resolv_conf is None:
            loopbacks = [_loopback(ip) for ip in node_ips]
            servers = loopbacks or ["127.0.0.1"]
            searches = ["."]
    if (extra := (pod.get("spec") or {}).get("dnsConfig")) is not None:
        servers = _unique([*servers, *(extra.get("nameservers") or ())])
        searches = _unique([*searches, *(extra.get("searches") or ())])
        options = _merge_options(options, extra.get("options") or ())
    return DNSConfig(
        servers=tuple(_fit_servers(servers, warn)),
        searches=tuple(_fit_searches(searches, warn)),
        options=tuple(options),
    )
