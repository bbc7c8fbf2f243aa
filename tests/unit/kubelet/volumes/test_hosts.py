"""The managed /etc/hosts: Kubernetes' exact layout (TestManagedHostsFileContent)."""

from __future__ import annotations

from typing import Any

from kybernetes.kubelet.volumes.hosts import hostname_and_domain, managed_hosts_content

LOCALHOST = (
    "# Kubernetes-managed hosts file.\n"
    "127.0.0.1\tlocalhost\n"
    "::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\n"
    "fe00::0\tip6-mcastprefix\n"
    "fe00::1\tip6-allnodes\n"
    "fe00::2\tip6-allrouters\n"
)


def _pod(name: str = "pod", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}, "spec": spec}


def test_plain_pod() -> None:
    content = managed_hosts_content(
        _pod(hostname="some-hostname"), ["123.45.67.89"], "cluster.local"
    )
    assert content == LOCALHOST + "123.45.67.89\tsome-hostname\n"


def test_subdomain_and_dual_stack() -> None:
    pod = _pod(hostname="host", subdomain="sub")
    content = managed_hosts_content(pod, ["203.0.113.1", "fd00::6"], "cluster.local")
    assert content == LOCALHOST + (
        "203.0.113.1\thost.sub.ns.svc.cluster.local\thost\n"
        "fd00::6\thost.sub.ns.svc.cluster.local\thost\n"
    )


def test_host_aliases() -> None:
    pod = _pod(
        hostAliases=[
            {"ip": "123.45.67.89", "hostnames": ["foo", "bar", "baz"]},
            {"ip": "456.78.90.123", "hostnames": ["park", "doo", "boo"]},
        ]
    )
    assert managed_hosts_content(pod, ["203.0.113.1"], "cluster.local") == LOCALHOST + (
        "203.0.113.1\tpod\n"
        "\n# Entries added by HostAliases.\n"
        "123.45.67.89\tfoo\tbar\tbaz\n"
        "456.78.90.123\tpark\tdoo\tboo\n"
    )


def test_long_names_are_cut_to_63_without_trailing_dash() -> None:
    name = "a" * 62 + "-" + "b" * 10
    assert hostname_and_domain(_pod(name), "c.local") == ("a" * 62, "")
    assert hostname_and_domain(_pod("p", subdomain="s"), "c.local") == ("p", "s.ns.svc.c.local")
