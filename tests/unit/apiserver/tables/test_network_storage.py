"""Networking and storage rows (ingress cases from kube-apiserver's printers_test.go)."""

from __future__ import annotations

from typing import Any

from .support import ago, cells

TEN_YEARS = {"name": "test1", "creationTimestamp": ago(days=10 * 365)}


def test_ingress() -> None:
    ingress = {
        "metadata": TEN_YEARS,
        "spec": {
            "ingressClassName": "foo",
            "defaultBackend": {"service": {"name": "default-backend", "port": {"number": 80}}},
        },
        "status": {
            "loadBalancer": {"ingress": [{"ip": "2.3.4.5", "hostname": "localhost.localdomain"}]}
        },
    }
    assert cells("networking.k8s.io", "Ingress", ingress) == [
        "test1",
        "foo",
        "*",
        "2.3.4.5",
        "80",
        "10y",
    ]


def test_ingress_hosts_and_tls() -> None:
    def hosts(*names: str) -> str:
        spec = {"rules": [{"host": n} if n else {} for n in names], "tls": [{"hosts": ["a"]}]}
        row = cells("networking.k8s.io", "Ingress", {"metadata": {"name": "i"}, "spec": spec})
        assert row[1] == "<none>"
        assert row[4] == "80, 443"
        return str(row[2])

    assert hosts("a.example", "b.example") == "a.example,b.example"
    assert hosts("a", "b", "c", "d", "e") == "a,b,c + 2 more..."
    assert hosts("", "", "", "d", "e") == "d,e"
    assert hosts("", "") == "*"


def test_ingress_class() -> None:
    def ingress_class(parameters: dict[str, Any] | None) -> list[Any]:
        spec: dict[str, Any] = {"controller": "example.com/controller"}
        if parameters is not None:
            spec["parameters"] = parameters
        return cells("networking.k8s.io", "IngressClass", {"metadata": TEN_YEARS, "spec": spec})

    assert ingress_class({"kind": "customgroup", "name": "example"}) == [
        "test1",
        "example.com/controller",
        "customgroup/example",
        "10y",
    ]
    with_group = {"apiGroup": "example.com", "kind": "customgroup", "name": "example"}
    assert ingress_class(with_group)[2] == "customgroup.example.com/example"
    assert ingress_class(None)[2] == "<none>"


def test_network_policy_service_cidr_ip_address() -> None:
    policy = {"metadata": {"name": "deny"}, "spec": {"podSelector": {}}}
    assert cells("networking.k8s.io", "NetworkPolicy", policy) == ["deny", "<none>", "<unknown>"]
    policy = {"metadata": {"name": "web"}, "spec": {"podSelector": {"matchLabels": {"app": "web"}}}}
    assert cells("networking.k8s.io", "NetworkPolicy", policy)[1] == "app=web"
    cidr = {"metadata": {"name": "kubernetes"}, "spec": {"cidrs": ["10.96.0.0/12", "fd00::/108"]}}
    assert cells("networking.k8s.io", "ServiceCIDR", cidr)[:2] == [
        "kubernetes",
        "10.96.0.0/12,fd00::/108",
    ]
    address = {
        "metadata": {"name": "10.96.0.1"},
        "spec": {
            "parentRef": {
                "group": "",
                "resource": "Services",
                "namespace": "default",
                "name": "kubernetes",
            }
        },
    }
    assert cells("networking.k8s.io", "IPAddress", address) == [
        "10.96.0.1",
        "services/default/kubernetes",
        "<unknown>",
    ]
    gateway = {
        "metadata": {"name": "a"},
        "spec": {
            "parentRef": {"group": "gateway.networking.k8s.io", "resource": "gateways", "name": "g"}
        },
    }
    assert (
        cells("networking.k8s.io", "IPAddress", gateway)[1]
        == "gateways.gateway.networking.k8s.io/g"
    )
    assert (
        cells("networking.k8s.io", "IPAddress", {"metadata": {"name": "b"}, "spec": {}})[1]
        == "<none>"
    )


def test_storage_class() -> None:
    default = {
        "metadata": {
            "name": "standard",
            "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
        },
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }
    assert cells("storage.k8s.io", "StorageClass", default) == [
        "standard (default)",
        "rancher.io/local-path",
        "Delete",
        "WaitForFirstConsumer",
        False,
        "<unknown>",
    ]
    other = {
        "metadata": {"name": "fast"},
        "provisioner": "p",
        "reclaimPolicy": "Retain",
        "allowVolumeExpansion": True,
    }
    assert cells("storage.k8s.io", "StorageClass", other)[:5] == [
        "fast",
        "p",
        "Retain",
        "Immediate",
        True,
    ]


def test_csi_kinds_and_volume_attachments() -> None:
    attachment = {
        "metadata": {"name": "csi-123"},
        "spec": {
            "attacher": "ebs.csi",
            "source": {"persistentVolumeName": "pv1"},
            "nodeName": "n1",
        },
        "status": {"attached": True},
    }
    assert cells("storage.k8s.io", "VolumeAttachment", attachment) == [
        "csi-123",
        "ebs.csi",
        "pv1",
        "n1",
        True,
        "<unknown>",
    ]
    driver = {
        "metadata": {"name": "d"},
        "spec": {
            "tokenRequests": [{"audience": "a"}, {"audience": "b"}],
            "volumeLifecycleModes": ["Persistent", "Ephemeral"],
        },
    }
    assert cells("storage.k8s.io", "CSIDriver", driver) == [
        "d",
        True,
        False,
        False,
        "a,b",
        False,
        "Persistent,Ephemeral",
        "<unknown>",
    ]
    driver = {
        "metadata": {"name": "e"},
        "spec": {
            "attachRequired": False,
            "podInfoOnMount": True,
            "storageCapacity": True,
            "requiresRepublish": True,
        },
    }
    assert cells("storage.k8s.io", "CSIDriver", driver) == [
        "e",
        False,
        True,
        True,
        "<unset>",
        True,
        "<none>",
        "<unknown>",
    ]
    node = {"metadata": {"name": "n1"}, "spec": {"drivers": [{"name": "a"}]}}
    assert cells("storage.k8s.io", "CSINode", node) == ["n1", 1, "<unknown>"]
    capacity = {"metadata": {"name": "c"}, "storageClassName": "standard", "capacity": "10240Mi"}
    assert cells("storage.k8s.io", "CSIStorageCapacity", capacity) == ["c", "standard", "10Gi"]
    assert (
        cells("storage.k8s.io", "CSIStorageCapacity", {"metadata": {"name": "u"}})[2] == "<unset>"
    )
