"""Workload kinds as kubectl 1.32 creates them, defaulted to what a 1.32 server returns.

Each `given` is the body kubectl sends (`creationTimestamp: null`, `resources: {}` and
`status: {}` included); each `expected` is the spec part of `kubectl get -o yaml`
after creation, minus what the REST strategy and admission add (Job selectors and
labels, service account volumes, tolerations, priority, node name).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.api.defaults.expect import GVK, assert_defaults, defaulted

# The container as kubectl sends it, and as every pod spec returns it.
NGINX: dict[str, Any] = {"name": "nginx", "image": "nginx", "resources": {}}
NGINX_DEFAULTED = {
    **NGINX,
    "imagePullPolicy": "Always",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
# The PodSpec defaults every template gets.
POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}
LABELS = {"app": "web"}
TEMPLATE = {
    "metadata": {"creationTimestamp": None, "labels": LABELS},
    "spec": {"containers": [NGINX]},
}
TEMPLATE_DEFAULTED = {
    "metadata": {"creationTimestamp": None, "labels": LABELS},
    "spec": {"containers": [NGINX_DEFAULTED], **POD_SPEC_DEFAULTS},
}


def _object(api_version: str, kind: str, spec: dict[str, Any], **meta: Any) -> dict[str, Any]:
    metadata = {"name": "web", "creationTimestamp": None, **meta}
    return {
        "kind": kind,
        "apiVersion": api_version,
        "metadata": metadata,
        "spec": spec,
        "status": {},
    }


CASES: list[tuple[str, GVK, dict[str, Any], dict[str, Any]]] = [
    (
        "kubectl run web --image=nginx",
        ("", "v1", "Pod"),
        _object(
            "v1",
            "Pod",
            {"containers": [NGINX], "restartPolicy": "Always", "dnsPolicy": "ClusterFirst"},
            labels={"run": "web"},
        ),
        _object(
            "v1",
            "Pod",
            {"containers": [NGINX_DEFAULTED], **POD_SPEC_DEFAULTS, "enableServiceLinks": True},
            labels={"run": "web"},
        ),
    ),
    (
        "kubectl create deployment web --image=nginx",
        ("apps", "v1", "Deployment"),
        _object(
            "apps/v1",
            "Deployment",
            {
                "replicas": 1,
                "selector": {"matchLabels": LABELS},
                "template": TEMPLATE,
                "strategy": {},
            },
            labels=LABELS,
        ),
        _object(
            "apps/v1",
            "Deployment",
            {
                "progressDeadlineSeconds": 600,
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": LABELS},
                "strategy": {
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                    "type": "RollingUpdate",
                },
                "template": TEMPLATE_DEFAULTED,
            },
            labels=LABELS,
        ),
    ),
    (
        "a minimal ReplicaSet",
        ("apps", "v1", "ReplicaSet"),
        _object(
            "apps/v1", "ReplicaSet", {"selector": {"matchLabels": LABELS}, "template": TEMPLATE}
        ),
        _object(
            "apps/v1",
            "ReplicaSet",
            {"replicas": 1, "selector": {"matchLabels": LABELS}, "template": TEMPLATE_DEFAULTED},
        ),
    ),
    (
        "a StatefulSet with a claim template",
        ("apps", "v1", "StatefulSet"),
        _object(
            "apps/v1",
            "StatefulSet",
            {
                "serviceName": "web",
                "selector": {"matchLabels": LABELS},
                "template": TEMPLATE,
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "www"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        ),
        _object(
            "apps/v1",
            "StatefulSet",
            {
                "persistentVolumeClaimRetentionPolicy": {
                    "whenDeleted": "Retain",
                    "whenScaled": "Retain",
                },
                "podManagementPolicy": "OrderedReady",
                "replicas": 1,
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": LABELS},
                "serviceName": "web",
                "template": TEMPLATE_DEFAULTED,
                "updateStrategy": {"rollingUpdate": {"partition": 0}, "type": "RollingUpdate"},
                "volumeClaimTemplates": [
                    {
                        "apiVersion": "v1",
                        "kind": "PersistentVolumeClaim",
                        "metadata": {"name": "www"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                            "volumeMode": "Filesystem",
                        },
                        "status": {"phase": "Pending"},
                    }
                ],
            },
        ),
    ),
    (
        "a minimal DaemonSet",
        ("apps", "v1", "DaemonSet"),
        _object(
            "apps/v1", "DaemonSet", {"selector": {"matchLabels": LABELS}, "template": TEMPLATE}
        ),
        _object(
            "apps/v1",
            "DaemonSet",
            {
                "revisionHistoryLimit": 10,
                "selector": {"matchLabels": LABELS},
                "template": TEMPLATE_DEFAULTED,
                "updateStrategy": {
                    "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1},
                    "type": "RollingUpdate",
                },
            },
        ),
    ),
    (
        "kubectl create job web --image=nginx",
        ("batch", "v1", "Job"),
        _object(
            "batch/v1",
            "Job",
            {
                "template": {
                    "metadata": {"creationTimestamp": None},
                    "spec": {"containers": [NGINX], "restartPolicy": "Never"},
                }
            },
        ),
        _object(
            "batch/v1",
            "Job",
            {
                "backoffLimit": 6,
                "completionMode": "NonIndexed",
                "completions": 1,
                "manualSelector": False,
                "parallelism": 1,
                "podReplacementPolicy": "TerminatingOrFailed",
                "suspend": False,
                "template": {
                    "metadata": {"creationTimestamp": None},
                    "spec": {
                        "containers": [NGINX_DEFAULTED],
                        **POD_SPEC_DEFAULTS,
                        "restartPolicy": "Never",
                    },
                },
            },
        ),
    ),
    (
        "kubectl create cronjob web --image=nginx --schedule='*/1 * * * *'",
        ("batch", "v1", "CronJob"),
        _object(
            "batch/v1",
            "CronJob",
            {
                "schedule": "*/1 * * * *",
                "jobTemplate": {
                    "metadata": {"name": "web", "creationTimestamp": None},
                    "spec": {
                        "template": {
                            "metadata": {"creationTimestamp": None},
                            "spec": {"containers": [NGINX], "restartPolicy": "OnFailure"},
                        }
                    },
                },
            },
        ),
        _object(
            "batch/v1",
            "CronJob",
            {
                "concurrencyPolicy": "Allow",
                "failedJobsHistoryLimit": 1,
                "jobTemplate": {
                    "metadata": {"name": "web", "creationTimestamp": None},
                    "spec": {
                        "template": {
                            "metadata": {"creationTimestamp": None},
                            "spec": {
                                "containers": [NGINX_DEFAULTED],
                                **POD_SPEC_DEFAULTS,
                                "restartPolicy": "OnFailure",
                            },
                        }
                    },
                },
                "schedule": "*/1 * * * *",
                "successfulJobsHistoryLimit": 3,
                "suspend": False,
            },
        ),
    ),
    (
        "a ReplicationController takes its selector and labels from the template",
        ("", "v1", "ReplicationController"),
        _object("v1", "ReplicationController", {"template": TEMPLATE}),
        _object(
            "v1",
            "ReplicationController",
            {"replicas": 1, "selector": LABELS, "template": TEMPLATE_DEFAULTED},
            labels=LABELS,
        ),
    ),
    (
        "a PodTemplate",
        ("", "v1", "PodTemplate"),
        {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "web"},
            "template": TEMPLATE,
        },
        {
            "apiVersion": "v1",
            "kind": "PodTemplate",
            "metadata": {"name": "web"},
            "template": TEMPLATE_DEFAULTED,
        },
    ),
]


@pytest.mark.parametrize(
    ("gvk", "given", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_kubectl_created_workloads(
    gvk: GVK, given: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert_defaults(gvk, given, expected)


def _spec(gvk: GVK, spec: dict[str, Any]) -> Any:
    return defaulted(gvk, {"spec": spec})["spec"]


def test_update_strategies_other_than_rolling_update_get_no_rolling_parameters() -> None:
    deployment = _spec(("apps", "v1", "Deployment"), {"strategy": {"type": "Recreate"}})
    assert deployment["strategy"] == {"type": "Recreate"}
    daemon_set = _spec(("apps", "v1", "DaemonSet"), {"updateStrategy": {"type": "OnDelete"}})
    assert daemon_set["updateStrategy"] == {"type": "OnDelete"}
    stateful_set = _spec(("apps", "v1", "StatefulSet"), {"updateStrategy": {"type": "OnDelete"}})
    assert stateful_set["updateStrategy"] == {"type": "OnDelete"}


def test_rolling_update_parameters_fill_in_around_given_ones() -> None:
    deployment = _spec(
        ("apps", "v1", "Deployment"),
        {"strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0}}},
    )
    assert deployment["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": "25%"}
    # An explicit RollingUpdate type without parameters gets no partition in a StatefulSet.
    stateful_set = _spec(
        ("apps", "v1", "StatefulSet"), {"updateStrategy": {"type": "RollingUpdate"}}
    )
    assert stateful_set["updateStrategy"] == {"type": "RollingUpdate"}


JOB: GVK = ("batch", "v1", "Job")


def test_job_parallelism_without_completions_stays_a_work_queue() -> None:
    spec = _spec(JOB, {"parallelism": 3})
    assert "completions" not in spec
    assert spec["parallelism"] == 3
    assert _spec(JOB, {"completions": 5})["parallelism"] == 1


def test_job_backoff_limit_per_index_lifts_the_global_backoff_limit() -> None:
    spec = _spec(JOB, {"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": 1})
    assert spec["backoffLimit"] == 2**31 - 1


def test_job_pod_failure_policy() -> None:
    spec = _spec(
        JOB,
        {
            "podFailurePolicy": {
                "rules": [
                    {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
                    {"action": "FailJob", "onExitCodes": {"operator": "In", "values": [42]}},
                ]
            }
        },
    )
    assert spec["podReplacementPolicy"] == "Failed"
    assert spec["podFailurePolicy"]["rules"][0]["onPodConditions"] == [
        {"type": "DisruptionTarget", "status": "True"}
    ]


def test_job_labels_come_from_the_template_when_it_has_none() -> None:
    template = {"metadata": {"labels": {"app": "batch"}}, "spec": {"restartPolicy": "Never"}}
    job = defaulted(JOB, {"metadata": {"name": "j"}, "spec": {"template": template}})
    assert job["metadata"]["labels"] == {"app": "batch"}
    job = defaulted(JOB, {"metadata": {"labels": {"own": "x"}}, "spec": {"template": template}})
    assert job["metadata"]["labels"] == {"own": "x"}


def test_job_template_restart_policy_defaults_like_any_pod_spec() -> None:
    # Job validation then reports "Always" (like "") as a missing restart policy.
    assert _spec(JOB, {})["template"]["spec"]["restartPolicy"] == "Always"


def test_replication_controller_keeps_its_own_selector_and_labels() -> None:
    rc = defaulted(
        ("", "v1", "ReplicationController"),
        {
            "metadata": {"labels": {"own": "x"}},
            "spec": {"selector": {"app": "web"}, "template": TEMPLATE},
        },
    )
    assert rc["metadata"]["labels"] == {"own": "x"}
    assert rc["spec"]["selector"] == {"app": "web"}
