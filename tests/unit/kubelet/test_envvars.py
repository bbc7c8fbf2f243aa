"""Container environments: $(VAR) expansion (Kubernetes' own test table), service link
variables (envvars_test.go's services), and the kubelet's env/envFrom rules."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kybernetes.kubelet.envvars import (
    INVALID_NAMES_REASON,
    EnvVarError,
    ServiceEnv,
    container_env,
    expand,
    service_env,
)

CONTEXT = {"VAR_A": "A", "VAR_B": "B", "VAR_C": "C", "VAR_REF": "$(VAR_A)", "VAR_EMPTY": ""}

# third_party/forked/golang/expansion/expand_test.go, case for case.
EXPANSIONS = [
    ("$(VAR_A)", "A"),
    ("$(VAR_A)-$(VAR_A)", "A-A"),
    ("$(VAR_A)-1", "A-1"),
    ("___$(VAR_B)___", "___B___"),
    ("___$(VAR_C)", "___C"),
    ("$(VAR_A)_$(VAR_B)_$(VAR_C)", "A_B_C"),
    ("$$(VAR_B)_$(VAR_A)", "$(VAR_B)_A"),
    ("$$(VAR_A)_$$(VAR_B)", "$(VAR_A)_$(VAR_B)"),
    ("f000-$$VAR_A", "f000-$VAR_A"),
    ("foo\\$(VAR_C)bar", "foo\\Cbar"),
    ("foo\\\\$(VAR_C)bar", "foo\\\\Cbar"),
    ("foo\\\\\\\\$(VAR_A)bar", "foo\\\\\\\\Abar"),
    ("$(VAR_A$(VAR_B))", "$(VAR_A$(VAR_B))"),
    ("$(VAR_A$(VAR_B)", "$(VAR_A$(VAR_B)"),
    ("$(VAR_REF)", "$(VAR_A)"),
    ("%%$(VAR_REF)--$(VAR_REF)%%", "%%$(VAR_A)--$(VAR_A)%%"),
    ("foo$(VAR_EMPTY)bar", "foobar"),
    ("foo$(VAR_Awhoops!", "foo$(VAR_Awhoops!"),
    ("f00__(VAR_A)__", "f00__(VAR_A)__"),
    ("$?_boo_$!", "$?_boo_$!"),
    ("$VAR_A", "$VAR_A"),
    ("$(VAR_DNE)", "$(VAR_DNE)"),
    ("$$$$$$(BIG_MONEY)", "$$$(BIG_MONEY)"),
    ("$$$$$$(VAR_A)", "$$$(VAR_A)"),
    ("$$$$$$$(GOOD_ODDS)", "$$$$(GOOD_ODDS)"),
    ("$$$$$$$(VAR_A)", "$$$A"),
    ("$VAR_A)", "$VAR_A)"),
    ("${VAR_A}", "${VAR_A}"),
    ("$(VAR_B)_______$(A", "B_______$(A"),
    ("$(VAR_C)_______$(", "C_______$("),
    ("$(VAR_A)foobarzab$", "Afoobarzab$"),
    ("foo-\\$(VAR_A", "foo-\\$(VAR_A"),
    ("--$($($($($--", "--$($($($($--"),
    ("$($($($($--foo$(", "$($($($($--foo$("),
    ("foo0--$($($($(", "foo0--$($($($("),
    ("$(foo$$var)", "$(foo$$var)"),
    ("\n", "\n"),
    ("$é$(VAR_A)é", "$éAé"),
]


@pytest.mark.parametrize(("text", "expected"), EXPANSIONS)
def test_expand_matches_kubernetes(text: str, expected: str) -> None:
    assert expand(text, CONTEXT) == expected


def test_expand_references_resolve_in_declaration_order() -> None:
    declared: dict[str, str] = {}
    for name, value in (("FOO", "bar"), ("ZOO", "$(FOO)-1"), ("BLU", "$(ZOO)-2")):
        declared[name] = expand(value, declared)
    assert declared == {"FOO": "bar", "ZOO": "bar-1", "BLU": "bar-1-2"}


def _service(
    name: str, ip: str, ports: list[dict[str, Any]], namespace: str = "test"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterIP": ip, "ports": ports},
    }


SERVICES = [
    _service("foo-bar", "1.2.3.4", [{"port": 8080, "protocol": "TCP"}]),
    _service(
        "abc-123",
        "5.6.7.8",
        [
            {"name": "u-d-p", "port": 8081, "protocol": "UDP"},
            {"name": "t-c-p", "port": 8081, "protocol": "TCP"},
        ],
    ),
    _service(
        "q-u-u-x",
        "9.8.7.6",
        [{"port": 8082, "protocol": "TCP"}, {"name": "8083", "port": 8083, "protocol": "TCP"}],
    ),
    _service("svrc-clusterip-none", "None", [{"port": 8082, "protocol": "TCP"}]),
    _service("svrc-clusterip-empty", "", [{"port": 8082, "protocol": "TCP"}]),
    _service(
        "super-ipv6",
        "2001:DB8::",
        [
            {"name": "u-d-p", "port": 8084, "protocol": "UDP"},
            {"name": "t-c-p", "port": 8084, "protocol": "TCP"},
        ],
    ),
]


def test_service_env_matches_from_services() -> None:
    env = service_env(SERVICES, "test")
    assert env == {
        "FOO_BAR_SERVICE_HOST": "1.2.3.4",
        "FOO_BAR_SERVICE_PORT": "8080",
        "FOO_BAR_PORT": "tcp://1.2.3.4:8080",
        "FOO_BAR_PORT_8080_TCP": "tcp://1.2.3.4:8080",
        "FOO_BAR_PORT_8080_TCP_PROTO": "tcp",
        "FOO_BAR_PORT_8080_TCP_PORT": "8080",
        "FOO_BAR_PORT_8080_TCP_ADDR": "1.2.3.4",
        "ABC_123_SERVICE_HOST": "5.6.7.8",
        "ABC_123_SERVICE_PORT": "8081",
        "ABC_123_SERVICE_PORT_U_D_P": "8081",
        "ABC_123_SERVICE_PORT_T_C_P": "8081",
        "ABC_123_PORT": "udp://5.6.7.8:8081",
        "ABC_123_PORT_8081_UDP": "udp://5.6.7.8:8081",
        "ABC_123_PORT_8081_UDP_PROTO": "udp",
        "ABC_123_PORT_8081_UDP_PORT": "8081",
        "ABC_123_PORT_8081_UDP_ADDR": "5.6.7.8",
        "ABC_123_PORT_8081_TCP": "tcp://5.6.7.8:8081",
        "ABC_123_PORT_8081_TCP_PROTO": "tcp",
        "ABC_123_PORT_8081_TCP_PORT": "8081",
        "ABC_123_PORT_8081_TCP_ADDR": "5.6.7.8",
        "Q_U_U_X_SERVICE_HOST": "9.8.7.6",
        "Q_U_U_X_SERVICE_PORT": "8082",
        "Q_U_U_X_SERVICE_PORT_8083": "8083",
        "Q_U_U_X_PORT": "tcp://9.8.7.6:8082",
        "Q_U_U_X_PORT_8082_TCP": "tcp://9.8.7.6:8082",
        "Q_U_U_X_PORT_8082_TCP_PROTO": "tcp",
        "Q_U_U_X_PORT_8082_TCP_PORT": "8082",
        "Q_U_U_X_PORT_8082_TCP_ADDR": "9.8.7.6",
        "Q_U_U_X_PORT_8083_TCP": "tcp://9.8.7.6:8083",
        "Q_U_U_X_PORT_8083_TCP_PROTO": "tcp",
        "Q_U_U_X_PORT_8083_TCP_PORT": "8083",
        "Q_U_U_X_PORT_8083_TCP_ADDR": "9.8.7.6",
        "SUPER_IPV6_SERVICE_HOST": "2001:DB8::",
        "SUPER_IPV6_SERVICE_PORT": "8084",
        "SUPER_IPV6_SERVICE_PORT_U_D_P": "8084",
        "SUPER_IPV6_SERVICE_PORT_T_C_P": "8084",
        "SUPER_IPV6_PORT": "udp://[2001:DB8::]:8084",
        "SUPER_IPV6_PORT_8084_UDP": "udp://[2001:DB8::]:8084",
        "SUPER_IPV6_PORT_8084_UDP_PROTO": "udp",
        "SUPER_IPV6_PORT_8084_UDP_PORT": "8084",
        "SUPER_IPV6_PORT_8084_UDP_ADDR": "2001:DB8::",
        "SUPER_IPV6_PORT_8084_TCP": "tcp://[2001:DB8::]:8084",
        "SUPER_IPV6_PORT_8084_TCP_PROTO": "tcp",
        "SUPER_IPV6_PORT_8084_TCP_PORT": "8084",
        "SUPER_IPV6_PORT_8084_TCP_ADDR": "2001:DB8::",
    }


MASTER = _service("kubernetes", "10.43.0.1", [{"name": "https", "port": 443}], "default")


def test_service_env_scopes_to_namespace_plus_master() -> None:
    others = [_service("elsewhere", "10.0.0.9", [{"port": 1}], "other"), MASTER]
    env = service_env([*others, _service("web", "10.0.0.2", [{"port": 80}])], "test")
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert env["KUBERNETES_SERVICE_PORT_HTTPS"] == "443"
    assert env["WEB_SERVICE_HOST"] == "10.0.0.2"
    assert "ELSEWHERE_SERVICE_HOST" not in env
    assert set(env.master) == {k for k in env if k.startswith("KUBERNETES_")}


def test_local_kubernetes_service_shadows_the_master_one() -> None:
    local = _service("kubernetes", "10.0.0.7", [{"port": 8443}])
    env = service_env([MASTER, local], "test")
    assert env["KUBERNETES_SERVICE_HOST"] == "10.0.0.7"
    assert "KUBERNETES_SERVICE_PORT_HTTPS" not in env
    assert env.master["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"


class Objects:
    """A getter over in-memory ConfigMaps and Secrets that counts its reads."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.reads = 0

    def configmap(self, name: str, data: dict[str, str], namespace: str = "ns") -> None:
        self.objects["configmaps", namespace, name] = {"data": data}

    def secret(self, name: str, data: dict[str, str], namespace: str = "ns") -> None:
        encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
        self.objects["secrets", namespace, name] = {"data": encoded}

    async def __call__(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        self.reads += 1
        return self.objects.get((resource, namespace, name))


def _pod(**spec: Any) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "dapi",
            "namespace": "ns",
            "uid": "uid-1",
            "labels": {"app": "web", "tier": 'fr"ont'},
            "annotations": {"note": "a\nb"},
        },
        "spec": {"nodeName": "node-1", "serviceAccountName": "sa", **spec},
        "status": {
            "podIP": "10.1.0.5",
            "podIPs": [{"ip": "10.1.0.5"}, {"ip": "fd00::5"}],
            "hostIP": "192.168.0.2",
            "hostIPs": [{"ip": "192.168.0.2"}],
        },
    }


