"""The API server's core verbs, driven by the official Python client and kubectl."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable

import pytest
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.e2e.conftest import WATCH_CACHE_SIZE, Cluster


def configmap(name: str, **labels: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels or None), data={"k": "v"}
    )


def status_of(e: ApiException) -> dict[str, object]:
    body: dict[str, object] = json.loads(e.body)
    return body


def test_system_namespaces_exist(cluster: Cluster) -> None:
    names = {
        ns.metadata.name for ns in client.CoreV1Api(cluster.api_client()).list_namespace().items
    }
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= names


def test_crud_and_errors(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    created = core.create_namespaced_config_map(namespace, configmap("a", app="web"))
    assert created.metadata.uid and created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None

    with pytest.raises(ApiException) as dup:
        core.create_namespaced_config_map(namespace, configmap("a"))
    assert dup.value.status == 409
    assert status_of(dup.value)["reason"] == "AlreadyExists"
    assert status_of(dup.value)["message"] == 'configmaps "a" already exists'

    got = core.read_namespaced_config_map("a", namespace)
    assert got.metadata.resource_version == created.metadata.resource_version

    got.data = {"k": "changed"}
    updated = core.replace_namespaced_config_map("a", namespace, got)
    assert int(updated.metadata.resource_version) > int(created.metadata.resource_version)

    got.data = {"k": "stale"}  # still carries the old resourceVersion
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("a", namespace, got)
    assert stale.value.status == 409
    assert status_of(stale.value)["message"] == (
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )

    core.delete_namespaced_config_map("a", namespace)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("a", namespace)
    assert missing.value.status == 404
    assert status_of(missing.value)["message"] == 'configmaps "a" not found'


def test_invalid_name_is_422_naming_the_field(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map(namespace, configmap("Not_Valid"))
    body = status_of(invalid.value)
    assert invalid.value.status == 422
    assert body["reason"] == "Invalid"
    causes = body["details"]["causes"]  # type: ignore[index]
    assert causes[0]["field"] == "metadata.name"
    assert causes[0]["reason"] == "FieldValueInvalid"


def test_missing_namespace_is_404(cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api_client())
    with pytest.raises(ApiException) as missing:
        core.create_namespaced_config_map("no-such-namespace", configmap("a"))
    assert missing.value.status == 404
    assert status_of(missing.value)["message"] == 'namespaces "no-such-namespace" not found'


def test_list_selectors_and_pages(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    for i in range(7):
        core.create_namespaced_config_map(namespace, configmap(f"c{i}", tier="a" if i % 2 else "b"))
    assert len(core.list_namespaced_config_map(namespace, label_selector="tier=a").items) == 3
    assert (
        len(core.list_namespaced_config_map(namespace, label_selector="tier in (a,b)").items) == 7
    )
    only = core.list_namespaced_config_map(namespace, field_selector="metadata.name=c3").items
    assert [c.metadata.name for c in only] == ["c3"]

    first = core.list_namespaced_config_map(namespace, limit=3)
    assert [c.metadata.name for c in first.items] == ["c0", "c1", "c2"]
    core.delete_namespaced_config_map("c4", namespace)  # the next pages still see c4
    second = core.list_namespaced_config_map(namespace, limit=3, _continue=first.metadata._continue)
    assert [c.metadata.name for c in second.items] == ["c3", "c4", "c5"]
    assert second.metadata.resource_version == first.metadata.resource_version

    with pytest.raises(ApiException) as bad:
        core.list_namespaced_config_map(namespace, field_selector="data.k=v")
    assert bad.value.status == 400
    assert "field label not supported: data.k" in status_of(bad.value)["message"]  # type: ignore[operator]


def test_watch_from_list_resource_version_sees_changes_in_order(
    cluster: Cluster, namespace: str
) -> None:
    core = client.CoreV1Api(cluster.api_client())
    listed = core.list_namespaced_config_map(namespace)
    seen: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for event in w.stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=listed.metadata.resource_version,
            timeout_seconds=20,
        ):
            seen.append((event["type"], event["object"].metadata.name))
            if len(seen) == 3:
                w.stop()

    reader = threading.Thread(target=consume)
    reader.start()
    cm = core.create_namespaced_config_map(namespace, configmap("w"))
    cm.data = {"k": "2"}
    core.replace_namespaced_config_map("w", namespace, cm)
    core.delete_namespaced_config_map("w", namespace)
    reader.join(timeout=30)
    assert seen == [("ADDED", "w"), ("MODIFIED", "w"), ("DELETED", "w")]


def test_kubectl_get_and_error_forms(cluster: Cluster, namespace: str) -> None:
    out = cluster.kubectl("get", "configmap", "nope", "-n", namespace, check=False)
    assert 'Error from server (NotFound): configmaps "nope" not found' in out
    manifest = json.dumps(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k"}, "data": {"a": "b"}}
    )
    cluster.kubectl("create", "-n", namespace, "-f", "-", stdin=manifest)
    assert cluster.kubectl("get", "cm", "k", "-n", namespace, "-o", "jsonpath={.data.a}") == "b"
    out = cluster.kubectl("create", "-n", namespace, "-f", "-", stdin=manifest, check=False)
    assert (
        'Error from server (AlreadyExists): error when creating "STDIN": '
        'configmaps "k" already exists' in out
    )


def test_pod_binding_assigns_once(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="p"),
        # Bound by hand: no scheduler serves this name.
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="busybox")],
            scheduler_name="manual",
        ),
    )
    created = core.create_namespaced_pod(namespace, pod)
    assert created.status.phase == "Pending"
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name="p"), target=client.V1ObjectReference(name="node-1")
    )
    response = core.create_namespaced_pod_binding("p", namespace, binding, _preload_content=False)
    assert response.status == 201
    bound = core.read_namespaced_pod("p", namespace)
    assert bound.spec.node_name == "node-1"
    assert [(c.type, c.status) for c in bound.status.conditions] == [("PodScheduled", "True")]
    with pytest.raises(ApiException) as again:
        core.create_namespaced_pod_binding("p", namespace, binding, _preload_content=False)
    assert again.value.status == 409
    assert status_of(again.value)["message"] == (
        'Operation cannot be fulfilled on pods/binding "p": '
        'pod p is already assigned to node "node-1"'
    )


def service(name: str, **spec: object) -> client.V1Service:
    ports = [client.V1ServicePort(port=80, target_port=8080, protocol="TCP")]
    return client.V1Service(
        metadata=client.V1ObjectMeta(name=name),
        spec=client.V1ServiceSpec(selector={"app": name}, ports=ports, **spec),
    )


def test_services_get_cluster_ips_and_node_ports(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    a = core.create_namespaced_service(namespace, service("a"))
    b = core.create_namespaced_service(namespace, service("b", type="NodePort"))
    assert a.spec.cluster_ip.startswith("10.43.") and a.spec.cluster_ips == [a.spec.cluster_ip]
    assert b.spec.cluster_ip != a.spec.cluster_ip
    assert 30000 <= b.spec.ports[0].node_port <= 32767
    headless = core.create_namespaced_service(namespace, service("h", cluster_ip="None"))
    assert headless.spec.cluster_ip == "None"

    with pytest.raises(ApiException) as taken:
        core.create_namespaced_service(namespace, service("c", cluster_ip=a.spec.cluster_ip))
    assert taken.value.status == 422
    assert status_of(taken.value)["message"] == (
        f'Service "c" is invalid: spec.clusterIPs[0]: Invalid value: "{a.spec.cluster_ip}": '
        "provided IP is already allocated"
    )
    # Deleting a Service releases its address for others.
    core.delete_namespaced_service("a", namespace)
    reused = core.create_namespaced_service(namespace, service("d", cluster_ip=a.spec.cluster_ip))
    assert reused.spec.cluster_ip == a.spec.cluster_ip


def test_namespace_deletion_waits_for_its_content(cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="doomed")))
    held = configmap("held")
    held.metadata.finalizers = ["example.com/hold"]
    core.create_namespaced_config_map("doomed", held)
    core.delete_namespace("doomed")
    terminating = core.read_namespace("doomed")
    assert terminating.status.phase == "Terminating"
    assert terminating.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_config_map("doomed", configmap("late"))
    assert refused.value.status == 403
    assert status_of(refused.value)["message"] == (
        'configmaps "late" is forbidden: unable to create new content in namespace doomed '
        "because it is being terminated"
    )
    # The namespace controller deletes the content; the finalizer holds the configmap
    # (and so the namespace) until it is removed.
    core.patch_namespaced_config_map("held", "doomed", {"metadata": {"finalizers": None}})
    cluster.kubectl("wait", "--for=delete", "namespace/doomed", "--timeout=30s")


def test_kubectl_typed_creates_send_protobuf(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "configmap", "pb", "-n", namespace, "--from-literal=a=b")
    cluster.kubectl("create", "secret", "generic", "s", "-n", namespace, "--from-literal=k=v")
    cluster.kubectl("create", "deployment", "web", "-n", namespace, "--image=nginx")
    assert cluster.kubectl("get", "cm", "pb", "-n", namespace, "-o", "jsonpath={.data.a}") == "b"
    secret = cluster.kubectl("get", "secret", "s", "-n", namespace, "-o", "jsonpath={.data.k}")
    assert secret == "dg=="  # base64 of "v"
    image = cluster.kubectl(
        "get",
        "deploy",
        "web",
        "-n",
        namespace,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    )
    assert image == "nginx"


def test_metrics_count_requests_and_store_latency(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    core.create_namespaced_config_map(namespace, configmap("m"))
    core.read_namespaced_config_map("m", namespace)
    text = cluster.kubectl("get", "--raw", "/metrics")
    assert (
        'apiserver_request_total{code="201",group="",resource="configmaps",scope="namespace",'
        'subresource="",verb="POST",version="v1"}'
    ) in text
    assert (
        'apiserver_request_duration_seconds_bucket{group="",le="0.005",resource="configmaps"'
        in text
    )
    assert 'etcd_request_duration_seconds_count{operation="create",type="configmaps"}' in text


def test_defaults_are_applied_as_kubernetes_does(cluster: Cluster, namespace: str) -> None:
    cluster.kubectl("create", "deployment", "d", "-n", namespace, "--image=nginx")
    got = json.loads(cluster.kubectl("get", "deploy", "d", "-n", namespace, "-o", "json"))
    spec = got["spec"]
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
    }
    pod_spec = spec["template"]["spec"]
    assert pod_spec["restartPolicy"] == "Always"
    assert pod_spec["dnsPolicy"] == "ClusterFirst"
    assert pod_spec["containers"][0]["imagePullPolicy"] == "Always"
    labels = json.loads(cluster.kubectl("get", "ns", namespace, "-o", "json"))["metadata"]["labels"]
    assert labels == {"kubernetes.io/metadata.name": namespace}


def test_semantic_validation_errors_name_the_field(cluster: Cluster, namespace: str) -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "bad"},
        "spec": {
            "selector": {"matchLabels": {"app": "a"}},
            "template": {
                "metadata": {"labels": {"app": "b"}},
                "spec": {"containers": [{"name": "c"}]},
            },
        },
    }
    out = cluster.kubectl(
        "create", "-n", namespace, "-f", "-", stdin=json.dumps(manifest), check=False
    )
    assert 'The Deployment "bad" is invalid:' in out
    assert "spec.template.spec.containers[0].image: Required value" in out
    assert "`selector` does not match template `labels`" in out
    assert "not found" in cluster.kubectl("get", "deploy", "bad", "-n", namespace, check=False)


def test_kubectl_watch_wait_and_chunks(cluster: Cluster, namespace: str) -> None:
    ns = ("-n", namespace)
    for i in range(5):
        cluster.kubectl("create", "configmap", f"chunk{i}", *ns)
    names = cluster.kubectl("get", "cm", *ns, "--chunk-size=2", "-o", "name").split()
    assert names == [f"configmap/chunk{i}" for i in range(5)]

    watcher = subprocess.Popen(
        [
            *("kubectl", "--kubeconfig", str(cluster.kubeconfig)),
            *("get", "cm", *ns, "-w", "-o", "name"),
            "--request-timeout=20s",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        # The initial list comes first (kubectl prints it without event types) ...
        listed = {watcher.stdout.readline().split()[-1] for _ in range(5)}
        assert listed == {f"configmap/chunk{i}" for i in range(5)}
        cluster.kubectl("delete", "cm", "chunk0", *ns, "--wait=false")
        # ... then the watch's events.
        assert watcher.stdout.readline().split()[-1] == "configmap/chunk0"
    finally:
        watcher.kill()
        watcher.wait()
        assert watcher.stdout is not None
        watcher.stdout.close()

    cluster.kubectl("delete", "cm", "chunk1", *ns, "--wait=false")
    cluster.kubectl("wait", "--for=delete", "cm/chunk1", *ns, "--timeout=20s")


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_eviction_respects_disruption_budgets(cluster: Cluster, namespace: str) -> None:
    api = cluster.api_client()
    core, policy = client.CoreV1Api(api), client.PolicyV1Api(api)
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="e", labels={"app": "e"}),
        spec=client.V1PodSpec(
            containers=[client.V1Container(name="c", image="busybox")],
            scheduler_name="manual",
        ),
    )
    core.create_namespaced_pod(namespace, pod)
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name="e"), target=client.V1ObjectReference(name="n1")
    )
    core.create_namespaced_pod_binding("e", namespace, binding, _preload_content=False)
    running = core.read_namespaced_pod("e", namespace)
    running.status.phase = "Running"
    running.status.conditions = [client.V1PodCondition(type="Ready", status="True")]
    core.replace_namespaced_pod_status("e", namespace, running)
    pdb = client.V1PodDisruptionBudget(
        metadata=client.V1ObjectMeta(name="budget"),
        spec=client.V1PodDisruptionBudgetSpec(
            min_available=1, selector=client.V1LabelSelector(match_labels={"app": "e"})
        ),
    )
    policy.create_namespaced_pod_disruption_budget(namespace, pdb)

    def budget_allows(count: int) -> bool:
        status = policy.read_namespaced_pod_disruption_budget("budget", namespace).status
        return bool(status) and status.current_healthy == 1 and status.disruptions_allowed == count

    # the disruption controller computes the budget's status
    wait_for(lambda: budget_allows(0), "the budget's status")
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name="e", namespace=namespace))
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod_eviction("e", namespace, eviction, _preload_content=False)
    assert refused.value.status == 429
    assert status_of(refused.value)["message"] == (
        "Cannot evict pod as it would violate the pod's disruption budget."
    )
    policy.patch_namespaced_pod_disruption_budget(
        "budget", namespace, {"spec": {"minAvailable": 0}}
    )
    wait_for(lambda: budget_allows(1), "the budget to allow a disruption")
    core.create_namespaced_pod_eviction("e", namespace, eviction, _preload_content=False)
    assert core.read_namespaced_pod("e", namespace).metadata.deletion_timestamp is not None
    spent = policy.read_namespaced_pod_disruption_budget("budget", namespace)
    assert spent.status.disruptions_allowed == 0
    # (the eviction recorded the pod in disruptedPods; the disruption controller drops
    # the entry as soon as it sees the pod terminating, as Kubernetes' does)


def test_too_old_watch_is_410_and_a_relist_recovers(cluster: Cluster, namespace: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    old = core.create_namespaced_config_map(namespace, configmap("old"))
    for i in range(WATCH_CACHE_SIZE * 3 // 2):  # push `old` out of the watch cache's window
        core.patch_namespaced_config_map("old", namespace, {"data": {"k": str(i)}})
    with pytest.raises(ApiException) as expired:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map,
            namespace,
            resource_version=old.metadata.resource_version,
            timeout_seconds=5,
        ):
            pass
    assert expired.value.status == 410
    # What an informer does next: list again, and watch from the list's version.
    listed = core.list_namespaced_config_map(namespace)
    assert [c.metadata.name for c in listed.items] == ["old"]
    w = watch.Watch()
    stream = w.stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=10,
    )
    core.create_namespaced_config_map(namespace, configmap("new"))
    event = next(iter(stream))
    w.stop()
    assert (event["type"], event["object"].metadata.name) == ("ADDED", "new")


@pytest.mark.parametrize("cascade", ["background", "foreground", "orphan"])
def test_kubectl_delete_cascade_modes(cluster: Cluster, namespace: str, cascade: str) -> None:
    core = client.CoreV1Api(cluster.api_client())
    owner = core.create_namespaced_config_map(namespace, configmap("owner"))
    dependent = configmap("dependent")
    dependent.metadata.owner_references = [
        client.V1OwnerReference(
            api_version="v1",
            kind="ConfigMap",
            name="owner",
            uid=owner.metadata.uid,
            block_owner_deletion=True,
        )
    ]
    core.create_namespaced_config_map(namespace, dependent)
    cluster.kubectl("delete", "cm", "owner", "-n", namespace, f"--cascade={cascade}")
    cluster.kubectl("wait", "--for=delete", "cm/owner", "-n", namespace, "--timeout=30s")
    if cascade == "orphan":
        kept = core.read_namespaced_config_map("dependent", namespace)
        assert not kept.metadata.owner_references
    else:
        cluster.kubectl("wait", "--for=delete", "cm/dependent", "-n", namespace, "--timeout=30s")
