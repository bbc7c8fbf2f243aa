"""JSON merge patch (RFC 7386) as kube-apiserver applies it (evanphx/json-patch v4)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.patch import MERGE_PATCH, apply_patch

DEPLOYMENT = SchemaNode.for_kind("apps", "v1", "Deployment")


def patch(document: dict[str, Any], merge_patch: dict[str, Any]) -> dict[str, Any]:
    return apply_patch(MERGE_PATCH, document, json.dumps(merge_patch).encode(), DEPLOYMENT)


# RFC 7386 appendix A, for the cases whose target and patch are objects (a Kubernetes
# object is one, and kube-apiserver refuses other patches with 400).
RFC_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("document", "merge_patch", "expected"), RFC_EXAMPLES)
def test_rfc7386_examples(document: Any, merge_patch: Any, expected: Any) -> None:
    assert patch(document, merge_patch) == expected


@pytest.mark.parametrize(
    ("document", "merge_patch", "expected"),
    [
        # an added value loses its nulls at every depth, in arrays' objects too
        ({}, {"a": [{"b": None, "c": 1}, None]}, {"a": [{"c": 1}, None]}),
        ({"a": None}, {"a": {"b": None, "c": {"d": None}}}, {"a": {"c": {}}}),
        ({"a": "x"}, {"a": {"b": None}}, {"a": {}}),
        # an array that replaces an object is taken as it is
        ({"a": {"x": 1}}, {"a": [{"b": None}]}, {"a": [{"b": None}]}),
        # deleting an absent member is no error
        ({"a": 1}, {"b": None}, {"a": 1}),
    ],
)
def test_evanphx_semantics(document: Any, merge_patch: Any, expected: Any) -> None:
    assert patch(document, merge_patch) == expected


def test_kubectl_docs_merge_patch_replaces_lists() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "patch-demo"},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"name": "patch-demo-ctr-2", "image": "redis"},
                        {"name": "patch-demo-ctr", "image": "nginx"},
                    ]
                }
            },
        },
    }
    merge_patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/hello-app:2.0"}
                    ]
                }
            }
        }
    }
    result = patch(deployment, merge_patch)
    assert result["spec"] == {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {"name": "patch-demo-ctr-3", "image": "gcr.io/google-samples/hello-app:2.0"}
                ]
            }
        },
    }
    assert result["metadata"] == {"name": "patch-demo"}
