"""A container's environment, built as the kubelet builds it.

- `expand(value, env)`: `$(VAR)` references, exactly like Kubernetes'
  `third_party/forked/golang/expansion`: `$$` is a literal `$`, an unknown or
  unterminated reference stays as written, any other `$x` is kept verbatim. Used for
  `env[].value`, `command`, `args` and `subPathExpr`.
- `service_env(services, namespace)`: the docker-link variables of the Services a pod
  of `namespace` sees (`envvars.FromServices` over the kubelet's
  `getServiceEnvVarMap`): its namespace's Services with a ClusterIP, and the
  `kubernetes` Service of `default`.
- `container_env(...)`: service variables (all of them when `enableServiceLinks`,
  which defaults to true, else only the `kubernetes` Service's), then `envFrom`
  (ConfigMaps and Secrets, with prefix; keys that are not valid variable names are
  skipped with Kubernetes' `InvalidEnvironmentVariableNames` warning), then `env` in
  declaration order (value with `$(VAR)` expansion against the variables defined so
  far and the service variables, or valueFrom fieldRef / resourceFieldRef /
  configMapKeyRef / secretKeyRef). A later definition replaces an earlier one.

Invariants: every name appears once in the result, at the place of its last
definition (service variables first, then envFrom, then env in declared order);
errors are `EnvVarError` with Kubernetes' message (the kubelet reports them as
`CreateContainerConfigError`).
"""

from __future__ import annotations

import base64
import ipaddress
from collections import ChainMap
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Final

from kybernetes.api.validation.names import is_env_var_name
from kybernetes.kubelet import fieldpath

Obj = Mapping[str, Any]
Getter = Callable[[str, str, str], Awaitable[dict[str, Any] | None]]
Warn = Callable[[str, str], None]

MASTER_SERVICE: Final = "kubernetes"
INVALID_NAMES_REASON: Final = "InvalidEnvironmentVariableNames"


class EnvVarError(ValueError):
    """The environment cannot be built; str(e) is Kubernetes' message."""

    reason = "CreateContainerConfigError"


def expand_with(value: str, mapping: Callable[[str], str]) -> str:
    """Expands `$(NAME)` in `value` with `mapping(NAME)`; see the module docstring."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(value):
        if value[cursor] == "$" and cursor + 1 < len(value):
            out.append(value[checkpoint:cursor])
            following = value[cursor + 1]
            if following == "$":
                out.append("$")
                advance = 1
            elif following == "(":
                closer = value.find(")", cursor + 2)
                if closer < 0:
                    out.append("$(")
                    advance = 1
                else:
                    out.append(mapping(value[cursor + 2 : closer]))
                    advance = closer - cursor
            else:
                out.append("$" + following)
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    out.append(value[checkpoint:])
    return "".join(out)


def expand(value: str, env: Mapping[str, str]) -> str:
    """`$(VAR)` expansion against `env`; unknown references stay `$(VAR)`."""
    return expand_with(value, lambda name: env.get(name, f"$({name})"))


class ServiceEnv(dict[str, str]):
    """Service variables; `master` holds those of the `kubernetes` Service alone
    (what a pod with `enableServiceLinks: false` gets)."""

    def __init__(self, variables: Mapping[str, str], master: Mapping[str, str]) -> None:
        super().__init__(variables)
        self.master: dict[str, str] = dict(master)


def _has_cluster_ip(service: Obj) -> bool:
    spec: Obj = service.get("spec") or {}
    return spec.get("clusterIP") not in (None, "", "None") and bool(spec.get("ports"))


def _variable_name(name: str) -> str:
    return name.replace("-", "_").upper()


def _join_host_port(host: str, port: int) -> str:
    try:
        literal = ipaddress.ip_address(host).version == 6
    except ValueError:
        literal = ":" in host
    return f"[{host}]:{port}" if literal else f"{host}:{port}"


def _service_variables(service: Obj) -> dict[str, str]:
    """One Service's variables (`envvars.FromServices` for a single Service)."""
    prefix = _variable_name(service["metadata"]["name"])
    spec: Obj = service["spec"]
    ip = str(spec["clusterIP"])
    ports: Sequence[Obj] = spec["ports"]
    result = {
        f"{prefix}_SERVICE_HOST": ip,
        f"{prefix}_SERVICE_PORT": str(int(ports[0]["port"])),
    }
    for port in ports:
        if port.get("name"):
            result[f"{prefix}_SERVICE_PORT_{_variable_name(port['name'])}"] = str(port["port"])
    for index, port in enumerate(ports):
        protocol = str(port.get("protocol") or "TCP")
        number = int(port["port"])
        url = f"{protocol.lower()}://{_join_host_port(ip, number)}"
        if index == 0:
            result[f"{prefix}_PORT"] = url
        port_prefix = f"{prefix}_PORT_{number}_{protocol.upper()}"
        result[port_prefix] = url
        result[f"{port_prefix}_PROTO"] = protocol.lower()
        result[f"{port_prefix}_PORT"] = str(number)
        result[f"{port_prefix}_ADDR"] = ip
    return result


