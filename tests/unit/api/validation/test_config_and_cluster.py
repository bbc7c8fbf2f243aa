"""ConfigMaps, Secrets, Namespaces, Nodes, LimitRanges, ResourceQuotas and Events."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_status_update, validate_update

from .samples import messages

CONFIG_KEY = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    "'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param(
            {"data": {"app.conf": "x"}, "binaryData": {"logo": _b64(b"\0")}}, [], id="valid"
        ),
        pytest.param(
            {"data": {"a/b": "x"}}, [f'data[a/b]: Invalid value: "a/b": {CONFIG_KEY}'], id="key"
        ),
        pytest.param(
            {"data": {"k": "x"}, "binaryData": {"k": _b64(b"x")}},
            ['data[k]: Invalid value: "k": duplicate of key present in binaryData'],
            id="both bags",
        ),
        pytest.param(
            {"data": {"big": "x" * (1024 * 1024 + 1)}},
            ["[]: Too long: may not be more than 1048576 bytes"],
            id="size",
        ),
    ],
)
def test_config_maps(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "ConfigMap", obj)) == expected


def test_immutable_config_maps_keep_their_data() -> None:
    old = {"immutable": True, "data": {"a": "1"}}
    assert messages(
        validate_update("", "ConfigMap", {"immutable": True, "data": {"a": "2"}}, old)
    ) == ["data: Forbidden: field is immutable when `immutable` is set"]
    assert messages(validate_update("", "ConfigMap", {"data": {"a": "1"}}, old)) == [
        "immutable: Forbidden: field is immutable when `immutable` is set"
    ]


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        pytest.param({"type": "Opaque", "data": {"a": _b64(b"1")}}, [], id="valid"),
        pytest.param(
            {"type": "Opaque", "stringData": {"bad key": "1"}},
            [f'data[bad key]: Invalid value: "bad key": {CONFIG_KEY}'],
            id="string data keys",
        ),
        pytest.param(
            {"type": "Opaque", "data": {"a": _b64(b"x" * (1024 * 1024 + 1))}},
            ["data: Too long: may not be more than 1048576 bytes"],
            id="size",
        ),
        pytest.param(
            {"type": "kubernetes.io/tls", "data": {"tls.crt": _b64(b"c")}},
            ["data[tls.key]: Required value"],
            id="tls",
        ),
        pytest.param(
            {"type": "kubernetes.io/basic-auth"},
            ["data[username]: Required value", "data[password]: Required value"],
            id="basic auth",
        ),
        pytest.param(
            {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": _b64(b"[]")}},
            [
                'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": json: '
                "cannot unmarshal array into Go value of type map[string]interface {}"
            ],
            id="docker config",
        ),
        pytest.param(
            {"type": "kubernetes.io/service-account-token"},
            ["metadata.annotations[kubernetes.io/service-account.name]: Required value"],
            id="token",
        ),
    ],
)
def test_secrets(obj: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "Secret", obj)) == expected


def test_secret_type_is_immutable() -> None:
    old = {"type": "Opaque", "data": {}}
    new = {"type": "kubernetes.io/ssh-auth", "data": {"ssh-privatekey": _b64(b"k")}}
    assert messages(validate_update("", "Secret", new, old)) == [
        'type: Invalid value: "kubernetes.io/ssh-auth": field is immutable'
    ]


def test_namespace_finalizers() -> None:
    obj = {"spec": {"finalizers": ["kubernetes", "custom", "example.com/x"]}}
    assert messages(validate("", "Namespace", obj)) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor '
        "is it fully qualified"
    ]
    terminating = {
        "metadata": {"deletionTimestamp": "2024-01-01T00:00:00Z"},
        "status": {"phase": "Active"},
    }
    assert messages(validate_status_update("", "Namespace", terminating, {})) == [
        "status.Phase: Invalid value: \"Active\": may only be 'Terminating' if `deletionTimestamp` "
        "is not empty"
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"podCIDR": "10.244.1.0/24", "podCIDRs": ["10.244.1.0/24"]}, [], id="valid"),
        pytest.param(
            {"podCIDRs": ["10.244.1.0/33"]},
            [
                'spec.podCIDRs[0]: Invalid value: "10.244.1.0/33": must be a valid CIDR value, '
                "(e.g. 10.9.8.0/24 or 2001:db8::/64)"
            ],
            id="cidr",
        ),
        pytest.param(
            {"podCIDRs": ["10.244.1.0/24", "10.244.2.0/24"]},
            [
                'spec.podCIDRs: Invalid value: []string{"10.244.1.0/24", "10.244.2.0/24"}: '
                "may specify no more than one CIDR for each IP family"
            ],
            id="one per family",
        ),
        pytest.param(
            {
                "taints": [
                    {"key": "k", "effect": "NoSchedule"},
                    {"key": "k", "effect": "NoSchedule"},
                ]
            },
            [
                'metadata.taints[1]: Duplicate value: {"effect":"NoSchedule","key":"k"}: taints '
                "must be unique by key and effect pair"
            ],
            id="duplicate taint",
        ),
        pytest.param(
            {"taints": [{"key": "k", "effect": ""}]},
            ["metadata.taints[0].effect: Required value"],
            id="taint effect",
        ),
    ],
)
def test_nodes(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "Node", {"spec": spec})) == expected


def test_node_pod_cidrs_are_fixed_once_set() -> None:
    old = {"spec": {"podCIDRs": ["10.244.1.0/24"]}}
    new = {"spec": {"podCIDRs": ["10.244.2.0/24"]}}
    assert messages(validate_update("", "Node", new, old)) == [
        'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid'
    ]
    assert validate_update("", "Node", old, {"spec": {}}) == []


def test_limit_ranges() -> None:
    limit = {
        "type": "Container",
        "min": {"cpu": "1"},
        "max": {"cpu": "500m"},
        "defaultRequest": {"memory": "1Gi"},
        "default": {"memory": "512Mi"},
    }
    obj = {"spec": {"limits": [limit, {"type": "Container"}]}}
    assert messages(validate("", "LimitRange", obj)) == [
        'spec.limits[0].min[cpu]: Invalid value: "1": min value 1 is greater than max value 500m',
        'spec.limits[0].defaultRequest[memory]: Invalid value: "1Gi": default request value 1Gi '
        "is greater than default limit value 512Mi",
        'spec.limits[1].type: Duplicate value: "Container"',
    ]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"hard": {"pods": "10", "requests.cpu": "4"}}, [], id="valid"),
        pytest.param(
            {"hard": {"pods": "1.5"}},
            ['spec.hard[pods]: Invalid value: "1500m": must be an integer'],
            id="integer",
        ),
        pytest.param(
            {"hard": {"gpus": "1"}},
            [
                'spec.hard[gpus]: Invalid value: "gpus": must be a standard resource type or '
                "fully qualified",
                'spec.hard[gpus]: Invalid value: "gpus": must be a standard resource for quota',
            ],
            id="name",
        ),
        pytest.param(
            {"hard": {"pods": "1"}, "scopes": ["BestEffort", "NotBestEffort"]},
            [
                'spec.scopes: Invalid value: []string{"BestEffort", "NotBestEffort"}: '
                "conflicting scopes"
            ],
            id="conflicting scopes",
        ),
    ],
)
def test_resource_quotas(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "ResourceQuota", {"spec": spec})) == expected


def test_events_match_their_object_namespace() -> None:
    event = {"metadata": {"namespace": "default"}, "involvedObject": {"namespace": "other"}}
    assert messages(validate("", "Event", event)) == [
        'involvedObject.namespace: Invalid value: "other": does not match event.namespace'
    ]
    cluster_scoped = {"metadata": {"namespace": "default"}, "involvedObject": {}}
    assert validate("", "Event", cluster_scoped) == []


def test_events_k8s_io_events_are_strict() -> None:
    event = {
        "metadata": {"namespace": "default"},
        "regarding": {"namespace": "default"},
        "eventTime": "2024-01-01T00:00:00.000000Z",
        "reportingController": "example.com/controller",
        "reportingInstance": "controller-1",
        "action": "Scale",
        "reason": "Scaled",
        "type": "Normal",
    }
    assert validate("events.k8s.io", "Event", event) == []
    bad = {**event, "type": "Info", "deprecatedCount": 3}
    assert messages(validate("events.k8s.io", "Event", bad)) == [
        'type: Invalid value: "": has invalid value: Info',
        'count: Invalid value: "": needs to be unset',
    ]
    changed_note = {**event, "note": "different"}
    assert messages(validate_update("events.k8s.io", "Event", changed_note, event)) == [
        'message: Invalid value: "different": field is immutable'
    ]
