"""The pod's /etc/hosts as the kubelet manages it.

On the pod network: a header, the localhost lines, one line per pod IP with the
pod's hostname (its FQDN first when it has a subdomain), then `hostAliases`. With
`hostNetwork`: the node's own /etc/hosts under a different header, then
`hostAliases`. The hostname is `spec.hostname` or the pod name, cut to 63
characters and stripped of trailing `-`/`.`; the domain is
`SUBDOMAIN.NAMESPACE.svc.CLUSTER_DOMAIN` when `spec.subdomain` is set.

Invariants: pure functions, except `node_hosts_content`, which reads the node's file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

Obj = Mapping[str, Any]

MANAGED_HEADER: Final = "# Kubernetes-managed hosts file.\n"
HOST_NETWORK_HEADER: Final = "# Kubernetes-managed hosts file (host network).\n"
_LOCALHOST: Final = (
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)
_HOSTNAME_MAX: Final = 63


def hostname_and_domain(pod: Obj, cluster_domain: str) -> tuple[str, str]:
    """(hostname, domain) of the pod (`GeneratePodHostNameAndDomain`)."""
    spec: Obj = pod.get("spec") or {}
    metadata: Obj = pod.get("metadata") or {}
    hostname = str(spec.get("hostname") or metadata.get("name", ""))
    if len(hostname) > _HOSTNAME_MAX:
        hostname = hostname[:_HOSTNAME_MAX].rstrip("-.")
    domain = ""
    if spec.get("subdomain"):
        domain = f"{spec['subdomain']}.{metadata.get('namespace', '')}.svc.{cluster_domain}"
    return hostname, domain


def _aliases(pod: Obj) -> str:
    aliases: Sequence[Obj] = (pod.get("spec") or {}).get("hostAliases") or ()
    if not aliases:
        return ""
    lines = [f"{a.get('ip', '')}\t{chr(9).join(a.get('hostnames') or ())}\n" for a in aliases]
    return "\n# Entries added by HostAliases.\n" + "".join(lines)


def managed_hosts_content(pod: Obj, pod_ips: Sequence[str], cluster_domain: str) -> str:
    """The hosts file of a pod on the pod network."""
    hostname, domain = hostname_and_domain(pod, cluster_domain)
    names = f"{hostname}.{domain}\t{hostname}" if domain else hostname
    own = "".join(f"{ip}\t{names}\n" for ip in pod_ips)
    return MANAGED_HEADER + _LOCALHOST + own + _aliases(pod)


def node_hosts_content(pod: Obj, node_hosts: Path) -> str:
    """The hosts file of a `hostNetwork` pod: the node's, plus hostAliases."""
    return HOST_NETWORK_HEADER + node_hosts.read_text() + _aliases(pod)
