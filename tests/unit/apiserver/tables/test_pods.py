"""Pod and pod template rows (cases from kube-apiserver's printers_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.apiserver.tables import PRINTERS

from .support import ago, cells

RUNNING: dict[str, Any] = {"running": {}}


def pod(status: dict[str, Any], containers: int = 1, init: int = 0, **meta: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}"} for i in range(containers)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}"} for i in range(init)]
    return {"metadata": {"name": "test", **meta}, "spec": spec, "status": status}


def restarted(seconds: float) -> dict[str, Any]:
    return {"terminated": {"finishedAt": ago(seconds=seconds)}}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        # name, container count, restarts, readiness
        (
            pod(
                {
                    "phase": "podPhase",
                    "containerStatuses": [
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                        {"restartCount": 3},
                    ],
                },
                containers=2,
            ),
            ["1/2", "podPhase", "6"],
        ),
        # a container's waiting reason overrides the phase
        (
            pod(
                {
                    "phase": "podPhase",
                    "containerStatuses": [
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                        {
                            "state": {"waiting": {"reason": "ContainerWaitingReason"}},
                            "restartCount": 3,
                        },
                    ],
                },
                containers=2,
            ),
            ["1/2", "ContainerWaitingReason", "6"],
        ),
        # the first container's reason wins (containers are read last to first)
        (
            pod(
                {
                    "phase": "podPhase",
                    "containerStatuses": [
                        {
                            "state": {"waiting": {"reason": "ContainerWaitingReason"}},
                            "restartCount": 3,
                        },
                        {
                            "state": {"terminated": {"reason": "ContainerTerminatedReason"}},
                            "restartCount": 3,
                        },
                    ],
                },
                containers=2,
            ),
            ["0/2", "ContainerWaitingReason", "6"],
        ),
        # ready is not enough for running
        (
            pod(
                {
                    "phase": "podPhase",
                    "containerStatuses": [
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                        {"ready": True, "restartCount": 3},
                    ],
                },
                containers=2,
            ),
            ["1/2", "podPhase", "6"],
        ),
        (
            pod(
                {
                    "reason": "podReason",
                    "phase": "podPhase",
                    "containerStatuses": [
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                        {"ready": True, "restartCount": 3},
                    ],
                },
                containers=2,
            ),
            ["1/2", "podReason", "6"],
        ),
        # one container completed, one running: NotReady without the Ready condition...
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "ready": True,
                            "restartCount": 3,
                            "state": {"terminated": {"reason": "Completed"}},
                        },
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                    ],
                },
                containers=2,
            ),
            ["1/2", "NotReady", "6"],
        ),
        # ... and Running with it
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "ready": True,
                            "restartCount": 3,
                            "state": {"terminated": {"reason": "Completed"}},
                        },
                        {"ready": True, "restartCount": 3, "state": RUNNING},
                    ],
                    "conditions": [{"type": "Ready", "status": "True"}],
                },
                containers=2,
            ),
            ["1/2", "Running", "6"],
        ),
        # an init container restarting
        (
            pod(
                {
                    "phase": "podPhase",
                    "initContainerStatuses": [
                        {"restartCount": 3, "state": RUNNING, "lastState": restarted(10)}
                    ],
                    "containerStatuses": [{"state": {"waiting": {}}}],
                },
                init=1,
            ),
            ["0/1", "Init:0/1", "3 (10s ago)"],
        ),
        (
            pod(
                {
                    "phase": "podPhase",
                    "initContainerStatuses": [
                        {"restartCount": 3, "state": RUNNING, "lastState": restarted(10)},
                        {"state": {"waiting": {}}},
                    ],
                    "containerStatuses": [{"state": {"waiting": {}}}],
                },
                init=2,
            ),
            ["0/1", "Init:0/2", "3 (10s ago)"],
        ),
        (
            pod(
                {
                    "phase": "podPhase",
                    "initContainerStatuses": [
                        {"state": {"terminated": {}}},
                        {"restartCount": 3, "state": RUNNING, "lastState": restarted(10)},
                    ],
                    "containerStatuses": [{"state": {"waiting": {}}}],
                },
                init=2,
            ),
            ["0/1", "Init:1/2", "3 (10s ago)"],
        ),
        (
            pod(
                {
                    "phase": "podPhase",
                    "initContainerStatuses": [
                        {
                            "restartCount": 2,
                            "state": {"terminated": {}},
                            "lastState": restarted(120),
                        },
                        {"restartCount": 3, "state": RUNNING, "lastState": restarted(10)},
                    ],
                    "containerStatuses": [{"state": {"waiting": {}}}],
                },
                init=2,
            ),
            ["0/1", "Init:1/2", "5 (10s ago)"],
        ),
        # init done: only the containers' restarts count
        (
            pod(
                {
                    "phase": "Running",
                    "initContainerStatuses": [
                        {
                            "restartCount": 2,
                            "state": {"terminated": {}},
                            "lastState": restarted(120),
                        }
                    ],
                    "containerStatuses": [
                        {"restartCount": 4, "state": RUNNING, "lastState": restarted(20)}
                    ],
                },
                init=1,
            ),
            ["0/1", "Running", "4 (20s ago)"],
        ),
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "ready": True,
                            "restartCount": 3,
                            "state": RUNNING,
                            "lastState": restarted(5 * 86400),
                        }
                    ],
                }
            ),
            ["1/1", "Running", "3 (5d ago)"],
        ),
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {
                            "ready": True,
                            "restartCount": 6,
                            "state": RUNNING,
                            "lastState": restarted(5 * 86400),
                        },
                        {
                            "ready": True,
                            "restartCount": 3,
                            "state": RUNNING,
                            "lastState": restarted(20 * 86400),
                        },
                    ],
                },
                containers=2,
            ),
            ["2/2", "Running", "9 (5d ago)"],
        ),
        (
            pod(
                {
                    "phase": "podPhase",
                    "conditions": [
                        {"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}
                    ],
                },
                containers=2,
            ),
            ["0/2", "SchedulingGated", "0"],
        ),
        (
            pod(
                {
                    "phase": "Succeeded",
                    "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}],
                }
            ),
            ["0/1", "Completed", "0"],
        ),
        (
            pod(
                {
                    "phase": "Failed",
                    "containerStatuses": [
                        {"state": {"terminated": {"reason": "Error", "exitCode": 1}}}
                    ],
                }
            ),
            ["0/1", "Error", "0"],
        ),
        # deletion: terminal pods keep their status, others are Terminating
        (
            pod(
                {
                    "phase": "Succeeded",
                    "containerStatuses": [{"state": {"terminated": {"reason": "Completed"}}}],
                },
                deletionTimestamp=ago(seconds=10),
            ),
            ["0/1", "Completed", "0"],
        ),
        (
            pod(
                {"phase": "Running", "containerStatuses": [{"state": RUNNING}]},
                deletionTimestamp=ago(seconds=10),
            ),
            ["0/1", "Terminating", "0"],
        ),
        (pod({"phase": "Pending"}, deletionTimestamp=ago(seconds=10)), ["0/1", "Terminating", "0"]),
        (
            pod({"phase": "Running", "reason": "NodeLost"}, deletionTimestamp=ago(seconds=10)),
            ["0/1", "Unknown", "0"],
        ),
        # terminated without a reason: the signal, else the exit code
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [
                        {"state": {"terminated": {"exitCode": 137, "signal": 9}}}
                    ],
                }
            ),
            ["0/1", "Signal:9", "0"],
        ),
        (
            pod(
                {
                    "phase": "Running",
                    "containerStatuses": [{"state": {"terminated": {"exitCode": 2}}}],
                }
            ),
            ["0/1", "ExitCode:2", "0"],
        ),
        (
            pod(
                {
                    "phase": "Pending",
                    "initContainerStatuses": [{"state": {"terminated": {"exitCode": 3}}}],
                },
                init=1,
            ),
            ["0/1", "Init:ExitCode:3", "0"],
        ),
        (
            pod(
                {
                    "phase": "Pending",
                    "initContainerStatuses": [
                        {"state": {"waiting": {"reason": "CrashLoopBackOff"}}}
                    ],
                },
                init=1,
            ),
            ["0/1", "Init:CrashLoopBackOff", "0"],
        ),
        (
            pod(
                {
                    "phase": "Pending",
                    "initContainerStatuses": [
                        {"state": {"waiting": {"reason": "PodInitializing"}}}
                    ],
                },
                init=1,
            ),
            ["0/1", "Init:0/1", "0"],
        ),
    ],
)
def test_pod_status(obj: dict[str, Any], expected: list[str]) -> None:
    assert cells("", "Pod", obj) == ["test", *expected, "<unknown>"]


def sidecar_pod(
    phase: str, init_statuses: list[dict[str, Any]], initialized: bool, container: dict[str, Any]
) -> dict[str, Any]:
    return {
        "metadata": {"name": "test", "creationTimestamp": ago(minutes=5)},
        "spec": {
            "initContainers": [
                {"name": "restartable-init-1", "restartPolicy": "Always"},
                {"name": "restartable-init-2", "restartPolicy": "Always"},
            ],
            "containers": [{"name": "c"}],
        },
        "status": {
            "phase": phase,
            "initContainerStatuses": init_statuses,
            "containerStatuses": [container],
            "conditions": [{"type": "Initialized", "status": "True" if initialized else "False"}],
        },
    }


def test_restartable_init_containers() -> None:
    first = {
        "name": "restartable-init-1",
        "restartCount": 3,
        "state": RUNNING,
        "lastState": restarted(10),
    }
    waiting = {"state": {"waiting": {}}}
    not_started = sidecar_pod(
        "Pending",
        [{**first, "started": False}, {"name": "restartable-init-2", **waiting, "started": False}],
        False,
        waiting,
    )
    assert cells("", "Pod", not_started) == ["test", "0/3", "Init:0/2", "3 (10s ago)", "5m"]
    second_starting = sidecar_pod(
        "Pending",
        [
            {**first, "started": True},
            {"name": "restartable-init-2", "state": RUNNING, "started": False},
        ],
        False,
        waiting,
    )
    assert cells("", "Pod", second_starting)[1:4] == ["0/3", "Init:1/2", "3 (10s ago)"]
    running = sidecar_pod(
        "Running",
        [
            {**first, "started": True, "ready": True},
            {"name": "restartable-init-2", "state": RUNNING, "started": True},
        ],
        True,
        {"ready": True, "restartCount": 4, "state": RUNNING, "lastState": restarted(20)},
    )
    assert cells("", "Pod", running)[1:4] == ["2/3", "Running", "7 (10s ago)"]


def test_pod_wide_cells() -> None:
    obj = {
        "metadata": {"name": "web", "creationTimestamp": ago(hours=4)},
        "spec": {
            "nodeName": "node-1",
            "containers": [{"name": "c"}],
            "readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}],
        },
        "status": {
            "phase": "Running",
            "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}],
            "nominatedNodeName": "node-2",
            "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}],
            "containerStatuses": [{"ready": True, "state": RUNNING}],
        },
    }
    assert cells("", "Pod", obj, wide=True) == [
        "web",
        "1/1",
        "Running",
        "0",
        "4h",
        "10.0.0.5",
        "node-1",
        "node-2",
        "1/2",
    ]
    bare = {"metadata": {"name": "p"}, "spec": {"containers": []}, "status": {}}
    assert cells("", "Pod", bare, wide=True) == [
        "p",
        "0/0",
        "",
        "0",
        "<unknown>",
        "<none>",
        "<none>",
        "<none>",
        "<none>",
    ]


def test_pod_row_conditions() -> None:
    conditions = PRINTERS[("", "Pod")].conditions
    assert conditions is not None
    assert conditions({"status": {"phase": "Succeeded"}}) == [
        {
            "type": "Completed",
            "status": "True",
            "reason": "Succeeded",
            "message": "The pod has completed successfully.",
        }
    ]
    assert conditions({"status": {"phase": "Failed"}}) == [
        {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}
    ]
    assert conditions({"status": {"phase": "Running"}}) is None


def test_pod_template() -> None:
    template = {
        "metadata": {"name": "t", "creationTimestamp": ago(hours=1)},
        "template": {
            "metadata": {"labels": {"b": "2", "a": "1"}},
            "spec": {"containers": [{"name": "x", "image": "i1"}, {"name": "y", "image": "i2"}]},
        },
    }
    assert cells("", "PodTemplate", template) == ["t", "x,y", "i1,i2", "a=1,b=2"]
    assert cells("", "PodTemplate", {"metadata": {"name": "e"}}) == ["e", "", "", "<none>"]
