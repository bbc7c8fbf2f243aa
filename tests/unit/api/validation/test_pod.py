"""Pod validation on create, update and status update: Kubernetes' rules, paths and wording."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.api.validation import validate, validate_status_update, validate_update

from .samples import changed, container, messages, pod

RFC1123_LABEL = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
    "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    "'my_value',  or '12345', regex used for validation is "
    "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def _field(path: str) -> dict[str, str]:
    return {"apiVersion": "v1", "fieldPath": path}


def test_a_valid_pod_has_no_errors() -> None:
    assert validate("", "Pod", pod()) == []


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"containers": [container(image="")]},
            ["spec.containers[0].image: Required value"],
            id="image required",
        ),
        pytest.param({"containers": []}, ["spec.containers: Required value"], id="no containers"),
        pytest.param(
            {"restartPolicy": "Sometimes"},
            [
                'spec.restartPolicy: Unsupported value: "Sometimes": supported values: '
                '"Always", "OnFailure", "Never"'
            ],
            id="restart policy",
        ),
        pytest.param(
            {"dnsPolicy": "Custom"},
            [
                'spec.dnsPolicy: Unsupported value: "Custom": supported values: '
                '"ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"'
            ],
            id="dns policy",
        ),
        pytest.param(
            {"terminationGracePeriodSeconds": None},
            ["spec.terminationGracePeriodSeconds: Required value"],
            id="grace period required",
        ),
        pytest.param(
            {"containers": [container("Web")]},
            [f'spec.containers[0].name: Invalid value: "Web": {RFC1123_LABEL}'],
            id="container name",
        ),
        pytest.param(
            {"containers": [container(), container()]},
            ['spec.containers[1].name: Duplicate value: "web"'],
            id="duplicate container",
        ),
        pytest.param(
            {"initContainers": [container()]},
            ['spec.initContainers[0].name: Duplicate value: "web"'],
            id="init container named like a container",
        ),
        pytest.param(
            {"containers": [container(imagePullPolicy="Sometimes")]},
            [
                'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": '
                'supported values: "Always", "IfNotPresent", "Never"'
            ],
            id="pull policy",
        ),
        pytest.param(
            {"activeDeadlineSeconds": 0},
            [
                "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and "
                "2147483647, inclusive"
            ],
            id="active deadline",
        ),
        pytest.param(
            {"hostname": "Host_1"},
            [f'spec.hostname: Invalid value: "Host_1": {RFC1123_LABEL}'],
            id="hostname",
        ),
        pytest.param(
            {"subdomain": "-sub"},
            [f'spec.subdomain: Invalid value: "-sub": {RFC1123_LABEL}'],
            id="subdomain",
        ),
        pytest.param(
            {"nodeSelector": {"disk": "ss d"}},
            [f'spec.nodeSelector: Invalid value: "ss d": {LABEL_VALUE}'],
            id="node selector",
        ),
        pytest.param(
            {"ephemeralContainers": [container("debug")]},
            ["spec.ephemeralContainers: Forbidden: cannot be set on create"],
            id="ephemeral containers",
        ),
        pytest.param(
            {"nodeName": "node-1", "schedulingGates": [{"name": "example.com/gate"}]},
            ["spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared"],
            id="node name of a gated pod",
        ),
        pytest.param(
            {"containers": [container(image=" nginx")]},
            [
                'spec.containers[0].image: Invalid value: " nginx": must not have leading or '
                "trailing whitespace"
            ],
            id="image whitespace",
        ),
    ],
)
def test_pod_spec_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "Pod", pod(**spec))) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param(
            {"ports": [{"containerPort": 0, "protocol": "TCP"}]},
            ["spec.containers[0].ports[0].containerPort: Required value"],
            id="port required",
        ),
        pytest.param(
            {"ports": [{"containerPort": 65536, "protocol": "TCP"}]},
            [
                "spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be "
                "between 1 and 65535, inclusive"
            ],
            id="port range",
        ),
        pytest.param(
            {"ports": [{"containerPort": 80, "protocol": "HTTP"}]},
            [
                'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported '
                'values: "SCTP", "TCP", "UDP"'
            ],
            id="protocol",
        ),
        pytest.param(
            {
                "ports": [
                    {"name": "http", "containerPort": 80, "protocol": "TCP"},
                    {"name": "http", "containerPort": 81, "protocol": "TCP"},
                ]
            },
            ['spec.containers[0].ports[1].name: Duplicate value: "http"'],
            id="port names unique",
        ),
        pytest.param(
            {"ports": [{"name": "1234", "containerPort": 80, "protocol": "TCP"}]},
            [
                'spec.containers[0].ports[0].name: Invalid value: "1234": must contain at '
                "least one letter (a-z)"
            ],
            id="port name letter",
        ),
        pytest.param(
            {
                "ports": [
                    {"containerPort": 80, "hostPort": 8080, "protocol": "TCP"},
                    {"containerPort": 81, "hostPort": 8080, "protocol": "TCP"},
                ]
            },
            ['spec.containers[0].ports[1].hostPort: Duplicate value: "TCP//8080"'],
            id="host port conflict",
        ),
        pytest.param(
            {"env": [{"name": ""}]},
            ["spec.containers[0].env[0].name: Required value"],
            id="env name required",
        ),
        pytest.param(
            {"env": [{"name": "A=B"}]},
            [
                'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment '
                "variable name must consist only of printable ASCII characters other than '='"
            ],
            id="env name relaxed",
        ),
        pytest.param(
            {
                "env": [
                    {"name": "A", "value": "x", "valueFrom": {"fieldRef": _field("metadata.name")}}
                ]
            },
            [
                'spec.containers[0].env[0].valueFrom: Invalid value: "": may not be '
                "specified when `value` is not empty"
            ],
            id="value and valueFrom",
        ),
        pytest.param(
            {"env": [{"name": "A", "valueFrom": {"fieldRef": _field("spec.restartPolicy")}}]},
            [
                "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
                '"spec.restartPolicy": supported values: "metadata.name", "metadata.namespace", '
                '"metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", '
                '"status.hostIPs", "status.podIP", "status.podIPs"'
            ],
            id="env field path",
        ),
        pytest.param(
            {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s", "key": ""}}}]},
            ["spec.containers[0].env[0].valueFrom.secretKeyRef.key: Required value"],
            id="secret key required",
        ),
        pytest.param(
            {"envFrom": [{"prefix": "P_"}]},
            [
                'spec.containers[0].envFrom: Invalid value: "": must specify one of: '
                "`configMapRef` or `secretRef`"
            ],
            id="envFrom source",
        ),
        pytest.param(
            {"volumeMounts": [{"name": "data", "mountPath": "/data"}]},
            ['spec.containers[0].volumeMounts[0].name: Not found: "data"'],
            id="mount of a missing volume",
        ),
        pytest.param(
            {
                "resources": {
                    "limits": {"cpu": "500m", "memory": "1Gi"},
                    "requests": {"cpu": "1", "memory": "64Mi"},
                }
            },
            [
                'spec.containers[0].resources.requests: Invalid value: "1": must be less than '
                "or equal to cpu limit of 500m"
            ],
            id="request above limit",
        ),
        pytest.param(
            {"resources": {"requests": {"cpu": "-1"}}},
            [
                'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be '
                "greater than or equal to 0"
            ],
            id="negative quantity",
        ),
        pytest.param(
            {"resources": {"limits": {"gpu": "1"}}},
            [
                'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a '
                "standard resource type or fully qualified",
                'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a '
                "standard resource for containers",
            ],
            id="unknown resource name",
        ),
        pytest.param(
            {"resources": {"requests": {"example.com/gpu": "1"}}},
            [
                "spec.containers[0].resources.limits: Required value: Limit must be set for "
                "non overcommitable resources"
            ],
            id="extended resource needs a limit",
        ),
        pytest.param(
            {"livenessProbe": {"periodSeconds": 10, "successThreshold": 1}},
            ["spec.containers[0].livenessProbe: Required value: must specify a handler type"],
            id="probe handler required",
        ),
        pytest.param(
            {
                "readinessProbe": {
                    "exec": {"command": ["true"]},
                    "tcpSocket": {"port": 80},
                    "successThreshold": 1,
                }
            },
            [
                "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more "
                "than 1 handler type"
            ],
            id="one probe handler",
        ),
        pytest.param(
            {
                "livenessProbe": {
                    "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
                    "successThreshold": 2,
                    "failureThreshold": -1,
                }
            },
            [
                "spec.containers[0].livenessProbe.failureThreshold: Invalid value: -1: must be "
                "greater than or equal to 0",
                "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            ],
            id="probe thresholds",
        ),
        pytest.param(
            {"lifecycle": {"preStop": {"sleep": {"seconds": 60}}}},
            [
                "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be greater "
                "than 0 and less than terminationGracePeriodSeconds (30). Enable "
                "AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep."
            ],
            id="sleep longer than grace",
        ),
        pytest.param(
            {"securityContext": {"runAsUser": -1}},
            [
                "spec.containers[0].securityContext.runAsUser: Invalid value: -1: must be "
                "between 0 and 2147483647, inclusive"
            ],
            id="run as user",
        ),
        pytest.param(
            {"restartPolicy": "Always"},
            ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"],
            id="restart policy of a container",
        ),
    ],
)
def test_container_rules(fields: dict[str, Any], expected: list[str]) -> None:
    spec = {"containers": [container(**fields)]}
    assert messages(validate("", "Pod", pod(**spec))) == expected


@pytest.mark.parametrize(
    ("volumes", "expected"),
    [
        pytest.param(
            [{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}],
            ['spec.volumes[1].name: Duplicate value: "a"'],
            id="duplicate",
        ),
        pytest.param(
            [{"name": "a"}],
            ["spec.volumes[0]: Required value: must specify a volume type"],
            id="no source",
        ),
        pytest.param(
            [{"name": "a", "emptyDir": {}, "hostPath": {"path": "/x", "type": ""}}],
            ["spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"],
            id="two sources",
        ),
        pytest.param(
            [{"name": "a", "configMap": {"name": "", "defaultMode": 0o1000}}],
            [
                "spec.volumes[0].configMap.name: Required value",
                "spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number "
                "between 0 and 0777 (octal), both inclusive",
            ],
            id="config map",
        ),
        pytest.param(
            [{"name": "a", "hostPath": {"path": "/x/../y", "type": "Dir"}}],
            [
                "spec.volumes[0].hostPath.path: Invalid value: \"/x/../y\": must not contain '..'",
                'spec.volumes[0].hostPath.type: Unsupported value: "Dir": supported values: "", '
                '"BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", '
                '"FileOrCreate", "Socket"',
            ],
            id="host path",
        ),
        pytest.param(
            [{"name": "a", "persistentVolumeClaim": {"claimName": ""}}],
            ["spec.volumes[0].persistentVolumeClaim.claimName: Required value"],
            id="claim",
        ),
    ],
)
def test_volume_rules(volumes: list[dict[str, Any]], expected: list[str]) -> None:
    assert messages(validate("", "Pod", pod(volumes=volumes))) == expected


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param(
            {"tolerations": [{"key": "", "operator": "Equal", "value": "x"}]},
            [
                'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists '
                'when `key` is empty, which means "match all values and all keys"'
            ],
            id="empty key",
        ),
        pytest.param(
            {"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
            [
                'spec.tolerations[0].operator: Invalid value: "v": value must be empty when '
                "`operator` is 'Exists'"
            ],
            id="exists with value",
        ),
        pytest.param(
            {"tolerations": [{"key": "k", "operator": "In"}]},
            [
                'spec.tolerations[0].operator: Unsupported value: "In": supported values: '
                '"Equal", "Exists"'
            ],
            id="operator",
        ),
        pytest.param(
            {"tolerations": [{"key": "k", "operator": "Exists", "effect": "NoRun"}]},
            [
                'spec.tolerations[0].effect: Unsupported value: "NoRun": supported values: '
                '"NoSchedule", "PreferNoSchedule", "NoExecute"'
            ],
            id="effect",
        ),
        pytest.param(
            {
                "tolerations": [
                    {
                        "key": "k",
                        "operator": "Exists",
                        "effect": "NoSchedule",
                        "tolerationSeconds": 5,
                    }
                ]
            },
            [
                'spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be '
                "'NoExecute' when `tolerationSeconds` is set"
            ],
            id="toleration seconds",
        ),
        pytest.param(
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                    }
                }
            },
            [
                "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
                "nodeSelectorTerms: Required value: must have at least one node selector term"
            ],
            id="node selector terms",
        ),
        pytest.param(
            {
                "affinity": {
                    "podAntiAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {"weight": 0, "podAffinityTerm": {"topologyKey": ""}}
                        ]
                    }
                }
            },
            [
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
                "[0].weight: Invalid value: 0: must be in the range 1-100",
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
                "[0].podAffinityTerm.topologyKey: Required value: can not be empty",
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
                '[0].podAffinityTerm.topologyKey: Invalid value: "": name part must be '
                "non-empty",
                "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution"
                '[0].podAffinityTerm.topologyKey: Invalid value: "": name part must consist of '
                "alphanumeric characters, '-', '_' or '.', and must start and end with an "
                "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
                "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ],
            id="pod anti affinity",
        ),
        pytest.param(
            {"dnsPolicy": "None"},
            ["spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"],
            id="dns none without config",
        ),
        pytest.param(
            {"securityContext": {"fsGroup": -5}},
            [
                "spec.securityContext.fsGroup: Invalid value: -5: must be between 0 and "
                "2147483647, inclusive"
            ],
            id="fs group",
        ),
        pytest.param(
            {"hostPID": True, "shareProcessNamespace": True},
            [
                "spec.securityContext.shareProcessNamespace: Invalid value: true: "
                "ShareProcessNamespace and HostPID cannot both be enabled"
            ],
            id="share process namespace",
        ),
        pytest.param(
            {
                "hostNetwork": True,
                "containers": [
                    container(ports=[{"containerPort": 80, "hostPort": 81, "protocol": "TCP"}])
                ],
            },
            [
                "spec.containers[0].ports[0].hostPort: Invalid value: 81: must match "
                "`containerPort` when `hostNetwork` is true"
            ],
            id="host network ports",
        ),
        pytest.param(
            {
                "topologySpreadConstraints": [
                    {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
                ]
            },
            [
                "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater "
                "than zero"
            ],
            id="max skew",
        ),
    ],
)
def test_scheduling_and_security_rules(spec: dict[str, Any], expected: list[str]) -> None:
    assert messages(validate("", "Pod", pod(**spec))) == expected


def test_init_containers_without_restart_policy_may_not_have_probes() -> None:
    init = container("init", readinessProbe={"exec": {"command": ["true"]}})
    assert messages(validate("", "Pod", pod(initContainers=[init]))) == [
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers "
        "without restartPolicy=Always"
    ]


def test_sidecar_init_containers_may_have_probes() -> None:
    probe = {"exec": {"command": ["true"]}, "successThreshold": 1}
    sidecar = container("sidecar", restartPolicy="Always", livenessProbe=probe)
    assert validate("", "Pod", pod(initContainers=[sidecar])) == []


# ---------------------------------------------------------------------------
# Updates

UPDATABLE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
    "set to 1 if it was previously negative)"
)


def test_images_may_change() -> None:
    old = pod()
    new = changed(old, lambda p: p["spec"]["containers"][0].update(image="nginx:1.28"))
    assert validate_update("", "Pod", new, old) == []


def test_other_spec_changes_are_forbidden_with_a_diff() -> None:
    old = pod(nodeName="node-a")
    new = changed(old, lambda p: p["spec"].update(nodeName="node-b"))
    assert messages(validate_update("", "Pod", new, old)) == [
        f'spec: Forbidden: {UPDATABLE}\n- spec.nodeName: "node-a"\n+ spec.nodeName: "node-b"'
    ]


def test_containers_may_not_be_added() -> None:
    old = pod()
    new = changed(old, lambda p: p["spec"]["containers"].append(container("two")))
    assert messages(validate_update("", "Pod", new, old)) == [
        "spec.containers: Forbidden: pod updates may not add or remove containers"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param(None, 30, [], id="set"),
        pytest.param(30, 10, [], id="lowered"),
        pytest.param(
            10,
            30,
            [
                "spec.activeDeadlineSeconds: Invalid value: 30: must be less than or equal to "
                "previous value"
            ],
            id="raised",
        ),
        pytest.param(
            10,
            None,
            [
                "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive "
                "integer to nil value"
            ],
            id="unset",
        ),
    ],
)
def test_active_deadline_updates(old: int | None, new: int | None, expected: list[str]) -> None:
    before, after = pod(activeDeadlineSeconds=old), pod(activeDeadlineSeconds=new)
    assert messages(validate_update("", "Pod", after, before)) == expected


def test_tolerations_may_only_be_added() -> None:
    toleration = {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    old = pod(tolerations=[toleration])
    added = pod(tolerations=[{**toleration, "tolerationSeconds": 1}, {"operator": "Exists"}])
    assert validate_update("", "Pod", added, old) == []
    removed = pod(tolerations=[])
    assert messages(validate_update("", "Pod", removed, old)) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its "
        "tolerationSeconds"
    ]


def test_scheduling_gates_may_only_be_removed() -> None:
    old = pod(schedulingGates=[{"name": "example.com/a"}])
    assert validate_update("", "Pod", pod(), old) == []
    new = pod(schedulingGates=[{"name": "example.com/a"}, {"name": "example.com/b"}])
    assert messages(validate_update("", "Pod", new, old)) == [
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new "
        "scheduling gate 'example.com/b'"
    ]


def test_gated_pods_may_gain_node_selectors() -> None:
    old = pod(schedulingGates=[{"name": "example.com/a"}], nodeSelector={"zone": "a"})
    new = changed(old, lambda p: p["spec"]["nodeSelector"].update(disk="ssd"))
    assert validate_update("", "Pod", new, old) == []


def test_missing_defaults_equal_zero_values() -> None:
    old = pod()
    new = changed(old, lambda p: p["spec"].update(hostNetwork=False, volumes=[]))
    assert validate_update("", "Pod", new, old) == []


# ---------------------------------------------------------------------------
# Status updates


def _with_status(status: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {**pod(**spec), "status": status}


def test_status_may_not_move_the_pod() -> None:
    old = _with_status({}, nodeName="a")
    new = _with_status({}, nodeName="b")
    assert messages(validate_status_update("", "Pod", new, old)) == [
        "status.nodeName: Forbidden: may not be changed directly"
    ]


def test_terminated_containers_stay_terminated_unless_restarted() -> None:
    terminated = {"name": "web", "state": {"terminated": {"exitCode": 0}}}
    running = {"name": "web", "state": {"running": {}}}
    old = _with_status({"containerStatuses": [terminated]}, restartPolicy="Never")
    new = _with_status({"containerStatuses": [running]}, restartPolicy="Never")
    assert messages(validate_status_update("", "Pod", new, old)) == [
        "status.containerStatuses[0].state: Forbidden: may not be transitioned to "
        "non-terminated state"
    ]
    always_old = _with_status({"containerStatuses": [terminated]})
    always_new = _with_status({"containerStatuses": [running]})
    assert validate_status_update("", "Pod", always_new, always_old) == []


@pytest.mark.parametrize(
    ("pod_ips", "expected"),
    [
        pytest.param([{"ip": "10.0.0.1"}, {"ip": "fd00::1"}], [], id="dual stack"),
        pytest.param(
            [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
            [
                'status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]: may '
                "specify no more than one IP for each IP family"
            ],
            id="same family",
        ),
        pytest.param(
            [{"ip": "10.0.0.300"}],
            [
                'status.podIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, '
                "(e.g. 10.9.8.7 or 2001:db8::ffff)"
            ],
            id="invalid",
        ),
    ],
)
def test_pod_ips(pod_ips: list[dict[str, str]], expected: list[str]) -> None:
    old = _with_status({})
    new = _with_status({"podIPs": pod_ips})
    assert messages(validate_status_update("", "Pod", new, old)) == expected


def test_pod_templates_are_validated_as_templates() -> None:
    obj = {"template": {"metadata": {"labels": {"a": "b c"}}, "spec": pod()["spec"]}}
    assert messages(validate("", "PodTemplate", obj)) == [
        f'template.labels: Invalid value: "b c": {LABEL_VALUE}'
    ]