async def test_order_and_overrides() -> None:
    objects = Objects()
    objects.configmap("cm", {"FROM_CM": "cm", "SHARED": "cm", "WEB_SERVICE_HOST": "cm-host"})
    objects.secret("sec", {"SHARED": "secret", "PASSWORD": "s3cret"})
    container = {
        "name": "c",
        "envFrom": [{"configMapRef": {"name": "cm"}}, {"secretRef": {"name": "sec"}}],
        "env": [
            {"name": "FIRST", "value": "$(SHARED)/$(WEB_SERVICE_PORT)/$(LATER)"},
            {"name": "SHARED", "value": "env"},
            {"name": "LATER", "value": "later"},
            {"name": "EMPTY"},
        ],
    }
    services = service_env([MASTER, _service("web", "10.0.0.2", [{"port": 80}], "ns")], "ns")
    env = await container_env(_pod(), container, objects, services)
    names = [name for name, _ in env]
    assert len(names) == len(set(names))
    values = dict(env)
    assert values["FIRST"] == "secret/80/$(LATER)"
    assert values["SHARED"] == "env"
    assert values["WEB_SERVICE_HOST"] == "cm-host"
    assert values["EMPTY"] == ""
    assert values["PASSWORD"] == "s3cret"
    service_names = [n for n in names if n in services and n != "WEB_SERVICE_HOST"]
    assert names[: len(service_names)] == service_names
    assert names[-4:] == ["FIRST", "SHARED", "LATER", "EMPTY"]
    assert objects.reads == 2


