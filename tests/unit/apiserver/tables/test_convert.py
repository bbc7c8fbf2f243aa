"""The Table envelope: rows' objects, list metadata, headers, watch events, defaults."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.resources import ResourceTable
from kybernetes.apiserver.tables import check_include_object, table_for, watch_event_table

from .support import NOW, ago, info

TABLE = ResourceTable.builtin()
PODS = TABLE.get("", "v1", "pods")
ROLES = TABLE.get("rbac.authorization.k8s.io", "v1", "roles")
assert PODS is not None and ROLES is not None


def pod(name: str, phase: str = "Running") -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "default",
            "resourceVersion": "12",
            "creationTimestamp": ago(minutes=1),
        },
        "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": phase},
    }


def test_pod_table() -> None:
    table = table_for(
        PODS,
        [pod("a"), pod("b", "Succeeded")],
        list_meta={
            "resourceVersion": "40",
            "continue": "abc",
            "remainingItemCount": 3,
            "selfLink": "x",
        },
        now=NOW,
    )
    assert list(table) == ["kind", "apiVersion", "metadata", "columnDefinitions", "rows"]
    assert table["kind"] == "Table"
    assert table["apiVersion"] == "meta.k8s.io/v1"
    assert table["metadata"] == {
        "resourceVersion": "40",
        "continue": "abc",
        "remainingItemCount": 3,
    }
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    assert [c["priority"] for c in table["columnDefinitions"]] == [0] * 5 + [1] * 4
    first, second = table["rows"]
    assert first["cells"] == [
        "a",
        "0/1",
        "Running",
        "0",
        "60s",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]
    assert "conditions" not in first
    assert second["conditions"][0]["reason"] == "Succeeded"
    assert list(second) == ["cells", "conditions", "object"]
    assert first["object"] == {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": pod("a")["metadata"],
    }


def test_narrow_columns() -> None:
    table = table_for(PODS, [pod("a")], list_meta={}, wide_columns=False, now=NOW)
    assert [c["name"] for c in table["columnDefinitions"]] == [
        "Name",
        "Ready",
        "Status",
        "Restarts",
        "Age",
    ]
    assert table["rows"][0]["cells"] == ["a", "0/1", "Running", "0", "60s"]
    assert table["metadata"] == {}


@pytest.mark.parametrize("include_object", ["Metadata", ""])
def test_include_metadata(include_object: str) -> None:
    table = table_for(
        PODS,
        [pod("a")],
        list_meta={},
        include_object=include_object,
        table_version="meta.k8s.io/v1beta1",
        now=NOW,
    )
    assert table["apiVersion"] == "meta.k8s.io/v1beta1"
    assert table["rows"][0]["object"]["apiVersion"] == "meta.k8s.io/v1beta1"


def test_include_object_and_none() -> None:
    obj = pod("a")
    full = table_for(PODS, [obj], list_meta={}, include_object="Object", now=NOW)["rows"][0][
        "object"
    ]
    assert list(full)[:2] == ["kind", "apiVersion"]
    assert full == {"kind": "Pod", "apiVersion": "v1", **obj}
    assert "kind" not in obj  # the input is not mutated
    assert (
        table_for(PODS, [obj], list_meta={}, include_object="None", now=NOW)["rows"][0]["object"]
        is None
    )


def test_invalid_include_object() -> None:
    message = (
        'Unable to convert to Table as requested: includeObject: Unsupported value: "All": '
        'supported values: "Metadata", "None", "Object"'
    )
    with pytest.raises(ValueError, match=message):
        table_for(PODS, [], list_meta={}, include_object="All")
    check_include_object("")


def test_empty_tables() -> None:
    assert table_for(PODS, [], list_meta={"resourceVersion": "5"}, now=NOW)["rows"] == []
    # kube-apiserver's default convertor leaves an empty table's rows null.
    assert table_for(ROLES, [], list_meta={}, now=NOW)["rows"] is None


def test_default_table() -> None:
    role = {
        "metadata": {"name": "reader", "creationTimestamp": "2024-05-01T10:00:00.5Z"},
        "rules": [],
    }
    table = table_for(ROLES, [role, {"metadata": {"name": "new"}}], list_meta={}, now=NOW)
    assert [(c["name"], c["type"], c["format"]) for c in table["columnDefinitions"]] == [
        ("Name", "string", "name"),
        ("Created At", "date", ""),
    ]
    assert [r["cells"] for r in table["rows"]] == [
        ["reader", "2024-05-01T10:00:00Z"],
        ["new", "0001-01-01T00:00:00Z"],
    ]


def test_crds_and_other_unprinted_kinds_use_the_default_table() -> None:
    crds = TABLE.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")
    limit_ranges = TABLE.get("", "v1", "limitranges")
    assert crds is not None and limit_ranges is not None
    for resource in (crds, limit_ranges):
        table = table_for(resource, [{"metadata": {"name": "x"}}], list_meta={}, now=NOW)
        assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Created At"]


def test_without_headers() -> None:
    table = table_for(PODS, [pod("a")], list_meta={}, headers=False, now=NOW)
    assert table["columnDefinitions"] is None


def test_watch_event_tables() -> None:
    first = watch_event_table(PODS, pod("a"), first=True, now=NOW)
    assert first["metadata"] == {"resourceVersion": "12"}
    assert len(first["columnDefinitions"]) == 9
    assert [r["cells"][0] for r in first["rows"]] == ["a"]
    later = watch_event_table(PODS, pod("b"), first=False, include_object="Object", now=NOW)
    assert later["columnDefinitions"] is None
    assert later["rows"][0]["object"]["kind"] == "Pod"
    crs = info("example.com", "v1", "Widget", "widgets")
    custom = watch_event_table(
        crs, {"metadata": {"name": "w"}}, first=True, printer_columns=[], now=NOW
    )
    assert custom["metadata"] == {}
    assert custom["rows"][0]["cells"] == ["w", None]  # no creationTimestamp: no match


def test_column_definitions_are_fresh_copies() -> None:
    table = table_for(PODS, [], list_meta={}, now=NOW)
    table["columnDefinitions"][0]["name"] = "mutated"
    assert table_for(PODS, [], list_meta={}, now=NOW)["columnDefinitions"][0]["name"] == "Name"


def test_every_printer_describes_its_columns() -> None:
    from kybernetes.apiserver.tables import PRINTERS

    for (group, kind), printer in PRINTERS.items():
        for column in printer.column_definitions(wide=True):
            assert set(column) == {"name", "type", "format", "description", "priority"}, (
                group,
                kind,
            )
            assert column["type"] in ("string", "integer", "boolean", "date"), (group, kind)
