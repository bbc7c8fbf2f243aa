"""Patches through kubectl and the Python client; CustomResourceDefinitions served at once."""

from __future__ import annotations

import json

from kubernetes import client, dynamic

from tests.e2e.conftest import Cluster

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "properties": {"size": {"type": "integer"}},
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


def test_label_annotate_and_patch_types(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "configmap", "p", "-n", namespace, "--from-literal=a=1")
    cluster.kubectl("label", "cm", "p", "-n", namespace, "tier=web")
    cluster.kubectl("annotate", "cm", "p", "-n", namespace, "note=hi")
    cluster.kubectl("patch", "cm", "p", "-n", namespace, "--type=merge", "-p", '{"data":{"b":"2"}}')
    cluster.kubectl(
        "patch",
        "cm",
        "p",
        "-n",
        namespace,
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/data/a","value":"9"}]',
    )
    got = json.loads(cluster.kubectl("get", "cm", "p", "-n", namespace, "-o", "json"))
    assert got["metadata"]["labels"] == {"tier": "web"}
    assert got["metadata"]["annotations"] == {"note": "hi"}
    assert got["data"] == {"a": "9", "b": "2"}

    cluster.kubectl("create", "deployment", "web", "-n", namespace, "--image=nginx")
    cluster.kubectl(
        "patch",
        "deploy",
        "web",
        "-n",
        namespace,
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:2"}]}}}}',
    )
    deploy = json.loads(cluster.kubectl("get", "deploy", "web", "-n", namespace, "-o", "json"))
    containers = deploy["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("nginx", "nginx:2")]
    assert deploy["metadata"]["generation"] == 2


def test_crd_serves_custom_resources_at_once(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(CRD))
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/widgets.example.com", "--timeout=20s"
    )
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"size": 3, "unknown": "dropped"},
    }
    refused = cluster.kubectl(
        "create", "-n", namespace, "-f", "-", stdin=json.dumps(widget), check=False
    )
    assert 'strict decoding error: unknown field "spec.unknown"' in refused
    cluster.kubectl(
        "create", "--validate=false", "-n", namespace, "-f", "-", stdin=json.dumps(widget)
    )
    got = json.loads(cluster.kubectl("get", "wd", "w1", "-n", namespace, "-o", "json"))
    assert got["spec"] == {"size": 3}  # pruned by the structural schema
    assert got["metadata"]["generation"] == 1
    custom = client.CustomObjectsApi(cluster.api_client())
    listed = custom.list_namespaced_custom_object("example.com", "v1", namespace, "widgets")
    assert [w["metadata"]["name"] for w in listed["items"]] == ["w1"]
    resources = cluster.kubectl("api-resources", "--api-group=example.com", "-o", "name")
    assert resources.split() == ["widgets.example.com"]

    cluster.kubectl("delete", "crd", "widgets.example.com", "--timeout=20s")
    # The custom resources went with their definition: nothing serves them any more.
    out = cluster.kubectl("get", "widgets.example.com", "-n", namespace, check=False)
    assert "NotFound" in out or "doesn't have a resource type" in out


def test_scale_subresource(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "deployment", "s", "-n", namespace, "--image=nginx")
    cluster.kubectl("scale", "deployment", "s", "-n", namespace, "--replicas=3")
    apps = client.AppsV1Api(cluster.api_client())
    scale = apps.read_namespaced_deployment_scale("s", namespace)
    assert scale.spec.replicas == 3
    assert scale.status.selector == "app=s"
    scale.spec.replicas = 5
    apps.replace_namespaced_deployment_scale("s", namespace, scale)
    deploy = apps.read_namespaced_deployment("s", namespace)
    assert deploy.spec.replicas == 5
    assert deploy.metadata.generation == 3


def deployment(image: str, replicas: int) -> str:
    return json.dumps(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "applied", "labels": {"app": "applied"}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "applied"}},
                "template": {
                    "metadata": {"labels": {"app": "applied"}},
                    "spec": {"containers": [{"name": "web", "image": image}]},
                },
            },
        }
    )


