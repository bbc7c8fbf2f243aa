"""The per-sandbox files every container of a pod sees: /etc/hosts, /etc/resolv.conf
and /etc/hostname (bind-mounted read-write, like containerd does).

Rules: resolv.conf comes from the sandbox's DNSConfig (nameserver, search and options
lines, as the kubelet computed them), or is the host's when there is none; hosts maps
localhost and the pod's hostname to its IP (the host's own hosts file for
hostNetwork pods).
"""

from __future__ import annotations

import socket
from pathlib import Path

from kybernetes.kubelet.runtime.interface import DNSConfig

HOST_RESOLV_CONF = Path("/etc/resolv.conf")
HOST_HOSTS = Path("/etc/hosts")


def resolv_conf(dns: DNSConfig | None) -> str:
    """The text of the sandbox's resolv.conf."""
    if dns is None:
        try:
            return HOST_RESOLV_CONF.read_text()
        except OSError:
            return ""
    lines = [f"nameserver {s}" for s in dns.servers]
    if dns.searches:
        lines.append("search " + " ".join(dns.searches))
    if dns.options:
        lines.append("options " + " ".join(dns.options))
    return "".join(line + "\n" for line in lines)


def hosts(hostname: str, ip: str, host_network: bool) -> str:
    """The text of the sandbox's /etc/hosts."""
    if host_network:
        try:
            return HOST_HOSTS.read_text()
        except OSError:
            pass
    text = (
        "# Kubernetes-managed hosts file.\n"
        "127.0.0.1\tlocalhost\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\n"
        "fe00::0\tip6-mcastprefix\n"
        "fe00::1\tip6-allnodes\n"
        "fe00::2\tip6-allrouters\n"
    )
    if ip:
        text += f"{ip}\t{hostname}\n"
    return text


def write_files(
    directory: Path, hostname: str, ip: str, host_network: bool, dns: DNSConfig | None
) -> str:
    """Writes hosts, resolv.conf and hostname into `directory`; the hostname used (the
    node's for hostNetwork pods)."""
    name = socket.gethostname() if host_network else hostname
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hosts").write_text(hosts(name, ip, host_network))
    (directory / "resolv.conf").write_text(resolv_conf(dns))
    (directory / "hostname").write_text(name + "\n")
    return name
