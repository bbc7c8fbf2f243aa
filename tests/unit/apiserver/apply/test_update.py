"""Managed fields of writes that are not applies: tracking from create, ownership
moving to whoever changes a field, Update entries per manager and API version,
untracked objects, client-edited and reset managedFields, subresources, the cap on
Update entries, and Kubernetes' entry order."""

from __future__ import annotations

import copy
from typing import Any

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.apply import track_update
from kybernetes.apiserver.apply.update import MAX_UPDATE_MANAGERS

CONFIGMAP = SchemaNode.for_kind("", "v1", "ConfigMap")
DEPLOYMENT = SchemaNode.for_kind("apps", "v1", "Deployment")


def at(minute: int) -> str:
    return f"2024-05-01T00:{minute:02d}:00Z"


def configmap(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": data}


def created(obj: dict[str, Any], manager: str = "kubectl-create") -> dict[str, Any]:
    track_update(None, obj, manager=manager, schema=CONFIGMAP, now=at(0))
    obj["metadata"]["uid"] = "u-1"
    return obj


def write(
    old: dict[str, Any], manager: str, minute: int, *, data: Any = None, **kwargs: Any
) -> dict[str, Any]:
    new = copy.deepcopy(old)
    if data is not None:
        new["data"] = data
    track_update(old, new, manager=manager, schema=CONFIGMAP, now=at(minute), **kwargs)
    return new


def entries(obj: dict[str, Any]) -> list[tuple[str, str, str | None, Any]]:
    return [
        (e["manager"], e["operation"], e.get("time"), e["fieldsV1"])
        for e in obj["metadata"].get("managedFields", [])
    ]


def test_create_starts_tracking() -> None:
    obj = created(configmap(a="1"))
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kubectl-create",
            "operation": "Update",
            "apiVersion": "v1",
            "time": at(0),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {".": {}, "f:a": {}}},
        }
    ]


def test_changed_fields_move_to_the_writer() -> None:
    obj = created(configmap(a="1", b="2"))
    obj = write(obj, "controller", 1, data={"a": "changed", "b": "2", "c": "3"})
    assert entries(obj) == [
        ("kubectl-create", "Update", at(0), {"f:data": {".": {}, "f:b": {}}}),
        ("controller", "Update", at(1), {"f:data": {"f:a": {}, "f:c": {}}}),
    ]
    obj = write(obj, "editor", 2, data={"a": "changed"})  # removes b and c
    assert entries(obj) == [
        ("kubectl-create", "Update", at(0), {"f:data": {}}),  # data itself, nothing below
        ("controller", "Update", at(1), {"f:data": {"f:a": {}}}),
    ]


def test_a_manager_keeps_one_entry_per_api_version() -> None:
    obj = created(configmap(a="1"))
    obj = write(obj, "kubectl-create", 3, data={"a": "1", "b": "2"})
    assert entries(obj) == [
        ("kubectl-create", "Update", at(3), {"f:data": {".": {}, "f:a": {}, "f:b": {}}})
    ]
    other_version = copy.deepcopy(obj)
    other_version["apiVersion"] = "v2"
    other_version["data"]["c"] = "3"
    track_update(obj, other_version, manager="kubectl-create", schema=CONFIGMAP, now=at(4))
    assert [e["apiVersion"] for e in other_version["metadata"]["managedFields"]] == ["v1", "v2"]


def test_a_write_that_changes_nothing_changes_no_entry() -> None:
    obj = created(configmap(a="1"))
    same = write(obj, "controller", 5)
    assert same["metadata"]["managedFields"] == obj["metadata"]["managedFields"]
    bumped = copy.deepcopy(obj)
    bumped["metadata"]["resourceVersion"] = "42"  # system fields are nobody's
    track_update(obj, bumped, manager="controller", schema=CONFIGMAP, now=at(6))
    assert bumped["metadata"]["managedFields"] == obj["metadata"]["managedFields"]


