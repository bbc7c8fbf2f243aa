"""Finer pod spec rules: mounts, downward API, projected volumes, hugepages, security."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation import validate

from .samples import container, messages, pod


def _errors(**spec: Any) -> list[str]:
    return messages(validate("", "Pod", pod(**spec)))


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        pytest.param([{"name": "data", "mountPath": "/a"}], [], id="valid"),
        pytest.param(
            [{"name": "data", "mountPath": "/a"}, {"name": "data", "mountPath": "/a"}],
            ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique'],
            id="unique paths",
        ),
        pytest.param(
            [{"name": "data", "mountPath": "/a", "subPath": "../x"}],
            [
                'spec.containers[0].volumeMounts.subPath: Invalid value: "../x": must not '
                "contain '..'"
            ],
            id="sub path backsteps, reported under the list",
        ),
        pytest.param(
            [{"name": "data", "mountPath": "/a", "mountPropagation": "Bidirectional"}],
            [
                "spec.containers[0].volumeMounts.mountPropagation: Forbidden: Bidirectional "
                "mount propagation is available only to privileged containers"
            ],
            id="propagation",
        ),
        pytest.param(
            [{"name": "data", "mountPath": "/a", "recursiveReadOnly": "Enabled"}],
            [
                "spec.containers[0].volumeMounts.recursiveReadOnly: Forbidden: may only be "
                "specified when readOnly is true"
            ],
            id="recursive read only",
        ),
    ],
)
def test_mounts(mounts: list[dict[str, Any]], expected: list[str]) -> None:
    volumes = [{"name": "data", "emptyDir": {}}]
    assert _errors(volumes=volumes, containers=[container(volumeMounts=mounts)]) == expected


def test_a_mount_of_an_invalid_volume_is_not_found() -> None:
    volumes = [{"name": "Data", "emptyDir": {}}]
    mounts = [{"name": "Data", "mountPath": "/a"}]
    errors = _errors(volumes=volumes, containers=[container(volumeMounts=mounts)])
    assert errors[-1] == 'spec.containers[0].volumeMounts[0].name: Not found: "Data"'


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels['app']"}},
            [],
            id="subscripted label",
        ),
        pytest.param(
            {"fieldRef": {"apiVersion": "v2", "fieldPath": "metadata.name"}},
            [
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "
                '"metadata.name": error converting fieldPath: unsupported pod version: v2'
            ],
            id="version",
        ),
        pytest.param(
            {"fieldRef": {"apiVersion": "v1", "fieldPath": "spec.nothing"}},
            [
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "
                '"spec.nothing": error converting fieldPath: field label not supported: '
                "spec.nothing"
            ],
            id="unknown field",
        ),
        pytest.param(
            {"resourceFieldRef": {"resource": "limits.cpu", "divisor": "1Mi"}},
            [
                "spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor: Invalid value: "
                '"limits.cpu": only divisor\'s values 1m and 1 are supported with the cpu '
                "resource"
            ],
            id="divisor",
        ),
        pytest.param(
            {"resourceFieldRef": {"resource": "limits.gpu"}},
            [
                "spec.containers[0].env[0].valueFrom.resourceFieldRef.resource: Unsupported "
                'value: "limits.gpu": supported values: "limits.cpu", '
                '"limits.ephemeral-storage", "limits.memory", "requests.cpu", '
                '"requests.ephemeral-storage", "requests.memory"'
            ],
            id="resource",
        ),
    ],
)
def test_env_value_sources(source: dict[str, Any], expected: list[str]) -> None:
    env = [{"name": "X", "valueFrom": source}]
    assert _errors(containers=[container(env=env)]) == expected


@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        pytest.param(
            {
                "downwardAPI": {
                    "items": [
                        {
                            "path": "../labels",
                            "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"},
                        }
                    ]
                }
            },
            [
                'spec.volumes[0].downwardAPI.path: Invalid value: "../labels": must not '
                "contain '..'"
            ],
            id="downward file path",
        ),
        pytest.param(
            {
                "projected": {
                    "sources": [{"serviceAccountToken": {"path": "token", "expirationSeconds": 60}}]
                }
            },
            [
                "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: "
                "Invalid value: 60: may not specify a duration less than 10 minutes"
            ],
            id="token lifetime",
        ),
        pytest.param(
            {
                "projected": {
                    "sources": [
                        {"configMap": {"name": "a", "items": [{"key": "k", "path": "p"}]}},
                        {"secret": {"name": "b", "items": [{"key": "k", "path": "p"}]}},
                    ]
                }
            },
            ['spec.volumes[0].projected: Invalid value: "b": conflicting duplicate paths'],
            id="duplicate projected paths",
        ),
        pytest.param(
            {"csi": {"driver": ""}},
            [
                "spec.volumes[0].csi.driver: Required value",
                'spec.volumes[0].csi.driver: Invalid value: "": a lowercase RFC 1123 subdomain '
                "must consist of lower case alphanumeric characters, '-' or '.', and must start "
                "and end with an alphanumeric character (e.g. 'example.com', regex used for "
                "validation is "
                r"'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ],
            id="csi driver",
        ),
    ],
)
def test_volume_sources(volume: dict[str, Any], expected: list[str]) -> None:
    spec = {"serviceAccountName": "default", "volumes": [{"name": "v", **volume}]}
    assert _errors(**spec) == expected


def test_projected_tokens_need_a_service_account() -> None:
    volume = {
        "name": "v",
        "projected": {
            "sources": [{"serviceAccountToken": {"path": "t", "expirationSeconds": 3600}}]
        },
    }
    assert _errors(volumes=[volume]) == [
        "spec.volumes[0].projected.sources[0].serviceAccountToken: Forbidden: must not be "
        "specified when serviceAccountName is not set"
    ]


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        pytest.param(
            {
                "limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi"},
                "requests": {"hugepages-2Mi": "4Mi", "memory": "1Gi"},
            },
            [],
            id="valid",
        ),
        pytest.param(
            {"limits": {"hugepages-2Mi": "4Mi"}, "requests": {"hugepages-2Mi": "4Mi"}},
            ["spec.containers[0].resources: Forbidden: HugePages require cpu or memory"],
            id="needs cpu or memory",
        ),
        pytest.param(
            {"limits": {"hugepages-2Mi": "3Mi", "memory": "1Gi"}},
            [
                'spec.containers[0].resources.limits[hugepages-2Mi]: Invalid value: "3Mi": '
                "3Mi is not positive integer multiple of hugepages-2Mi"
            ],
            id="whole pages",
        ),
        pytest.param(
            {
                "limits": {"hugepages-2Mi": "4Mi", "memory": "1Gi"},
                "requests": {"hugepages-2Mi": "2Mi"},
            },
            [
                'spec.containers[0].resources.requests: Invalid value: "2Mi": must be equal to '
                "hugepages-2Mi limit of 4Mi"
            ],
            id="no overcommit",
        ),
    ],
)
def test_hugepages(resources: dict[str, Any], expected: list[str]) -> None:
    assert _errors(containers=[container(resources=resources)]) == expected


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        pytest.param(
            {"allowPrivilegeEscalation": False, "privileged": True},
            [
                'spec.containers[0].securityContext: Invalid value: {"allowPrivilegeEscalation":'
                'false,"privileged":true}: cannot set `allowPrivilegeEscalation` to false and '
                "`privileged` to true"
            ],
            id="privilege escalation",
        ),
        pytest.param(
            {"seccompProfile": {"type": "Localhost"}},
            [
                "spec.containers[0].securityContext.seccompProfile.localhostProfile: Required "
                "value: must be set when seccomp type is Localhost"
            ],
            id="seccomp",
        ),
        pytest.param(
            {"procMount": "Unmasked"},
            [
                'spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": '
                "`hostUsers` must be false to use `Unmasked`"
            ],
            id="proc mount",
        ),
    ],
)
def test_container_security(context: dict[str, Any], expected: list[str]) -> None:
    assert _errors(containers=[container(securityContext=context)]) == expected


def test_sysctls() -> None:
    sysctls = [{"name": "net.core.somaxconn", "value": "1024"}, {"name": "Bad_Name", "value": "1"}]
    assert _errors(hostNetwork=True, securityContext={"sysctls": sysctls}) == [
        'spec.securityContext.sysctls[0].name: Invalid value: "net.core.somaxconn": may not be '
        "specified when 'hostNetwork' is true",
        'spec.securityContext.sysctls[1].name: Invalid value: "Bad_Name": must have at most 253 '
        "characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]"
        "([-_a-z0-9]*[a-z0-9])?$",
    ]


def test_linux_pods_may_not_set_windows_options() -> None:
    spec = {"os": {"name": "linux"}, "securityContext": {"windowsOptions": {}}}
    assert _errors(**spec) == [
        "spec.securityContext.windowsOptions: Forbidden: windows options cannot be set for a "
        "linux pod"
    ]
