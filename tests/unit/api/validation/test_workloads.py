"""Deployments, ReplicaSets, StatefulSets, DaemonSets and ReplicationControllers."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_status_update, validate_update

from .samples import changed, deployment, messages, template

MISMATCH = (
    'spec.template.metadata.labels: Invalid value: map[string]string{"app":"api"}: '
    "`selector` does not match template `labels`"
)


def test_a_valid_deployment_has_no_errors() -> None:
    assert validate("apps", "Deployment", deployment()) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"template": template({"app": "api"})}, [MISMATCH], id="selector mismatch"),
        pytest.param(
            {"selector": None},
            [
                "spec.selector: Required value",
                "spec.template.metadata.labels: Invalid value: "
                'map[string]string{"app":"web"}: `selector` does not match template `labels`',
            ],
            id="selector required",
        ),
        pytest.param(
            {"selector": {}},
            ["spec.selector: Invalid value: {}: empty selector is invalid for deployment"],
            id="empty selector",
        ),
        pytest.param(
            {"replicas": -1},
            ["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
            id="replicas",
        ),
        pytest.param(
            {"template": template(restartPolicy="Never")},
            [
                'spec.template.spec.restartPolicy: Unsupported value: "Never": supported '
                'values: "Always"'
            ],
            id="restart policy",
        ),
        pytest.param(
            {"template": template(activeDeadlineSeconds=10)},
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
                "ReplicaSet is not Supported"
            ],
            id="active deadline",
        ),
        pytest.param(
            {
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"},
                }
            },
            [
                "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 "
                "when `maxSurge` is 0"
            ],
            id="zero budget",
        ),
        pytest.param(
            {
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": "150%", "maxSurge": 1},
                }
            },
            [
                'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not '
                "be greater than 100%"
            ],
            id="over 100 percent",
        ),
        pytest.param(
            {"strategy": {"type": "Recreate", "rollingUpdate": {}}},
            [
                "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy "
                "`type` is 'Recreate'"
            ],
            id="recreate",
        ),
        pytest.param(
            {"strategy": {"type": "BlueGreen"}},
            [
                'spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: '
                '"Recreate", "RollingUpdate"'
            ],
            id="strategy type",
        ),
        pytest.param(
            {"minReadySeconds": 600},
            [
                "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than "
                "minReadySeconds"
            ],
            id="progress deadline",
        ),
        pytest.param(
            {"revisionHistoryLimit": -1},
            ["spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"],
            id="history",
        ),
        pytest.param(
            {"template": template(containers=[])},
            ["spec.template.spec.containers: Required value"],
            id="template is a pod template",
        ),
    ],
)
def test_deployment_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("apps", "Deployment", deployment(**spec))) == expected


def test_template_labels_are_validated_under_the_template() -> None:
    obj = deployment(
        selector={"matchLabels": {"app": "web"}}, template=template({"app": "web", "k": "a b"})
    )
    assert [str(e).split(":")[0] for e in validate("apps", "Deployment", obj)] == [
        "spec.template.labels"
    ]


def test_selectors_are_immutable_in_apps_v1() -> None:
    old = deployment()
    new = deployment(
        selector={"matchLabels": {"app": "web", "tier": "x"}},
        template=template({"app": "web", "tier": "x"}),
    )
    assert messages(validate_update("apps", "Deployment", new, old)) == [
        'spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"x"}}: field is immutable'
    ]
    scaled = changed(old, lambda d: d["spec"].update(replicas=5))
    assert validate_update("apps", "Deployment", scaled, old) == []


def test_replica_sets_share_the_deployment_rules() -> None:
    obj = {
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": template({"app": "api"}),
        }
    }
    assert messages(validate("apps", "ReplicaSet", obj)) == [MISMATCH]


def stateful_set(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 3,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(),
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {
                "whenDeleted": "Retain",
                "whenScaled": "Retain",
            },
            **spec,
        },
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param(
            {"podManagementPolicy": "Random"},
            [
                "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' "
                "or 'Parallel'"
            ],
            id="pod management",
        ),
        pytest.param(
            {"updateStrategy": {"type": "OnDelete", "rollingUpdate": {"partition": 1}}},
            [
                'spec.updateStrategy.rollingUpdate: Invalid value: {"partition":1}: only '
                "allowed for updateStrategy 'RollingUpdate'"
            ],
            id="on delete",
        ),
        pytest.param(
            {"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": -1}}},
            [
                "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be "
                "greater than or equal to 0"
            ],
            id="partition",
        ),
        pytest.param(
            {"selector": {}},
            ["spec.selector: Invalid value: {}: empty selector is invalid for statefulset"],
            id="empty selector",
        ),
        pytest.param(
            {"template": template(containers=[])},
            [],
            id="pod spec not checked, as in Kubernetes",
        ),
    ],
)
def test_stateful_set_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("apps", "StatefulSet", stateful_set(**spec))) == expected


def test_stateful_set_updates_are_limited() -> None:
    old = stateful_set()
    assert validate_update("apps", "StatefulSet", stateful_set(replicas=5), old) == []
    assert messages(validate_update("apps", "StatefulSet", stateful_set(serviceName="x"), old)) == [
        "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', "
        "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and "
        "'minReadySeconds' are forbidden"
    ]


def daemon_set(**spec: Any) -> dict[str, Any]:
    return {
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": template(),
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
            },
            "revisionHistoryLimit": 10,
            **spec,
        }
    }


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param(
            {
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 0},
                }
            },
            [
                "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 "
                "when maxSurge is 0"
            ],
            id="zero budget",
        ),
        pytest.param(
            {
                "updateStrategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 1},
                }
            },
            [
                "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 1: may not be set "
                "when maxUnavailable is non-zero"
            ],
            id="both set",
        ),
        pytest.param(
            {"template": template({"app": "api"})},
            [MISMATCH],
            id="mismatch",
        ),
    ],
)
def test_daemon_set_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("apps", "DaemonSet", daemon_set(**spec))) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param(
            {"selector": {}},
            ["spec.selector: Required value"],
            id="selector",
        ),
        pytest.param(
            {"template": None},
            ["spec.template: Required value"],
            id="template",
        ),
        pytest.param(
            {"selector": {"app": "api"}},
            [MISMATCH.replace('{"app":"api"}', '{"app":"web"}')],
            id="mismatch",
        ),
        pytest.param(
            {"template": template(activeDeadlineSeconds=5)},
            [
                "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in "
                "ReplicationController is not Supported"
            ],
            id="active deadline",
        ),
    ],
)
def test_replication_controller_rules(spec: dict[str, Any], expected: list[str]) -> None:
    obj = {"spec": {"replicas": 1, "selector": {"app": "web"}, "template": template(), **spec}}
    assert messages(validate("", "ReplicationController", obj)) == expected


def test_status_counters() -> None:
    old = deployment()
    new = {**deployment(), "status": {"replicas": 1, "readyReplicas": 2, "availableReplicas": 1}}
    assert messages(validate_status_update("apps", "Deployment", new, old)) == [
        "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"
    ]
    shrunk = {**deployment(), "status": {"collisionCount": 1}}
    grown = {**deployment(), "status": {"collisionCount": 2}}
    assert messages(validate_status_update("apps", "Deployment", shrunk, grown)) == [
        "status.collisionCount: Invalid value: 1: cannot be decremented"
    ]