def test_client_side_apply_then_reapply_after_edits(cluster: Cluster, namespace: str) -> None:
    out = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment("nginx:1", 1))
    assert out.strip() == "deployment.apps/applied created"
    out = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment("nginx:2", 4))
    assert out.strip() == "deployment.apps/applied configured"
    out = cluster.kubectl("apply", "-n", namespace, "-f", "-", stdin=deployment("nginx:2", 4))
    assert out.strip() == "deployment.apps/applied unchanged"
    got = json.loads(cluster.kubectl("get", "deploy", "applied", "-n", namespace, "-o", "json"))
    assert got["spec"]["replicas"] == 4
    assert got["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
    assert "kubectl.kubernetes.io/last-applied-configuration" in got["metadata"]["annotations"]


def test_explain_reads_the_openapi_documents(cluster: Cluster) -> None:
    out = cluster.kubectl("explain", "deployment.spec.strategy")
    assert "KIND:       Deployment" in out
    assert "rollingUpdate" in out


def test_kubectl_get_prints_kubernetes_columns(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "deployment", "cols", "-n", namespace, "--image=nginx")
    header = cluster.kubectl("get", "deploy", "-n", namespace).splitlines()[0].split()
    assert header == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    wide = cluster.kubectl("get", "deploy", "-n", namespace, "-o", "wide").splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert wide[1].split()[:2] == ["cols", "0/1"]
    ns = cluster.kubectl("get", "ns", namespace).splitlines()
    assert ns[0].split() == ["NAME", "STATUS", "AGE"]
    assert ns[1].split()[:2] == [namespace, "Active"]


def test_server_side_apply_owns_fields_and_reports_conflicts(
    cluster: Cluster, namespace: str
) -> None:
    ns = ("-n", namespace)
    out = cluster.kubectl("apply", "--server-side", *ns, "-f", "-", stdin=deployment("nginx:1", 2))
    assert out.strip() == "deployment.apps/applied serverside-applied"
    got = json.loads(
        cluster.kubectl("get", "deploy", "applied", *ns, "-o", "json", "--show-managed-fields")
    )
    managers = {(m["manager"], m["operation"]) for m in got["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers
    assert got["spec"]["replicas"] == 2

    # Another manager changes replicas; re-applying a different value conflicts.
    cluster.kubectl(
        "patch",
        "deploy",
        "applied",
        *ns,
        "--field-manager=other",
        "--type=merge",
        "-p",
        '{"spec":{"replicas":5}}',
    )
    conflict = cluster.kubectl(
        "apply", "--server-side", *ns, "-f", "-", stdin=deployment("nginx:1", 3), check=False
    )
    assert "Apply failed with 1 conflict" in conflict
    assert 'conflict with "other" using apps/v1: .spec.replicas' in conflict
    cluster.kubectl(
        "apply",
        "--server-side",
        "--force-conflicts",
        *ns,
        "-f",
        "-",
        stdin=deployment("nginx:1", 3),
    )
    got = json.loads(cluster.kubectl("get", "deploy", "applied", *ns, "-o", "json"))
    assert got["spec"]["replicas"] == 3


def test_python_client_patches_and_server_side_apply(cluster: Cluster, namespace: str) -> None:
    api = cluster.api_client()
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(namespace, json.loads(deployment("nginx:1", 1)))
    # A dict body is sent as a strategic merge patch: containers merge by name.
    apps.patch_namespaced_deployment(
        "applied",
        namespace,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:3"}]}}}},
    )
    # A list body is a JSON patch.
    apps.patch_namespaced_deployment(
        "applied", namespace, [{"op": "replace", "path": "/spec/replicas", "value": 2}]
    )
    got = apps.read_namespaced_deployment("applied", namespace)
    assert got.spec.replicas == 2
    assert [c.image for c in got.spec.template.spec.containers] == ["nginx:3"]

    dyn = dynamic.DynamicClient(api)
    configmaps = dyn.resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ssa"},
        "data": {"a": "1"},
    }
    applied = configmaps.server_side_apply(body=body, namespace=namespace, field_manager="me")
    assert applied.data.a == "1"
    assert [m.manager for m in applied.metadata.managedFields] == ["me"]


def test_replace_and_server_dry_run(cluster: Cluster, namespace: str) -> None:
    ns = ("-n", namespace)
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "r"},
        "data": {"a": "1"},
    }
    out = cluster.kubectl("create", *ns, "--dry-run=server", "-f", "-", stdin=json.dumps(manifest))
    assert out.strip() == "configmap/r created (server dry run)"
    assert "NotFound" in cluster.kubectl("get", "cm", "r", *ns, check=False)
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(manifest))
    manifest["data"] = {"a": "2"}
    out = cluster.kubectl("replace", *ns, "-f", "-", stdin=json.dumps(manifest))
    assert out.strip() == "configmap/r replaced"
    assert cluster.kubectl("get", "cm", "r", *ns, "-o", "jsonpath={.data.a}") == "2"
