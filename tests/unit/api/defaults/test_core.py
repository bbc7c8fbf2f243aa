"""Core kinds other than the pod-bearing ones: Services, Namespaces, Nodes, volumes,
quotas and the rest."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.api.defaults.expect import GVK, assert_defaults, defaulted

SERVICE: GVK = ("", "v1", "Service")


def _service_spec(**spec: Any) -> Any:
    return defaulted(SERVICE, {"spec": spec})["spec"]


def test_kubectl_create_service_clusterip() -> None:
    given = {
        "ports": [{"name": "80-8080", "protocol": "TCP", "port": 80, "targetPort": 8080}],
        "selector": {"app": "web"},
        "type": "ClusterIP",
    }
    assert _service_spec(**given) == {
        **given,
        "internalTrafficPolicy": "Cluster",
        "sessionAffinity": "None",
    }


def test_service_ports_default_protocol_and_target_port() -> None:
    spec = _service_spec(
        ports=[
            {"port": 80},
            {"port": 53, "protocol": "UDP", "targetPort": 0},
            {"port": 443, "targetPort": ""},
            {"port": 8443, "targetPort": "https"},
        ]
    )
    assert spec["type"] == "ClusterIP"
    assert spec["ports"] == [
        {"port": 80, "protocol": "TCP", "targetPort": 80},
        {"port": 53, "protocol": "UDP", "targetPort": 53},
        {"port": 443, "protocol": "TCP", "targetPort": 443},
        {"port": 8443, "protocol": "TCP", "targetPort": "https"},
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {"type": "NodePort"},
            {"externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"},
        ),
        (
            {"type": "LoadBalancer"},
            {
                "externalTrafficPolicy": "Cluster",
                "internalTrafficPolicy": "Cluster",
                "allocateLoadBalancerNodePorts": True,
            },
        ),
        (
            {"type": "ClusterIP", "externalIPs": ["192.0.2.1"]},
            {"externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"},
        ),
        ({"type": "ClusterIP", "clusterIP": "None"}, {"internalTrafficPolicy": "Cluster"}),
        ({"type": "ExternalName", "externalName": "example.com"}, {}),
    ],
)
def test_traffic_policies_by_service_type(spec: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _service_spec(**spec) == {**spec, "sessionAffinity": "None", **expected}


def test_session_affinity() -> None:
    client_ip = {"clientIP": {"timeoutSeconds": 10800}}
    assert _service_spec(sessionAffinity="ClientIP")["sessionAffinityConfig"] == client_ip
    assert (
        _service_spec(sessionAffinity="ClientIP", sessionAffinityConfig={"clientIP": {}})[
            "sessionAffinityConfig"
        ]
        == client_ip
    )
    kept = {"clientIP": {"timeoutSeconds": 60}}
    assert (
        _service_spec(sessionAffinity="ClientIP", sessionAffinityConfig=kept)[
            "sessionAffinityConfig"
        ]
        == kept
    )
    # Kubernetes drops a config that cannot apply.
    assert "sessionAffinityConfig" not in _service_spec(sessionAffinityConfig=kept)


def test_load_balancer_ingress_ip_mode() -> None:
    service = defaulted(
        SERVICE,
        {
            "spec": {"type": "LoadBalancer"},
            "status": {
                "loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, {"hostname": "lb.example.com"}]}
            },
        },
    )
    assert service["status"]["loadBalancer"]["ingress"] == [
        {"ip": "192.0.2.1", "ipMode": "VIP"},
        {"hostname": "lb.example.com"},
    ]


CASES: list[tuple[str, GVK, dict[str, Any], dict[str, Any]]] = [
    (
        "namespace",
        ("", "v1", "Namespace"),
        {"metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "wrong"}}},
        {
            "metadata": {"name": "team-a", "labels": {"kubernetes.io/metadata.name": "team-a"}},
            "status": {"phase": "Active"},
        },
    ),
    (
        "namespace with generateName only",
        ("", "v1", "Namespace"),
        {"metadata": {"generateName": "team-"}},
        {"metadata": {"generateName": "team-"}, "status": {"phase": "Active"}},
    ),
    (
        "node allocatable from capacity",
        ("", "v1", "Node"),
        {"metadata": {"name": "n"}, "status": {"capacity": {"cpu": "4", "memory": "8Gi"}}},
        {
            "metadata": {"name": "n"},
            "status": {
                "capacity": {"cpu": "4", "memory": "8Gi"},
                "allocatable": {"cpu": "4", "memory": "8Gi"},
            },
        },
    ),
    ("node without status", ("", "v1", "Node"), {"spec": {}}, {"spec": {}}),
    ("secret", ("", "v1", "Secret"), {"data": {}}, {"data": {}, "type": "Opaque"}),
    ("config map", ("", "v1", "ConfigMap"), {"data": {"k": "v"}}, {"data": {"k": "v"}}),
    (
        "endpoints",
        ("", "v1", "Endpoints"),
        {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]},
        {
            "subsets": [
                {"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80, "protocol": "TCP"}]}
            ]
        },
    ),
    (
        "container limit range",
        ("", "v1", "LimitRange"),
        {
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "max": {"cpu": "2", "memory": "1Gi"},
                        "min": {"cpu": "100m", "ephemeral-storage": "1Mi"},
                        "default": {"cpu": "1"},
                    },
                    {"type": "Pod", "max": {"cpu": "4"}},
                ]
            }
        },
        {
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "max": {"cpu": "2", "memory": "1Gi"},
                        "min": {"cpu": "100m", "ephemeral-storage": "1Mi"},
                        "default": {"cpu": "1", "memory": "1Gi"},
                        "defaultRequest": {
                            "cpu": "1",
                            "memory": "1Gi",
                            "ephemeral-storage": "1Mi",
                        },
                    },
                    {"type": "Pod", "max": {"cpu": "4"}},
                ]
            }
        },
    ),
    (
        "resource quota rounds to milli units",
        ("", "v1", "ResourceQuota"),
        {"spec": {"hard": {"cpu": "0.0001", "pods": "10"}}},
        {"spec": {"hard": {"cpu": "1m", "pods": "10"}}},
    ),
    (
        "persistent volume",
        ("", "v1", "PersistentVolume"),
        {"spec": {"capacity": {"storage": "1Gi"}, "hostPath": {"path": "/data"}}},
        {
            "spec": {
                "capacity": {"storage": "1Gi"},
                "hostPath": {"path": "/data", "type": ""},
                "persistentVolumeReclaimPolicy": "Retain",
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Pending"},
        },
    ),
    (
        "persistent volume claim",
        ("", "v1", "PersistentVolumeClaim"),
        {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
        {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                "volumeMode": "Filesystem",
            },
            "status": {"phase": "Pending"},
        },
    ),
    ("service account", ("", "v1", "ServiceAccount"), {"metadata": {}}, {"metadata": {}}),
]


@pytest.mark.parametrize(
    ("gvk", "given", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_core_kinds(gvk: GVK, given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert_defaults(gvk, given, expected)


def test_kinds_without_defaults_and_unknown_kinds_are_untouched() -> None:
    given = {"spec": {"replicas": None}}
    for gvk in [("policy", "v1", "PodDisruptionBudget"), ("example.com", "v1", "Widget")]:
        assert defaulted(gvk, given) == given