async def test_service_links_disabled_keep_master_only() -> None:
    services = service_env([MASTER, _service("web", "10.0.0.2", [{"port": 80}], "ns")], "ns")
    container = {"name": "c", "env": [{"name": "X", "value": "$(WEB_SERVICE_HOST)"}]}
    env = dict(await container_env(_pod(enableServiceLinks=False), container, Objects(), services))
    assert env["KUBERNETES_SERVICE_HOST"] == "10.43.0.1"
    assert "WEB_SERVICE_HOST" not in env
    assert env["X"] == "$(WEB_SERVICE_HOST)"
    assert isinstance(services, ServiceEnv)


async def test_envfrom_prefix_and_invalid_keys_warn() -> None:
    objects = Objects()
    objects.configmap("cm", {"1badkey": "x", "good": "y", "2alsobad": "z"})
    objects.configmap("cm2", {"1key": "k"})
    warnings: list[tuple[str, str]] = []
    container = {
        "name": "c",
        "envFrom": [
            {"configMapRef": {"name": "cm"}},
            {"prefix": "P_", "configMapRef": {"name": "cm2"}},
        ],
    }
    env = await container_env(_pod(), container, objects, {}, warn=lambda *w: warnings.append(w))
    assert env == [("good", "y"), ("P_1key", "k")]
    assert warnings == [
        (
            INVALID_NAMES_REASON,
            "Keys [1badkey, 2alsobad] from the EnvFrom configMap ns/cm were skipped since they "
            "are considered invalid environment variable names.",
        )
    ]


