"""Services: ports, types, cluster IPs, session affinity, traffic policies, status.

The counterpart of `ValidateService`, `ValidateServiceUpdate` and
`ValidateServiceStatusUpdate` of `pkg/apis/core/validation` (Kubernetes 1.32).
A Service needs ports (unless headless or ExternalName), each with a valid port,
protocol and target port, and names when there is more than one; its cluster IPs are
fixed once set (`spec.clusterIPs[0]: Invalid value: ...: may not change once set`).
Node port ranges and collisions are the allocator's business, not validation's.

`clusterIP` and `clusterIPs` are read as the strategy syncs them before validation
(one given, the other follows), so a request that sets only `clusterIP` is judged as
Kubernetes judges it.

Invariants: pure functions; objects are defaulted v1 dicts.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    child,
    children,
    cidr,
    dns_label,
    dns_subdomain,
    ip,
    is_dual_stack,
    is_ipv6,
    non_special_ip,
    number,
    optional_child,
    optional_number,
    qualified_name,
    string_map,
    text,
    texts,
)
from kybernetes.api.validation.containers import protocol_errors
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from kybernetes.api.validation.metadata import validate_labels
from kybernetes.api.validation.names import (
    is_valid_ip,
    is_valid_port_name,
    is_valid_port_num,
)

_SPEC: Final = FieldPath("spec")
_TYPES: Final = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_AFFINITIES: Final = ("ClientIP", "None")
_TRAFFIC_POLICIES: Final = ("Cluster", "Local")
_IP_FAMILIES: Final = ("IPv4", "IPv6")
_IP_FAMILY_POLICIES: Final = ("PreferDualStack", "RequireDualStack", "SingleStack")
_MAX_AFFINITY_SECONDS: Final = 86400
_LB_ONLY: Final = "may only be used when `type` is 'LoadBalancer'"
_SOURCE_RANGES: Final = "service.beta.kubernetes.io/load-balancer-source-ranges"


def _cluster_ips(spec: Obj) -> tuple[str, list[str]]:
    """`clusterIP` and `clusterIPs`, synced as the strategy syncs them."""
    cluster_ip, cluster_ips = text(spec, "clusterIP"), texts(spec, "clusterIPs")
    if cluster_ip and not cluster_ips:
        cluster_ips = [cluster_ip]
    elif cluster_ips and not cluster_ip:
        cluster_ip = cluster_ips[0]
    return cluster_ip, cluster_ips


def _headless(spec: Obj) -> bool:
    return _cluster_ips(spec)[1] == ["None"]


def _port_number_or_name(port: object, path: FieldPath) -> Errors:
    if isinstance(port, str):
        return [invalid(path, port, msg) for msg in is_valid_port_name(port)]
    value = port if isinstance(port, int) else 0
    return [invalid(path, value, msg) for msg in is_valid_port_num(value)]


def _service_port(port: Obj, require_name: bool, names: set[str], path: FieldPath) -> Errors:
    name = text(port, "name")
    errors: Errors = []
    if require_name and not name:
        errors.append(required(path.child("name")))
    elif name:
        errors += dns_label(name, path.child("name"))
        if name in names:
            errors.append(duplicate(path.child("name"), name))
        names.add(name)
    number_value = optional_number(port, "port") or 0
    errors += [
        invalid(path.child("port"), number_value, m) for m in is_valid_port_num(number_value)
    ]
    errors += protocol_errors(text(port, "protocol"), path.child("protocol"))
    errors += _port_number_or_name(port.get("targetPort"), path.child("targetPort"))
    if isinstance(app_protocol := port.get("appProtocol"), str):
        errors += qualified_name(app_protocol, path.child("appProtocol"))
    return errors


def _cluster_ip_fields(spec: Obj) -> Errors:
    """`ValidateServiceClusterIPsRelatedFields`."""
    if text(spec, "type") == "ExternalName":
        return []
    ips_path, families_path = _SPEC.child("clusterIPs"), _SPEC.child("ipFamilies")
    cluster_ip, cluster_ips = _cluster_ips(spec)
    errors: Errors = []
    if cluster_ip and cluster_ips[0] != cluster_ip:
        errors.append(invalid(ips_path, cluster_ips, "first value must match `clusterIP`"))
    families = texts(spec, "ipFamilies")
    for index, family in enumerate(families):
        if family not in _IP_FAMILIES:
            errors.append(not_supported(families_path.index(index), family, _IP_FAMILIES))
        if family in families[:index]:
            errors.append(duplicate(families_path.index(index), family))
    policy = spec.get("ipFamilyPolicy")
    if isinstance(policy, str) and policy not in _IP_FAMILY_POLICIES:
        errors.append(not_supported(_SPEC.child("ipFamilyPolicy"), policy, _IP_FAMILY_POLICIES))
    bad_ips = False
    for index, address in enumerate(cluster_ips):
        if index == 0 and address == "None":
            if len(cluster_ips) > 1:
                bad_ips = True
                detail = "'None' must be the first and only value"
                errors.append(invalid(ips_path, cluster_ips, detail))
            continue
        address_errors = ip(address, ips_path.index(index))
        bad_ips = bad_ips or bool(address_errors)
        errors += address_errors
    if len(cluster_ips) > 2:
        errors.append(invalid(ips_path, cluster_ips, "may only hold up to 2 values"))
    if bad_ips:
        return errors
    if len(cluster_ips) > 1 and not is_dual_stack(cluster_ips):
        detail = "may specify no more than one IP for each IP family"
        errors.append(invalid(ips_path, cluster_ips, detail))
    if cluster_ips != ["None"]:
        for index, (address, family) in enumerate(zip(cluster_ips, families, strict=False)):
            if family == "IPv4" and is_ipv6(address):
                detail = f"expected an IPv4 value as indicated by `ipFamilies[{index}]`"
                errors.append(invalid(ips_path.index(index), address, detail))
            if family == "IPv6" and not is_ipv6(address):
                detail = f"expected an IPv6 value as indicated by `ipFamilies[{index}]`"
                errors.append(invalid(ips_path.index(index), address, detail))
    return errors


def _type_rules(spec: Obj) -> Errors:
    kind = text(spec, "type")
    cluster_ips = _cluster_ips(spec)[1]
    errors: Errors = []
    if kind in ("LoadBalancer", "NodePort") and _headless(spec):
        detail = f"may not be set to 'None' for {kind} services"
        errors.append(invalid(_SPEC.child("clusterIPs").index(0), "None", detail))
    if kind == "ExternalName":
        detail = "may not be set for ExternalName services"
        if cluster_ips:
            errors.append(forbidden(_SPEC.child("clusterIPs"), detail))
        if texts(spec, "ipFamilies"):
            errors.append(forbidden(_SPEC.child("ipFamilies"), detail))
        if spec.get("ipFamilyPolicy") is not None:
            errors.append(forbidden(_SPEC.child("ipFamilyPolicy"), detail))
        cname = text(spec, "externalName").removesuffix(".")
        if cname:
            errors += dns_subdomain(cname, _SPEC.child("externalName"))
        else:
            errors.append(required(_SPEC.child("externalName")))
    return errors


def _session_affinity(spec: Obj) -> Errors:
    affinity, path = text(spec, "sessionAffinity"), _SPEC.child("sessionAffinity")
    config_path = _SPEC.child("sessionAffinityConfig")
    if not affinity:
        return [required(path)]
    if affinity not in _AFFINITIES:
        return [not_supported(path, affinity, _AFFINITIES)]
    config = optional_child(spec, "sessionAffinityConfig")
    if affinity == "None":
        detail = "must not be set when session affinity is None"
        return [forbidden(config_path, detail)] if config is not None else []
    when = "when session affinity type is ClientIP"
    if config is None:
        return [required(config_path, when)]
    client_ip = optional_child(config, "clientIP")
    if client_ip is None:
        return [required(config_path.child("clientIP"), when)]
    timeout = optional_number(client_ip, "timeoutSeconds")
    timeout_path = config_path.child("clientIP", "timeoutSeconds")
    if timeout is None:
        return [required(timeout_path, when)]
    if not 0 < timeout <= _MAX_AFFINITY_SECONDS:
        detail = f"must be greater than 0 and less than {_MAX_AFFINITY_SECONDS}"
        return [invalid(timeout_path, timeout, detail)]
    return []


def _traffic_policies(spec: Obj) -> Errors:
    kind = text(spec, "type")
    external = text(spec, "externalTrafficPolicy")
    accessible = kind in ("LoadBalancer", "NodePort") or (
        kind == "ClusterIP" and bool(texts(spec, "externalIPs"))
    )
    errors: Errors = []
    if not accessible:
        if external:
            detail = "may only be set for externally-accessible services"
            errors.append(invalid(_SPEC.child("externalTrafficPolicy"), external, detail))
    elif not external:
        errors.append(required(_SPEC.child("externalTrafficPolicy")))
    elif external not in _TRAFFIC_POLICIES:
        path = _SPEC.child("externalTrafficPolicy")
        errors.append(not_supported(path, external, _TRAFFIC_POLICIES))
    health = number(spec, "healthCheckNodePort")
    health_path = _SPEC.child("healthCheckNodePort")
    if not _needs_health_check(spec):
        if health:
            detail = (
                "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` "
                "is 'Local'"
            )
            errors.append(invalid(health_path, health, detail))
    elif not health:
        errors.append(required(health_path))
    else:
        errors += [invalid(health_path, health, msg) for msg in is_valid_port_num(health)]
    internal = spec.get("internalTrafficPolicy")
    if internal is None and kind in ("NodePort", "LoadBalancer", "ClusterIP"):
        errors.append(required(_SPEC.child("internalTrafficPolicy")))
    if isinstance(internal, str) and internal not in _TRAFFIC_POLICIES:
        path = _SPEC.child("internalTrafficPolicy")
        errors.append(not_supported(path, internal, _TRAFFIC_POLICIES))
    distribution = spec.get("trafficDistribution")
    if isinstance(distribution, str) and distribution != "PreferClose":
        path = _SPEC.child("trafficDistribution")
        errors.append(not_supported(path, distribution, ["PreferClose"]))
    return errors


def _load_balancer_fields(service: Obj) -> Errors:
    spec = child(service, "spec")
    is_lb = text(spec, "type") == "LoadBalancer"
    errors: Errors = []
    ranges = texts(spec, "loadBalancerSourceRanges")
    annotations = string_map(child(service, "metadata"), "annotations")
    if ranges:
        path = _SPEC.child("LoadBalancerSourceRanges")
        if not is_lb:
            errors.append(forbidden(path, _LB_ONLY))
        for index, value in enumerate(ranges):
            errors += cidr(value.strip(), path.index(index))
    elif _SOURCE_RANGES in annotations:
        path = FieldPath("metadata", "annotations").key(_SOURCE_RANGES)
        if not is_lb:
            errors.append(forbidden(path, _LB_ONLY))
        value = annotations[_SOURCE_RANGES].strip()
        for part in value.split(",") if value else []:
            errors += cidr(part.strip(), path)
    if spec.get("allocateLoadBalancerNodePorts") is not None and not is_lb:
        errors.append(forbidden(_SPEC.child("allocateLoadBalancerNodePorts"), _LB_ONLY))
    if is_lb and spec.get("allocateLoadBalancerNodePorts") is None:
        errors.append(required(FieldPath("allocateLoadBalancerNodePorts")))
    lb_class = spec.get("loadBalancerClass")
    if isinstance(lb_class, str):
        if is_lb:
            errors += qualified_name(lb_class, _SPEC.child("loadBalancerClass"))
        else:
            errors.append(forbidden(_SPEC.child("loadBalancerClass"), _LB_ONLY))
    return errors


def validate_service(service: Obj) -> Errors:
    """A Service (`ValidateService` without its ObjectMeta)."""
    spec = child(service, "spec")
    kind, ports = text(spec, "type"), children(spec, "ports")
    errors: Errors = []
    if not ports and not _headless(spec) and kind != "ExternalName":
        errors.append(required(_SPEC.child("ports")))
    errors += _type_rules(spec)
    names: set[str] = set()
    for index, port in enumerate(ports):
        errors += _service_port(port, len(ports) > 1, names, _SPEC.child("ports").index(index))
    if spec.get("selector") is not None:
        errors += validate_labels(string_map(spec, "selector"), _SPEC.child("selector"))
    errors += _session_affinity(spec)
    errors += _cluster_ip_fields(spec)
    for index, address in enumerate(texts(spec, "externalIPs")):
        address_path = _SPEC.child("externalIPs").index(index)
        errors += ip(address, address_path) or non_special_ip(address, address_path)
    if not kind:
        errors.append(required(_SPEC.child("type")))
    elif kind not in _TYPES:
        errors.append(not_supported(_SPEC.child("type"), kind, _TYPES))
    seen_node_ports: set[tuple[str, int]] = set()
    seen_ports: set[tuple[str, int]] = set()
    for index, port in enumerate(ports):
        port_path = _SPEC.child("ports").index(index)
        node_port, protocol = number(port, "nodePort"), text(port, "protocol")
        if kind == "ClusterIP" and node_port:
            detail = "may not be used when `type` is 'ClusterIP'"
            errors.append(forbidden(port_path.child("nodePort"), detail))
        if node_port and (protocol, node_port) in seen_node_ports:
            errors.append(duplicate(port_path.child("nodePort"), node_port))
        if node_port:
            seen_node_ports.add((protocol, node_port))
    for index, port in enumerate(ports):
        key = (text(port, "protocol"), number(port, "port"))
        if key in seen_ports:
            shown = {"port": key[1], "protocol": key[0]}
            errors.append(duplicate(_SPEC.child("ports").index(index), shown))
        seen_ports.add(key)
    return errors + _load_balancer_fields(service) + _traffic_policies(spec)


def _cluster_ip_updates(new: Obj, old: Obj) -> Errors:
    """Cluster IPs and IP families are fixed once set (dual-stack up/downgrades aside)."""
    if "ExternalName" in (text(new, "type"), text(old, "type")):
        return []
    new_headless, old_headless = _headless(new), _headless(old)
    new_ips, old_ips = _cluster_ips(new)[1], _cluster_ips(old)[1]
    path = _SPEC.child("clusterIPs")
    errors: Errors = []
    if not (new_headless and old_headless):
        if len(new_ips) == len(old_ips):
            for index, address in enumerate(old_ips):
                if address != new_ips[index]:
                    errors.append(invalid(path.index(index), new_ips, "may not change once set"))
        elif len(old_ips) > len(new_ips):
            if not new_ips:
                errors.append(invalid(path.index(0), new_ips, "primary clusterIP can not be unset"))
            elif new_ips[0] != old_ips[0]:
                errors.append(invalid(path.index(0), new_ips, "may not change once set"))
            if len(new_ips) == 1 and new.get("ipFamilyPolicy") != "SingleStack":
                detail = "must be set to 'SingleStack' when releasing the secondary clusterIP"
                errors.append(
                    invalid(_SPEC.child("ipFamilyPolicy"), new.get("ipFamilyPolicy"), detail)
                )
        elif old_ips and new_ips[0] != old_ips[0]:
            errors.append(invalid(path.index(0), new_ips, "may not change once set"))
    new_families, old_families = texts(new, "ipFamilies"), texts(old, "ipFamilies")
    families_path = _SPEC.child("ipFamilies").index(0)
    if new_headless or old_headless:
        return errors
    if len(new_families) == len(old_families):
        for index, family in enumerate(old_families):
            if family != new_families[index]:
                errors.append(invalid(families_path, new_families, "may not change once set"))
    elif len(old_families) > len(new_families):
        if not new_ips:
            errors.append(invalid(families_path, new_families, "primary ipFamily can not be unset"))
        if new_families and new_families[0] != old_families[0]:
            errors.append(invalid(families_path, new_ips, "may not change once set"))
        if len(new_families) == 1 and new.get("ipFamilyPolicy") != "SingleStack":
            detail = "must be set to 'SingleStack' when releasing the secondary ipFamily"
            errors.append(invalid(_SPEC.child("ipFamilyPolicy"), new.get("ipFamilyPolicy"), detail))
    elif old_families and new_families[0] != old_families[0]:
        errors.append(invalid(families_path, new_ips, "may not change once set"))
    return errors


def _needs_health_check(spec: Obj) -> bool:
    return text(spec, "type") == "LoadBalancer" and text(spec, "externalTrafficPolicy") == "Local"


def validate_service_update(new: Obj, old: Obj) -> Errors:
    """A Service update (`ValidateServiceUpdate` without ObjectMeta)."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    errors = _cluster_ip_updates(new_spec, old_spec)
    both_lb = text(new_spec, "type") == text(old_spec, "type") == "LoadBalancer"
    lb_class = new_spec.get("loadBalancerClass")
    if both_lb and lb_class != old_spec.get("loadBalancerClass"):
        errors.append(
            invalid(_SPEC.child("loadBalancerClass"), lb_class, "may not change once set")
        )
    health, old_health = (
        number(new_spec, "healthCheckNodePort"),
        number(old_spec, "healthCheckNodePort"),
    )
    if _needs_health_check(new_spec) and _needs_health_check(old_spec) and health != old_health:
        errors.append(forbidden(_SPEC.child("healthCheckNodePort"), "field is immutable"))
    return errors + validate_service(new)


