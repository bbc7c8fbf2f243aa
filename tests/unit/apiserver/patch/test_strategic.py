"""Strategic merge patch as kube-apiserver applies it to built-in kinds: the kubectl
patch documentation's examples, each directive, the order of merged lists, and the
errors with apimachinery's wording."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.patch import STRATEGIC_MERGE_PATCH, apply_patch
from kybernetes.apiserver.status import StatusError

DEPLOYMENT = SchemaNode.for_kind("apps", "v1", "Deployment")
POD = SchemaNode.for_kind("", "v1", "Pod")


def patch(
    document: dict[str, Any], strategic_patch: Any, schema: SchemaNode = POD
) -> dict[str, Any]:
    return apply_patch(
        STRATEGIC_MERGE_PATCH, document, json.dumps(strategic_patch).encode(), schema
    )


def failure(
    document: dict[str, Any], strategic_patch: Any, schema: SchemaNode = POD
) -> StatusError:
    with pytest.raises(StatusError) as e:
        patch(document, strategic_patch, schema)
    return e.value


def pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a", "b"]},
        "spec": {"containers": list(containers), **spec},
    }


def containers(document: dict[str, Any]) -> list[Any]:
    return [c["name"] for c in document["spec"]["containers"]]


def patch_demo() -> dict[str, Any]:
    """application/deployment-patch.yaml of "Update API Objects in Place Using kubectl patch"."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "patch-demo"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [{"name": "patch-demo-ctr", "image": "nginx"}],
                    "tolerations": [
                        {"effect": "NoSchedule", "key": "dedicated", "value": "test-team"}
                    ],
                },
            },
        },
    }


def test_docs_containers_merge_by_name() -> None:
    body = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "patch-demo-ctr-2", "image": "redis"}]}}
        }
    }
    result = patch(patch_demo(), body, DEPLOYMENT)
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "patch-demo-ctr-2", "image": "redis"},
        {"name": "patch-demo-ctr", "image": "nginx"},
    ]


def test_docs_tolerations_are_replaced() -> None:
    toleration = {"effect": "NoSchedule", "key": "disktype", "value": "ssd"}
    result = patch(
        patch_demo(), {"spec": {"template": {"spec": {"tolerations": [toleration]}}}}, DEPLOYMENT
    )
    assert result["spec"]["template"]["spec"]["tolerations"] == [toleration]
    assert result["spec"]["template"]["spec"]["containers"] == [
        {"name": "patch-demo-ctr", "image": "nginx"}
    ]


