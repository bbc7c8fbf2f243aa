"""Field paths, field sets and the FieldsV1 encoding: round trips of what
kube-apiserver writes, element order, set algebra and malformed input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kybernetes.apiserver.apply.fieldpath import (
    FieldSet,
    FieldsV1Error,
    field,
    indexed,
    keyed,
    make_path,
    path_string,
    serialize_element,
    valued,
)

CONTAINER = keyed({"name": "c"})
PORT = keyed({"containerPort": 80, "protocol": "TCP"})

ROUND_TRIPS = [
    # kubectl apply of a Deployment-like object
    '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":'
    '{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{}}}}}',
    # a set (finalizers) and a map owned both as a whole and by its keys
    '{"f:metadata":{"f:finalizers":{".":{},"v:\\"a.example.com/x\\"":{}},'
    '"f:labels":{".":{},"f:app":{},"f:tier":{}}}}',
    # a multi-key associative list, keys sorted by name
    '{"f:spec":{"f:ports":{"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":'
    '{".":{},"f:containerPort":{},"f:name":{}}}}}',
    # items of an atomic list inside an atomic value, set values of every type
    '{"f:a":{"i:0":{},"i:2":{}},"f:b":{"v:1":{},"v:2.5":{},"v:\\"x\\"":{},"v:true":{}}}',
]


@pytest.mark.parametrize("encoded", ROUND_TRIPS)
def test_fields_v1_round_trip(encoded: str) -> None:
    decoded = FieldSet.from_fields_v1(json.loads(encoded))
    assert json.dumps(decoded.to_fields_v1(), separators=(",", ":")) == encoded


def test_decoded_members_and_children() -> None:
    fields = FieldSet.from_fields_v1(json.loads(ROUND_TRIPS[0]))
    containers = make_path("spec", "containers")
    assert list(fields.paths()) == [
        make_path("metadata", "labels", "app"),  # labels is owned through its keys only
        (*containers, CONTAINER),  # "." makes the item itself a member
        (*containers, CONTAINER, field("image")),
    ]


@pytest.mark.parametrize(
    ("element", "encoded", "printed"),
    [
        (field("replicas"), "f:replicas", ".replicas"),
        (CONTAINER, 'k:{"name":"c"}', '[name="c"]'),
        (PORT, 'k:{"containerPort":80,"protocol":"TCP"}', '[containerPort=80,protocol="TCP"]'),
        (valued("x"), 'v:"x"', '[="x"]'),
        (valued(3), "v:3", "[=3]"),
        (indexed(2), "i:2", "[2]"),
        (valued("<b>&"), r'v:"\u003cb\u003e\u0026"', '[="<b>&"]'),  # Go escapes HTML
    ],
)
def test_element_forms(element: Any, encoded: str, printed: str) -> None:
    assert serialize_element(element) == encoded
    assert path_string((element,)) == printed


def test_elements_sort_fields_keys_values_indices() -> None:
    elements = [indexed(0), valued("a"), valued(1), keyed({"name": "b"}), field("z"), field("a")]
    fields = FieldSet.of(*((e,) for e in elements))
    assert list(fields.to_fields_v1()) == ["f:a", "f:z", 'k:{"name":"b"}', "v:1", 'v:"a"', "i:0"]


def test_ints_and_floats_of_equal_value_are_one_element() -> None:
    assert valued(1) == valued(1.0)
    assert valued(True) != valued(1)
    assert keyed({"port": 80}) == keyed({"port": 80.0})


A = make_path("spec", "a")
B = make_path("spec", "b")
SPEC = make_path("spec")


@pytest.mark.parametrize(
    ("left", "right", "operation", "expected"),
    [
        ([A], [B], "union", [A, B]),
        ([A, B], [B], "intersection", [B]),
        ([A, B], [B], "difference", [A]),
        ([SPEC, A], [SPEC], "difference", [A]),  # a parent minus its child stays
        ([A], [SPEC], "difference", [A]),  # leaf-wise: a child minus its parent stays
        ([A, B], [SPEC], "recursive_difference", []),  # ... unless removed recursively
        ([A], [A], "difference", []),
    ],
)
def test_set_algebra(left: Any, right: Any, operation: str, expected: Any) -> None:
    result = getattr(FieldSet.of(*left), operation)(FieldSet.of(*right))
    assert result == FieldSet.of(*expected)
    assert sorted(result.paths()) == sorted(expected)


def test_results_never_hold_empty_children() -> None:
    result = FieldSet.of(A).difference(FieldSet.of(A))
    assert result.empty()
    assert result.to_fields_v1() == {}


def test_paths_are_members_first_then_children_in_order() -> None:
    fields = FieldSet.of(make_path("b", "x"), make_path("c"), make_path("a", "y"), make_path("d"))
    assert [path_string(p) for p in fields.paths()] == [".c", ".d", ".a.y", ".b.x"]


def test_null_and_unknown_element_types() -> None:
    assert FieldSet.from_fields_v1(None).empty()
    decoded = FieldSet.from_fields_v1({"f:a": None, "x:future": {}, "f:b": {"x:y": {}}})
    assert decoded == FieldSet.of(make_path("a"), make_path("b"))


@pytest.mark.parametrize(
    ("encoded", "message"),
    [
        ({"f": {}}, "key must be 2 characters long:"),
        ({"fx": {}}, "missing colon: fx"),
        ({"f:a": 1}, "ReadMapCB: expect { or n, but found 1"),
        ({"k:[1]": {}}, "expected an object"),
        ({"v:{": {}}, "parsing key as path element"),
        ({"i:x": {}}, 'strconv.Atoi: parsing "x": invalid syntax'),
    ],
)
def test_malformed_fields_v1(encoded: Any, message: str) -> None:
    with pytest.raises(FieldsV1Error, match=message.replace("[", r"\[")):
        FieldSet.from_fields_v1(encoded)
