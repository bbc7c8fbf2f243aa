"""Valid, defaulted objects for the validation tests, and helpers to vary them.

Each factory returns a fresh dict shaped as kube-apiserver holds it after decoding and
defaulting, so a test changes exactly the field it is about.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from kybernetes.api.validation import FieldError

Obj = dict[str, Any]


def messages(errors: list[FieldError]) -> list[str]:
    """The errors as Kubernetes prints them, one string each."""
    return [str(error) for error in errors]


def container(name: str = "web", **fields: Any) -> Obj:
    return {
        "name": name,
        "image": "nginx:1.27",
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        **fields,
    }


def pod_spec(**fields: Any) -> Obj:
    return {
        "containers": [container()],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        **fields,
    }


def pod(**spec: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": pod_spec(**spec),
    }


def template(labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {"metadata": {"labels": labels or {"app": "web"}}, "spec": pod_spec(**spec)}


def deployment(**spec: Any) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(),
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
            },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            **spec,
        },
    }


def service(**spec: Any) -> Obj:
    return {
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "web"},
            "ports": [{"protocol": "TCP", "port": 80, "targetPort": 8080}],
            "sessionAffinity": "None",
            "internalTrafficPolicy": "Cluster",
            "clusterIP": "10.96.0.10",
            "clusterIPs": ["10.96.0.10"],
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            **spec,
        },
    }


def job(**spec: Any) -> Obj:
    uid = "0b9f5f3a-3c3e-4a1e-9a3a-1b2c3d4e5f60"
    labels = {
        "batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "pi",
        "controller-uid": uid,
        "job-name": "pi",
    }
    return {
        "metadata": {"name": "pi", "namespace": "default", "uid": uid},
        "spec": {
            "parallelism": 1,
            "completions": 1,
            "backoffLimit": 6,
            "completionMode": "NonIndexed",
            "suspend": False,
            "podReplacementPolicy": "TerminatingOrFailed",
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
            "template": template(labels, restartPolicy="Never"),
            **spec,
        },
    }


def changed(obj: Obj, change: Callable[[Obj], object]) -> Obj:
    """A deep copy of `obj` after `change` ran on it."""
    result = copy.deepcopy(obj)
    change(result)
    return result
