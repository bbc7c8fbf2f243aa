"""The structural walker reports and prunes unknown fields and Go type errors as
kube-apiserver's decoder does."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kybernetes.api.quantity import FORMAT_WRONG as QUANTITY_FORMAT_ERROR
from kybernetes.api.schemanode import SchemaNode
from kybernetes.api.structural import Findings, check

from .examples import EXAMPLES


def node(group: str, version: str, kind: str) -> SchemaNode:
    found = SchemaNode.for_kind(group, version, kind)
    assert found is not None
    return found


def example(group: str, version: str, kind: str) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES[(group, version, kind)])


def messages(findings: Findings) -> list[str]:
    return [e.message for e in findings.decode_errors]


@pytest.mark.parametrize("gvk", sorted(EXAMPLES), ids=lambda gvk: "/".join(gvk))
def test_valid_objects_pass_untouched(gvk: tuple[str, str, str]) -> None:
    obj = example(*gvk)
    findings = check(obj, node(*gvk), prune=True)
    assert findings.unknown_fields == []
    assert findings.decode_errors == []
    assert findings.decode_error is None
    assert obj == EXAMPLES[gvk]


def test_unknown_fields_at_depth_in_strict_decoding_wording() -> None:
    deploy = example("apps", "v1", "Deployment")
    deploy["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    deploy["spec"]["template"]["spec"]["volumes"][2]["projected"]["sources"][0]["x"] = 1
    deploy["spec"]["foo"] = {"bar": 1}
    deploy["extra"] = True
    findings = check(deploy, node("apps", "v1", "Deployment"))
    assert findings.unknown_fields == [
        "spec.template.spec.containers[0].imagePullPolicyy",
        "spec.template.spec.volumes[2].projected.sources[0].x",
        "spec.foo",
        "extra",
    ]
    assert findings.unknown_field_messages()[0] == (
        'unknown field "spec.template.spec.containers[0].imagePullPolicyy"'
    )
    assert findings.decode_errors == []
    assert "extra" in deploy, "check without prune leaves the object alone"


def test_map_keys_are_path_segments() -> None:
    crd = example("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    schema["properties"]["spec"]["properties"]["cronSpec"]["bogus"] = 1
    findings = check(crd, node("apiextensions.k8s.io", "v1", "CustomResourceDefinition"))
    assert findings.unknown_fields == [
        "spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.cronSpec.bogus"
    ]


def test_prune_drops_unknown_fields_in_place_and_is_idempotent() -> None:
    pod = example("", "v1", "Pod")
    pod["spec"]["containers"][0]["bogus"] = 1
    pod["metadata"]["nope"] = "x"
    pod["status"]["containerStatuses"][0]["state"]["running"]["extra"] = []
    findings = check(pod, node("", "v1", "Pod"), prune=True)
    assert findings.unknown_fields == [
        "metadata.nope",
        "spec.containers[0].bogus",
        "status.containerStatuses[0].state.running.extra",
    ]
    assert pod == EXAMPLES[("", "v1", "Pod")]
    assert check(pod, node("", "v1", "Pod"), prune=True) == Findings()


def test_opaque_fields_keep_anything() -> None:
    revision = example("apps", "v1", "ControllerRevision")
    revision["data"] = {"whatever": {"deep": [1, {"x": None}]}}
    revision["metadata"]["managedFields"][0]["fieldsV1"] = {"f:spec": {'k:{"a":1}': {}}}
    findings = check(revision, node("apps", "v1", "ControllerRevision"), prune=True)
    assert findings == Findings()
    assert revision["data"] == {"whatever": {"deep": [1, {"x": None}]}}


def test_null_fits_every_field() -> None:
    pod = {
        "apiVersion": None,
        "metadata": {"labels": None, "name": None, "generation": None},
        "spec": {"containers": [None], "volumes": None, "nodeSelector": {"a": None}},
        "status": None,
    }
    assert check(pod, node("", "v1", "Pod")) == Findings()


@pytest.mark.parametrize(
    ("mutate", "path", "message"),
    [
        (
            lambda d: d["spec"].update(replicas="3"),
            "spec.replicas",
            "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas"
            " of type int32",
        ),
        (
            lambda d: d["spec"].update(replicas=3000000000),
            "spec.replicas",
            "json: cannot unmarshal number 3000000000 into Go struct field"
            " DeploymentSpec.spec.replicas of type int32",
        ),
        (
            lambda d: d["spec"].update(replicas=1.5),
            "spec.replicas",
            "json: cannot unmarshal number 1.5 into Go struct field DeploymentSpec.spec.replicas"
            " of type int32",
        ),
        (
            lambda d: d["metadata"]["labels"].update(app=1),
            "metadata.labels.app",
            "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels"
            " of type string",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(ports=["80"]),
            "spec.template.spec.containers[0].ports[0]",
            "json: cannot unmarshal string into Go struct field"
            " Container.spec.template.spec.containers.ports of type v1.ContainerPort",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(ports={"a": 1}),
            "spec.template.spec.containers[0].ports",
            "json: cannot unmarshal object into Go struct field"
            " Container.spec.template.spec.containers.ports of type []v1.ContainerPort",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["containers"][0].update(command=["sleep", 5]),
            "spec.template.spec.containers[0].command[1]",
            "json: cannot unmarshal number into Go struct field"
            " Container.spec.template.spec.containers.command of type string",
        ),
        (
            lambda d: d["spec"]["template"].update(spec="nope"),
            "spec.template.spec",
            "json: cannot unmarshal string into Go struct field PodTemplateSpec.spec.template.spec"
            " of type v1.PodSpec",
        ),
        (
            lambda d: d["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot="y"),
            "spec.template.spec.securityContext.runAsNonRoot",
            "json: cannot unmarshal string into Go struct field"
            " PodSecurityContext.spec.template.spec.securityContext.runAsNonRoot of type bool",
        ),
        (
            lambda d: d["spec"]["selector"].update(matchLabels=["app"]),
            "spec.selector.matchLabels",
            "json: cannot unmarshal array into Go struct field"
            " LabelSelector.spec.selector.matchLabels of type map[string]string",
        ),
    ],
)
def test_decode_errors_in_go_wording(mutate: Any, path: str, message: str) -> None:
    deploy = example("apps", "v1", "Deployment")
    mutate(deploy)
    findings = check(deploy, node("apps", "v1", "Deployment"))
    assert [(e.path, e.message, e.fatal) for e in findings.decode_errors] == [
        (path, message, False)
    ]
    assert findings.decode_error == message


def test_a_body_that_is_no_object() -> None:
    findings = check([1], node("", "v1", "Pod"))
    assert findings.decode_error == "json: cannot unmarshal array into Go value of type v1.Pod"


def test_int_or_string() -> None:
    service = example("", "v1", "Service")
    service["spec"]["ports"][0]["targetPort"] = 8080
    service["spec"]["ports"][1]["targetPort"] = "metrics"
    assert check(service, node("", "v1", "Service")) == Findings()
    service["spec"]["ports"][1]["targetPort"] = True
    findings = check(service, node("", "v1", "Service"))
    assert [(e.path, e.message, e.fatal) for e in findings.decode_errors] == [
        (
            "spec.ports[1].targetPort",
            "json: cannot unmarshal bool into Go value of type int32",
            True,
        )
    ]
    service["spec"]["ports"][1]["targetPort"] = 1.5
    assert check(service, node("", "v1", "Service")).decode_error == (
        "json: cannot unmarshal number 1.5 into Go value of type int32"
    )


def test_quantities_are_strings_or_numbers() -> None:
    pod = example("", "v1", "Pod")
    limits = pod["spec"]["containers"][0]["resources"]["limits"]
    limits.update(cpu=2, memory="1.5Gi")
    assert check(pod, node("", "v1", "Pod")) == Findings()
    limits["cpu"] = "two"
    findings = check(pod, node("", "v1", "Pod"))
    assert [(e.path, e.message, e.fatal) for e in findings.decode_errors] == [
        ("spec.containers[0].resources.limits.cpu", QUANTITY_FORMAT_ERROR, True)
    ]


def test_secret_data_must_be_base64() -> None:
    secret = example("", "v1", "Secret")
    secret["data"]["plain"] = "hunter2"
    findings = check(secret, node("", "v1", "Secret"))
    assert findings.decode_error == "illegal base64 data at input byte 4"
    assert findings.decode_errors[0].path == "data.plain"


def test_timestamps_must_be_rfc3339() -> None:
    pod = example("", "v1", "Pod")
    pod["metadata"]["creationTimestamp"] = "yesterday"
    findings = check(pod, node("", "v1", "Pod"))
    assert findings.decode_error == (
        'parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as'
        ' "2006"'
    )


def test_a_fatal_error_wins_over_earlier_decode_errors() -> None:
    pod = example("", "v1", "Pod")
    pod["metadata"]["generation"] = "2"
    pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] = "lots"
    findings = check(pod, node("", "v1", "Pod"))
    assert [e.fatal for e in findings.decode_errors] == [False, True]
    assert findings.decode_error == QUANTITY_FORMAT_ERROR


def test_wrongly_shaped_values_are_not_descended() -> None:
    pod = example("", "v1", "Pod")
    pod["spec"]["containers"] = {"name": "web", "bogus": 1}
    findings = check(pod, node("", "v1", "Pod"), prune=True)
    assert findings.unknown_fields == []
    assert pod["spec"]["containers"] == {"name": "web", "bogus": 1}
    assert len(findings.decode_errors) == 1


CRONTAB_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "cronSpec": {"type": "string"},
                "replicas": {"type": "integer"},
                "port": {"x-kubernetes-int-or-string": True},
                "env": {"type": "object", "additionalProperties": {"type": "string"}},
                "steps": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"name": {"type": "string"}}},
                },
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                "plugin": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"pinned": {"type": "object", "properties": {}}},
                },
                "template": {
                    "type": "object",
                    "x-kubernetes-embedded-resource": True,
                    "properties": {"spec": {"type": "object", "properties": {}}},
                },
            },
        },
        "status": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
    },
}


def crontab() -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": "c", "namespace": "default", "labels": {"a": "b"}},
        "spec": {
            "cronSpec": "* * * * */5",
            "replicas": 2,
            "port": "http",
            "env": {"A": "1"},
            "steps": [{"name": "one"}],
            "config": {"free": {"form": [1, 2]}},
            "plugin": {"anything": 1, "pinned": {}},
            "template": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {}},
        },
        "status": {"ok": True},
    }


def test_custom_resources_are_pruned_by_their_structural_schema() -> None:
    root = SchemaNode.from_crd_schema(CRONTAB_SCHEMA)
    obj = crontab()
    assert check(obj, root, prune=True) == Findings()
    assert obj == crontab()

    obj["spec"]["steps"][0]["extra"] = 1
    obj["spec"]["plugin"]["pinned"]["gone"] = 1
    obj["spec"]["plugin"]["kept"] = 1
    obj["spec"]["template"]["metadata"]["bogus"] = 1
    obj["spec"]["template"]["spec"]["x"] = 1
    obj["metadata"]["nope"] = 1
    obj["unknownTop"] = 1
    findings = check(obj, root, prune=True)
    assert findings.unknown_fields == [
        "metadata.nope",
        "spec.steps[0].extra",
        "spec.plugin.pinned.gone",
        "spec.template.metadata.bogus",
        "spec.template.spec.x",
        "unknownTop",
    ]
    assert obj["spec"]["plugin"] == {"anything": 1, "pinned": {}, "kept": 1}
    assert obj == {**crontab(), "spec": {**crontab()["spec"], "plugin": obj["spec"]["plugin"]}}


def test_custom_resource_decode_errors_are_left_to_validation() -> None:
    root = SchemaNode.from_crd_schema(CRONTAB_SCHEMA)
    obj = crontab()
    obj["spec"]["replicas"] = "two"
    obj["spec"]["port"] = {"no": 1}
    obj["spec"]["steps"] = "not a list"
    obj["status"] = []
    assert check(obj, root, prune=True) == Findings()
    obj["metadata"]["labels"] = {"a": 1}  # metadata is the built-in ObjectMeta
    assert messages(check(obj, root)) == [
        "json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels"
        " of type string"
    ]


def test_pathological_nesting_is_a_fatal_error_not_a_crash() -> None:
    props: dict[str, Any] = {}
    schema: dict[str, Any] = {"type": "object", "properties": props}
    for _ in range(2000):
        inner: dict[str, Any] = {}
        props["p"] = {"type": "object", "properties": inner}
        props = inner
    crd = example("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = schema
    findings = check(crd, node("apiextensions.k8s.io", "v1", "CustomResourceDefinition"))
    assert findings.decode_error == "json: exceeded max depth"
