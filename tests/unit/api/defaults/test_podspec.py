"""PodSpec defaults in detail: containers, probes, hooks, env, volumes, resources, and
what only Pods (not templates) get."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.api.defaults.expect import GVK, assert_defaults, defaulted

POD: GVK = ("", "v1", "Pod")
DEPLOYMENT: GVK = ("apps", "v1", "Deployment")
CONTAINER_DEFAULTS = {
    "imagePullPolicy": "IfNotPresent",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


def _pod_spec(**spec: Any) -> Any:
    return defaulted(POD, {"spec": spec})["spec"]


def _container(**fields: Any) -> Any:
    return _pod_spec(containers=[{"name": "c", "image": "busybox:1.36", **fields}])["containers"][0]


def test_containers_of_every_kind_get_the_container_defaults() -> None:
    spec = _pod_spec(
        initContainers=[{"name": "i", "image": "busybox:1.36"}],
        containers=[{"name": "c", "image": "busybox:1.36"}],
        ephemeralContainers=[{"name": "e", "image": "busybox:1.36"}],
    )
    for key, name in (("initContainers", "i"), ("containers", "c"), ("ephemeralContainers", "e")):
        assert spec[key] == [{"name": name, "image": "busybox:1.36", **CONTAINER_DEFAULTS}]


def test_probes_and_their_handlers() -> None:
    container = _container(
        livenessProbe={"httpGet": {"port": 8080}},
        readinessProbe={"grpc": {"port": 9090}, "periodSeconds": 5},
        startupProbe={"tcpSocket": {"port": 8080}, "failureThreshold": 30},
    )
    assert container["livenessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        **PROBE_DEFAULTS,
    }
    assert container["readinessProbe"] == {
        "grpc": {"port": 9090, "service": ""},
        **PROBE_DEFAULTS,
        "periodSeconds": 5,
    }
    assert container["startupProbe"] == {
        "tcpSocket": {"port": 8080},
        **PROBE_DEFAULTS,
        "failureThreshold": 30,
    }


def test_zero_probe_fields_are_defaulted_like_absent_ones() -> None:
    container = _container(livenessProbe={"exec": {"command": ["true"]}, "timeoutSeconds": 0})
    assert container["livenessProbe"]["timeoutSeconds"] == 1


def test_lifecycle_http_hooks() -> None:
    container = _container(
        lifecycle={
            "postStart": {"httpGet": {"port": 80, "path": "/start"}},
            "preStop": {"sleep": {"seconds": 5}},
        }
    )
    assert container["lifecycle"] == {
        "postStart": {"httpGet": {"port": 80, "path": "/start", "scheme": "HTTP"}},
        "preStop": {"sleep": {"seconds": 5}},
    }


def test_ports_and_env_field_refs() -> None:
    container = _container(
        ports=[{"containerPort": 80}, {"containerPort": 53, "protocol": "UDP"}],
        env=[
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "PLAIN", "value": "x"},
        ],
    )
    assert container["ports"] == [
        {"containerPort": 80, "protocol": "TCP"},
        {"containerPort": 53, "protocol": "UDP"},
    ]
    assert container["env"] == [
        {
            "name": "NODE",
            "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName", "apiVersion": "v1"}},
        },
        {"name": "PLAIN", "value": "x"},
    ]


def test_volumes() -> None:
    spec = _pod_spec(
        volumes=[
            {"name": "scratch"},
            {"name": "host", "hostPath": {"path": "/var/log"}},
            {"name": "config", "configMap": {"name": "cm"}},
            {"name": "secret", "secret": {"secretName": "s", "defaultMode": 256}},
            {
                "name": "info",
                "downwardAPI": {
                    "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                },
            },
            {
                "name": "token",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"path": "token"}},
                        {
                            "downwardAPI": {
                                "items": [
                                    {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}}
                                ]
                            }
                        },
                    ]
                },
            },
            {
                "name": "claim",
                "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}},
            },
            {"name": "disk", "azureDisk": {"diskName": "d", "diskURI": "u"}},
            {"name": "block", "rbd": {"monitors": ["m"], "image": "i"}},
            {"name": "iscsi", "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 0}},
            {"name": "scaleio", "scaleIO": {"gateway": "g", "system": "s", "secretRef": {}}},
        ]
    )
    assert spec["volumes"] == [
        {"name": "scratch", "emptyDir": {}},
        {"name": "host", "hostPath": {"path": "/var/log", "type": ""}},
        {"name": "config", "configMap": {"name": "cm", "defaultMode": 420}},
        {"name": "secret", "secret": {"secretName": "s", "defaultMode": 256}},
        {
            "name": "info",
            "downwardAPI": {
                "items": [
                    {
                        "path": "labels",
                        "fieldRef": {"fieldPath": "metadata.labels", "apiVersion": "v1"},
                    }
                ],
                "defaultMode": 420,
            },
        },
        {
            "name": "token",
            "projected": {
                "sources": [
                    {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}},
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "ns",
                                    "fieldRef": {
                                        "fieldPath": "metadata.namespace",
                                        "apiVersion": "v1",
                                    },
                                }
                            ]
                        }
                    },
                ],
                "defaultMode": 420,
            },
        },
        {
            "name": "claim",
            "ephemeral": {
                "volumeClaimTemplate": {
                    "spec": {"accessModes": ["ReadWriteOnce"], "volumeMode": "Filesystem"}
                }
            },
        },
        {
            "name": "disk",
            "azureDisk": {
                "diskName": "d",
                "diskURI": "u",
                "cachingMode": "ReadWrite",
                "fsType": "ext4",
                "readOnly": False,
                "kind": "Shared",
            },
        },
        {
            "name": "block",
            "rbd": {
                "monitors": ["m"],
                "image": "i",
                "pool": "rbd",
                "user": "admin",
                "keyring": "/etc/ceph/keyring",
            },
        },
        {
            "name": "iscsi",
            "iscsi": {"targetPortal": "t", "iqn": "q", "lun": 0, "iscsiInterface": "default"},
        },
        {
            "name": "scaleio",
            "scaleIO": {
                "gateway": "g",
                "system": "s",
                "secretRef": {},
                "storageMode": "ThinProvisioned",
                "fsType": "xfs",
            },
        },
    ]


def test_a_pod_copies_limits_into_missing_requests_as_written() -> None:
    spec = _pod_spec(
        initContainers=[{"name": "i", "image": "x", "resources": {"limits": {"cpu": "1000m"}}}],
        containers=[
            {
                "name": "c",
                "image": "x",
                "resources": {
                    "limits": {"cpu": "500m", "memory": "1Gi"},
                    "requests": {"cpu": "100m"},
                },
            },
            {"name": "d", "image": "x", "resources": {"limits": {}}},
        ],
    )
    assert spec["initContainers"][0]["resources"] == {
        "limits": {"cpu": "1000m"},
        "requests": {"cpu": "1000m"},
    }
    assert spec["containers"][0]["resources"] == {
        "limits": {"cpu": "500m", "memory": "1Gi"},
        "requests": {"cpu": "100m", "memory": "1Gi"},
    }
    assert spec["containers"][1]["resources"] == {"limits": {}}


def test_only_pods_get_pod_level_defaults() -> None:
    container = {
        "name": "c",
        "image": "x",
        "ports": [{"containerPort": 8080}],
        "resources": {"limits": {"cpu": "1"}},
    }
    pod_spec = _pod_spec(hostNetwork=True, containers=[container])
    assert pod_spec["enableServiceLinks"] is True
    assert pod_spec["containers"][0]["ports"] == [
        {"containerPort": 8080, "hostPort": 8080, "protocol": "TCP"}
    ]
    assert pod_spec["containers"][0]["resources"]["requests"] == {"cpu": "1"}

    template = {"spec": {"hostNetwork": True, "containers": [container]}}
    deployment = defaulted(DEPLOYMENT, {"spec": {"template": template}})
    template_spec = deployment["spec"]["template"]["spec"]
    assert "enableServiceLinks" not in template_spec
    assert template_spec["containers"][0]["ports"] == [{"containerPort": 8080, "protocol": "TCP"}]
    assert "requests" not in template_spec["containers"][0]["resources"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("100m", "100m"),
        ("1000m", "1000m"),  # exact in thousandths: left as written
        ("0.5", "0.5"),
        ("1e3", "1e3"),
        ("0.0001", "1m"),
        ("1.0001", "1001m"),
        ("-0.0001", "-1m"),  # away from zero, as RoundUp
        ("1n", "1m"),
        ("not a quantity", "not a quantity"),
    ],
)
def test_resources_finer_than_a_milli_unit_are_rounded_up(given: str, expected: str) -> None:
    spec = _pod_spec(
        containers=[{"name": "c", "image": "x", "resources": {"requests": {"cpu": given}}}],
        overhead={"cpu": given},
    )
    assert spec["containers"][0]["resources"] == {"requests": {"cpu": expected}}
    assert spec["overhead"] == {"cpu": expected}


def test_status_resources_are_rounded() -> None:
    pod = defaulted(
        POD,
        {
            "spec": {},
            "status": {
                "containerStatuses": [
                    {
                        "name": "c",
                        "allocatedResources": {"cpu": "0.0005"},
                        "resources": {"limits": {"cpu": "0.0015"}},
                    }
                ]
            },
        },
    )
    status = pod["status"]["containerStatuses"][0]
    assert status["allocatedResources"] == {"cpu": "1m"}
    assert status["resources"] == {"limits": {"cpu": "2m"}}


def test_set_values_are_never_overwritten() -> None:
    spec = {
        "dnsPolicy": "Default",
        "restartPolicy": "OnFailure",
        "schedulerName": "other",
        "securityContext": {"runAsUser": 1000},
        "terminationGracePeriodSeconds": 0,
        "enableServiceLinks": False,
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "imagePullPolicy": "Never",
                "terminationMessagePath": "/tmp/log",
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "readinessProbe": {
                    "httpGet": {"port": 80, "path": "/ready", "scheme": "HTTPS"},
                    "timeoutSeconds": 5,
                    "periodSeconds": 3,
                    "successThreshold": 2,
                    "failureThreshold": 9,
                },
            }
        ],
        "volumes": [{"name": "v", "configMap": {"name": "cm", "defaultMode": 0}}],
    }
    assert_defaults(POD, {"spec": spec}, {"spec": spec})


def test_a_missing_spec_is_defaulted_like_an_empty_one() -> None:
    assert defaulted(POD, {"metadata": {"name": "p"}})["spec"] == {
        **SPEC_DEFAULTS,
        "enableServiceLinks": True,
    }


def test_ill_typed_parts_are_left_alone() -> None:
    given = {"spec": {"containers": "nope", "volumes": [3, {"name": "v"}], "overhead": "x"}}
    assert defaulted(POD, given)["spec"] == {
        "containers": "nope",
        "volumes": [3, {"name": "v", "emptyDir": {}}],
        "overhead": "x",
        **SPEC_DEFAULTS,
        "enableServiceLinks": True,
    }
    assert defaulted(POD, {"spec": "nope"}) == {"spec": "nope"}