def service_env(services: Sequence[Obj], namespace: str) -> ServiceEnv:
    """The service variables for a pod in `namespace`; `services` may span namespaces.

    A Service of the pod's own namespace named `kubernetes` takes the place of the
    `default` one (as in the kubelet); headless Services and those without a
    ClusterIP are skipped.
    """
    master: Obj | None = None
    local: dict[str, Obj] = {}
    for service in services:
        if not _has_cluster_ip(service):
            continue
        metadata: Obj = service["metadata"]
        if metadata.get("namespace") == "default" and metadata["name"] == MASTER_SERVICE:
            master = service
        if metadata.get("namespace") == namespace:
            local[metadata["name"]] = service
    chosen = {MASTER_SERVICE: master} if master is not None else {}
    chosen.update(local)
    variables: dict[str, str] = {}
    for name in sorted(chosen):
        variables.update(_service_variables(chosen[name]))
    return ServiceEnv(variables, _service_variables(master) if master is not None else {})


def _not_found(resource: str, name: str) -> EnvVarError:
    return EnvVarError(f'{resource} "{name}" not found')


class _Sources:
    """ConfigMaps and Secrets of one pod, each fetched once (None = missing)."""

    def __init__(self, getter: Getter, namespace: str) -> None:
        self._getter = getter
        self._namespace = namespace
        self._cache: dict[tuple[str, str], dict[str, str] | None] = {}

    async def data(self, resource: str, name: str) -> dict[str, str] | None:
        key = (resource, name)
        if key not in self._cache:
            obj = await self._getter(resource, self._namespace, name)
            self._cache[key] = None if obj is None else _decoded_data(resource, obj)
        return self._cache[key]


def _decoded_data(resource: str, obj: Obj) -> dict[str, str]:
    data: Mapping[str, str] = obj.get("data") or {}
    if resource == "configmaps":
        return dict(data)
    return {
        key: base64.b64decode(value).decode("utf-8", "surrogateescape")
        for key, value in data.items()
    }


_KINDS: Final = {"configmaps": ("configmap", "ConfigMap"), "secrets": ("secret", "Secret")}
_EVENT_KINDS: Final = {"configmaps": "configMap", "secrets": "secret"}


async def _env_from(
    source: Obj, sources: _Sources, namespace: str, warn: Warn | None
) -> dict[str, str]:
    if (ref := source.get("configMapRef")) is not None:
        resource = "configmaps"
    elif (ref := source.get("secretRef")) is not None:
        resource = "secrets"
    else:
        return {}
    singular, _ = _KINDS[resource]
    name = str(ref.get("name", ""))
    data = await sources.data(resource, name)
    if data is None:
        if ref.get("optional"):
            return {}
        raise _not_found(singular, name)
    prefix = str(source.get("prefix") or "")
    result: dict[str, str] = {}
    invalid: list[str] = []
    for key, value in data.items():
        if is_env_var_name(prefix + key):
            invalid.append(prefix + key)
        else:
            result[prefix + key] = value
    if invalid and warn is not None:
        warn(
            INVALID_NAMES_REASON,
            f"Keys [{', '.join(sorted(invalid))}] from the EnvFrom {_EVENT_KINDS[resource]} "
            f"{namespace}/{name} "
            "were skipped since they are considered invalid environment variable names.",
        )
    return result


async def _key_ref(ref: Obj, resource: str, sources: _Sources, namespace: str) -> str | None:
    """A configMapKeyRef / secretKeyRef value; None when optional and missing."""
    singular, kind = _KINDS[resource]
    name, key = str(ref.get("name", "")), str(ref.get("key", ""))
    data = await sources.data(resource, name)
    if data is None:
        if ref.get("optional"):
            return None
        raise _not_found(singular, name)
    if key not in data:
        if ref.get("optional"):
            return None
        raise EnvVarError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]


