"""Server-side apply, scenario by scenario from the Kubernetes "Server-Side Apply"
documentation: field ownership, conflicts and forcing, shared ownership, removing
fields by no longer applying them, associative lists, sets and atomic fields, the
upgrade from client-side apply, and kube-apiserver's errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.apply import LAST_APPLIED, apply, track_update
from kybernetes.apiserver.status import StatusError

DEPLOYMENT = SchemaNode.for_kind("apps", "v1", "Deployment")
CONFIGMAP = SchemaNode.for_kind("", "v1", "ConfigMap")
T0, T1, T2, T3 = (f"2024-05-01T00:0{i}:00Z" for i in range(4))


def deployment(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 3,
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.14.2"}]},
        },
    }
    base.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx", "namespace": "default"},
        "spec": {k: v for k, v in base.items() if v is not None},
    }


def stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the registry would store: the object with a uid."""
    obj = copy.deepcopy(obj)
    obj["metadata"]["uid"] = "6b2b1c0e"
    return obj


def do_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    now: str = T1,
    force: bool = False,
    schema: SchemaNode | None = DEPLOYMENT,
    **kwargs: Any,
) -> dict[str, Any]:
    return stored(
        apply(live, applied, manager=manager, force=force, schema=schema, now=now, **kwargs)
    )


def conflict(live: dict[str, Any], applied: dict[str, Any], manager: str, **kwargs: Any) -> Any:
    with pytest.raises(StatusError) as e:
        do_apply(live, applied, manager, **kwargs)
    return e.value.status()


def update(old: dict[str, Any], manager: str, now: str = T2, **changes: Any) -> dict[str, Any]:
    new = copy.deepcopy(old)
    new["spec"].update(changes)
    track_update(old, new, manager=manager, schema=DEPLOYMENT, now=now)
    return new


def owners(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each entry's fieldsV1 by "manager/operation"."""
    return {
        f"{e['manager']}/{e['operation']}": e["fieldsV1"] for e in obj["metadata"]["managedFields"]
    }


def test_the_documentation_configmap() -> None:
    applied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
        "data": {"key": "some value"},
    }
    created = apply(None, applied, manager="kubectl", force=False, schema=CONFIGMAP, now=T0)
    assert created == {
        **applied,
        "metadata": {
            **applied["metadata"],
            "managedFields": [
                {
                    "manager": "kubectl",
                    "operation": "Apply",
                    "apiVersion": "v1",
                    "time": T0,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {
                        "f:data": {"f:key": {}},
                        "f:metadata": {"f:labels": {"f:test-label": {}}},
                    },
                }
            ],
        },
    }
    assert "managedFields" not in applied["metadata"]  # arguments are never mutated


def test_conflict_with_an_updater_then_force() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    scaled = update(live, "kube-controller-manager", replicas=5)
    status = conflict(scaled, deployment(), "kubectl")
    assert status == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'Apply failed with 1 conflict: conflict with "kube-controller-manager" '
        "using apps/v1: .spec.replicas",
        "reason": "Conflict",
        "details": {
            "causes": [
                {
                    "reason": "FieldManagerConflict",
                    "message": 'conflict with "kube-controller-manager" using apps/v1',
                    "field": ".spec.replicas",
                }
            ]
        },
        "code": 409,
    }
    forced = do_apply(scaled, deployment(), "kubectl", T3, force=True)
    assert forced["spec"]["replicas"] == 3
    assert list(owners(forced)) == ["kubectl/Apply"]  # the updater owned nothing else
    assert forced["metadata"]["managedFields"][0]["time"] == T3


