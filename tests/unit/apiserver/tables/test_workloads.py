"""Workload and autoscaling rows, as kube-apiserver 1.32 prints them."""

from __future__ import annotations

from typing import Any

import pytest

from .support import ago, cells

TEMPLATE = {
    "spec": {
        "containers": [{"name": "web", "image": "nginx:1"}, {"name": "log", "image": "busybox"}]
    }
}
SELECTOR = {
    "matchLabels": {"app": "web"},
    "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
}


def test_deployment() -> None:
    deployment = {
        "metadata": {"name": "web", "creationTimestamp": ago(minutes=5, seconds=3)},
        "spec": {"replicas": 3, "selector": SELECTOR, "template": TEMPLATE},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    assert cells("apps", "Deployment", deployment) == ["web", "2/3", 3, 2, "5m3s"]
    assert cells("apps", "Deployment", deployment, wide=True)[5:] == [
        "web,log",
        "nginx:1,busybox",
        "app=web,tier in (a,b)",
    ]
    empty = {"metadata": {"name": "e"}, "spec": {}, "status": {}}
    assert cells("apps", "Deployment", empty, wide=True) == [
        "e",
        "0/1",
        0,
        0,
        "<unknown>",
        "",
        "",
        "",
    ]
    bad = {
        "metadata": {"name": "b"},
        "spec": {"selector": {"matchExpressions": [{"key": "k", "operator": "In"}]}},
    }
    assert cells("apps", "Deployment", bad, wide=True)[-1] == "<invalid>"


def test_replica_set_and_replication_controller() -> None:
    rs = {
        "metadata": {"name": "web-1", "creationTimestamp": ago(hours=30)},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": TEMPLATE},
        "status": {"replicas": 2, "readyReplicas": 1},
    }
    assert cells("apps", "ReplicaSet", rs, wide=True) == [
        "web-1",
        2,
        2,
        1,
        "30h",
        "web,log",
        "nginx:1,busybox",
        "app=web",
    ]
    assert (
        cells(
            "apps", "ReplicaSet", {"metadata": {"name": "x"}, "spec": {"selector": {}}}, wide=True
        )[-1]
        == "<none>"
    )
    rc = {
        "metadata": {"name": "rc", "creationTimestamp": ago(days=3)},
        "spec": {"replicas": 5, "selector": {"app": "web", "a": "b"}, "template": TEMPLATE},
        "status": {"replicas": 4, "readyReplicas": 3},
    }
    assert cells("", "ReplicationController", rc, wide=True) == [
        "rc",
        5,
        4,
        3,
        "3d",
        "web,log",
        "nginx:1,busybox",
        "a=b,app=web",
    ]


def test_stateful_set_and_daemon_set() -> None:
    sts = {
        "metadata": {"name": "db", "creationTimestamp": ago(seconds=42)},
        "spec": {"replicas": 3, "template": TEMPLATE},
        "status": {"readyReplicas": 1},
    }
    assert cells("apps", "StatefulSet", sts) == ["db", "1/3", "42s"]
    assert cells("apps", "StatefulSet", sts, wide=True) == [
        "db",
        "1/3",
        "42s",
        "web,log",
        "nginx:1,busybox",
    ]
    ds = {
        "metadata": {"name": "proxy", "creationTimestamp": ago(days=10)},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "proxy"}},
            "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": []}},
        },
        "status": {
            "desiredNumberScheduled": 3,
            "currentNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert cells("apps", "DaemonSet", ds, wide=True) == [
        "proxy",
        3,
        3,
        2,
        3,
        2,
        "kubernetes.io/os=linux",
        "10d",
        "",
        "",
        "k8s-app=proxy",
    ]


def test_controller_revision() -> None:
    def revision(owners: list[dict[str, Any]]) -> dict[str, Any]:
        return {"metadata": {"name": "r", "ownerReferences": owners}, "revision": 4}

    daemon_set = {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "ds", "controller": True}
    assert cells("apps", "ControllerRevision", revision([daemon_set])) == [
        "r",
        "daemonset.apps/ds",
        4,
        "<unknown>",
    ]
    core = {"apiVersion": "v1", "kind": "Pod", "name": "p", "controller": True}
    assert cells("apps", "ControllerRevision", revision([core]))[1] == "pod/p"
    assert (
        cells("apps", "ControllerRevision", revision([{**core, "controller": False}]))[1]
        == "<none>"
    )


def job(spec: dict[str, Any], status: dict[str, Any], **meta: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "pi", "creationTimestamp": ago(minutes=20), **meta},
        "spec": {
            "template": TEMPLATE,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
            **spec,
        },
        "status": status,
    }


def condition(kind: str, status: str = "True") -> dict[str, str]:
    return {"type": kind, "status": status}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (job({"completions": 1}, {"startTime": ago(minutes=3)}), ["Running", "0/1", "3m"]),
        (
            job(
                {"completions": 3},
                {
                    "succeeded": 3,
                    "startTime": ago(minutes=19),
                    "completionTime": ago(minutes=18, seconds=10),
                    "conditions": [condition("SuccessCriteriaMet"), condition("Complete")],
                },
            ),
            ["Complete", "3/3", "50s"],
        ),
        (job({"parallelism": 2}, {"succeeded": 1}), ["Running", "1/1 of 2", ""]),
        (job({"parallelism": 1}, {}), ["Running", "0/1", ""]),
        (
            job({}, {"conditions": [condition("FailureTarget"), condition("Failed")]}),
            ["Failed", "0/1", ""],
        ),
        (
            job(
                {},
                {"conditions": [condition("Complete", "False")]},
                deletionTimestamp=ago(seconds=1),
            ),
            ["Terminating", "0/1", ""],
        ),
        (job({}, {"conditions": [condition("Suspended")]}), ["Suspended", "0/1", ""]),
        (job({}, {"conditions": [condition("FailureTarget")]}), ["FailureTarget", "0/1", ""]),
    ],
)
def test_job(obj: dict[str, Any], expected: list[str]) -> None:
    assert cells("batch", "Job", obj) == ["pi", *expected, "20m"]


