"""The non-core, non-workload groups: RBAC, scheduling, networking, discovery, storage,
admission, autoscaling, flow control and API extensions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.api.defaults.expect import GVK, assert_defaults

RBAC = "rbac.authorization.k8s.io"
ADMISSION = "admissionregistration.k8s.io"
FLOWCONTROL = "flowcontrol.apiserver.k8s.io"
MATCH_DEFAULTS = {"matchPolicy": "Equivalent", "namespaceSelector": {}, "objectSelector": {}}
RULE = {"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}
HPA_TARGET = {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}
SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
SCALE_DOWN = {
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}

CASES: list[tuple[str, GVK, dict[str, Any], dict[str, Any]]] = [
    (
        "role binding",
        (RBAC, "v1", "RoleBinding"),
        {
            "roleRef": {"kind": "Role", "name": "r"},
            "subjects": [
                {"kind": "User", "name": "alice"},
                {"kind": "Group", "name": "devs", "apiGroup": RBAC},
                {"kind": "ServiceAccount", "name": "default", "namespace": "ns"},
            ],
        },
        {
            "roleRef": {"kind": "Role", "name": "r", "apiGroup": RBAC},
            "subjects": [
                {"kind": "User", "name": "alice", "apiGroup": RBAC},
                {"kind": "Group", "name": "devs", "apiGroup": RBAC},
                {"kind": "ServiceAccount", "name": "default", "namespace": "ns"},
            ],
        },
    ),
    (
        "cluster role binding",
        (RBAC, "v1", "ClusterRoleBinding"),
        {"roleRef": {"kind": "ClusterRole", "name": "view"}},
        {"roleRef": {"kind": "ClusterRole", "name": "view", "apiGroup": RBAC}},
    ),
    (
        "priority class",
        ("scheduling.k8s.io", "v1", "PriorityClass"),
        {"value": 1000},
        {"value": 1000, "preemptionPolicy": "PreemptLowerPriority"},
    ),
    (
        "ingress-only network policy",
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        {"spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 80}]}]}},
        {
            "spec": {
                "podSelector": {},
                "ingress": [{"ports": [{"port": 80, "protocol": "TCP"}]}],
                "policyTypes": ["Ingress"],
            }
        },
    ),
    (
        "network policy with egress rules",
        ("networking.k8s.io", "v1", "NetworkPolicy"),
        {"spec": {"podSelector": {}, "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}]}},
        {
            "spec": {
                "podSelector": {},
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                "policyTypes": ["Ingress", "Egress"],
            }
        },
    ),
    (
        "ingress class parameters",
        ("networking.k8s.io", "v1", "IngressClass"),
        {"spec": {"controller": "x/y", "parameters": {"kind": "K", "name": "n"}}},
        {
            "spec": {
                "controller": "x/y",
                "parameters": {"kind": "K", "name": "n", "scope": "Cluster"},
            }
        },
    ),
    (
        "endpoint slice",
        ("discovery.k8s.io", "v1", "EndpointSlice"),
        {"addressType": "IPv4", "endpoints": [], "ports": [{"port": 80}]},
        {
            "addressType": "IPv4",
            "endpoints": [],
            "ports": [{"port": 80, "name": "", "protocol": "TCP"}],
        },
    ),
    (
        "storage class",
        ("storage.k8s.io", "v1", "StorageClass"),
        {"provisioner": "p"},
        {"provisioner": "p", "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"},
    ),
    (
        "csi driver",
        ("storage.k8s.io", "v1", "CSIDriver"),
        {"spec": {}},
        {
            "spec": {
                "attachRequired": True,
                "podInfoOnMount": False,
                "storageCapacity": False,
                "fsGroupPolicy": "ReadWriteOnceWithFSType",
                "volumeLifecycleModes": ["Persistent"],
                "requiresRepublish": False,
                "seLinuxMount": False,
            }
        },
    ),
    (
        "validating webhook configuration",
        (ADMISSION, "v1", "ValidatingWebhookConfiguration"),
        {
            "webhooks": [
                {
                    "name": "v.example.com",
                    "clientConfig": {"service": {"namespace": "ns", "name": "svc"}},
                    "rules": [RULE],
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                }
            ]
        },
        {
            "webhooks": [
                {
                    "name": "v.example.com",
                    "clientConfig": {"service": {"namespace": "ns", "name": "svc", "port": 443}},
                    "rules": [{**RULE, "scope": "*"}],
                    "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "failurePolicy": "Fail",
                    **MATCH_DEFAULTS,
                    "timeoutSeconds": 10,
                }
            ]
        },
    ),
    (
        "mutating webhook configuration",
        (ADMISSION, "v1", "MutatingWebhookConfiguration"),
        {"webhooks": [{"name": "m.example.com", "clientConfig": {"url": "https://x"}}]},
        {
            "webhooks": [
                {
                    "name": "m.example.com",
                    "clientConfig": {"url": "https://x"},
                    "failurePolicy": "Fail",
                    **MATCH_DEFAULTS,
                    "timeoutSeconds": 10,
                    "reinvocationPolicy": "Never",
                }
            ]
        },
    ),
    (
        "validating admission policy",
        (ADMISSION, "v1", "ValidatingAdmissionPolicy"),
        {"spec": {"matchConstraints": {"resourceRules": [RULE]}, "validations": []}},
        {
            "spec": {
                "failurePolicy": "Fail",
                "matchConstraints": {"resourceRules": [{**RULE, "scope": "*"}], **MATCH_DEFAULTS},
                "validations": [],
            }
        },
    ),
    (
        "validating admission policy binding",
        (ADMISSION, "v1", "ValidatingAdmissionPolicyBinding"),
        {"spec": {"policyName": "p", "matchResources": {"excludeResourceRules": [RULE]}}},
        {
            "spec": {
                "policyName": "p",
                "matchResources": {
                    "excludeResourceRules": [{**RULE, "scope": "*"}],
                    **MATCH_DEFAULTS,
                },
            }
        },
    ),
    (
        "autoscaling/v1 hpa",
        ("autoscaling", "v1", "HorizontalPodAutoscaler"),
        {"spec": {"maxReplicas": 5}},
        {"spec": {"maxReplicas": 5, "minReplicas": 1}},
    ),
    (
        "autoscaling/v2 hpa without metrics",
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        {"spec": {"maxReplicas": 5}},
        {
            "spec": {
                "maxReplicas": 5,
                "minReplicas": 1,
                "metrics": [{"type": "Resource", "resource": HPA_TARGET}],
            }
        },
    ),
    (
        "autoscaling/v2 hpa with a partial behavior",
        ("autoscaling", "v2", "HorizontalPodAutoscaler"),
        {
            "spec": {
                "maxReplicas": 5,
                "metrics": [{"type": "Pods"}],
                "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60}},
            }
        },
        {
            "spec": {
                "maxReplicas": 5,
                "minReplicas": 1,
                "metrics": [{"type": "Pods"}],
                "behavior": {
                    "scaleUp": SCALE_UP,
                    "scaleDown": {**SCALE_DOWN, "stabilizationWindowSeconds": 60},
                },
            }
        },
    ),
    (
        "flow schema",
        (FLOWCONTROL, "v1", "FlowSchema"),
        {"spec": {"priorityLevelConfiguration": {"name": "p"}}},
        {"spec": {"priorityLevelConfiguration": {"name": "p"}, "matchingPrecedence": 1000}},
    ),
    (
        "limited priority level that queues",
        (FLOWCONTROL, "v1", "PriorityLevelConfiguration"),
        {
            "spec": {
                "type": "Limited",
                "limited": {"limitResponse": {"type": "Queue", "queuing": {}}},
            }
        },
        {
            "spec": {
                "type": "Limited",
                "limited": {
                    "limitResponse": {
                        "type": "Queue",
                        "queuing": {"queues": 64, "handSize": 8, "queueLengthLimit": 50},
                    },
                    "nominalConcurrencyShares": 30,
                    "lendablePercent": 0,
                },
            }
        },
    ),
    (
        "limited priority level with zero shares",
        (FLOWCONTROL, "v1", "PriorityLevelConfiguration"),
        {"spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 0}}},
        {
            "spec": {
                "type": "Limited",
                "limited": {"nominalConcurrencyShares": 0, "lendablePercent": 0},
            }
        },
    ),
    (
        "exempt priority level",
        (FLOWCONTROL, "v1", "PriorityLevelConfiguration"),
        {"spec": {"type": "Exempt", "exempt": {}}},
        {
            "spec": {
                "type": "Exempt",
                "exempt": {"nominalConcurrencyShares": 0, "lendablePercent": 0},
            }
        },
    ),
    (
        "custom resource definition",
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        {
            "spec": {
                "group": "example.com",
                "names": {"kind": "Widget", "plural": "widgets"},
                "scope": "Namespaced",
                "versions": [
                    {"name": "v1beta1", "served": True, "storage": False},
                    {"name": "v1", "served": True, "storage": True},
                ],
            }
        },
        {
            "spec": {
                "group": "example.com",
                "names": {
                    "kind": "Widget",
                    "plural": "widgets",
                    "singular": "widget",
                    "listKind": "WidgetList",
                },
                "scope": "Namespaced",
                "versions": [
                    {"name": "v1beta1", "served": True, "storage": False},
                    {"name": "v1", "served": True, "storage": True},
                ],
                "conversion": {"strategy": "None"},
            },
            "status": {"storedVersions": ["v1"]},
        },
    ),
    (
        "custom resource definition with a conversion webhook",
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
        {
            "spec": {
                "names": {"kind": "Widget", "singular": "w"},
                "conversion": {
                    "strategy": "Webhook",
                    "webhook": {
                        "clientConfig": {"service": {"namespace": "ns", "name": "conv"}},
                        "conversionReviewVersions": ["v1"],
                    },
                },
            },
            "status": {"storedVersions": ["v0"]},
        },
        {
            "spec": {
                "names": {"kind": "Widget", "singular": "w", "listKind": "WidgetList"},
                "conversion": {
                    "strategy": "Webhook",
                    "webhook": {
                        "clientConfig": {
                            "service": {"namespace": "ns", "name": "conv", "port": 443}
                        },
                        "conversionReviewVersions": ["v1"],
                    },
                },
            },
            "status": {"storedVersions": ["v0"]},
        },
    ),
    (
        "api service",
        ("apiregistration.k8s.io", "v1", "APIService"),
        {"spec": {"group": "metrics.k8s.io", "service": {"namespace": "ns", "name": "m"}}},
        {
            "spec": {
                "group": "metrics.k8s.io",
                "service": {"namespace": "ns", "name": "m", "port": 443},
            }
        },
    ),
]


@pytest.mark.parametrize(
    ("gvk", "given", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_group_kinds(gvk: GVK, given: dict[str, Any], expected: dict[str, Any]) -> None:
    assert_defaults(gvk, given, expected)
