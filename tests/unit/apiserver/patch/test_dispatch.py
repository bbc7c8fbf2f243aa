"""Content-type negotiation, body decoding with Go's wording, and copy semantics of
`apply_patch`, across the three merge-style patch types."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.patch import (
    APPLY_PATCH,
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    patch_type,
)
from kybernetes.apiserver.status import StatusError

POD = SchemaNode.for_kind("", "v1", "Pod")
CUSTOM = SchemaNode.from_crd_schema(
    {
        "type": "object",
        "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
    }
)
BUILTIN_TYPES = (
    "application/json-patch+json, application/merge-patch+json, "
    "application/strategic-merge-patch+json, application/apply-patch+yaml"
)
CUSTOM_TYPES = (
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
)
UNKNOWN_FORMAT = "the body of the request was in an unknown format - accepted media types include: "


def pod() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "containers": [{"name": "app", "image": "nginx", "env": [{"name": "A", "value": "1"}]}]
        },
    }


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/merge-patch+json", MERGE_PATCH),
        ("application/merge-patch+json; charset=utf-8", MERGE_PATCH),
        ("application/json-patch+json;charset=UTF-8", JSON_PATCH),
        ("application/strategic-merge-patch+json", STRATEGIC_MERGE_PATCH),
        ("application/apply-patch+yaml", APPLY_PATCH),
    ],
)
def test_accepted_content_types(content_type: str, expected: str) -> None:
    assert patch_type(content_type, POD) == expected


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "",
        "Application/Merge-Patch+json",  # no case folding
        " application/merge-patch+json",  # no trimming
        "application/merge-patch+json ; charset=utf-8",  # the space stays in the type
        ";application/merge-patch+json",  # a leading ";" starts no parameters
        "application/apply-patch+cbor",
    ],
)
def test_unknown_content_type_is_415(content_type: str) -> None:
    with pytest.raises(StatusError) as e:
        apply_patch(content_type, pod(), b"{}", POD)
    assert e.value.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": UNKNOWN_FORMAT + BUILTIN_TYPES,
        "reason": "UnsupportedMediaType",
        "code": 415,
    }


@pytest.mark.parametrize("schema", [CUSTOM, None])
def test_custom_resources_refuse_strategic_merge_patch(schema: SchemaNode | None) -> None:
    with pytest.raises(StatusError) as e:
        apply_patch(STRATEGIC_MERGE_PATCH, {"kind": "Widget"}, b"{}", schema)
    assert (e.value.code, e.value.reason) == (415, "UnsupportedMediaType")
    assert e.value.message == UNKNOWN_FORMAT + CUSTOM_TYPES


def test_custom_resources_take_merge_and_json_patches() -> None:
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"size": 1, "tags": ["a"]}}
    merged = apply_patch(MERGE_PATCH, widget, b'{"spec":{"tags":["b"]}}', CUSTOM)
    assert merged["spec"] == {"size": 1, "tags": ["b"]}
    patched = apply_patch(
        JSON_PATCH, widget, b'[{"op":"replace","path":"/spec/size","value":2}]', CUSTOM
    )
    assert patched["spec"] == {"size": 2, "tags": ["a"]}


def test_server_side_apply_is_not_applied_here() -> None:
    with pytest.raises(ValueError, match="server-side apply"):
        apply_patch(APPLY_PATCH, pod(), b"{}", POD)


PATCHES = [
    (JSON_PATCH, b'[{"op":"add","path":"/metadata/labels/tier","value":"front"}]'),
    (MERGE_PATCH, b'{"metadata":{"labels":{"tier":"front"}},"spec":{"containers":[{"name":"x"}]}}'),
    (
        STRATEGIC_MERGE_PATCH,
        b'{"metadata":{"labels":{"tier":"front"}},"spec":{"containers":[{"name":"app","image":"v2"}]}}',
    ),
]


@pytest.mark.parametrize(("content_type", "body"), PATCHES)
def test_original_is_never_mutated_nor_shared(content_type: str, body: bytes) -> None:
    original = pod()
    before = copy.deepcopy(original)
    result = apply_patch(content_type, original, body, POD)
    assert original == before
    assert result["metadata"]["labels"]["tier"] == "front"
    result["metadata"]["labels"]["app"] = "changed"
    result["spec"]["containers"][0]["env"] = []
    assert original == before


# Go's encoding/json syntax errors, as kube-apiserver returns them.
SYNTAX = [
    (b"", "unexpected end of JSON input"),
    (b"{", "unexpected end of JSON input"),
    (b'{"a":"b', "unexpected end of JSON input"),
    (b"  ", "unexpected end of JSON input"),
    (b"tru", "invalid character ' ' in literal true (expecting 'e')"),
    (b"nul", "invalid character ' ' in literal null (expecting 'l')"),
    (b"fxlse", "invalid character 'x' in literal false (expecting 'a')"),
    (b"1.", "invalid character ' ' after decimal point in numeric literal"),
    (b"-", "invalid character ' ' in numeric literal"),
    (b"-x", "invalid character 'x' in numeric literal"),
    (b"1e+", "invalid character ' ' in exponent of numeric literal"),
    (b"01", "invalid character '1' after top-level value"),
    (b"{} {}", "invalid character '{' after top-level value"),
    (b"NaN", "invalid character 'N' looking for beginning of value"),
    (b"-Infinity", "invalid character 'I' in numeric literal"),
    (b"'a'", "invalid character '\\'' looking for beginning of value"),
    (b"[1,]", "invalid character ']' looking for beginning of value"),
    (b"[1 2]", "invalid character '2' after array element"),
    (b'{"a":1,}', "invalid character '}' looking for beginning of object key string"),
    (b"{a:1}", "invalid character 'a' looking for beginning of object key string"),
    (b'{"a" 1}', "invalid character '1' after object key"),
    (b'{"a":1 "b":2}', "invalid character '\"' after object key:value pair"),
    (b'"\\x"', "invalid character 'x' in string escape code"),
    (b'"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"),
    (b'"a\nb"', "invalid character '\\n' in string literal"),
    (b"\xef\xbb\xbf{}", "invalid character 'ï' looking for beginning of value"),
    (b"[" * 10001, "invalid character '[' exceeded max depth"),
]


@pytest.mark.parametrize(("body", "message"), SYNTAX)
def test_syntax_errors_are_worded_as_go(body: bytes, message: str) -> None:
    for content_type, prefix in [
        (JSON_PATCH, "error decoding patch: "),
        (MERGE_PATCH, "error decoding patch: "),
        (STRATEGIC_MERGE_PATCH, ""),
    ]:
        with pytest.raises(StatusError) as e:
            apply_patch(content_type, pod(), body, POD)
        assert (e.value.code, e.value.reason, e.value.message) == (
            400,
            "BadRequest",
            prefix + message,
        )


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        (
            MERGE_PATCH,
            b"[]",
            "error decoding patch: json: cannot unmarshal array into Go value of type "
            "map[string]interface {}",
        ),
        (
            STRATEGIC_MERGE_PATCH,
            b'"x"',
            "json: cannot unmarshal string into Go value of type map[string]interface {}",
        ),
        (
            STRATEGIC_MERGE_PATCH,
            b"3",
            "json: cannot unmarshal number into Go value of type map[string]interface {}",
        ),
        (MERGE_PATCH, b"null", "Invalid JSON Patch"),
    ],
)
def test_patches_that_are_not_objects(content_type: str, body: bytes, message: str) -> None:
    with pytest.raises(StatusError) as e:
        apply_patch(content_type, pod(), body, POD)
    assert (e.value.code, e.value.message) == (400, message)


def test_null_strategic_patch_changes_nothing() -> None:
    assert apply_patch(STRATEGIC_MERGE_PATCH, pod(), b"null", POD) == pod()


def test_strings_decode_as_go_does() -> None:
    body = b'{"metadata":{"annotations":{"a":"\\ud800x","b":"\\ud83d\\ude00","c":"\xff"}}}'
    result = apply_patch(MERGE_PATCH, pod(), body, POD)
    assert result["metadata"]["annotations"] == {"a": "\ufffdx", "b": "\U0001f600", "c": "\ufffd"}