@pytest.mark.parametrize(
    ("container", "message"),
    [
        ({"envFrom": [{"configMapRef": {"name": "nope"}}]}, 'configmap "nope" not found'),
        ({"envFrom": [{"secretRef": {"name": "nope"}}]}, 'secret "nope" not found'),
        (
            {"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "k"}}}]},
            "couldn't find key k in ConfigMap ns/cm",
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "k"}}}]},
            "couldn't find key k in Secret ns/sec",
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeNam"}}}]},
            "field label not supported: spec.nodeNam",
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "status.phase"}}}]},
            "unsupported fieldPath: status.phase",
        ),
        (
            {"env": [{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}]},
            "unsupported container resource : limits.gpu",
        ),
    ],
)
async def test_errors_carry_kubernetes_messages(container: dict[str, Any], message: str) -> None:
    objects = Objects()
    objects.configmap("cm", {"other": "1"})
    objects.secret("sec", {"other": "1"})
    with pytest.raises(EnvVarError) as caught:
        await container_env(_pod(), {"name": "c", **container}, objects, {})
    assert str(caught.value) == message
    assert caught.value.reason == "CreateContainerConfigError"


async def test_optional_sources_are_skipped() -> None:
    objects = Objects()
    objects.configmap("cm", {"A": "from-cm"})
    container = {
        "name": "c",
        "envFrom": [
            {"configMapRef": {"name": "cm"}},
            {"secretRef": {"name": "gone", "optional": True}},
        ],
        "env": [
            {
                "name": "A",
                "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "x", "optional": True}},
            },
            {
                "name": "B",
                "valueFrom": {"secretKeyRef": {"name": "gone", "key": "x", "optional": True}},
            },
        ],
    }
    assert await container_env(_pod(), container, objects, {}) == [("A", "from-cm")]