def validate_service_status_update(new: Obj) -> Errors:
    """Load balancer ingress points: valid IPs and host names, on LoadBalancer services."""
    ingress = children(child(child(new, "status"), "loadBalancer"), "ingress")
    path = FieldPath("status", "loadBalancer", "ingress")
    if ingress and text(child(new, "spec"), "type") != "LoadBalancer":
        return [forbidden(path, "may only be used when `spec.type` is 'LoadBalancer'")]
    errors: Errors = []
    for index, point in enumerate(ingress):
        point_path = path.index(index)
        address, hostname, mode = text(point, "ip"), text(point, "hostname"), point.get("ipMode")
        if address:
            errors += ip(address, point_path.child("ip"))
        if mode is None and address:
            errors.append(
                required(point_path.child("ipMode"), "must be specified when `ip` is set")
            )
        elif mode is not None and not address:
            errors.append(
                forbidden(point_path.child("ipMode"), "may not be specified when `ip` is not set")
            )
        elif isinstance(mode, str) and mode not in ("Proxy", "VIP"):
            errors.append(not_supported(point_path.child("ipMode"), mode, ["Proxy", "VIP"]))
        if hostname:
            errors += dns_subdomain(hostname, point_path.child("hostname"))
            if not is_valid_ip(hostname):
                detail = "must be a DNS name, not an IP address"
                errors.append(invalid(point_path.child("hostname"), hostname, detail))
    return errors