def test_objects_created_before_tracking_stay_untracked() -> None:
    old = configmap(a="1")
    old["metadata"]["uid"] = "u-1"
    new = write(old, "controller", 1, data={"a": "2"})
    assert "managedFields" not in new["metadata"]


def test_clients_may_edit_or_reset_managed_fields() -> None:
    obj = created(configmap(a="1"))
    edited = copy.deepcopy(obj)
    edited["metadata"]["managedFields"][0]["manager"] = "renamed"
    track_update(obj, edited, manager="controller", schema=CONFIGMAP, now=at(1))
    assert [e[0] for e in entries(edited)] == ["renamed"]
    garbage = copy.deepcopy(obj)
    garbage["metadata"]["managedFields"] = [{"operation": "Bogus"}]
    track_update(obj, garbage, manager="controller", schema=CONFIGMAP, now=at(1))
    assert garbage["metadata"]["managedFields"] == obj["metadata"]["managedFields"]
    for reset in ([], [{}]):
        cleared = copy.deepcopy(obj)
        cleared["metadata"]["managedFields"] = reset
        track_update(obj, cleared, manager="controller", schema=CONFIGMAP, now=at(1))
        assert "managedFields" not in cleared["metadata"]


def test_subresource_writes_keep_the_live_managed_fields() -> None:
    live = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"replicas": 1},
    }
    track_update(None, live, manager="kubectl-create", schema=DEPLOYMENT, now=at(0))
    live["metadata"]["uid"] = "u"
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = []  # ignored on a subresource
    new["status"] = {"replicas": 1}
    new["spec"]["replicas"] = 9  # a status write cannot change spec: not tracked
    track_update(
        live,
        new,
        manager="kube-controller-manager",
        schema=DEPLOYMENT,
        now=at(1),
        subresource="status",
    )
    assert new["metadata"]["managedFields"][1] == {
        "manager": "kube-controller-manager",
        "operation": "Update",
        "apiVersion": "apps/v1",
        "time": at(1),
        "fieldsType": "FieldsV1",
        "fieldsV1": {"f:status": {".": {}, "f:replicas": {}}},
        "subresource": "status",
    }


def test_update_entries_are_capped() -> None:
    obj = created(configmap())  # kubectl-create owns .data
    for i in range(MAX_UPDATE_MANAGERS + 2):
        obj = write(obj, f"m{i}", i + 1, data={**obj["data"], f"k{i}": "v"})
    # 13 Update entries: the 4 oldest become one (the oldest of the version starts it)
    managers = [e[0] for e in entries(obj)]
    assert managers == ["ancient-changes"] + [f"m{i}" for i in range(3, 12)]
    ancient = entries(obj)[0]
    assert ancient[3] == {"f:data": {".": {}, "f:k0": {}, "f:k1": {}, "f:k2": {}}}
    assert ancient[2] == at(3)  # the time of the newest entry merged into it


def test_unknown_manager_and_objects_without_metadata() -> None:
    obj = configmap(a="1")
    track_update(None, obj, manager="", schema=CONFIGMAP, now=at(0))
    assert entries(obj)[0][0] == "unknown"
    bare: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap"}
    track_update(None, bare, manager="x", schema=CONFIGMAP, now=at(0))
    assert bare == {"apiVersion": "v1", "kind": "ConfigMap"}


def test_entries_sort_by_operation_then_time() -> None:
    obj = configmap(a="1")
    obj["metadata"]["managedFields"] = [
        {
            "manager": "z",
            "operation": "Update",
            "apiVersion": "v1",
            "time": at(1),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:a": {}}},
        },
        {
            "manager": "b",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2024-05-01T01:00:00+01:00",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:b": {}}},
        },
        {
            "manager": "y",
            "operation": "Apply",
            "apiVersion": "v1",
            "time": at(9),
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:data": {"f:c": {}}},
        },
    ]
    obj["metadata"]["uid"] = "u"
    new = write(obj, "nobody", 10)
    assert [(e[0], e[2]) for e in entries(new)] == [
        ("y", at(9)),
        ("b", at(0)),  # times are re-encoded in UTC
        ("z", at(1)),
    ]
