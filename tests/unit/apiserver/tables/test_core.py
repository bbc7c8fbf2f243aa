"""Core-group rows (service and node cases from kube-apiserver's printers_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from .support import ago, cells


def service(spec: dict[str, Any], ingress: list[dict[str, str]] | None = None) -> dict[str, Any]:
    status = {"loadBalancer": {"ingress": ingress}} if ingress else {}
    return {"metadata": {"name": "svc"}, "spec": spec, "status": status}


LB = {"type": "LoadBalancer", "clusterIPs": ["1.5.6.7"], "ports": [{"port": 80, "protocol": "TCP"}]}
THREE = [{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}, {"ip": "5.6.7.8", "hostname": "host5678"}]


@pytest.mark.parametrize(
    ("obj", "wide", "expected"),
    [
        (
            service(LB, [{"ip": "2.3.4.5"}, {"ip": "3.4.5.6"}]),
            False,
            ["LoadBalancer", "1.5.6.7", "2.3.4.5,3.4.5.6", "80/TCP"],
        ),
        (
            service(
                {
                    **LB,
                    "ports": [
                        {"port": 80, "protocol": "TCP"},
                        {"port": 8090, "protocol": "UDP"},
                        {"port": 7777, "protocol": "SCTP"},
                    ],
                }
            ),
            False,
            ["LoadBalancer", "1.5.6.7", "<pending>", "80/TCP,8090/UDP,7777/SCTP"],
        ),
        (service(LB, THREE), False, ["LoadBalancer", "1.5.6.7", "2.3.4.5,3.4.5...", "80/TCP"]),
        (
            service({**LB, "selector": {"foo": "bar"}}, THREE),
            True,
            ["LoadBalancer", "1.5.6.7", "2.3.4.5,3.4.5.6,5.6.7.8", "80/TCP"],
        ),
        (
            service({**LB, "externalIPs": ["9.9.9.9"]}, [{"hostname": "lb.example"}]),
            True,
            ["LoadBalancer", "1.5.6.7", "lb.example,9.9.9.9", "80/TCP"],
        ),
        (
            service({**LB, "externalIPs": ["9.9.9.9"]}),
            True,
            ["LoadBalancer", "1.5.6.7", "9.9.9.9", "80/TCP"],
        ),
        (
            service(
                {
                    "type": "NodePort",
                    "clusterIPs": ["10.0.0.1"],
                    "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}],
                }
            ),
            True,
            ["NodePort", "10.0.0.1", "<none>", "80:30080/TCP"],
        ),
        (
            service({"type": "ClusterIP", "clusterIPs": ["None"]}),
            True,
            ["ClusterIP", "None", "<none>", "<none>"],
        ),
        (
            service({"type": "ClusterIP", "externalIPs": ["1.1.1.1", "2.2.2.2"]}),
            True,
            ["ClusterIP", "<none>", "1.1.1.1,2.2.2.2", "<none>"],
        ),
        (
            service({"type": "ExternalName", "externalName": "example.com"}),
            True,
            ["ExternalName", "<none>", "example.com", "<none>"],
        ),
        (service({"type": "Weird"}), True, ["Weird", "<none>", "<unknown>", "<none>"]),
    ],
)
def test_service(obj: dict[str, Any], wide: bool, expected: list[str]) -> None:
    row = cells("", "Service", obj, wide=wide)
    assert row[:5] == ["svc", *expected]
    assert row[5] == "<unknown>"
    if wide:
        selector = obj["spec"].get("selector")
        assert row[6] == ("foo=bar" if selector else "<none>")


def test_endpoints() -> None:
    def endpoints(*subsets: dict[str, Any]) -> dict[str, Any]:
        return {
            "metadata": {"name": "ep", "creationTimestamp": ago(seconds=3)},
            "subsets": list(subsets),
        }

    assert cells("", "Endpoints", endpoints()) == ["ep", "<none>", "3s"]
    one = {"addresses": [{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], "ports": [{"port": 80}]}
    assert cells("", "Endpoints", endpoints(one))[1] == "10.0.0.1:80,[fd00::1]:80"
    headless = {"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}
    two_ports = {
        "addresses": [{"ip": "10.0.1.1"}, {"ip": "10.0.1.2"}],
        "ports": [{"port": 80}, {"port": 443}],
    }
    assert (
        cells("", "Endpoints", endpoints(headless, two_ports))[1]
        == "10.0.0.1,10.0.0.2,10.0.1.1:80 + 3 more..."
    )
    assert cells("", "Endpoints", endpoints({"ports": [{"port": 80}]}))[1] == ""


@pytest.mark.parametrize(
    ("addresses", "internal", "external"),
    [
        ([{"type": "InternalIP", "address": "1.1.1.1"}], "1.1.1.1", "<none>"),
        ([{"type": "ExternalIP", "address": "1.1.1.1"}], "<none>", "1.1.1.1"),
        (
            [
                {"type": "InternalIP", "address": "2.2.2.2"},
                {"type": "ExternalIP", "address": "3.3.3.3"},
                {"type": "InternalIP", "address": "4.4.4.4"},
            ],
            "2.2.2.2",
            "3.3.3.3",
        ),
    ],
)
def test_node_addresses(addresses: list[dict[str, str]], internal: str, external: str) -> None:
    node = {"metadata": {"name": "foo"}, "status": {"addresses": addresses}}
    assert cells("", "Node", node, wide=True) == [
        "foo",
        "Unknown",
        "<none>",
        "<unknown>",
        "",
        internal,
        external,
        "<unknown>",
        "<unknown>",
        "<unknown>",
    ]


def test_node_status_and_roles() -> None:
    node = {
        "metadata": {
            "name": "n1",
            "creationTimestamp": ago(days=1, hours=2),
            "labels": {
                "node-role.kubernetes.io/control-plane": "",
                "node-role.kubernetes.io/": "",
                "kubernetes.io/role": "master",
                "other": "x",
            },
        },
        "spec": {"unschedulable": True},
        "status": {
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": "False"},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "containerd://1.7",
            },
        },
    }
    assert cells("", "Node", node, wide=True) == [
        "n1",
        "NotReady,SchedulingDisabled",
        "control-plane,master",
        "26h",
        "v1.32.0",
        "<none>",
        "<none>",
        "Debian GNU/Linux 12",
        "6.1.0",
        "containerd://1.7",
    ]
    ready = {
        "metadata": {"name": "n2"},
        "status": {"conditions": [{"type": "Ready", "status": "True"}]},
    }
    assert cells("", "Node", ready)[:3] == ["n2", "Ready", "<none>"]


def test_namespace_secret_config_map_service_account() -> None:
    meta = {"name": "x", "creationTimestamp": ago(minutes=1)}
    assert cells("", "Namespace", {"metadata": meta, "status": {"phase": "Active"}}) == [
        "x",
        "Active",
        "60s",
    ]
    secret = {"metadata": meta, "type": "Opaque", "data": {"a": "YQ==", "b": "Yg=="}}
    assert cells("", "Secret", secret) == ["x", "Opaque", 2, "60s"]
    config_map = {"metadata": meta, "data": {"a": "1"}, "binaryData": {"b": "AA=="}}
    assert cells("", "ConfigMap", config_map) == ["x", 2, "60s"]
    assert cells("", "ConfigMap", {"metadata": meta}) == ["x", 0, "60s"]
    assert cells("", "ServiceAccount", {"metadata": meta, "secrets": [{"name": "t"}]}) == [
        "x",
        1,
        "60s",
    ]


def core_event(**fields: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "web.17a", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{c}"},
        "reason": "Started",
        "message": "Started container c\n",
        "type": "Normal",
        "source": {"component": "kubelet", "host": "node-1"},
        **fields,
    }


def test_event() -> None:
    event = core_event(firstTimestamp=ago(minutes=10), lastTimestamp=ago(minutes=2), count=3)
    assert cells("", "Event", event) == [
        "2m",
        "Normal",
        "Started",
        "pod/web",
        "Started container c",
    ]
    assert cells("", "Event", event, wide=True) == [
        "2m",
        "Normal",
        "Started",
        "pod/web",
        "spec.containers{c}",
        "kubelet, node-1",
        "Started container c",
        "10m",
        3,
        "web.17a",
    ]


def test_event_from_the_new_api_fields() -> None:
    event = core_event(
        eventTime="2024-06-01T11:59:30.000000Z",
        source={},
        reportingComponent="default-scheduler",
        reportingInstance="",
        involvedObject={"kind": "Node"},
    )
    assert cells("", "Event", event, wide=True) == [
        "30s",
        "Normal",
        "Started",
        "node",
        "",
        "default-scheduler",
        "Started container c",
        "30s",
        1,
        "web.17a",
    ]
    series = core_event(
        eventTime=ago(minutes=30),
        series={"count": 7, "lastObservedTime": "2024-06-01T11:59:00.000000Z"},
        count=0,
    )
    assert cells("", "Event", series, wide=True)[0::7] == ["60s", "30m"]
    assert cells("", "Event", series, wide=True)[8] == 7
    assert cells("", "Event", core_event())[0] == "<unknown>"


def test_events_k8s_io_event() -> None:
    event = {
        "metadata": {"name": "web.17b", "creationTimestamp": ago(minutes=1)},
        "eventTime": "2024-06-01T11:58:00.000000Z",
        "reportingController": "kubelet",
        "reportingInstance": "node-1",
        "action": "Pulling",
        "reason": "Pulling",
        "regarding": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{c}"},
        "note": "Pulling image",
        "type": "Normal",
    }
    assert cells("events.k8s.io", "Event", event, wide=True) == [
        "2m",
        "Normal",
        "Pulling",
        "pod/web",
        "spec.containers{c}",
        "kubelet, node-1",
        "Pulling image",
        "2m",
        1,
        "web.17b",
    ]
    legacy = {
        **event,
        "deprecatedLastTimestamp": ago(seconds=5),
        "deprecatedCount": 4,
        "deprecatedSource": {"component": "c"},
    }
    assert cells("events.k8s.io", "Event", legacy, wide=True)[0::5] == ["5s", "c, node-1"]


def test_persistent_volume() -> None:
    volume = {
        "metadata": {"name": "pv1", "creationTimestamp": ago(hours=5)},
        "spec": {
            "capacity": {"storage": "1024Mi"},
            "accessModes": ["ReadWriteMany", "ReadWriteOnce", "ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": "default", "name": "data"},
            "storageClassName": "standard",
            "volumeMode": "Filesystem",
        },
        "status": {"phase": "Bound"},
    }
    assert cells("", "PersistentVolume", volume) == [
        "pv1",
        "1Gi",
        "RWO,RWX",
        "Retain",
        "Bound",
        "default/data",
        "standard",
        "<unset>",
        "",
        "5h",
        "Filesystem",
    ]
    annotated = {
        "metadata": {
            "name": "pv2",
            "deletionTimestamp": ago(seconds=1),
            "annotations": {"volume.beta.kubernetes.io/storage-class": "old"},
        },
        "spec": {"storageClassName": "new", "volumeAttributesClassName": "gold"},
        "status": {"phase": "Released", "reason": "Gone"},
    }
    assert cells("", "PersistentVolume", annotated) == [
        "pv2",
        "0",
        "",
        "",
        "Terminating",
        "",
        "old",
        "gold",
        "Gone",
        "<unknown>",
        "<unset>",
    ]


def test_persistent_volume_claim() -> None:
    claim = {
        "metadata": {"name": "data", "creationTimestamp": ago(minutes=15)},
        "spec": {
            "volumeName": "pv1",
            "storageClassName": "standard",
            "resources": {"requests": {"storage": "1Gi"}},
        },
        "status": {
            "phase": "Bound",
            "capacity": {"storage": "2Gi"},
            "accessModes": ["ReadWriteOncePod"],
        },
    }
    assert cells("", "PersistentVolumeClaim", claim) == [
        "data",
        "Bound",
        "pv1",
        "2Gi",
        "RWOP",
        "standard",
        "<unset>",
        "15m",
        "<unset>",
    ]
    pending = {
        "metadata": {"name": "p"},
        "spec": {"volumeMode": "Block"},
        "status": {"phase": "Pending"},
    }
    assert cells("", "PersistentVolumeClaim", pending) == [
        "p",
        "Pending",
        "",
        "",
        "",
        "",
        "<unset>",
        "<unknown>",
        "Block",
    ]


def test_resource_quota() -> None:
    quota = {
        "metadata": {"name": "q", "creationTimestamp": ago(seconds=10)},
        "status": {
            "hard": {
                "requests.cpu": "2",
                "limits.memory": "2Gi",
                "pods": "10",
                "limits.cpu": "4000m",
            },
            "used": {"requests.cpu": "500m", "pods": "3", "limits.cpu": "1"},
        },
    }
    assert cells("", "ResourceQuota", quota) == [
        "q",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 1/4, limits.memory: 0/2Gi",
        "10s",
    ]


def test_component_status() -> None:
    healthy = {
        "metadata": {"name": "etcd-0"},
        "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}],
    }
    assert cells("", "ComponentStatus", healthy) == ["etcd-0", "Healthy", "ok", ""]
    sick = {
        "metadata": {"name": "s"},
        "conditions": [{"type": "Healthy", "status": "False", "error": "boom"}],
    }
    assert cells("", "ComponentStatus", sick) == ["s", "Unhealthy", "", "boom"]
    assert cells("", "ComponentStatus", {"metadata": {"name": "u"}}) == ["u", "Unknown", "", ""]