def test_conflicts_with_several_managers() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    live = update(live, "hpa", replicas=5, now=T1)
    live = do_apply(live, deployment(replicas=None, minReadySeconds=5), "ops", T2)
    status = conflict(live, deployment(minReadySeconds=10), "kubectl")
    assert status["message"] == (
        "Apply failed with 2 conflicts: "
        'conflicts with "hpa" using apps/v1:\n- .spec.replicas\n'
        'conflicts with "ops":\n- .spec.minReadySeconds'
    )
    assert [c["message"] for c in status["details"]["causes"]] == [
        'conflict with "hpa" using apps/v1',
        'conflict with "ops"',
    ]


def test_same_value_is_shared_and_survives_one_owner_dropping_it() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    shared = do_apply(live, deployment(replicas=3), "other")
    assert owners(shared)["other/Apply"]["f:spec"]["f:replicas"] == {}
    dropped = do_apply(shared, deployment(replicas=None), "kubectl", T2)
    assert dropped["spec"]["replicas"] == 3  # "other" still owns it
    assert "f:replicas" not in owners(dropped)["kubectl/Apply"]["f:spec"]


def test_no_longer_applied_fields_are_removed() -> None:
    labels = {"app": "nginx", "tier": "web"}
    live = do_apply(
        None, deployment(minReadySeconds=5, template={**deployment()["spec"]["template"]}), "k"
    )
    live["metadata"]["labels"] = labels  # set outside field tracking: nobody owns it
    smaller = do_apply(live, deployment(minReadySeconds=None), "k", T2)
    assert "minReadySeconds" not in smaller["spec"]
    assert smaller["metadata"]["labels"] == labels  # never applied by "k": kept


def test_containers_merge_by_name() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    sidecar = {"name": "sidecar", "image": "busybox"}
    template = {"spec": {"containers": [sidecar]}}
    both = do_apply(live, deployment(replicas=None, selector=None, template=template), "mesh")
    assert [c["name"] for c in both["spec"]["template"]["spec"]["containers"]] == [
        "nginx",
        "sidecar",
    ]
    assert owners(both)["mesh/Apply"] == {
        "f:spec": {
            "f:template": {
                "f:spec": {
                    "f:containers": {'k:{"name":"sidecar"}': {".": {}, "f:image": {}, "f:name": {}}}
                }
            }
        }
    }
    without = do_apply(both, deployment(replicas=None, selector=None, template={}), "mesh", T2)
    assert without["spec"]["template"]["spec"]["containers"] == [
        {"name": "nginx", "image": "nginx:1.14.2"}
    ]
    assert list(owners(without)) == ["kubectl/Apply"]


def test_ports_merge_by_container_port_and_defaulted_protocol() -> None:
    template = deployment()["spec"]["template"]
    live = do_apply(None, deployment(), "kubectl", T0)
    nginx = live["spec"]["template"]["spec"]["containers"][0]
    nginx["ports"] = [{"containerPort": 80, "protocol": "TCP"}]  # as defaulting leaves it
    template["spec"]["containers"][0]["ports"] = [{"containerPort": 80, "name": "http"}]
    named = do_apply(live, deployment(template=template), "kubectl", T1)
    assert named["spec"]["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"}
    ]
    container = owners(named)["kubectl/Apply"]["f:spec"]["f:template"]["f:spec"]
    assert container["f:containers"]['k:{"name":"nginx"}']["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}, "f:name": {}}
    }


def meta(finalizers: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "cm", "finalizers": finalizers},
    }


def test_finalizers_are_a_set() -> None:
    live = do_apply(None, meta(["a.example.com"]), "a", T0, schema=CONFIGMAP)
    both = do_apply(live, meta(["b.example.com"]), "b", T1, schema=CONFIGMAP)
    assert both["metadata"]["finalizers"] == ["a.example.com", "b.example.com"]
    assert owners(both)["b/Apply"] == {"f:metadata": {"f:finalizers": {'v:"b.example.com"': {}}}}
    only_b = do_apply(both, meta([]), "a", T2, schema=CONFIGMAP)
    assert only_b["metadata"]["finalizers"] == ["b.example.com"]


