"""Objects through their schema: field sets, comparison, merge (with
structured-merge-diff's item order), removal and validation of applied
configurations, for built-in kinds, structural schemas and schema-less objects."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.apply.fieldpath import FieldSet, make_path, path_string
from kybernetes.apiserver.apply.typed import (
    MISSING,
    compare,
    merge,
    remove,
    to_field_set,
    validate,
    with_named_fields,
)

POD = SchemaNode.for_kind("", "v1", "Pod")
DEPLOYMENT = SchemaNode.for_kind("apps", "v1", "Deployment")
LISTS = SchemaNode.from_crd_schema(
    {
        "type": "object",
        "properties": {
            "setStr": {
                "type": "array",
                "items": {"type": "string"},
                "x-kubernetes-list-type": "set",
            },
            "list": {
                "type": "array",
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["key", "id"],
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "id": {"type": "integer"},
                        "value": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
            },
            "atomicList": {"type": "array", "items": {"type": "string"}},
            "atomicMap": {
                "type": "object",
                "x-kubernetes-map-type": "atomic",
                "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
            },
            "open": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
)


def paths(fields: FieldSet) -> list[str]:
    return [path_string(p) for p in fields.paths()]


def test_field_set_of_a_pod() -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "labels": {"app": "web"}, "finalizers": ["f"]},
        "spec": {
            "containers": [
                {"name": "c", "image": "i", "ports": [{"containerPort": 80}]},
            ],
            "nodeSelector": {"disk": "ssd"},
            "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
        },
    }
    assert paths(to_field_set(POD, pod)) == [
        ".apiVersion",
        ".kind",
        ".metadata.name",
        '.metadata.finalizers[="f"]',
        ".metadata.labels.app",
        ".spec.nodeSelector",  # atomic
        ".spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution",
        '.spec.containers[name="c"]',
        '.spec.containers[name="c"].image',
        '.spec.containers[name="c"].name',
        '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]',
        '.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]


def test_atomic_values_are_leaves() -> None:
    deployment = {"spec": {"selector": {"matchLabels": {"app": "x"}}}}
    assert paths(to_field_set(DEPLOYMENT, deployment)) == [".spec.selector"]
    value = {"atomicList": ["a", "b"], "atomicMap": {"a": "1"}}
    assert paths(to_field_set(LISTS, value)) == [".atomicList", ".atomicMap"]


def test_without_schema_maps_are_granular_and_lists_atomic() -> None:
    value = {"spec": {"items": [1, 2], "nested": {"a": 1}}}
    assert paths(to_field_set(None, value)) == [
        ".spec",
        ".spec.items",
        ".spec.nested",
        ".spec.nested.a",
    ]


def test_preserved_unknown_fields_are_deduced() -> None:
    assert paths(to_field_set(LISTS, {"open": {"x": {"y": [1]}}})) == [
        ".open.x",
        ".open.x.y",
    ]


def test_compare() -> None:
    old = {"spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "paused": True}}
    new = {"spec": {"replicas": 2, "selector": {"matchLabels": {"a": "c"}}, "minReadySeconds": 5}}
    changes = compare(DEPLOYMENT, old, new)
    assert paths(changes.modified) == [".spec.replicas", ".spec.selector"]
    assert paths(changes.added) == [".spec.minReadySeconds"]
    assert paths(changes.removed) == [".spec.paused"]


def test_compare_marks_added_and_removed_containers_themselves() -> None:
    old = {"spec": {"containers": None}}
    new = {"spec": {"containers": [{"name": "c", "resources": {}}], "securityContext": {}}}
    assert paths(compare(POD, old, new).added) == [
        ".spec.securityContext",
        '.spec.containers[name="c"]',
        '.spec.containers[name="c"].name',
        '.spec.containers[name="c"].resources',
    ]
    assert paths(compare(POD, new, old).removed) == paths(compare(POD, old, new).added)


def test_compare_ints_floats_and_booleans_as_go_does() -> None:
    assert compare(None, {"a": 1}, {"a": 1.0}).modified.empty()
    assert paths(compare(None, {"a": 1}, {"a": True}).modified) == [".a"]
    assert paths(compare(None, {"a": None}, {"a": {}}).modified) == [".a"]


def letters(text: str) -> dict[str, Any]:
    return {"setStr": list(text)}


# (live, applied, merged): structured-merge-diff's documented set orders.
SET_ORDERS = [
    ("abc", "ab", "abc"),
    ("ab", "abc", "abc"),
    ("abc", "", "abc"),
    ("", "abc", "abc"),
    ("ab", "ba", "ba"),
    ("abc", "def", "abcdef"),
    ("abc", "cdef", "abcdef"),
    ("abcgf", "cdef", "abcgdef"),
    ("cdef", "ace", "acdef"),
    ("abcxyz", "defxyz", "abcdefxyz"),
    ("cagf", "cfag", "cfag"),
    ("abcd", "defa", "bcdefa"),
    ("cdefghij", "2h3e4kl", "cdfg2hij3e4kl"),
    ("abcdefghij", "1b2h3e4kl", "a1bcdfg2hij3e4kl"),
]


@pytest.mark.parametrize(("live", "applied", "merged"), SET_ORDERS)
def test_merge_orders_sets(live: str, applied: str, merged: str) -> None:
    assert merge(LISTS, letters(live), letters(applied)) == letters(merged)


def items(*keys: tuple[str, int]) -> dict[str, Any]:
    return {"list": [{"key": key, "id": id} for key, id in keys]}


@pytest.mark.parametrize(
    ("live", "applied", "merged"),
    [
        (items(("a", 1), ("b", 1)), items(("a", 1), ("a", 2)), items(("a", 1), ("b", 1), ("a", 2))),
        (items(("b", 2)), items(("a", 1), ("b", 2), ("c", 3)), items(("a", 1), ("b", 2), ("c", 3))),
        (
            items(("a", 1), ("b", 2), ("c", 3)),
            items(("c", 3), ("b", 2)),
            items(("a", 1), ("c", 3), ("b", 2)),
        ),
        (
            items(("a", 1), ("b", 2), ("c", 3)),
            items(("c", 3), ("a", 1)),
            items(("b", 2), ("c", 3), ("a", 1)),
        ),
    ],
)
def test_merge_orders_associative_lists(live: Any, applied: Any, merged: Any) -> None:
    assert merge(LISTS, live, applied) == merged


@pytest.mark.parametrize(
    ("live", "applied", "merged"),
    [
        ({"atomicList": ["a", "b", "c"]}, {"atomicList": []}, {"atomicList": []}),
        ({"atomicList": ["a"]}, {"atomicList": None}, {"atomicList": None}),
        ({"atomicMap": {"a": "1", "b": "2"}}, {"atomicMap": {"b": "3"}}, {"atomicMap": {"b": "3"}}),
        ({"open": {"x": 1}}, {"open": {"y": 2}}, {"open": {"x": 1, "y": 2}}),
        ({"setStr": None}, {"setStr": []}, {"setStr": []}),
        ({}, {"setStr": None}, {"setStr": None}),
    ],
)
def test_merge_replaces_atomic_values(live: Any, applied: Any, merged: Any) -> None:
    assert merge(LISTS, live, applied) == merged


def test_merge_items_by_key_and_keeps_unkeyable_live_items() -> None:
    live = {
        "spec": {
            "containers": [
                {"name": "a", "image": "old", "ports": [{"containerPort": 80, "protocol": "TCP"}]},
                {"image": "no-name"},
            ]
        }
    }
    applied = {
        "spec": {
            "containers": [
                {"name": "a", "image": "new", "ports": [{"containerPort": 80, "name": "http"}]}
            ]
        }
    }
    merged = merge(POD, live, applied)
    assert merged["spec"]["containers"] == [
        {
            "name": "a",
            "image": "new",
            "ports": [{"containerPort": 80, "protocol": "TCP", "name": "http"}],
        },
        {"image": "no-name"},
    ]
    assert live["spec"]["containers"][0]["image"] == "old"  # inputs are never mutated


def test_merge_without_live_copies() -> None:
    applied = {"a": {"b": [1]}}
    merged = merge(None, MISSING, applied)
    assert merged == applied and merged["a"] is not applied["a"]


def test_remove_keeps_emptied_containers() -> None:
    value = {
        "metadata": {"labels": {"a": "1"}},
        "spec": {"containers": [{"name": "c"}, {"name": "d"}]},
    }
    fields = FieldSet.of(
        make_path("metadata", "labels", "a"),
        (*make_path("spec", "containers"), *json_key("d")),
    )
    assert remove(POD, value, fields) == {
        "metadata": {"labels": {}},
        "spec": {"containers": [{"name": "c"}]},
    }


def json_key(name: str) -> tuple[Any, ...]:
    from kybernetes.apiserver.apply.fieldpath import keyed

    return (keyed({"name": name}),)


def test_named_fields_become_members() -> None:
    fields = FieldSet.of(make_path("metadata", "labels", "a"), make_path("spec", "overhead", "cpu"))
    assert paths(with_named_fields(POD, fields)) == [
        ".metadata",
        ".spec",
        ".metadata.labels",
        ".metadata.labels.a",  # a map's keys are not named fields
        ".spec.overhead",
        ".spec.overhead.cpu",
    ]


@pytest.mark.parametrize(
    ("schema", "value", "errors"),
    [
        (
            POD,
            {"spec": {"containers": [{"name": "c", "imag": "x"}]}},
            ['.spec.containers[name="c"].imag: field not declared in schema'],
        ),
        (POD, {"sops": {}}, [".sops: field not declared in schema"]),
        (
            POD,
            {"spec": {"containers": [{"name": "c", "env": [{"name": "A"}, {"name": "A"}]}]}},
            ['.spec.containers[name="c"].env: duplicate entries for key [name="A"]'],
        ),
        (
            POD,
            {"spec": {"containers": [{"image": "x"}]}},
            [
                ".spec.containers: element 0: associative list with keys has an element "
                'that omits key field "name" (and doesn\'t have default value)'
            ],
        ),
        (
            POD,
            {"metadata": {"finalizers": [{"a": 1}]}},
            [
                ".metadata.finalizers: element 0: associative list without keys has an element "
                "that's a map type"
            ],
        ),
        (POD, {"spec": "x"}, [".spec: expected map, got &{x}"]),
        (
            POD,
            {"spec": {"containers": {"a": 1}}},
            [".spec.containers: expected list, got &{map[a:1]}"],
        ),
        (LISTS, {"open": {"anything": [1, {"x": 2}]}}, []),
        (None, {"whatever": [{"x": 1}, {"x": 1}]}, []),
        (POD, {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": 80}]}]}}, []),
    ],
)
def test_validate(schema: Any, value: Any, errors: list[str]) -> None:
    assert validate(schema, value) == errors


def test_key_defaults_match_defaulted_live_items() -> None:
    live = {"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 8080}]}}
    applied = {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}
    service = SchemaNode.for_kind("", "v1", "Service")
    assert merge(service, live, applied)["spec"]["ports"] == [
        {"port": 80, "protocol": "TCP", "targetPort": 9090}
    ]
    assert json.dumps(to_field_set(service, applied).to_fields_v1()) == json.dumps(
        {
            "f:spec": {
                "f:ports": {
                    'k:{"port":80,"protocol":"TCP"}': {".": {}, "f:port": {}, "f:targetPort": {}}
                }
            }
        }
    )
