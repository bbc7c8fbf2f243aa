"""ObjectMeta validation on create and update: Kubernetes' rules, paths and wording."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation.errors import FieldPath
from kybernetes.api.validation.metadata import (
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)
from kybernetes.api.validation.names import (
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)

NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
    "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)
LABEL_1123 = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
SUBDOMAIN_1123 = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    r"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
OWNER = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1"}


def create_errors(meta: dict[str, Any], namespaced: bool = True) -> list[str]:
    return [str(e) for e in validate_object_meta(meta, namespaced, name_is_dns_subdomain)]


@pytest.mark.parametrize(
    "meta",
    [
        {"name": "web", "namespace": "default"},
        {"name": "web.example.com", "namespace": "kube-system", "generateName": "web-"},
        {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "example.com/tier": "", "Uppercase_OK": "V.1"},
            "annotations": {"Example.COM/Note": "anything goes here", "a": "b" * 1000},
            "ownerReferences": [OWNER, {**OWNER, "uid": "u2", "controller": True}],
            "finalizers": ["kubernetes", "example.com/cleanup", "foregroundDeletion"],
            "generation": 3,
            "managedFields": [
                {"manager": "kubectl", "operation": "Apply", "fieldsType": "FieldsV1"}
            ],
        },
    ],
)
def test_valid_metadata(meta: dict[str, Any]) -> None:
    assert create_errors(meta) == []


@pytest.mark.parametrize(
    ("meta", "namespaced", "expected"),
    [
        (
            {"namespace": "default"},
            True,
            ["metadata.name: Required value: name or generateName is required"],
        ),
        (
            {"name": "Foo_bar", "namespace": "default"},
            True,
            [f'metadata.name: Invalid value: "Foo_bar": {SUBDOMAIN_1123}'],
        ),
        (
            {"name": "web-abcde", "generateName": "Web-", "namespace": "default"},
            True,
            [f'metadata.generateName: Invalid value: "Web-": {SUBDOMAIN_1123}'],
        ),
        ({"name": "web"}, True, ["metadata.namespace: Required value"]),
        (
            {"name": "web", "namespace": "foo.bar"},
            True,
            [f'metadata.namespace: Invalid value: "foo.bar": {LABEL_1123}'],
        ),
        (
            {"name": "web", "namespace": "default"},
            False,
            ["metadata.namespace: Forbidden: not allowed on this type"],
        ),
        (
            {"name": "web", "namespace": "default", "generation": -1},
            True,
            ["metadata.generation: Invalid value: -1: must be greater than or equal to 0"],
        ),
        (
            {"name": "web", "namespace": "default", "labels": {"Foo_": "-bar"}},
            True,
            [
                f'metadata.labels: Invalid value: "Foo_": {NAME_PART}',
                f'metadata.labels: Invalid value: "-bar": {LABEL_VALUE}',
            ],
        ),
        (
            {"name": "web", "namespace": "default", "annotations": {"a/b/c": "x"}},
            True,
            [
                'metadata.annotations: Invalid value: "a/b/c": a qualified name must consist of '
                "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an "
                "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ],
        ),
        (
            {
                "name": "web",
                "namespace": "default",
                "annotations": {"a": "x" * (256 * 1024 - 1), "b": ""},
            },
            True,
            ["metadata.annotations: Too long: may not be more than 262144 bytes"],
        ),
        (
            {"name": "web", "namespace": "default", "finalizers": ["bad_"]},
            True,
            [f'metadata.finalizers: Invalid value: "bad_": {NAME_PART}'],
        ),
        (
            {"name": "web", "namespace": "default", "finalizers": ["orphan", "foregroundDeletion"]},
            True,
            [
                'metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: '
                "finalizer orphan and foregroundDeletion cannot be both set"
            ],
        ),
        (
            {"name": "web", "namespace": "default", "ownerReferences": [{"apiVersion": "v1"}]},
            True,
            [
                'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
                'metadata.ownerReferences.name: Invalid value: "": must not be empty',
                'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
            ],
        ),
        (
            {
                "name": "web",
                "namespace": "default",
                "ownerReferences": [{**OWNER, "apiVersion": "apps/"}],
            },
            True,
            [
                'metadata.ownerReferences.apiVersion: Invalid value: "apps/": '
                "version must not be empty"
            ],
        ),
        (
            {
                "name": "web",
                "namespace": "default",
                "ownerReferences": [{"apiVersion": "v1", "kind": "Event", "name": "e", "uid": "u"}],
            },
            True,
            [
                "metadata.ownerReferences: Invalid value: "
                '{"apiVersion":"v1","kind":"Event","name":"e","uid":"u"}: '
                "/v1, Kind=Event is disallowed from being an owner"
            ],
        ),
        (
            {
                "name": "web",
                "namespace": "default",
                "managedFields": [{"manager": "x\x07", "operation": "Patch", "fieldsType": "V2"}],
            },
            True,
            [
                'metadata.managedFields[0].operation: Invalid value: "Patch": '
                "must be `Apply` or `Update`",
                'metadata.managedFields[0].fieldsType: Invalid value: "V2": must be `FieldsV1`',
                'metadata.managedFields[0].manager: Invalid value: "x\\a": '
                "invalid character U+0007 (at position 1)",
            ],
        ),
        (
            {
                "name": "web",
                "namespace": "default",
                "managedFields": [{"operation": "Update", "manager": "m" * 129}],
            },
            True,
            ["metadata.managedFields[0].manager: Too long: may not be more than 128 bytes"],
        ),
    ],
)
def test_invalid_metadata(meta: dict[str, Any], namespaced: bool, expected: list[str]) -> None:
    assert create_errors(meta, namespaced) == expected


def test_two_controllers() -> None:
    refs = [{**OWNER, "controller": True}, {**OWNER, "kind": "Job", "controller": True}]
    (error,) = validate_object_meta(
        {"name": "p", "namespace": "d", "ownerReferences": refs}, True, name_is_dns_subdomain
    )
    assert error.field == "metadata.ownerReferences"
    assert error.detail == (
        'Only one reference can have Controller set to true. Found "true" in references for '
        "ReplicaSet/rs and Job/rs"
    )


@pytest.mark.parametrize(
    ("validator", "name", "ok"),
    [(name_is_dns_label, "my.ns", False), (name_is_dns1035_label, "1svc", False)],
)
def test_kind_specific_name_rule(validator: Any, name: str, ok: bool) -> None:
    assert (validate_object_meta({"name": name}, False, validator) == []) is ok


def test_custom_root_path() -> None:
    (error,) = validate_object_meta({}, False, name_is_dns_subdomain, FieldPath("items").index(2))
    assert error.field == "items[2].name"


OLD = {
    "name": "web",
    "namespace": "default",
    "uid": "u1",
    "resourceVersion": "5",
    "generation": 2,
    "creationTimestamp": "2024-01-01T00:00:00Z",
    "finalizers": ["a"],
}


def update_errors(new: dict[str, Any], old: dict[str, Any] = OLD) -> list[str]:
    return [str(e) for e in validate_object_meta_update(new, old)]


def test_unchanged_update_is_valid() -> None:
    assert update_errors(dict(OLD)) == []
    # The same instant, spelled differently, is not a change.
    assert update_errors({**OLD, "creationTimestamp": "2024-01-01T00:00:00+00:00"}) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": "web2"}, ['metadata.name: Invalid value: "web2": field is immutable']),
        (
            {"namespace": "other"},
            ['metadata.namespace: Invalid value: "other": field is immutable'],
        ),
        ({"uid": "u2"}, ['metadata.uid: Invalid value: "u2": field is immutable']),
        (
            {"creationTimestamp": "2024-01-02T03:04:05.5Z"},
            [
                "metadata.creationTimestamp: Invalid value: 2024-01-02 03:04:05.5 +0000 UTC: "
                "field is immutable"
            ],
        ),
        (
            {"deletionTimestamp": "2024-01-02T00:00:00Z"},
            [
                "metadata.deletionTimestamp: Invalid value: 2024-01-02 00:00:00 +0000 UTC: "
                "field is immutable"
            ],
        ),
        (
            {"deletionGracePeriodSeconds": 10},
            ["metadata.deletionGracePeriodSeconds: Invalid value: 10: field is immutable"],
        ),
        (
            {"resourceVersion": ""},
            ['metadata.resourceVersion: Invalid value: "": must be specified for an update'],
        ),
        ({"generation": 1}, ["metadata.generation: Invalid value: 1: must not be decremented"]),
        (
            {"labels": {"a": "-"}},
            [f'metadata.labels: Invalid value: "-": {LABEL_VALUE}'],
        ),
    ],
)
def test_invalid_update(changes: dict[str, Any], expected: list[str]) -> None:
    assert update_errors({**OLD, **changes}) == expected


def test_removed_grace_period_prints_null() -> None:
    old = {**OLD, "deletionGracePeriodSeconds": 30}
    assert update_errors(dict(OLD), old) == [
        "metadata.deletionGracePeriodSeconds: Invalid value: null: field is immutable"
    ]


def test_no_new_finalizers_while_deleting() -> None:
    old = {**OLD, "deletionTimestamp": "2024-02-01T00:00:00Z"}
    new = {**old, "finalizers": ["a", "c", "b"]}
    assert update_errors(new, old) == [
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being "
        'deleted, found new finalizers []string{"b", "c"}'
    ]
    assert update_errors({**old, "finalizers": []}, old) == []  # removing is fine


SELECTOR = FieldPath("spec", "selector")


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, []),
        ({}, []),
        (
            {
                "matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "a", "operator": "Exists"}],
            },
            [],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In"}]},
            [
                "spec.selector.matchExpressions[0].values: Required value: must be specified "
                "when `operator` is 'In' or 'NotIn'"
            ],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "DoesNotExist", "values": ["x"]}]},
            [
                "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when "
                "`operator` is 'Exists' or 'DoesNotExist'"
            ],
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Foo", "values": ["x"]}]},
            [
                'spec.selector.matchExpressions[0].operator: Invalid value: "Foo": '
                "not a valid selector operator"
            ],
        ),
        (
            {"matchExpressions": [{"key": "a_", "operator": "NotIn", "values": ["ok", "-x"]}]},
            [
                f'spec.selector.matchExpressions[0].key: Invalid value: "a_": {NAME_PART}',
                f'spec.selector.matchExpressions[0].values[1]: Invalid value: "-x": {LABEL_VALUE}',
            ],
        ),
        (
            {"matchLabels": {"app": "-web"}},
            [f'spec.selector.matchLabels: Invalid value: "-web": {LABEL_VALUE}'],
        ),
    ],
)
def test_validate_label_selector(selector: dict[str, Any] | None, expected: list[str]) -> None:
    assert [str(e) for e in validate_label_selector(selector, SELECTOR)] == expected


def test_selector_values_may_be_lenient() -> None:
    selector = {"matchExpressions": [{"key": "a", "operator": "In", "values": ["-x"]}]}
    assert validate_label_selector(selector, SELECTOR, allow_invalid_label_value=True) == []
