"""SchemaNode exposes the shape and the merge metadata of the official schemas."""

from __future__ import annotations

import pytest

from kybernetes.api.schemanode import RFC3339_MICRO, NodeType, SchemaNode


def pod_spec() -> SchemaNode:
    return SchemaNode.for_definition("io.k8s.api.core.v1.PodSpec")


def test_strategic_merge_metadata_of_containers() -> None:
    containers = pod_spec().properties()["containers"]
    assert containers.type is NodeType.ARRAY
    assert containers.patch_strategy == "merge"
    assert containers.merge_key == "name"
    assert containers.list_type == "map"
    assert containers.list_map_keys == ("name",)
    item = containers.items()
    assert item is not None and item.definition == "io.k8s.api.core.v1.Container"
    assert item.type is NodeType.OBJECT and item.patch_strategy is None


def test_paths_through_a_kind() -> None:
    deploy = SchemaNode.for_kind("apps", "v1", "Deployment")
    assert deploy is not None
    ports = deploy.at(["spec", "template", "spec", "containers", 0, "ports"])
    assert ports is not None
    assert (ports.merge_key, ports.list_map_keys) == (
        "containerPort",
        ("containerPort", "protocol"),
    )
    volumes = deploy.at(["spec", "template", "spec", "volumes"])
    assert volumes is not None and volumes.patch_strategy == "merge,retainKeys"
    strategy = deploy.at(["spec", "strategy"])
    assert strategy is not None and strategy.patch_strategy == "retainKeys"
    assert strategy.definition == "io.k8s.api.apps.v1.DeploymentStrategy"
    labels = deploy.at(["metadata", "labels", "app"])
    assert labels is not None and labels.type is NodeType.STRING
    assert deploy.at(["spec", "nope"]) is None
    assert deploy.at(["spec", "replicas", "deeper"]) is None
    assert deploy.at(["metadata", "managedFields", 0, "fieldsV1", "f:x"]) is None


def test_field_extensions_beside_a_ref_do_not_leak_into_the_shared_definition() -> None:
    strategy = SchemaNode.for_definition("io.k8s.api.apps.v1.DeploymentStrategy")
    assert strategy.patch_strategy is None
    selector = SchemaNode.for_definition("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector")
    assert selector.map_type == "atomic"


def test_definition_nodes_and_property_tables_are_cached() -> None:
    assert pod_spec() is pod_spec()
    assert pod_spec().properties() is pod_spec().properties()
    container = pod_spec().at(["containers", 0])
    assert container is SchemaNode.for_definition("io.k8s.api.core.v1.Container")
    assert SchemaNode.for_kind("", "v1", "NoSuchKind") is None
    with pytest.raises(KeyError):
        SchemaNode.for_definition("io.k8s.api.core.v1.NoSuch")


@pytest.mark.parametrize(
    ("path", "node_type", "go_type"),
    [
        (["spec", "replicas"], NodeType.INTEGER, "int32"),
        (["spec", "template", "spec", "activeDeadlineSeconds"], NodeType.INTEGER, "int64"),
        (["spec", "paused"], NodeType.BOOLEAN, "bool"),
        (["spec", "selector"], NodeType.OBJECT, "v1.LabelSelector"),
        (["spec", "selector", "matchLabels"], NodeType.MAP, "map[string]string"),
        (["spec", "template", "spec", "containers"], NodeType.ARRAY, "[]v1.Container"),
        (["spec", "template", "spec", "containers", 0, "args"], NodeType.ARRAY, "[]string"),
        (
            ["spec", "template", "spec", "containers", 0, "resources", "limits"],
            NodeType.MAP,
            "map[string]resource.Quantity",
        ),
        (
            ["spec", "template", "spec", "containers", 0, "ports", 0, "containerPort"],
            NodeType.INTEGER,
            "int32",
        ),
        (["spec", "strategy", "rollingUpdate", "maxSurge"], NodeType.INT_OR_STRING, None),
        (["metadata", "creationTimestamp"], NodeType.TIME, None),
        (["metadata", "managedFields", 0, "fieldsV1"], NodeType.ANY, None),
    ],
)
def test_types(path: list[str | int], node_type: NodeType, go_type: str | None) -> None:
    deploy = SchemaNode.for_kind("apps", "v1", "Deployment")
    assert deploy is not None
    found = deploy.at(path)
    assert found is not None
    assert found.type is node_type
    if go_type is not None:
        assert found.go_type == go_type


def test_special_definitions() -> None:
    event = SchemaNode.for_kind("events.k8s.io", "v1", "Event")
    assert event is not None
    event_time = event.at(["eventTime"])
    assert event_time is not None and event_time.type is NodeType.TIME
    assert event_time.format == RFC3339_MICRO
    secret = SchemaNode.for_kind("", "v1", "Secret")
    assert secret is not None
    data = secret.at(["data", "key"])
    assert data is not None and (data.type, data.go_type) == (NodeType.BYTES, "[]uint8")
    revision = SchemaNode.for_kind("apps", "v1", "ControllerRevision")
    assert revision is not None
    assert revision.at(["data"]) is not None
    assert revision.properties()["data"].type is NodeType.ANY
    assert revision.struct_name == "ControllerRevision"


def test_crd_schema_nodes() -> None:
    root = SchemaNode.from_crd_schema(
        {
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "ports": {
                            "type": "array",
                            "x-kubernetes-list-type": "map",
                            "x-kubernetes-list-map-keys": ["port", "protocol"],
                            "items": {
                                "type": "object",
                                "properties": {"port": {"type": "integer"}},
                            },
                        },
                        "size": {"x-kubernetes-int-or-string": True},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "blob": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        "empty": {"type": "object"},
                    },
                }
            },
        }
    )
    assert not root.typed and root.struct_name == ""
    assert set(root.properties()) == {"spec", "apiVersion", "kind", "metadata"}
    assert root.properties()["metadata"] is SchemaNode.for_definition(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    ports = root.at(["spec", "ports"])
    assert ports is not None and (ports.list_type, ports.list_map_keys) == (
        "map",
        ("port", "protocol"),
    )
    port = root.at(["spec", "ports", 0, "port"])
    assert port is not None and port.type is NodeType.INTEGER and not port.typed
    spec = root.at(["spec"])
    assert spec is not None
    types = {name: n.type for name, n in spec.properties().items()}
    assert types == {
        "ports": NodeType.ARRAY,
        "size": NodeType.INT_OR_STRING,
        "labels": NodeType.MAP,
        "blob": NodeType.ANY,
        "empty": NodeType.OBJECT,
    }
