"""ResourceQuotaController.sync and the usage evaluators on seeded caches."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.client.resource import CONFIGMAPS, DEPLOYMENTS
from kybernetes.controllers.resourcequota import ResourceQuotaController
from kybernetes.controllers.resourcequota.usage import pod_resources, pod_usage

from ..fakes import FakeClient, pod

Obj = dict[str, Any]


def quota(hard: dict[str, str], **spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": "ns", "resourceVersion": "4"},
        "spec": {"hard": hard, **spec},
    }


def sized_pod(name: str, cpu: str = "", memory: str = "", **kwargs: Any) -> Obj:
    p = pod(name, node="n", **kwargs)
    resources: Obj = {}
    if cpu:
        resources = {"requests": {"cpu": cpu}, "limits": {"cpu": cpu}}
    if memory:
        resources.setdefault("requests", {})["memory"] = memory
    p["spec"]["containers"][0]["resources"] = resources
    return p


class Harness:
    def __init__(self, q: Obj, *objects: Obj) -> None:
        self.client = FakeClient()
        self.clock = FakeClock()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = ResourceQuotaController(self.client, factory, clock=self.clock)  # type: ignore[arg-type]
        self.ctl.quotas.indexer.add(q)
        for obj in objects:
            {"Pod": self.ctl.pods, "Service": self.ctl.services}[obj["kind"]].indexer.add(obj)

    def status(self) -> Obj:
        (written,) = self.client.of("update_status", "resourcequotas")
        return written["status"]  # type: ignore[no-any-return]


async def test_pod_compute_and_count_usage_skips_terminal_pods() -> None:
    hard = {
        "pods": "10",
        "count/pods": "10",
        "requests.cpu": "4",
        "limits.cpu": "4",
        "requests.memory": "1Gi",
        "cpu": "4",
    }
    h = Harness(
        quota(hard),
        sized_pod("a", "500m", "128Mi"),
        sized_pod("b", "250m"),
        sized_pod("done", "2", phase="Succeeded"),
    )
    await h.ctl.sync("ns/q")
    status = h.status()
    assert status["hard"] == hard
    assert status["used"] == {
        "pods": "2",
        "count/pods": "2",
        "requests.cpu": "750m",
        "limits.cpu": "750m",
        "requests.memory": "128Mi",
        "cpu": "750m",
    }


async def test_unchanged_status_is_not_rewritten_and_changes_are() -> None:
    h = Harness(quota({"pods": "5"}), sized_pod("a"))
    await h.ctl.sync("ns/q")
    written = h.status()
    h.ctl.quotas.indexer.add({**quota({"pods": "5"}), "status": written})
    h.client.writes.clear()
    await h.ctl.sync("ns/q")
    assert h.client.writes == []
    h.ctl.pods.indexer.add(sized_pod("b"))
    await h.ctl.sync("ns/q")
    assert h.status()["used"] == {"pods": "2"}


async def test_pods_past_their_deletion_grace_period_are_not_charged() -> None:
    leaving = sized_pod("leaving")
    leaving["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z"
    leaving["metadata"]["deletionGracePeriodSeconds"] = 30
    h = Harness(quota({"pods": "5"}), leaving)
    h.clock.advance(31)
    await h.ctl.sync("ns/q")
    assert h.status()["used"] == {"pods": "0"}


async def test_scopes_select_the_charged_pods() -> None:
    best_effort = sized_pod("be")
    terminating = sized_pod("job", "1")
    terminating["spec"]["activeDeadlineSeconds"] = 60
    priority = sized_pod("high", "1")
    priority["spec"]["priorityClassName"] = "high"
    pods = (best_effort, terminating, priority)
    for scopes, expected in (
        ({"scopes": ["BestEffort"]}, "1"),
        ({"scopes": ["NotBestEffort"]}, "2"),
        ({"scopes": ["Terminating", "NotBestEffort"]}, "1"),
        ({"scopes": ["NotTerminating"]}, "2"),
        (
            {
                "scopeSelector": {
                    "matchExpressions": [
                        {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}
                    ]
                }
            },
            "1",
        ),
    ):
        h = Harness(quota({"pods": "9"}, **scopes), *pods)
        await h.ctl.sync("ns/q")
        assert h.status()["used"] == {"pods": expected}, scopes


async def test_service_usage() -> None:
    def svc(name: str, kind: str, ports: int) -> Obj:
        spec = {"type": kind, "ports": [{"port": 80 + i} for i in range(ports)]}
        meta = {"name": name, "namespace": "ns"}
        return {"apiVersion": "v1", "kind": "Service", "metadata": meta, "spec": spec}

    hard = {"services": "9", "services.nodeports": "9", "services.loadbalancers": "9"}
    h = Harness(
        quota(hard), svc("a", "ClusterIP", 1), svc("b", "NodePort", 2), svc("c", "LoadBalancer", 1)
    )
    await h.ctl.sync("ns/q")
    assert h.status()["used"] == {
        "services": "3",
        "services.nodeports": "3",
        "services.loadbalancers": "1",
    }


async def test_object_counts_wait_for_their_informer_then_count() -> None:
    hard = {"configmaps": "3", "count/deployments.apps": "2", "count/widgets.example.com": "1"}
    h = Harness(quota(hard))
    await h.ctl.sync("ns/q")
    assert h.client.writes == []
    configmaps = h.ctl._counted[CONFIGMAPS]
    deployments = h.ctl._counted[DEPLOYMENTS]
    for informer in (configmaps, deployments):
        informer.has_synced.set()
    configmaps.indexer.add({"metadata": {"name": "c", "namespace": "ns"}})
    configmaps.indexer.add({"metadata": {"name": "c", "namespace": "other"}})
    h.clock.advance(1)
    assert len(h.ctl.queue) == 1
    await h.ctl.sync("ns/q")
    assert h.status()["used"] == {"configmaps": "1", "count/deployments.apps": "0"}


def test_pod_requests_count_sidecars_init_containers_and_overhead() -> None:
    def container(cpu: str, **extra: Any) -> Obj:
        return {"name": cpu, "resources": {"requests": {"cpu": cpu}}, **extra}

    p = pod("p")
    p["spec"]["containers"] = [container("100m"), container("200m")]
    p["spec"]["initContainers"] = [
        container("1"),
        container("50m", restartPolicy="Always"),
        container("400m"),
    ]
    p["spec"]["overhead"] = {"cpu": "10m"}
    assert str(pod_resources(p, "requests")["cpu"]) == "1010m"
    p["spec"]["initContainers"][0]["resources"]["requests"]["cpu"] = "100m"
    # containers 300m + sidecar 50m = 350m; largest init 400m + 50m sidecar = 450m.
    assert str(pod_resources(p, "requests")["cpu"]) == "460m"


def test_hugepages_and_extended_resources() -> None:
    p = pod("p")
    p["spec"]["containers"][0]["resources"] = {
        "requests": {"hugepages-2Mi": "4Mi", "example.com/gpu": "2"}
    }
    usage = {k: str(v) for k, v in pod_usage(p).items()}
    assert usage["requests.hugepages-2Mi"] == usage["hugepages-2Mi"] == "4Mi"
    assert usage["requests.example.com/gpu"] == "2"
    assert "example.com/gpu" not in usage
