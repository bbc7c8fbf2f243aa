"""Custom resources' tables: CRD additionalPrinterColumns and the default Age column."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver.tables import table_for
from kybernetes.apiserver.tables.custom import compile_columns, go_json, go_text

from .support import NOW, ago, info

WIDGETS = info("example.com", "v1", "Widget", "widgets")
WIDGET = {
    "apiVersion": "example.com/v1",
    "kind": "Widget",
    "metadata": {
        "name": "w1",
        "namespace": "default",
        "creationTimestamp": ago(hours=3),
        "resourceVersion": "7",
    },
    "spec": {
        "replicas": 2,
        "size": 2.5,
        "enabled": True,
        "labels": {"b": 1, "a": "<x>"},
        "created": ago(minutes=4),
    },
    "status": {"conditions": [{"type": "Ready", "status": "True"}]},
}


def test_default_columns_are_name_and_age() -> None:
    table = table_for(
        WIDGETS, [WIDGET], list_meta={"resourceVersion": "9"}, printer_columns=[], now=NOW
    )
    assert [
        (c["name"], c["type"], c["format"], c["priority"]) for c in table["columnDefinitions"]
    ] == [
        ("Name", "string", "name", 0),
        ("Age", "date", "", 0),
    ]
    assert table["columnDefinitions"][1]["description"].startswith(
        "CreationTimestamp is a timestamp"
    )
    assert table["rows"][0]["cells"] == ["w1", "3h"]


def test_printer_columns() -> None:
    columns = [
        {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"},
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
        {
            "name": "Size",
            "type": "number",
            "jsonPath": ".spec.size",
            "priority": 1,
            "format": "float",
        },
        {
            "name": "On",
            "type": "boolean",
            "jsonPath": ".spec.enabled",
            "description": "Whether it is on.",
        },
        {"name": "Labels", "type": "string", "jsonPath": ".spec.labels"},
        {"name": "Created", "type": "date", "jsonPath": ".spec.created"},
        {"name": "Missing", "type": "string", "jsonPath": ".spec.nope"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    table = table_for(WIDGETS, [WIDGET], list_meta={}, printer_columns=columns, now=NOW)
    definitions = table["columnDefinitions"]
    assert definitions[1] == {
        "name": "Replicas",
        "type": "integer",
        "format": "",
        "description": "Custom resource definition column (in JSONPath format): .spec.replicas",
        "priority": 0,
    }
    assert definitions[3]["priority"] == 1
    assert definitions[3]["format"] == "float"
    assert definitions[4]["description"] == "Whether it is on."
    assert table["rows"][0]["cells"] == [
        "w1",
        2,
        "True",
        2.5,
        True,
        '{"a":"\\u003cx\\u003e","b":1}',
        "4m",
        None,
        "3h",
    ]


def test_a_bad_path_ends_the_columns() -> None:
    columns = [
        {"name": "A", "type": "integer", "jsonPath": ".spec.replicas"},
        {"name": "B", "type": "string", "jsonPath": ".spec[oops"},
        {"name": "C", "type": "string", "jsonPath": ".spec.replicas"},
    ]
    compiled = compile_columns(columns)
    assert [c.name for c in compiled.columns] == ["Name", "A"]


@pytest.mark.parametrize(
    ("column_type", "value", "expected"),
    [
        ("integer", 3, 3),
        ("integer", 3.9, 3),
        ("integer", "3", None),
        ("integer", True, None),
        ("number", 3, 3.0),
        ("number", "x", None),
        ("boolean", False, False),
        ("boolean", "true", None),
        ("string", 3, "3"),
        ("string", None, "<no value>"),
        ("date", "", "<unknown>"),
        ("date", "2024-06-01", "<invalid>"),
        ("date", "2024-06-01T08:00:00+01:00", "5h"),
        ("date", 5, None),
        ("unknown", "x", None),
        ("integer", None, None),
    ],
)
def test_cell_types(column_type: str, value: Any, expected: Any) -> None:
    compiled = compile_columns([{"name": "X", "type": column_type, "jsonPath": ".v"}])
    assert compiled.row({"metadata": {"name": "n"}, "v": value}, NOW) == ["n", expected]


def test_evaluation_errors_give_null_cells() -> None:
    compiled = compile_columns([{"name": "X", "type": "string", "jsonPath": ".v[3]"}])
    assert compiled.row({"metadata": {"name": "n"}, "v": [1]}, NOW) == ["n", None]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (True, "true"),
        (42, "42"),
        (1.5, "1.5"),
        (3.0, "3"),
        (-0.0, "-0"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (1e21, "1e+21"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        ([1, "a", None, 2.5e-7], '[1,"a",null,2.5e-7]'),
        ({"z": [], "a": {"k": 1e21}}, '{"a":{"k":1e+21},"z":[]}'),
        ({"s": "a&b\u2028"}, '{"s":"a\\u0026b\\u2028"}'),
    ],
)
def test_go_text(value: Any, expected: str) -> None:
    assert go_text(value) == expected


def test_go_json_floats() -> None:
    assert go_json(100000000.0) == "100000000"
    assert go_json(1e-6) == "0.000001"
    assert go_json(1e-10) == "1e-10"