def retainkeys_demo() -> dict[str, Any]:
    """application/deployment-retainkeys.yaml of the same page."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "retainkeys-demo"},
        "spec": {
            "selector": {"matchLabels": {"app": "nginx"}},
            "strategy": {"rollingUpdate": {"maxSurge": "30%"}, "type": "RollingUpdate"},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {"containers": [{"name": "retainkeys-demo-ctr", "image": "nginx"}]},
            },
        },
    }


def test_docs_without_retain_keys_rolling_update_stays() -> None:
    result = patch(retainkeys_demo(), {"spec": {"strategy": {"type": "Recreate"}}}, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"rollingUpdate": {"maxSurge": "30%"}, "type": "Recreate"}


def test_docs_retain_keys_clears_the_other_fields() -> None:
    body = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    result = patch(retainkeys_demo(), body, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    assert result["spec"]["selector"] == {"matchLabels": {"app": "nginx"}}


def test_merge_keys_of_nested_lists() -> None:
    app = {
        "name": "app",
        "image": "nginx",
        "ports": [{"containerPort": 80, "protocol": "TCP"}, {"containerPort": 443}],
        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    body = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                    "volumeMounts": [{"name": "cache", "mountPath": "/cache"}],
                }
            ],
            "volumes": [{"name": "cache", "emptyDir": {}}],
        }
    }
    result = patch(pod(app, volumes=[{"name": "data", "emptyDir": {}}]), body)
    (merged,) = result["spec"]["containers"]
    assert merged["image"] == "nginx"
    assert merged["ports"] == [
        {"containerPort": 80, "protocol": "TCP", "name": "http"},
        {"containerPort": 443},
    ]
    assert merged["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]
    assert merged["volumeMounts"] == [
        {"name": "cache", "mountPath": "/cache"},
        {"name": "data", "mountPath": "/data"},
    ]
    assert result["spec"]["volumes"] == [
        {"name": "cache", "emptyDir": {}},
        {"name": "data", "emptyDir": {}},
    ]


@pytest.mark.parametrize(
    ("finalizers", "expected"),
    [
        (["c"], ["c", "a", "b"]),  # a union; the patch's new elements first
        (["b", "c", "a", "c"], ["b", "c", "a"]),  # in the patch's order, once each
        (["a"], ["a", "b"]),
    ],
)
def test_primitive_lists_with_strategy_merge_are_unioned(
    finalizers: list[str], expected: list[str]
) -> None:
    assert (
        patch(pod(), {"metadata": {"finalizers": finalizers}})["metadata"]["finalizers"] == expected
    )


def test_delete_from_primitive_list() -> None:
    result = patch(pod(), {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a", "x"]}})
    assert result["metadata"]["finalizers"] == ["b"]


def test_null_deletes_and_maps_merge() -> None:
    body = {"metadata": {"labels": {"app": None, "tier": "front"}, "finalizers": None}}
    result = patch(pod(), body)
    assert result["metadata"] == {"name": "web", "labels": {"tier": "front"}}


def test_patch_directive_replace_on_a_map() -> None:
    result = patch(pod(), {"metadata": {"labels": {"$patch": "replace", "only": "this"}}})
    assert result["metadata"]["labels"] == {"only": "this"}


def test_patch_directive_delete_on_a_map_leaves_it_empty() -> None:
    document = pod(nodeSelector={"disk": "ssd"})
    result = patch(document, {"spec": {"nodeSelector": {"$patch": "delete"}}})
    assert result["spec"]["nodeSelector"] == {}
    result = patch(pod(), {"spec": {"nodeSelector": {"$patch": "delete"}}})  # absent: not added
    assert "nodeSelector" not in result["spec"]


def test_patch_directive_delete_in_a_list() -> None:
    document = pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    result = patch(document, {"spec": {"containers": [{"name": "b", "$patch": "delete"}]}})
    assert containers(result) == ["a", "c"]


def test_patch_directive_replace_in_a_list() -> None:
    document = pod({"name": "a", "image": "x"}, {"name": "b"})
    body = {"spec": {"containers": [{"$patch": "replace"}, {"name": "c", "image": "y"}]}}
    assert patch(document, body)["spec"]["containers"] == [{"name": "c", "image": "y"}]


def test_set_element_order() -> None:
    document = pod({"name": "a"}, {"name": "b", "image": "old"}, {"name": "c"})
    body = {
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [{"name": "b", "image": "new"}],
        }
    }
    result = patch(document, body)
    assert result["spec"]["containers"] == [
        {"name": "b", "image": "new"},
        {"name": "a"},
        {"name": "c"},
    ]
    reordered = patch(
        document,
        {"spec": {"$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "b"}]}},
    )
    assert containers(reordered) == ["c", "a", "b"]


def test_kubectl_apply_patch_removing_a_container() -> None:
    """The shape of the patch client-side `kubectl apply` sends."""
    document = pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    document["metadata"]["annotations"] = {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
    body = {
        "metadata": {
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"new":1}'}
        },
        "spec": {
            "$setElementOrder/containers": [{"name": "a"}],
            "containers": [{"name": "a", "image": "z"}, {"$patch": "delete", "name": "b"}],
        },
    }
    result = patch(document, body)
    assert result["spec"]["containers"] == [{"name": "a", "image": "z"}]
    assert result["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": '{"new":1}'
    }


def test_added_values_lose_nulls_and_directives() -> None:
    body = {
        "spec": {
            "nodeSelector": {"a": None, "b": "x"},
            "affinity": {"nodeAffinity": {"$patch": "delete"}},
        }
    }
    result = patch(pod(), body)
    assert result["spec"]["nodeSelector"] == {"b": "x"}
    assert result["spec"]["affinity"] == {}


def test_a_value_of_another_type_replaces() -> None:
    result = patch(pod(), {"metadata": {"labels": "x"}, "spec": {"containers": {"name": "a"}}})
    assert result["metadata"]["labels"] == "x"
    assert result["spec"]["containers"] == {"name": "a"}


def test_fields_merge_through_maps_of_lists() -> None:
    review = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "status": {"user": {"extra": {"g": ["a"]}}},
    }
    schema = SchemaNode.for_kind("authentication.k8s.io", "v1", "TokenReview")
    assert schema is not None
    result = patch(review, {"status": {"user": {"extra": {"g": ["b"]}}}}, schema)
    assert result["status"]["user"]["extra"] == {"g": ["b"]}


@pytest.mark.parametrize(
    ("document", "body", "code", "message"),
    [
        (
            pod({"name": "a"}),
            {"spec": {"containers": [{"image": "redis"}]}},
            500,
            "map: map[image:redis] does not contain declared merge key: name",
        ),
        (
            pod(),
            {"metadata": {"labels": {"$patch": "foo", "a": 1}}},
            500,
            "unknown patch type: foo in map: map[$patch:foo a:1]",
        ),
        (
            pod({"name": "a"}),
            {"spec": {"containers": [{"name": "a", "$patch": 3}]}},
            500,
            "unknown patch type: %!s(int64=3) in map: map[$patch:3 name:a]",
        ),
        (
            pod({"name": "a"}),
            {"spec": {"containers": [{"name": "a", "$patch": "merge"}]}},
            500,
            "merging lists cannot yet be specified in the patch",
        ),
        (
            pod(),
            {"metadata": {"$retainKeys": ["name"], "labels": {}}},
            400,
            "invalid patch format of retainKeys",
        ),
        (pod(), {"metadata": {"$retainKeys": "name"}}, 400, "invalid patch format of retainKeys"),
        (
            pod(),
            {"metadata": {"$deleteFromPrimitiveList": ["a"]}},
            400,
            "invalid patch format of primitive list",
        ),
        (
            pod(),
            {"metadata": {"$setElementOrderX/finalizers": []}},
            400,
            "invalid patch format of setElementOrder list",
        ),
        (
            pod(),
            {"metadata": {"$setElementOrder/finalizers": "a"}},
            500,
            "expected a []interface {}, but received a string",
        ),
        (
            pod({"name": "a"}, {"name": "b"}),
            {
                "spec": {
                    "$setElementOrder/containers": [{"name": "a"}],
                    "containers": [{"name": "b"}],
                }
            },
            500,
            "The order in patch list:\n[map[name:b]]\n doesn't match "
            "$setElementOrder list:\n[map[name:a]]\n",
        ),
        (
            pod(),
            {"metadata": {"finalizers": [1.5]}},
            500,
            "list element types are not identical: [[a b] [1.5]]",
        ),
        (
            pod(),
            {"metadata": {"finalizers": [{"a": 1}]}},
            500,
            "list element types are not identical: [[a b] [map[a:1]]]",
        ),
        (
            {**pod(), "spec": {"containers": [], "bogus": {"a": 1}}},
            {"spec": {"bogus": {"b": 2}}},
            500,
            'unable to find api field in struct PodSpec for the json field "bogus"',
        ),
    ],
)
def test_errors(document: dict[str, Any], body: Any, code: int, message: str) -> None:
    error = failure(document, body)
    reason = {400: "BadRequest", 500: ""}[code]
    assert (error.code, error.reason, error.message) == (code, reason, message)


def test_a_list_of_lists_is_422() -> None:
    document = pod()
    document["metadata"]["finalizers"] = []
    error = failure(document, {"metadata": {"finalizers": [["a"]]}})
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message == "the server rejected our request due to an error in our request"


def test_cannot_merge_objects_into_a_primitive_list() -> None:
    document = pod()
    document["metadata"]["finalizers"] = []
    error = failure(document, {"metadata": {"finalizers": [{"a": 1}]}})
    assert (error.code, error.message) == (500, "cannot merge lists without merge key for string")
