"""Cluster-wide and policy rows, as kube-apiserver 1.32 prints them."""

from __future__ import annotations

from typing import Any

from kybernetes.apiserver.tables import table_for

from .support import NOW, ago, cells, info


def test_bindings() -> None:
    binding = {
        "metadata": {"name": "admins", "creationTimestamp": ago(days=1)},
        "roleRef": {"kind": "ClusterRole", "name": "admin"},
        "subjects": [
            {"kind": "User", "name": "alice"},
            {"kind": "Group", "name": "ops"},
            {"kind": "ServiceAccount", "namespace": "kube-system", "name": "sa"},
            {"kind": "User", "name": "bob"},
            {"kind": "Other", "name": "x"},
        ],
    }
    assert cells("rbac.authorization.k8s.io", "RoleBinding", binding) == [
        "admins",
        "ClusterRole/admin",
        "24h",
    ]
    assert cells("rbac.authorization.k8s.io", "ClusterRoleBinding", binding, wide=True)[3:] == [
        "alice, bob",
        "ops",
        "kube-system/sa",
    ]


def test_lease_priority_class_pdb() -> None:
    lease = {"metadata": {"name": "kube-scheduler"}, "spec": {"holderIdentity": "node-1_abc"}}
    assert cells("coordination.k8s.io", "Lease", lease) == [
        "kube-scheduler",
        "node-1_abc",
        "<unknown>",
    ]
    assert cells("coordination.k8s.io", "Lease", {"metadata": {"name": "l"}, "spec": {}})[1] == ""
    priority_class = {
        "metadata": {"name": "high"},
        "value": 1000,
        "globalDefault": True,
        "preemptionPolicy": "Never",
    }
    assert cells("scheduling.k8s.io", "PriorityClass", priority_class) == [
        "high",
        1000,
        True,
        "<unknown>",
    ]
    assert cells("scheduling.k8s.io", "PriorityClass", priority_class, wide=True)[-1] == "Never"
    pdb = {
        "metadata": {"name": "web"},
        "spec": {"minAvailable": "50%"},
        "status": {"disruptionsAllowed": 1},
    }
    assert cells("policy", "PodDisruptionBudget", pdb) == ["web", "50%", "N/A", 1, "<unknown>"]
    pdb = {"metadata": {"name": "db"}, "spec": {"maxUnavailable": 1}, "status": {}}
    assert cells("policy", "PodDisruptionBudget", pdb) == ["db", "N/A", "1", 0, "<unknown>"]