async def test_field_refs() -> None:
    refs = {
        "NAME": "metadata.name",
        "NS": "metadata.namespace",
        "UID": "metadata.uid",
        "LABELS": "metadata.labels",
        "APP": "metadata.labels['app']",
        "NOTE": "metadata.annotations['note']",
        "NODE": "spec.nodeName",
        "HOST": "spec.host",
        "SA": "spec.serviceAccountName",
        "HOST_IP": "status.hostIP",
        "HOST_IPS": "status.hostIPs",
        "POD_IP": "status.podIP",
        "POD_IPS": "status.podIPs",
    }
    container = {
        "name": "c",
        "env": [{"name": n, "valueFrom": {"fieldRef": {"fieldPath": p}}} for n, p in refs.items()],
    }
    env = dict(await container_env(_pod(), container, Objects(), {}))
    assert env == {
        "NAME": "dapi",
        "NS": "ns",
        "UID": "uid-1",
        "LABELS": 'app="web"\ntier="fr\\"ont"',
        "APP": "web",
        "NOTE": "a\nb",
        "NODE": "node-1",
        "HOST": "node-1",
        "SA": "sa",
        "HOST_IP": "192.168.0.2",
        "HOST_IPS": "192.168.0.2",
        "POD_IP": "10.1.0.5",
        "POD_IPS": "10.1.0.5,fd00::5",
    }
    override = await container_env(_pod(), container, Objects(), {}, pod_ips=["10.9.9.9"])
    assert dict(override)["POD_IPS"] == "10.9.9.9"


async def test_resource_field_refs_round_up_and_default_to_allocatable() -> None:
    resources = {
        "limits": {"cpu": "250m", "memory": "100Mi"},
        "requests": {"cpu": "125m", "memory": "64Mi", "ephemeral-storage": "1Gi"},
    }
    refs: dict[str, dict[str, Any]] = {
        "CPU_LIMIT": {"resource": "limits.cpu"},
        "CPU_LIMIT_M": {"resource": "limits.cpu", "divisor": "1m"},
        "CPU_REQUEST": {"resource": "requests.cpu", "divisor": "100m"},
        "MEM_LIMIT": {"resource": "limits.memory"},
        "MEM_LIMIT_MI": {"resource": "limits.memory", "divisor": "1Mi"},
        "MEM_REQUEST_G": {"resource": "requests.memory", "divisor": "1G"},
        "EPH_LIMIT": {"resource": "limits.ephemeral-storage", "divisor": "1Gi"},
        "EPH_REQUEST": {"resource": "requests.ephemeral-storage", "divisor": "1Mi"},
        "OTHER_CPU": {"resource": "limits.cpu", "containerName": "side", "divisor": "1m"},
    }
    container = {
        "name": "c",
        "resources": resources,
        "env": [{"name": n, "valueFrom": {"resourceFieldRef": r}} for n, r in refs.items()],
    }
    pod = _pod(containers=[container, {"name": "side"}])
    allocatable = {"cpu": "4", "memory": "8Gi", "ephemeral-storage": "20Gi"}
    env = dict(await container_env(pod, container, Objects(), {}, node_allocatable=allocatable))
    assert env == {
        "CPU_LIMIT": "1",
        "CPU_LIMIT_M": "250",
        "CPU_REQUEST": "2",
        "MEM_LIMIT": str(100 * 2**20),
        "MEM_LIMIT_MI": "100",
        "MEM_REQUEST_G": "1",
        "EPH_LIMIT": "20",
        "EPH_REQUEST": "1024",
        "OTHER_CPU": "4000",
    }