def test_the_selector_is_atomic() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    wider = {"matchLabels": {"app": "nginx", "tier": "web"}}
    status = conflict(live, deployment(replicas=None, template=None, selector=wider), "other")
    assert status["details"]["causes"][0]["field"] == ".spec.selector"
    forced = do_apply(
        live, deployment(replicas=None, template=None, selector=wider), "other", force=True
    )
    assert forced["spec"]["selector"] == wider  # replaced whole, not merged
    assert "f:selector" not in owners(forced)["kubectl/Apply"]["f:spec"]
    assert owners(forced)["other/Apply"] == {"f:spec": {"f:selector": {}}}


def test_objects_created_before_tracking() -> None:
    untracked = stored(deployment())
    status = conflict(untracked, deployment(replicas=5), "kubectl")
    assert status["message"] == (
        'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: '
        ".spec.replicas"
    )
    same = do_apply(untracked, deployment(), "kubectl", T1)
    assert set(owners(same)) == {"kubectl/Apply", "before-first-apply/Update"}
    before = same["metadata"]["managedFields"][1]
    assert before["time"] == T1
    assert before["fieldsV1"]["f:spec"]["f:replicas"] == {}  # shared: same value


def test_an_apply_that_changes_nothing_keeps_times() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    again = do_apply(live, deployment(), "kubectl", T3)
    assert again["metadata"]["managedFields"] == live["metadata"]["managedFields"]
    co_owner = do_apply(live, deployment(replicas=3), "other", T3)
    assert "time" not in co_owner["metadata"]["managedFields"][0]  # kube-apiserver's quirk


def test_status_is_not_owned_through_the_main_resource() -> None:
    applied = {**deployment(), "status": {"replicas": 7}}
    created = do_apply(None, applied, "kubectl", T0)
    assert "f:status" not in owners(created)["kubectl/Apply"]


def test_subresource_owners_are_separate() -> None:
    live = do_apply(None, deployment(), "kubectl", T0)
    scaled = do_apply(
        live,
        deployment(replicas=4, template=None, selector=None),
        "hpa",
        force=True,
        subresource="scale",
        reset_fields=[],
    )
    entry = next(e for e in scaled["metadata"]["managedFields"] if e["manager"] == "hpa")
    assert entry["subresource"] == "scale"
    status = conflict(scaled, deployment(), "kubectl")
    assert status["details"]["causes"][0]["message"] == (
        'conflict with "hpa" with subresource "scale"'
    )


def test_custom_resources_without_schema() -> None:
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"sizes": [1, 2], "color": "red"},
    }
    live = do_apply(None, widget, "a", T0, schema=None)
    assert owners(live)["a/Apply"] == {
        "f:spec": {".": {}, "f:color": {}, "f:sizes": {}}  # lists are atomic
    }
    widget["spec"] = {"sizes": [3]}
    status = conflict(live, widget, "b", schema=None)
    assert status["details"]["causes"][0]["field"] == ".spec.sizes"


def test_upgrading_from_client_side_apply() -> None:
    manifest = deployment()
    live = stored(copy.deepcopy(manifest))
    live["metadata"]["annotations"] = {LAST_APPLIED: json.dumps(manifest)}
    track_update(None, live, manager="kubectl-client-side-apply", schema=DEPLOYMENT, now=T0)
    changed = deployment(replicas=4)
    assert conflict(live, changed, "someone")["code"] == 409
    upgraded = do_apply(live, changed, "kubectl", T1)
    assert upgraded["spec"]["replicas"] == 4
    last = upgraded["metadata"]["annotations"][LAST_APPLIED]
    assert json.loads(last) == changed and last.endswith("\n")


