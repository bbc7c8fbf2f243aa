"""The controller manager inside `kyb server`: Deployments make ReplicaSets make pods;
scaling and deleting cascade. No kubelet runs here, so pods stay Pending."""

from __future__ import annotations

import json

from tests.e2e.conftest import Cluster


def pods_of(cluster: Cluster, namespace: str) -> list[dict[str, object]]:
    listed = json.loads(
        cluster.kubectl("get", "pods", "-n", namespace, "-l", "app=web", "-o", "json")
    )
    items: list[dict[str, object]] = listed["items"]
    return items


def test_deployment_scale_and_cascading_delete(cluster: Cluster, namespace: str) -> None:
    ns = ("-n", namespace)
    cluster.kubectl("create", "deployment", "web", *ns, "--image=nginx", "--replicas=3")
    cluster.kubectl(
        "wait", *ns, "--for=jsonpath={.status.replicas}=3", "deployment/web", "--timeout=30s"
    )
    replicasets = json.loads(cluster.kubectl("get", "rs", *ns, "-o", "json"))["items"]
    assert len(replicasets) == 1
    rs = replicasets[0]
    assert rs["metadata"]["ownerReferences"][0]["name"] == "web"
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pods = pods_of(cluster, namespace)
    assert len(pods) == 3
    assert {p["metadata"]["ownerReferences"][0]["name"] for p in pods} == {  # type: ignore[index]
        rs["metadata"]["name"]
    }

    cluster.kubectl("scale", "deployment", "web", *ns, "--replicas=1")
    cluster.kubectl(
        "wait", *ns, "--for=jsonpath={.status.replicas}=1", "deployment/web", "--timeout=30s"
    )
    cluster.kubectl("delete", "deployment", "web", *ns)
    cluster.kubectl("wait", *ns, "--for=delete", f"rs/{rs['metadata']['name']}", "--timeout=30s")
    cluster.kubectl("wait", *ns, "--for=delete", "pods", "-l", "app=web", "--timeout=30s")
    assert pods_of(cluster, namespace) == []
