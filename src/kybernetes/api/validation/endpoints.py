"""Endpoints and EndpointSlices.

The counterpart of `ValidateEndpoints` of `pkg/apis/core/validation` and of
`pkg/apis/discovery/validation` (Kubernetes 1.32): addresses are valid, non-special
IPs (or names, for FQDN slices), ports are valid and named when there are several.

Invariants: pure functions; objects are v1 / `discovery.k8s.io/v1` dicts.
"""

from __future__ import annotations

from typing import Final

from kybernetes.api.validation.common import (
    Errors,
    Obj,
    children,
    dns_label,
    dns_subdomain,
    ip,
    is_ipv6,
    non_special_ip,
    number,
    qualified_name,
    string_map,
    text,
    texts,
)
from kybernetes.api.validation.containers import PROTOCOLS, protocol_errors
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    invalid,
    not_supported,
    required,
    too_many,
)
from kybernetes.api.validation.metadata import validate_labels
from kybernetes.api.validation.names import (
    is_dns1123_label,
    is_dns1123_subdomain,
    is_valid_ip,
    is_valid_port_num,
)

_ADDRESS_TYPES: Final = ("FQDN", "IPv4", "IPv6")


def _endpoint_port(port: Obj, require_name: bool, path: FieldPath) -> Errors:
    name = text(port, "name")
    errors = [required(path.child("name"))] if require_name and not name else []
    if name:
        errors += dns_label(name, path.child("name"))
    number_value = number(port, "port")
    errors += [
        invalid(path.child("port"), number_value, m) for m in is_valid_port_num(number_value)
    ]
    errors += protocol_errors(text(port, "protocol"), path.child("protocol"))
    if isinstance(app_protocol := port.get("appProtocol"), str):
        errors += qualified_name(app_protocol, path.child("appProtocol"))
    return errors


def validate_endpoints(endpoints: Obj) -> Errors:
    """Endpoints (`ValidateEndpoints` without its ObjectMeta)."""
    errors: Errors = []
    for index, subset in enumerate(children(endpoints, "subsets")):
        path = FieldPath("subsets").index(index)
        if not children(subset, "addresses") and not children(subset, "notReadyAddresses"):
            errors.append(required(path, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for address_index, address in enumerate(children(subset, key)):
                address_path = path.child(key).index(address_index)
                value = text(address, "ip")
                errors += ip(value, address_path.child("ip"))
                if hostname := text(address, "hostname"):
                    errors += dns_label(hostname, address_path.child("hostname"))
                if isinstance(node := address.get("nodeName"), str):
                    errors += dns_subdomain(node, address_path.child("nodeName"))
                errors += non_special_ip(value, address_path.child("ip"))
        ports = children(subset, "ports")
        for port_index, port in enumerate(ports):
            errors += _endpoint_port(port, len(ports) > 1, path.child("ports").index(port_index))
    return errors


def _slice_address(address: str, address_type: str, path: FieldPath) -> Errors:
    """An address of the slice's type (unknown types are not checked)."""
    if address_type in ("IPv4", "IPv6"):
        bad = bool(is_valid_ip(address)) or is_ipv6(address) != (address_type == "IPv6")
        errors = [invalid(path, address, f"must be a valid {address_type} address")] if bad else []
        return errors + non_special_ip(address, path)
    if address_type == "IP":
        return ip(address, path)
    if address_type != "FQDN":
        return []
    if not address:
        return [required(path)]
    name = address.removesuffix(".")
    if messages := is_dns1123_subdomain(name):
        return [invalid(path, name, ",".join(messages))]
    if "." not in name:
        detail = "should be a domain with at least two segments separated by dots"
        return [invalid(path, name, detail)]
    for label in name.split("."):
        if messages := is_dns1123_label(label):
            return [invalid(path, label, ",".join(messages))]
    return []


def validate_endpoint_slice(
    endpoint_slice: Obj, supported: tuple[str, ...] = _ADDRESS_TYPES
) -> Errors:
    """An EndpointSlice (`ValidateEndpointSlice` without its ObjectMeta)."""
    address_type = text(endpoint_slice, "addressType")
    errors: Errors = []
    if not address_type:
        errors.append(required(FieldPath("addressType")))
    elif address_type not in supported:
        errors.append(not_supported(FieldPath("addressType"), address_type, supported))
    endpoints, path = children(endpoint_slice, "endpoints"), FieldPath("endpoints")
    if len(endpoints) > 1000:
        errors.append(too_many(path, len(endpoints), 1000))
        endpoints = []
    for index, endpoint in enumerate(endpoints):
        endpoint_path = path.index(index)
        addresses, addresses_path = texts(endpoint, "addresses"), endpoint_path.child("addresses")
        if not addresses:
            errors.append(required(addresses_path, "must contain at least 1 address"))
        elif len(addresses) > 100:
            errors.append(too_many(addresses_path, len(addresses), 100))
        for address_index, address in enumerate(addresses):
            errors += _slice_address(address, address_type, addresses_path.index(address_index))
        topology = string_map(endpoint, "deprecatedTopology")
        topology_path = endpoint_path.child("deprecatedTopology")
        if len(topology) > 16:
            errors.append(too_many(topology_path, len(topology), 16))
        errors += validate_labels(topology, topology_path)
        if isinstance(hostname := endpoint.get("hostname"), str):
            errors += dns_label(hostname, endpoint_path.child("hostname"))
        if isinstance(node := endpoint.get("nodeName"), str):
            errors += dns_subdomain(node, endpoint_path.child("nodeName"))
    ports, ports_path = children(endpoint_slice, "ports"), FieldPath("ports")
    if len(ports) > 100:
        return [*errors, too_many(ports_path, len(ports), 100)]
    names: set[str] = set()
    for index, port in enumerate(ports):
        port_path = ports_path.index(index)
        name = text(port, "name")
        if name:
            errors += dns_label(name, port_path.child("name"))
        if name in names:
            errors.append(duplicate(port_path.child("name"), name))
        names.add(name)
        protocol = port.get("protocol")
        if not isinstance(protocol, str):
            errors.append(required(port_path.child("protocol")))
        elif protocol not in PROTOCOLS:
            errors.append(not_supported(port_path.child("protocol"), protocol, PROTOCOLS))
        if isinstance(app_protocol := port.get("appProtocol"), str):
            errors += qualified_name(app_protocol, port_path.child("appProtocol"))
    return errors


def validate_endpoint_slice_update(new: Obj, old: Obj) -> Errors:
    """An EndpointSlice update: the deprecated `IP` type is tolerated, the type is fixed."""
    errors = validate_endpoint_slice(new, (*_ADDRESS_TYPES, "IP"))
    new_type, old_type = text(new, "addressType"), text(old, "addressType")
    if new_type != old_type:
        errors.append(invalid(FieldPath("addressType"), new_type, "field is immutable"))
    return errors
