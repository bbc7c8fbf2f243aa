"""Core-group kinds other than pods and controllers, as kube-apiserver 1.32 prints them.

Services, Endpoints, Nodes, Namespaces, ConfigMaps, Secrets, ServiceAccounts, Events
(core/v1 and events.k8s.io/v1, which kube-apiserver prints through the same internal
Event), ResourceQuotas and ComponentStatuses. LimitRanges have no printer (they get
the default table); PersistentVolumes and claims live in `network_storage`.

An events.k8s.io/v1 Event is read through its conversion to the core Event:
`regarding` is the involved object, `note` the message, and the `deprecated*` fields
are the core timestamps, count and source.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .cells import (
    AGE,
    NAME,
    Column,
    Doc,
    Obj,
    PrintContext,
    Printer,
    created,
    dig,
    format_labels,
    integer,
    items,
    join_host_port,
    load_balancer_status,
    mapping,
    name_of,
    quantity,
    text,
)
from .duration import age, parse_time

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def _external_ip(service: Obj, wide: bool) -> str:
    spec = mapping(service, "spec")
    external = [ip for ip in items(spec, "externalIPs") if isinstance(ip, str)]
    match spec.get("type"):
        case "ClusterIP" | "NodePort":
            return ",".join(external) or "<none>"
        case "LoadBalancer":
            balancer = load_balancer_status(mapping(service, "status", "loadBalancer"), wide)
            if external:
                return ",".join(([*balancer.split(",")] if balancer else []) + external)
            return balancer or "<pending>"
        case "ExternalName":
            return text(spec, "externalName")
    return "<unknown>"


def _ports(ports: list[Any]) -> str:
    shown = []
    for port in ports:
        protocol, number = text(port, "protocol"), integer(port, "port")
        node_port = integer(port, "nodePort")
        shown.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return ",".join(shown)


def _service(service: Obj, ctx: PrintContext) -> list[Any]:
    cluster_ips = items(service, "spec", "clusterIPs")
    cells = [
        name_of(service),
        text(service, "spec", "type"),
        cluster_ips[0] if cluster_ips else "<none>",
        _external_ip(service, ctx.wide),
        _ports(items(service, "spec", "ports")) or "<none>",
        age(created(service), ctx.now),
    ]
    if ctx.wide:
        cells.append(format_labels(dig(service, "spec", "selector")))
    return cells


def _endpoints_cell(endpoints: Obj) -> str:
    """`formatEndpoints`: up to three `ip:port` (or bare IPs of port-less subsets)."""
    subsets = items(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    count = 0
    for subset in subsets:
        addresses = [text(a, "ip") for a in items(subset, "addresses")]
        ports = items(subset, "ports")
        if not ports:
            count += len(addresses)
            shown += addresses[: max(0, 3 - len(shown))]
            continue
        for port in ports:
            count += len(addresses)
            number = integer(port, "port")
            shown += [join_host_port(a, number) for a in addresses][: max(0, 3 - len(shown))]
    if count > 3:
        return f"{','.join(shown)} + {count - 3} more..."
    return ",".join(shown)


def _endpoints(endpoints: Obj, ctx: PrintContext) -> list[Any]:
    return [name_of(endpoints), _endpoints_cell(endpoints), age(created(endpoints), ctx.now)]


def _node_roles(node: Obj) -> str:
    roles = set()
    for key, value in mapping(node, "metadata", "labels").items():
        if key.startswith(_ROLE_PREFIX) and len(key) > len(_ROLE_PREFIX):
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == _ROLE_LABEL and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: Obj, address_type: str) -> str:
    for address in items(node, "status", "addresses"):
        if dig(address, "type") == address_type:
            return text(address, "address")
    return "<none>"


def _node(node: Obj, ctx: PrintContext) -> list[Any]:
    conditions = {dig(c, "type"): c for c in items(node, "status", "conditions")}
    ready = conditions.get("Ready")
    status = (
        ["Unknown"]
        if ready is None
        else ["Ready" if dig(ready, "status") == "True" else "NotReady"]
    )
    if dig(node, "spec", "unschedulable") is True:
        status.append("SchedulingDisabled")
    info = mapping(node, "status", "nodeInfo")
    cells = [
        name_of(node),
        ",".join(status),
        _node_roles(node),
        age(created(node), ctx.now),
        text(info, "kubeletVersion"),
    ]
    if ctx.wide:
        cells += [
            _node_address(node, "InternalIP"),
            _node_address(node, "ExternalIP"),
            text(info, "osImage") or "<unknown>",
            text(info, "kernelVersion") or "<unknown>",
            text(info, "containerRuntimeVersion") or "<unknown>",
        ]
    return cells


def _namespace(namespace: Obj, ctx: PrintContext) -> list[Any]:
    return [
        name_of(namespace),
        text(namespace, "status", "phase"),
        age(created(namespace), ctx.now),
    ]


def _secret(secret: Obj, ctx: PrintContext) -> list[Any]:
    data = len(mapping(secret, "data"))
    return [name_of(secret), text(secret, "type"), data, age(created(secret), ctx.now)]


def _service_account(account: Obj, ctx: PrintContext) -> list[Any]:
    secrets = len(items(account, "secrets"))
    return [name_of(account), secrets, age(created(account), ctx.now)]


def _config_map(config_map: Obj, ctx: PrintContext) -> list[Any]:
    data = len(mapping(config_map, "data")) + len(mapping(config_map, "binaryData"))
    return [name_of(config_map), data, age(created(config_map), ctx.now)]


def _as_core_event(event: Obj) -> Obj:
    """An events.k8s.io/v1 Event with the fields of the core Event it converts to."""
    return {
        "metadata": mapping(event, "metadata"),
        "involvedObject": mapping(event, "regarding"),
        "message": text(event, "note"),
        "type": text(event, "type"),
        "reason": text(event, "reason"),
        "source": mapping(event, "deprecatedSource"),
        "firstTimestamp": dig(event, "deprecatedFirstTimestamp"),
        "lastTimestamp": dig(event, "deprecatedLastTimestamp"),
        "count": integer(event, "deprecatedCount"),
        "eventTime": dig(event, "eventTime"),
        "series": dig(event, "series"),
        "reportingComponent": text(event, "reportingController"),
        "reportingInstance": text(event, "reportingInstance"),
    }


def _event_source(event: Obj) -> str:
    """`formatEventSource`: component (or reporting controller), then `, host`."""
    component = text(event, "source", "component") or text(event, "reportingComponent")
    host = text(event, "source", "host") or text(event, "reportingInstance")
    return f"{component}, {host}" if host else component


def _event(event: Obj, ctx: PrintContext) -> list[Any]:
    first = dig(event, "firstTimestamp")
    if parse_time(first) is None:
        first = dig(event, "eventTime")
    first_seen = age(first, ctx.now)
    last = dig(event, "lastTimestamp")
    last_seen = first_seen if parse_time(last) is None else age(last, ctx.now)
    count = integer(event, "count")
    if isinstance(series := dig(event, "series"), Mapping):
        last_seen = age(series.get("lastObservedTime"), ctx.now)
        count = integer(series, "count")
    elif count == 0:
        count = 1
    involved = mapping(event, "involvedObject")
    kind, name = text(involved, "kind").lower(), text(involved, "name")
    target = f"{kind}/{name}" if name else kind
    message = text(event, "message").strip()
    if not ctx.wide:
        return [last_seen, text(event, "type"), text(event, "reason"), target, message]
    return [
        last_seen,
        text(event, "type"),
        text(event, "reason"),
        target,
        text(involved, "fieldPath"),
        _event_source(event),
        message,
        first_seen,
        count,
        name_of(event),
    ]


def _resource_quota(quota: Obj, ctx: PrintContext) -> list[Any]:
    hard, used = mapping(quota, "status", "hard"), mapping(quota, "status", "used")
    requests: list[str] = []
    limits: list[str] = []
    for resource in sorted(hard):
        shown = f"{resource}: {quantity(used.get(resource))}/{quantity(hard[resource])}"
        pieces = resource.split(".")
        (limits if len(pieces) > 1 and pieces[0] == "limits" else requests).append(shown)
    return [name_of(quota), ", ".join(requests), ", ".join(limits), age(created(quota), ctx.now)]


def _component_status(component: Obj, ctx: PrintContext) -> list[Any]:
    for condition in items(component, "conditions"):
        if dig(condition, "type") == "Healthy":
            healthy = "Healthy" if dig(condition, "status") == "True" else "Unhealthy"
            return [
                name_of(component),
                healthy,
                text(condition, "message"),
                text(condition, "error"),
            ]
    return [name_of(component), "Unknown", "", ""]


_SERVICE_SPEC = "core.v1.ServiceSpec"
_NODE_INFO = "core.v1.NodeSystemInfo"
_EVENT = "core.v1.Event"

_EVENT_PRINTER = Printer(
    (
        Column("Last Seen", "string", Doc(_EVENT, "lastTimestamp")),
        Column("Type", "string", Doc(_EVENT, "type")),
        Column("Reason", "string", Doc(_EVENT, "reason")),
        Column("Object", "string", Doc(_EVENT, "involvedObject")),
        Column("Subobject", "string", Doc("core.v1.ObjectReference", "fieldPath"), priority=1),
        Column("Source", "string", Doc(_EVENT, "source"), priority=1),
        Column("Message", "string", Doc(_EVENT, "message")),
        Column("First Seen", "string", Doc(_EVENT, "firstTimestamp"), priority=1),
        Column("Count", "string", Doc(_EVENT, "count"), priority=1),
        Column("Name", "string", NAME.description, format="name", priority=1),
    ),
    _event,
)

PRINTERS = {
    ("", "Service"): Printer(
        (
            NAME,
            Column("Type", "string", Doc(_SERVICE_SPEC, "type")),
            Column("Cluster-IP", "string", Doc(_SERVICE_SPEC, "clusterIP")),
            Column("External-IP", "string", Doc(_SERVICE_SPEC, "externalIPs")),
            Column("Port(s)", "string", Doc(_SERVICE_SPEC, "ports")),
            AGE,
            Column("Selector", "string", Doc(_SERVICE_SPEC, "selector"), priority=1),
        ),
        _service,
    ),
    ("", "Endpoints"): Printer(
        (NAME, Column("Endpoints", "string", Doc("core.v1.Endpoints", "subsets")), AGE),
        _endpoints,
    ),
    ("", "Node"): Printer(
        (
            NAME,
            Column("Status", "string", "The status of the node"),
            Column("Roles", "string", "The roles of the node"),
            AGE,
            Column("Version", "string", Doc(_NODE_INFO, "kubeletVersion")),
            Column("Internal-IP", "string", Doc("core.v1.NodeStatus", "addresses"), priority=1),
            Column("External-IP", "string", Doc("core.v1.NodeStatus", "addresses"), priority=1),
            Column("OS-Image", "string", Doc(_NODE_INFO, "osImage"), priority=1),
            Column("Kernel-Version", "string", Doc(_NODE_INFO, "kernelVersion"), priority=1),
            Column(
                "Container-Runtime",
                "string",
                Doc(_NODE_INFO, "containerRuntimeVersion"),
                priority=1,
            ),
        ),
        _node,
    ),
    ("", "Event"): _EVENT_PRINTER,
    ("events.k8s.io", "Event"): Printer(
        _EVENT_PRINTER.columns, lambda event, ctx: _event(_as_core_event(event), ctx)
    ),
    ("", "Namespace"): Printer(
        (NAME, Column("Status", "string", "The status of the namespace"), AGE), _namespace
    ),
    ("", "Secret"): Printer(
        (
            NAME,
            Column("Type", "string", Doc("core.v1.Secret", "type")),
            Column("Data", "string", Doc("core.v1.Secret", "data")),
            AGE,
        ),
        _secret,
    ),
    ("", "ServiceAccount"): Printer(
        (NAME, Column("Secrets", "string", Doc("core.v1.ServiceAccount", "secrets")), AGE),
        _service_account,
    ),
    ("", "ConfigMap"): Printer(
        (NAME, Column("Data", "string", Doc("core.v1.ConfigMap", "data")), AGE), _config_map
    ),
    ("", "ResourceQuota"): Printer(
        (
            NAME,
            Column(
                "Request",
                "string",
                "Request represents a minimum amount of cpu/memory that a container may consume.",
            ),
            Column(
                "Limit",
                "string",
                "Limits control the maximum amount of cpu/memory that a container may use "
                "independent of contention on the node.",
            ),
            AGE,
        ),
        _resource_quota,
    ),
    ("", "ComponentStatus"): Printer(
        (
            NAME,
            Column("Status", "string", "Status of the component conditions"),
            Column("Message", "string", "Message of the component conditions"),
            Column("Error", "string", "Error of the component conditions"),
        ),
        _component_status,
    ),
}
