"""The request side of field management: apply bodies as sigs.k8s.io/yaml decodes
them, PatchOptions/CreateOptions validation, and manager names from User-Agents."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver.apply import (
    manager_or_user_agent,
    parse_apply_body,
    validate_patch_options,
    validate_write_options,
)
from kybernetes.apiserver.status import StatusError

YAML = b"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  annotations:
    created: 2024-05-01T00:00:00Z
spec:
  replicas: 3
  paused: yes
  template:
    spec:
      containers:
      - name: nginx
        ports:
        - containerPort: 80
---
ignored: second document
"""


def test_yaml_body() -> None:
    assert parse_apply_body(YAML) == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "annotations": {"created": "2024-05-01T00:00:00Z"}},
        "spec": {
            "replicas": 3,
            "paused": True,  # YAML 1.1, as go-yaml v2
            "template": {
                "spec": {"containers": [{"name": "nginx", "ports": [{"containerPort": 80}]}]}
            },
        },
    }


@pytest.mark.parametrize(
    ("body", "decoded"),
    [
        (b'{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"1"}}', None),
        (b"", {}),
        (b"null", {}),
        (b"1: one\ntrue: yes\n", {"1": "one", "true": True}),
    ],
)
def test_json_empty_and_odd_keys(body: bytes, decoded: Any) -> None:
    expected = (
        decoded
        if decoded is not None
        else {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}}
    )
    assert parse_apply_body(body) == expected


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"a: b: c",
            "error converting YAML to JSON: yaml: mapping values are not allowed in this context",
        ),
        (
            b"a:\n  - b\n c: d",
            "error converting YAML to JSON: yaml: line 2: did not find expected key",
        ),
        (b"a: .inf", "error converting YAML to JSON: json: unsupported value: +Inf"),
        (
            b"- a\n- b",
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go "
            "value of type map[string]interface {}",
        ),
        (
            b'"text"',
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go "
            "value of type map[string]interface {}",
        ),
    ],
)
def test_bad_bodies(body: bytes, message: str) -> None:
    with pytest.raises(StatusError) as e:
        parse_apply_body(body)
    assert (e.value.code, e.value.reason, e.value.message) == (
        400,
        "BadRequest",
        f"error decoding YAML: {message}",
    )


def test_apply_requires_a_field_manager() -> None:
    with pytest.raises(StatusError) as e:
        validate_patch_options("", None, apply=True)
    assert e.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
        "is required for apply patch",
        "reason": "Invalid",
        "details": {
            "group": "meta.k8s.io",
            "kind": "PatchOptions",
            "causes": [
                {
                    "reason": "FieldValueRequired",
                    "message": "Required value: is required for apply patch",
                    "field": "fieldManager",
                }
            ],
        },
        "code": 422,
    }


@pytest.mark.parametrize(
    ("field_manager", "force", "is_apply", "message"),
    [
        (
            "m",
            False,
            False,
            'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be '
            "specified for non-apply patch",
        ),
        (
            "x" * 129,
            None,
            True,
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Too long: '
            "may not be more than 128 bytes",
        ),
        (
            "a\x01",
            True,
            True,
            'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: '
            '"a\\x01": invalid character U+0001 (at position 1)',
        ),
    ],
)
def test_patch_options(
    field_manager: str, force: bool | None, is_apply: bool, message: str
) -> None:
    with pytest.raises(StatusError) as e:
        validate_patch_options(field_manager, force, apply=is_apply)
    assert e.value.message == message


def test_valid_options() -> None:
    validate_patch_options("kubectl", True, apply=True)
    validate_patch_options("", None, apply=False)
    validate_write_options("CreateOptions", "kubectl-create")
    with pytest.raises(StatusError) as e:
        validate_write_options("UpdateOptions", "x" * 200)
    assert e.value.message.startswith('UpdateOptions.meta.k8s.io "" is invalid: fieldManager')


@pytest.mark.parametrize(
    ("field_manager", "user_agent", "manager"),
    [
        ("kubectl-create", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl-create"),
        ("", "kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9", "kubectl"),
        ("", "OpenAPI-Generator/31.0.0/python", "OpenAPI-Generator"),
        ("", "kube-controller-manager/v1.32.0 (linux/amd64)", "kube-controller-manager"),
        ("", "odd\tagent", "oddagent"),
        ("", "é" * 100, "é" * 64),
        ("", "", ""),
    ],
)
def test_manager_or_user_agent(field_manager: str, user_agent: str, manager: str) -> None:
    assert manager_or_user_agent(field_manager, user_agent) == manager