def field_ref_value(
    pod: Obj, selector: Obj, pod_ips: Sequence[str], host_ips: Sequence[str]
) -> str:
    """An env `fieldRef` (`podFieldSelectorRuntimeValue`); ValueError if unsupported."""
    path = fieldpath.convert_field_label(
        str(selector.get("apiVersion") or "v1"), str(selector.get("fieldPath", ""))
    )
    spec: Obj = pod.get("spec") or {}
    if path == "spec.nodeName":
        return str(spec.get("nodeName", ""))
    if path == "spec.serviceAccountName":
        return str(spec.get("serviceAccountName", ""))
    if path == "status.hostIP":
        return host_ips[0] if host_ips else ""
    if path == "status.hostIPs":
        return ",".join(host_ips)
    if path == "status.podIP":
        return pod_ips[0] if pod_ips else ""
    if path == "status.podIPs":
        return ",".join(pod_ips)
    return fieldpath.object_field(pod, path)


async def container_env(
    pod: Obj,
    container: Obj,
    getter: Getter,
    service_env: Mapping[str, str],
    *,
    pod_ips: Sequence[str] | None = None,
    host_ips: Sequence[str] | None = None,
    node_allocatable: Mapping[str, object] | None = None,
    warn: Warn | None = None,
) -> list[tuple[str, str]]:
    """The container's environment as (name, value) pairs; see the module docstring.

    `getter(resource, namespace, name)` reads ConfigMaps and Secrets (None: missing).
    `service_env` is what `service_env()` returned for the pod's namespace (with a
    plain mapping, links are taken as already chosen by the caller). `pod_ips` and
    `host_ips` default to the pod's status; `node_allocatable` fills in missing
    limits for resourceFieldRef; `warn(reason, message)` receives the warnings
    Kubernetes records as events. Raises `EnvVarError`.
    """
    spec: Obj = pod.get("spec") or {}
    namespace = str((pod.get("metadata") or {}).get("namespace", ""))
    if spec.get("enableServiceLinks", True) is False and isinstance(service_env, ServiceEnv):
        services: Mapping[str, str] = service_env.master
    else:
        services = service_env
    pod_ips = fieldpath.status_ips(pod, "pod") if pod_ips is None else pod_ips
    host_ips = fieldpath.status_ips(pod, "host") if host_ips is None else host_ips
    sources = _Sources(getter, namespace)
    declared: dict[str, str] = {}
    for source in container.get("envFrom") or ():
        for name, value in (await _env_from(source, sources, namespace, warn)).items():
            declared.pop(name, None)
            declared[name] = value
    lookup = ChainMap(declared, dict(services))
    for var in container.get("env") or ():
        resolved = await _env_value(
            var, pod, container, sources, lookup, namespace, pod_ips, host_ips, node_allocatable
        )
        if resolved is not None:
            declared.pop(var["name"], None)
            declared[var["name"]] = resolved
    result = [(name, value) for name, value in services.items() if name not in declared]
    return result + list(declared.items())


async def _env_value(
    var: Obj,
    pod: Obj,
    container: Obj,
    sources: _Sources,
    lookup: Mapping[str, str],
    namespace: str,
    pod_ips: Sequence[str],
    host_ips: Sequence[str],
    node_allocatable: Mapping[str, object] | None,
) -> str | None:
    """One `env` entry's value; None when an optional source is missing."""
    if var.get("value"):
        return expand(str(var["value"]), lookup)
    source: Obj = var.get("valueFrom") or {}
    try:
        if (selector := source.get("fieldRef")) is not None:
            return field_ref_value(pod, selector, pod_ips, host_ips)
        if (selector := source.get("resourceFieldRef")) is not None:
            target = container
            if selector.get("containerName"):
                target = fieldpath.find_container(pod, str(selector["containerName"]))
            return fieldpath.resource_value(selector, target, node_allocatable)
    except ValueError as error:
        raise EnvVarError(str(error)) from error
    if (ref := source.get("configMapKeyRef")) is not None:
        return await _key_ref(ref, "configmaps", sources, namespace)
    if (ref := source.get("secretKeyRef")) is not None:
        return await _key_ref(ref, "secrets", sources, namespace)
    return ""
