"""Field paths and field errors print exactly as Kubernetes' `field` package prints them."""

from __future__ import annotations

import pytest

from kybernetes.api.validation.errors import (
    ErrorType,
    FieldError,
    FieldPath,
    Printed,
    aggregate_message,
    duplicate,
    forbidden,
    format_value,
    go_quote,
    internal_error,
    invalid,
    not_found,
    not_supported,
    required,
    too_long,
    too_many,
    type_invalid,
)
from kybernetes.api.validation.names import is_dns1123_subdomain


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FieldPath("metadata", "name"), "metadata.name"),
        (FieldPath("spec").child("containers").index(0).child("image"), "spec.containers[0].image"),
        (FieldPath("metadata").child("labels").key("app"), "metadata.labels[app]"),
        (FieldPath("a").child("b", "c"), "a.b.c"),
        (FieldPath.of("spec", "containers", 2, "ports", 0), "spec.containers[2].ports[0]"),
        (FieldPath(), "<nil>"),
        (FieldPath().child("key"), "key"),
        (FieldPath().child("values").index(0).key("x"), "values[0][x]"),
        (FieldPath().index(3), "[3]"),
    ],
)
def test_path_rendering(path: FieldPath, expected: str) -> None:
    assert str(path) == expected


def test_paths_are_values() -> None:
    root = FieldPath("spec")
    assert root.child("a") == FieldPath("spec", "a")
    assert hash(root.child("a")) == hash(FieldPath("spec", "a"))
    assert str(root) == "spec"  # extending does not mutate


SUBDOMAIN_DETAIL = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex "
    r"used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
NAME = FieldPath("metadata", "name")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            invalid(NAME, "Foo_bar", is_dns1123_subdomain("Foo_bar")[0]),
            f'metadata.name: Invalid value: "Foo_bar": {SUBDOMAIN_DETAIL}',
        ),
        (
            required(NAME, "name or generateName is required"),
            "metadata.name: Required value: name or generateName is required",
        ),
        (required(FieldPath("metadata", "namespace")), "metadata.namespace: Required value"),
        (
            forbidden(FieldPath("metadata", "namespace"), "not allowed on this type"),
            "metadata.namespace: Forbidden: not allowed on this type",
        ),
        (
            not_supported(
                FieldPath("spec", "restartPolicy"), "Sometimes", ["Always", "OnFailure", "Never"]
            ),
            'spec.restartPolicy: Unsupported value: "Sometimes": '
            'supported values: "Always", "OnFailure", "Never"',
        ),
        (not_supported(FieldPath("x"), "y", []), 'x: Unsupported value: "y"'),
        (
            too_long(FieldPath("metadata", "annotations"), 262144),
            "metadata.annotations: Too long: may not be more than 262144 bytes",
        ),
        (too_long(FieldPath("x"), -1), "x: Too long: value is too long"),
        (too_many(FieldPath("x"), 5, 4), "x: Too many: 5: must have at most 4 items"),
        (too_many(FieldPath("x"), -1, 4), "x: Too many: must have at most 4 items"),
        (too_many(FieldPath("x"), 5, -1), "x: Too many: 5: has too many items"),
        (
            duplicate(FieldPath.of("spec", "containers", 1, "name"), "web"),
            'spec.containers[1].name: Duplicate value: "web"',
        ),
        (not_found(FieldPath("spec", "volumeName"), "pv1"), 'spec.volumeName: Not found: "pv1"'),
        (internal_error(FieldPath("x"), RuntimeError("boom")), "x: Internal error: boom"),
        (
            type_invalid(FieldPath("spec", "replicas"), "two", "must be of type integer"),
            'spec.replicas: Invalid value: "two": must be of type integer',
        ),
        (
            invalid(FieldPath("spec", "replicas"), -1, "must be greater than or equal to 0"),
            "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        ),
        (invalid(FieldPath("x"), None, "bad"), "x: Invalid value: null: bad"),
        (invalid(FieldPath("x"), "v", ""), 'x: Invalid value: "v"'),
    ],
)
def test_error_message(error: FieldError, expected: str) -> None:
    assert str(error) == expected


def test_cause_is_a_status_cause() -> None:
    error = invalid(NAME, "Foo_bar", "bad name")
    assert error.cause() == {
        "reason": "FieldValueInvalid",
        "message": 'Invalid value: "Foo_bar": bad name',
        "field": "metadata.name",
    }
    assert required(NAME).cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "metadata.name",
    }


@pytest.mark.parametrize(
    ("error_type", "message"),
    [
        (ErrorType.NOT_FOUND, "Not found"),
        (ErrorType.REQUIRED, "Required value"),
        (ErrorType.DUPLICATE, "Duplicate value"),
        (ErrorType.INVALID, "Invalid value"),
        (ErrorType.NOT_SUPPORTED, "Unsupported value"),
        (ErrorType.FORBIDDEN, "Forbidden"),
        (ErrorType.TOO_LONG, "Too long"),
        (ErrorType.TOO_MANY, "Too many"),
        (ErrorType.INTERNAL, "Internal error"),
        (ErrorType.TYPE_INVALID, "Invalid value"),
    ],
)
def test_error_type_messages(error_type: ErrorType, message: str) -> None:
    assert error_type.message == message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        (5, "5"),
        (-1, "-1"),
        (True, "true"),
        (None, "null"),
        (1.5, "1.5"),
        (100000.0, "100000"),
        (1e6, "1e+06"),
        (1.5e-7, "1.5e-07"),
        (0.0001, "0.0001"),
        (float("inf"), "+Inf"),
        (["a", "b"], '[]string{"a", "b"}'),
        ([], "[]string(nil)"),
        ({"b": "2", "a": "1"}, '{"a":"1","b":"2"}'),
        ({"kind": "Event", "n": 1}, '{"kind":"Event","n":1}'),
        (Printed("2024-01-02 00:00:00 +0000 UTC"), "2024-01-02 00:00:00 +0000 UTC"),
    ],
)
def test_format_value(value: object, expected: str) -> None:
    assert format_value(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abc", '"abc"'),
        ('a"b', r'"a\"b"'),
        ("a\\b", r'"a\\b"'),
        ("tab\there\n", r'"tab\there\n"'),
        ("\x00\x7f", r'"\x00\x7f"'),
        ("rā é 😀", '"rā é 😀"'),
        ("\u00ad\u2028", r'"\u00ad\u2028"'),
    ],
)
def test_go_quote(text: str, expected: str) -> None:
    assert go_quote(text) == expected


def test_aggregate_message() -> None:
    first = required(FieldPath("a"))
    second = invalid(FieldPath("b"), "x", "bad")
    assert aggregate_message([]) == ""
    assert aggregate_message([first]) == "a: Required value"
    assert aggregate_message([first, second, first]) == (
        '[a: Required value, b: Invalid value: "x": bad]'
    )