def test_endpoint_slice() -> None:
    def endpoint_slice(
        ports: list[dict[str, Any]], endpoints: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return {
            "metadata": {"name": "web-abc"},
            "addressType": "IPv4",
            "ports": ports,
            "endpoints": endpoints,
        }

    ports = [{"port": 80, "name": "http"}, {"name": "named"}, {}, {"port": 9}]
    endpoints = [
        {"addresses": ["10.0.0.1", "10.0.0.2"]},
        {"addresses": ["10.0.0.3"]},
        {"addresses": ["10.0.0.4"]},
    ]
    assert cells("discovery.k8s.io", "EndpointSlice", endpoint_slice(ports, endpoints)) == [
        "web-abc",
        "IPv4",
        "80,named,* + 1 more...",
        "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...",
        "<unknown>",
    ]
    assert cells("discovery.k8s.io", "EndpointSlice", endpoint_slice([], []))[2:4] == [
        "<unset>",
        "<unset>",
    ]


def test_runtime_class_and_csr() -> None:
    assert cells(
        "node.k8s.io", "RuntimeClass", {"metadata": {"name": "gvisor"}, "handler": "runsc"}
    )[:2] == [
        "gvisor",
        "runsc",
    ]
    csr = {
        "metadata": {"name": "csr-1", "creationTimestamp": ago(minutes=1)},
        "spec": {
            "signerName": "kubernetes.io/kube-apiserver-client",
            "username": "alice",
            "expirationSeconds": 3600,
        },
        "status": {"conditions": [{"type": "Approved"}, {"type": "Failed"}], "certificate": "LS0t"},
    }
    assert cells("certificates.k8s.io", "CertificateSigningRequest", csr) == [
        "csr-1",
        "60s",
        "kubernetes.io/kube-apiserver-client",
        "alice",
        "60m",
        "Approved,Failed,Issued",
    ]
    denied = {
        "metadata": {"name": "d"},
        "spec": {},
        "status": {"conditions": [{"type": "Approved"}, {"type": "Denied"}]},
    }
    assert cells("certificates.k8s.io", "CertificateSigningRequest", denied)[2:] == [
        "<none>",
        "",
        "<none>",
        "Denied",
    ]
    assert (
        cells("certificates.k8s.io", "CertificateSigningRequest", {"metadata": {"name": "p"}})[-1]
        == "Pending"
    )


def test_flow_schemas_are_sorted_by_precedence_then_name() -> None:
    def schema(name: str, precedence: int, **spec: Any) -> dict[str, Any]:
        return {
            "metadata": {"name": name},
            "spec": {
                "priorityLevelConfiguration": {"name": "workload-low"},
                "matchingPrecedence": precedence,
                **spec,
            },
        }

    schemas = [
        schema("b", 1000),
        schema("a", 1000, distinguisherMethod={"type": "ByUser"}),
        {
            **schema("exempt", 1),
            "status": {"conditions": [{"type": "Dangling", "status": "False"}]},
        },
    ]
    table = table_for(
        info("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema", "flowschemas"),
        schemas,
        list_meta={},
        now=NOW,
    )
    assert [row["cells"] for row in table["rows"]] == [
        ["exempt", "workload-low", 1, "<none>", "<unknown>", "False"],
        ["a", "workload-low", 1000, "ByUser", "<unknown>", "?"],
        ["b", "workload-low", 1000, "<none>", "<unknown>", "?"],
    ]


def test_priority_level_configuration() -> None:
    limited = {
        "metadata": {"name": "workload-low"},
        "spec": {
            "type": "Limited",
            "limited": {
                "nominalConcurrencyShares": 100,
                "limitResponse": {
                    "type": "Queue",
                    "queuing": {"queues": 128, "handSize": 6, "queueLengthLimit": 50},
                },
            },
        },
    }
    assert cells("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", limited) == [
        "workload-low",
        "Limited",
        100,
        128,
        6,
        50,
        "<unknown>",
    ]
    exempt = {"metadata": {"name": "exempt"}, "spec": {"type": "Exempt", "exempt": {}}}
    assert (
        cells("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", exempt)[2:6]
        == ["<none>"] * 4
    )
    reject = {
        "metadata": {"name": "r"},
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 5}},
    }
    assert cells("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration", reject)[2:6] == [
        5,
        "<none>",
        "<none>",
        "<none>",
    ]


def test_admission_registration() -> None:
    group = "admissionregistration.k8s.io"
    webhooks = {"metadata": {"name": "w"}, "webhooks": [{"name": "a"}, {"name": "b"}]}
    assert cells(group, "MutatingWebhookConfiguration", webhooks) == ["w", 2, "<unknown>"]
    assert cells(group, "ValidatingWebhookConfiguration", {"metadata": {"name": "v"}})[1] == 0
    policy = {
        "metadata": {"name": "p"},
        "spec": {
            "paramKind": {"apiVersion": "v1", "kind": "ConfigMap"},
            "validations": [{"expression": "true"}],
        },
    }
    assert cells(group, "ValidatingAdmissionPolicy", policy) == [
        "p",
        1,
        "v1/ConfigMap",
        "<unknown>",
    ]
    assert cells(group, "ValidatingAdmissionPolicy", {"metadata": {"name": "q"}, "spec": {}})[
        1:3
    ] == [0, "<unset>"]

    def binding(param_ref: dict[str, Any] | None) -> str:
        spec = (
            {"policyName": "p"} if param_ref is None else {"policyName": "p", "paramRef": param_ref}
        )
        row = cells(
            group, "ValidatingAdmissionPolicyBinding", {"metadata": {"name": "b"}, "spec": spec}
        )
        assert row[:2] == ["b", "p"]
        return str(row[2])

    assert binding(None) == "<unset>"
    assert binding({"name": "cfg", "namespace": "ns"}) == "ns/cfg"
    assert binding({"name": "cfg"}) == "*/cfg"
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [{"key": "env", "operator": "In", "values": ["dev", "prod"]}],
    }
    assert binding({"selector": selector}) == (
        "&LabelSelector{MatchLabels:map[string]string{a: 1,b: 2,},"
        "MatchExpressions:[]LabelSelectorRequirement{"
        "LabelSelectorRequirement{Key:env,Operator:In,Values:[dev prod],},},}"
    )