def test_job_wide() -> None:
    assert cells("batch", "Job", job({}, {}), wide=True)[5:] == [
        "web,log",
        "nginx:1,busybox",
        "batch.kubernetes.io/controller-uid=u",
    ]


def test_cron_job() -> None:
    cron_job = {
        "metadata": {"name": "hello", "creationTimestamp": ago(days=2)},
        "spec": {
            "schedule": "*/1 * * * *",
            "suspend": False,
            "jobTemplate": {"spec": {"template": TEMPLATE}},
        },
        "status": {"active": [{"name": "hello-1"}], "lastScheduleTime": ago(seconds=30)},
    }
    assert cells("batch", "CronJob", cron_job, wide=True) == [
        "hello",
        "*/1 * * * *",
        "<none>",
        "False",
        1,
        "30s",
        "2d",
        "web,log",
        "nginx:1,busybox",
        "<none>",
    ]
    zoned = {"metadata": {"name": "z"}, "spec": {"schedule": "@daily", "timeZone": "Etc/UTC"}}
    assert cells("batch", "CronJob", zoned) == [
        "z",
        "@daily",
        "Etc/UTC",
        "<unset>",
        0,
        "<none>",
        "<unknown>",
    ]


def hpa(
    metrics: list[dict[str, Any]], current: list[dict[str, Any]], **spec: Any
) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "creationTimestamp": ago(hours=1)},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "maxReplicas": 10,
            "metrics": metrics,
            **spec,
        },
        "status": {"currentReplicas": 2, "currentMetrics": current},
    }


def resource(name: str, target: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "target": target}}


def current_resource(name: str, current: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": name, "current": current}}


@pytest.mark.parametrize(
    ("metrics", "current", "expected"),
    [
        ([], [], "<none>"),
        (
            [resource("cpu", {"type": "Utilization", "averageUtilization": 80})],
            [],
            "cpu: <unknown>/80%",
        ),
        (
            [resource("cpu", {"type": "Utilization", "averageUtilization": 80})],
            [current_resource("cpu", {"averageUtilization": 50, "averageValue": "100m"})],
            "cpu: 50%/80%",
        ),
        (
            [resource("memory", {"type": "AverageValue", "averageValue": "1024Mi"})],
            [current_resource("memory", {"averageValue": "512Mi"})],
            "memory: 512Mi/1Gi",
        ),
        ([resource("cpu", {"type": "Utilization"})], [], "cpu: <unknown>/<auto>"),
        (
            [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": "qps"},
                        "target": {"type": "AverageValue", "averageValue": "10"},
                    },
                }
            ],
            [{"type": "Pods", "pods": {"current": {"averageValue": "7"}}}],
            "7/10",
        ),
        (
            [{"type": "External", "external": {"target": {"type": "Value", "value": "5"}}}],
            [],
            "<unknown>/5",
        ),
        (
            [
                {
                    "type": "Object",
                    "object": {"target": {"type": "AverageValue", "averageValue": "2k"}},
                }
            ],
            [{"type": "Object", "object": {"current": {"averageValue": "1500"}}}],
            "1500/2k (avg)",
        ),
        (
            [
                {
                    "type": "ContainerResource",
                    "containerResource": {
                        "name": "cpu",
                        "container": "c",
                        "target": {"type": "Utilization", "averageUtilization": 60},
                    },
                }
            ],
            [],
            "cpu: <unknown>/60%",
        ),
        (
            [resource("cpu", {"averageUtilization": 1})] * 3 + [{"type": "Mystery"}],
            [],
            "cpu: <unknown>/1%, cpu: <unknown>/1% + 2 more...",
        ),
    ],
)
def test_hpa_targets(
    metrics: list[dict[str, Any]], current: list[dict[str, Any]], expected: str
) -> None:
    assert cells("autoscaling", "HorizontalPodAutoscaler", hpa(metrics, current)) == [
        "web",
        "Deployment/web",
        expected,
        "<unset>",
        10,
        2,
        "60m",
    ]


def test_hpa_autoscaling_v1() -> None:
    obj = {
        "metadata": {"name": "v1"},
        "spec": {
            "scaleTargetRef": {"kind": "Deployment", "name": "web"},
            "minReplicas": 1,
            "maxReplicas": 4,
            "targetCPUUtilizationPercentage": 70,
        },
        "status": {"currentReplicas": 1, "currentCPUUtilizationPercentage": 12},
    }
    assert cells("autoscaling", "HorizontalPodAutoscaler", obj)[2:4] == ["cpu: 12%/70%", "1"]


def test_scale() -> None:
    scale = {"metadata": {"name": "web"}, "spec": {"replicas": 3}, "status": {"replicas": 2}}
    assert cells("autoscaling", "Scale", scale) == ["web", 3, 2, "<unknown>"]