@pytest.mark.parametrize(
    ("live", "applied", "code", "message"),
    [
        (
            stored(deployment()),
            {**deployment(), "kind": "StatefulSet"},
            400,
            "invalid object type: apps/v1, Kind=StatefulSet",
        ),
        (None, {"kind": "Pod", "metadata": {"name": "p"}}, 400, "invalid object type: /, Kind=Pod"),
        (
            None,
            {**deployment(), "metadata": {"name": "nginx", "managedFields": []}},
            400,
            "metadata.managedFields must be nil",
        ),
        (
            None,
            deployment(replica=3),
            500,
            "failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): "
            ".spec.replica: field not declared in schema",
        ),
        (
            None,
            {**deployment(), "spec": {"template": {"spec": {"containers": [{}, {}]}}}},
            500,
            "failed to create typed patch object (default/nginx; apps/v1, Kind=Deployment): "
            ".spec.template.spec.containers: element 0: associative list with keys has an "
            'element that omits key field "name" (and doesn\'t have default value)',
        ),
        (
            None,
            {**deployment(), "metadata": {"name": "nginx", "x": 1}, "spec": {"y": 2}},
            500,
            "failed to create typed patch object (/nginx; apps/v1, Kind=Deployment): errors:\n"
            "  .metadata.x: field not declared in schema\n"
            "  .spec.y: field not declared in schema",
        ),
    ],
)
def test_errors(live: Any, applied: dict[str, Any], code: int, message: str) -> None:
    with pytest.raises(StatusError) as e:
        do_apply(live, applied, "kubectl")
    assert (e.value.code, e.value.message) == (code, message)


def test_undecodable_managed_fields() -> None:
    live = stored(deployment())
    live["metadata"]["managedFields"] = [{"manager": "x", "operation": "Patch"}]
    with pytest.raises(StatusError) as e:
        do_apply(live, deployment(), "kubectl")
    assert e.value.code == 500
    assert (
        e.value.message == "failed to decode managed fields: operation must be `Apply` or `Update`"
    )


SETS = SchemaNode.from_crd_schema(
    {
        "type": "object",
        "properties": {
            "list": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"}
        },
    }
)


def with_list(items: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Sets", "metadata": {"name": "s"}, "list": list(items)}


def set_owners(obj: dict[str, Any]) -> dict[str, set[str]]:
    return {
        e["manager"]: {json.loads(k[2:]) for k in e["fieldsV1"].get("f:list", {})}
        for e in obj["metadata"]["managedFields"]
    }


@pytest.mark.parametrize(
    ("steps", "final", "expected_owners"),
    [
        ([("apply", "ac"), ("apply", "abcd")], "abcd", {"default": "abcd"}),
        (
            [("apply", "ac"), ("update", "abcd"), ("apply", "aAcC")],
            "abAcdC",
            {"default": "aAcC", "controller": "bd"},
        ),
        (
            [("apply", "ac"), ("update", "abcd"), ("apply", "abc")],
            "abcd",
            {"default": "abc", "controller": "bd"},  # b is shared: same value
        ),
        ([("apply", "abcd"), ("apply", "adcb")], "adcb", {"default": "abcd"}),
        (
            [("apply", "abcd"), ("update", "adcb"), ("apply", "abcd")],
            "abcd",
            {"default": "abcd"},  # reordering a set changes no field
        ),
        ([("apply", "abcd"), ("apply", "ac")], "ac", {"default": "ac"}),
    ],
)
def test_set_ownership_over_several_writes(
    steps: list[tuple[str, str]], final: str, expected_owners: dict[str, str]
) -> None:
    obj: dict[str, Any] | None = None
    for minute, (operation, items) in enumerate(steps):
        if operation == "apply":
            obj = do_apply(obj, with_list(items), "default", T0[:-6] + f"{minute}:00Z", schema=SETS)
        else:
            assert obj is not None
            new = {**copy.deepcopy(obj), "list": list(items)}
            track_update(obj, new, manager="controller", schema=SETS, now=T2)
            obj = new
    assert obj is not None
    assert "".join(obj["list"]) == final
    assert set_owners(obj) == {owner: set(items) for owner, items in expected_owners.items()}
