"""PodDisruptionBudgets, PriorityClasses, RBAC, Leases, and the dispatch by group and kind."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_status_update, validate_update

from .samples import messages

RBAC = "rbac.authorization.k8s.io"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}, [], id="valid"
        ),
        pytest.param(
            {"minAvailable": "50%", "maxUnavailable": 1},
            [
                'spec: Invalid value: {"maxUnavailable":1,"minAvailable":"50%"}: minAvailable '
                "and maxUnavailable cannot be both set"
            ],
            id="both",
        ),
        pytest.param(
            {"maxUnavailable": "120%"},
            ['spec.maxUnavailable: Invalid value: "120%": must not be greater than 100%'],
            id="percent",
        ),
        pytest.param(
            {"minAvailable": -1},
            ["spec.minAvailable: Invalid value: -1: must be greater than or equal to 0"],
            id="negative",
        ),
        pytest.param(
            {"unhealthyPodEvictionPolicy": "Never"},
            [
                'spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: '
                '"AlwaysAllow", "IfHealthyBudget"'
            ],
            id="eviction policy",
        ),
    ],
)
def test_disruption_budgets(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("policy", "PodDisruptionBudget", {"spec": spec})) == expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("high", 1_000_000, []),
        (
            "huge",
            1_000_000_001,
            ["value: Forbidden: maximum allowed value of a user defined priority is 1000000000"],
        ),
        ("system-node-critical", 2_000_001_000, []),
        (
            "system-custom",
            5,
            [
                "metadata.name: Forbidden: priority class names with 'system-' prefix are "
                "reserved for system use only. error: system-custom is not a known system "
                "priority class"
            ],
        ),
    ],
)
def test_priority_classes(name: str, value: int, expected: list[str]) -> None:
    obj = {"metadata": {"name": name}, "value": value}
    assert messages(validate("scheduling.k8s.io", "PriorityClass", obj)) == expected


def test_priority_class_values_are_fixed() -> None:
    old = {"metadata": {"name": "high"}, "value": 10}
    new = {"metadata": {"name": "high"}, "value": 20}
    assert messages(validate_update("scheduling.k8s.io", "PriorityClass", new, old)) == [
        "value: Forbidden: may not be changed in an update."
    ]


@pytest.mark.parametrize(
    ("kind", "rules", "expected"),
    [
        ("Role", [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}], []),
        (
            "Role",
            [{"apiGroups": [""], "resources": ["pods"]}],
            ["rules[0].verbs: Required value: verbs must contain at least one value"],
        ),
        (
            "Role",
            [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}],
            [
                'rules[0].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules '
                "cannot apply to non-resource URLs"
            ],
        ),
        ("ClusterRole", [{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}], []),
        (
            "ClusterRole",
            [{"verbs": ["get"]}],
            [
                "rules[0].apiGroups: Required value: resource rules must supply at least one "
                "api group",
                "rules[0].resources: Required value: resource rules must supply at least one "
                "resource",
            ],
        ),
    ],
)
def test_roles(kind: str, rules: list[dict[str, Any]], expected: list[str]) -> None:
    assert messages(validate(RBAC, kind, {"rules": rules})) == expected


def _binding(**ref: str) -> dict[str, Any]:
    role_ref = {"apiGroup": RBAC, "kind": "Role", "name": "reader", **ref}
    return {"roleRef": role_ref, "subjects": [{"kind": "User", "apiGroup": RBAC, "name": "jane"}]}


def test_role_bindings() -> None:
    assert validate(RBAC, "RoleBinding", _binding()) == []
    assert messages(validate(RBAC, "ClusterRoleBinding", _binding())) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"'
    ]
    bad_subject = {**_binding(), "subjects": [{"kind": "Robot", "name": "r2"}]}
    assert messages(validate(RBAC, "RoleBinding", bad_subject)) == [
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", '
        '"User", "Group"'
    ]
    sa = {
        **_binding(kind="ClusterRole"),
        "subjects": [{"kind": "ServiceAccount", "name": "default"}],
    }
    assert messages(validate(RBAC, "ClusterRoleBinding", sa)) == [
        "subjects[0].namespace: Required value"
    ]


def test_role_refs_never_change() -> None:
    old, new = _binding(), _binding(name="writer")
    assert messages(validate_update(RBAC, "RoleBinding", new, old)) == [
        'roleRef: Invalid value: {"apiGroup":"rbac.authorization.k8s.io","kind":"Role",'
        '"name":"writer"}: cannot change roleRef'
    ]


def test_leases() -> None:
    assert validate("coordination.k8s.io", "Lease", {"spec": {"leaseDurationSeconds": 15}}) == []
    assert messages(
        validate("coordination.k8s.io", "Lease", {"spec": {"leaseDurationSeconds": 0}})
    ) == ["spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"]


def test_kinds_without_rules_are_valid() -> None:
    assert validate("", "ServiceAccount", {"metadata": {"name": "x"}}) == []
    assert validate("example.com", "Widget", {"spec": {"anything": True}}) == []
    assert validate_update("example.com", "Widget", {}, {}) == []
    assert validate_status_update("", "ConfigMap", {}, {}) == []


@pytest.mark.parametrize(
    "first",
    ["kybernetes.api.selectors", "kybernetes.api.validation", "kybernetes.api.validation.pod"],
)
def test_modules_import_in_any_order(first: str) -> None:
    code = f"import {first}; from kybernetes.api.validation import validate; print(validate)"
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
