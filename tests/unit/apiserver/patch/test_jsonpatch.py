"""JSON patch (RFC 6902) as kube-apiserver applies it: the RFC's examples, the ways
evanphx/json-patch v4 departs from the RFC, and kube-apiserver's error answers."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.patch import JSON_PATCH, apply_patch
from kybernetes.apiserver.status import StatusError

CONFIG_MAP = SchemaNode.for_kind("", "v1", "ConfigMap")
REJECTED = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "message": "the server rejected our request due to an error in our request",
    "reason": "Invalid",
    "details": {},
    "code": 422,
}


def patch(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    return apply_patch(JSON_PATCH, document, json.dumps(operations).encode(), CONFIG_MAP)


def rejected(document: dict[str, Any], operations: Any) -> StatusError:
    with pytest.raises(StatusError) as e:
        patch(document, operations)
    return e.value


# RFC 6902 appendix A (the documents are objects, as Kubernetes objects are).
RFC_EXAMPLES = [
    (  # A.1 adding an object member
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux"}],
        {"baz": "qux", "foo": "bar"},
    ),
    (  # A.2 adding an array element
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    (  # A.3 removing an object member
        {"baz": "qux", "foo": "bar"},
        [{"op": "remove", "path": "/baz"}],
        {"foo": "bar"},
    ),
    (  # A.4 removing an array element
        {"foo": ["bar", "qux", "baz"]},
        [{"op": "remove", "path": "/foo/1"}],
        {"foo": ["bar", "baz"]},
    ),
    (  # A.5 replacing a value
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    (  # A.6 moving a value
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    (  # A.7 moving an array element
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    (  # A.8 testing a value: success
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    (  # A.10 adding a nested member object
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    (  # A.11 ignoring unrecognized elements
        {"foo": "bar"},
        [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
        {"foo": "bar", "baz": "qux"},
    ),
    (  # A.14 ~ escape ordering
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
    ),
    (  # A.16 adding an array value
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    (  # copy
        {"a": {"b": [1]}},
        [{"op": "copy", "from": "/a/b", "path": "/c"}],
        {"a": {"b": [1]}, "c": [1]},
    ),
]


@pytest.mark.parametrize(("document", "operations", "expected"), RFC_EXAMPLES)
def test_rfc6902_examples(document: dict[str, Any], operations: Any, expected: Any) -> None:
    assert patch(document, operations) == expected


@pytest.mark.parametrize(
    ("document", "operations"),
    [
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),  # A.9
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),  # A.12
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),  # A.15
        ({"a": 1}, [{"op": "test", "path": "/a", "value": 1.0}]),  # numbers compare as JSON
        ({"a": 1}, [{"op": "test", "path": "/a", "value": True}]),
        ({"a": {"b": 1}}, [{"op": "test", "path": "/a", "value": {"b": 1, "c": 2}}]),
        ({"a": 1}, [{"op": "remove", "path": "/b"}]),
        ({"a": [1]}, [{"op": "remove", "path": "/a/1"}]),
        ({"a": [1]}, [{"op": "replace", "path": "/a/1", "value": 2}]),
        ({"a": [1]}, [{"op": "add", "path": "/a/2", "value": 2}]),
        ({"a": 1}, [{"op": "move", "from": "/b", "path": "/c"}]),
        ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/c"}]),
        ({"a": 1}, [{"op": "frobnicate", "path": "/a"}]),
        ({"a": 1}, [{"path": "/a", "value": 2}]),
        ({"a": 1}, [{"op": "add", "value": 2}]),
        ({"a": 1}, [{"op": "copy", "path": "/b"}]),
        ({"a": 1}, [None]),
        ({"a": 1}, [{"op": "add", "path": "", "value": {}}]),  # evanphx cannot add the root
        ({"a": 1}, [{"op": "replace", "path": "", "value": 3}]),
        # an operation fails after others applied: nothing is kept
        ({"a": 1}, [{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/c"}]),
    ],
)
def test_operations_that_do_not_apply_are_422(document: dict[str, Any], operations: Any) -> None:
    original = json.loads(json.dumps(document))
    assert rejected(document, operations).status() == REJECTED
    assert document == original


# Where kube-apiserver's evanphx/json-patch v4 departs from the RFC.
EVANPHX = [
    (  # replacing an absent member adds it
        {"metadata": {"name": "x"}},
        [{"op": "replace", "path": "/metadata/labels", "value": {"a": "b"}}],
        {"metadata": {"name": "x", "labels": {"a": "b"}}},
    ),
    (  # a missing value is null
        {"a": 1},
        [{"op": "add", "path": "/b"}, {"op": "replace", "path": "/a"}],
        {"a": None, "b": None},
    ),
    (  # testing an absent member, or a null, for null passes
        {"a": None},
        [
            {"op": "test", "path": "/a", "value": None},
            {"op": "test", "path": "/b", "value": None},
            {"op": "test", "path": "/c"},
        ],
        {"a": None},
    ),
    (  # copying an absent member copies null
        {"a": 1},
        [{"op": "copy", "from": "/b", "path": "/c"}],
        {"a": 1, "c": None},
    ),
    (  # the whole document can be tested and replaced by an object
        {"a": 1},
        [
            {"op": "test", "path": "", "value": {"a": 1}},
            {"op": "replace", "path": "", "value": {"b": 2}},
        ],
        {"b": 2},
    ),
    (  # null tests equal to an empty object or array
        {"a": {}, "b": []},
        [{"op": "test", "path": "/a", "value": None}, {"op": "test", "path": "/b", "value": None}],
        {"a": {}, "b": []},
    ),
]


@pytest.mark.parametrize(("document", "operations", "expected"), EVANPHX)
def test_evanphx_semantics(document: dict[str, Any], operations: Any, expected: Any) -> None:
    assert patch(document, operations) == expected


@pytest.mark.parametrize("body", [b"[]", b"null"])
def test_empty_patch_changes_nothing(body: bytes) -> None:
    assert apply_patch(JSON_PATCH, {"a": 1}, body, CONFIG_MAP) == {"a": 1}


def test_kubectl_docs_example() -> None:
    deployment = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "nginx"}]}}}}
    operations = [
        {"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "nginx:1.27"},
        {
            "op": "add",
            "path": "/spec/template/spec/containers/-",
            "value": {"name": "b", "image": "redis"},
        },
    ]
    assert patch(deployment, operations)["spec"]["template"]["spec"]["containers"] == [
        {"name": "a", "image": "nginx:1.27"},
        {"name": "b", "image": "redis"},
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{}", "json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"),
        (b'"add"', "json: cannot unmarshal string into Go value of type []handlers.jsonPatchOp"),
        (b"[1]", "json: cannot unmarshal number into Go value of type handlers.jsonPatchOp"),
        (b"[[]]", "json: cannot unmarshal array into Go value of type handlers.jsonPatchOp"),
        (
            b'[{"op":"add","path":"/a","value":1},{"op":true}]',
            "json: cannot unmarshal bool into Go struct field jsonPatchOp.op of type string",
        ),
        (
            b'[{"op":"add","path":{}}]',
            "json: cannot unmarshal object into Go struct field jsonPatchOp.path of type string",
        ),
        (
            b'[{"op":"move","path":"/b","from":1}]',
            "json: cannot unmarshal number into Go struct field jsonPatchOp.from of type string",
        ),
    ],
)
def test_patch_that_is_not_a_list_of_operations_is_400(body: bytes, message: str) -> None:
    with pytest.raises(StatusError) as e:
        apply_patch(JSON_PATCH, {"a": 1}, body, CONFIG_MAP)
    assert (e.value.code, e.value.reason) == (400, "BadRequest")
    assert e.value.message == "error decoding patch: " + message


def test_too_many_operations_is_413() -> None:
    operations = [{"op": "test", "path": "/a", "value": 1}] * 10001
    error = rejected({"a": 1}, operations)
    assert (error.code, error.reason) == (413, "RequestEntityTooLarge")
    assert error.message == (
        "Request entity too large: The allowed maximum operations in a JSON patch is 10000, "
        "got 10001"
    )
    assert patch({"a": 1}, operations[:10000]) == {"a": 1}


def test_replacing_the_document_by_an_array_is_invalid() -> None:
    error = rejected({"a": 1}, [{"op": "replace", "path": "", "value": ["x"]}])
    detail = (
        "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go "
        'value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; '
        'Kind string "json:\\"kind,omitempty\\"" }'
    )
    body = 'Invalid value: "[\\"x\\"]": ' + detail
    assert error.status() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": ' "" is invalid: patch: ' + body,
        "reason": "Invalid",
        "details": {"causes": [{"reason": "FieldValueInvalid", "message": body, "field": "patch"}]},
        "code": 422,
    }
