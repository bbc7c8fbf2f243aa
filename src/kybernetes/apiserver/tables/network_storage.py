"""Networking and storage kinds, as kube-apiserver 1.32 prints them.

PersistentVolumes and PersistentVolumeClaims (core: a claim shows its capacity and
access modes only once bound; both prefer the beta storage-class annotation to
`storageClassName`); Ingresses, IngressClasses, NetworkPolicies, ServiceCIDRs and
IPAddresses (networking.k8s.io); StorageClasses, VolumeAttachments, CSIDrivers, CSINodes and
CSIStorageCapacities (storage.k8s.io). Defaults the API would have filled in are read
as such (a StorageClass without `reclaimPolicy` prints `Delete`).

kube-apiserver's IPAddress table declares two columns but prints three cells (the age
has no column); that is reproduced, since clients index cells by column.
"""

from __future__ import annotations

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
    deleting,
    dig,
    format_label_selector,
    items,
    load_balancer_status,
    mapping,
    name_of,
    quantity,
    text,
)
from .duration import age

_BETA_STORAGE_CLASS = "volume.beta.kubernetes.io/storage-class"
_ACCESS_MODES = (
    ("ReadWriteOnce", "RWO"),
    ("ReadOnlyMany", "ROX"),
    ("ReadWriteMany", "RWX"),
    ("ReadWriteOncePod", "RWOP"),
)
_DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def _access_modes(modes: list[Any]) -> str:
    return ",".join(short for mode, short in _ACCESS_MODES if mode in modes)


def _volume_class(obj: Obj) -> str:
    """The beta storage-class annotation when present, else `spec.storageClassName`."""
    annotations = mapping(obj, "metadata", "annotations")
    if _BETA_STORAGE_CLASS in annotations:
        return str(annotations[_BETA_STORAGE_CLASS])
    return text(obj, "spec", "storageClassName")


def _persistent_volume(volume: Obj, ctx: PrintContext) -> list[Any]:
    claim_ref = dig(volume, "spec", "claimRef")
    claim = "" if claim_ref is None else f"{text(claim_ref, 'namespace')}/{text(claim_ref, 'name')}"
    attributes_class = dig(volume, "spec", "volumeAttributesClassName")
    return [
        name_of(volume),
        quantity(dig(volume, "spec", "capacity", "storage")),
        _access_modes(items(volume, "spec", "accessModes")),
        text(volume, "spec", "persistentVolumeReclaimPolicy"),
        "Terminating" if deleting(volume) else text(volume, "status", "phase"),
        claim,
        _volume_class(volume),
        attributes_class if isinstance(attributes_class, str) else "<unset>",
        text(volume, "status", "reason"),
        age(created(volume), ctx.now),
        text(volume, "spec", "volumeMode") or "<unset>",
    ]


def _persistent_volume_claim(claim: Obj, ctx: PrintContext) -> list[Any]:
    bound = bool(text(claim, "spec", "volumeName"))
    attributes_class = dig(claim, "spec", "volumeAttributesClassName")
    capacity = quantity(dig(claim, "status", "capacity", "storage")) if bound else ""
    return [
        name_of(claim),
        "Terminating" if deleting(claim) else text(claim, "status", "phase"),
        text(claim, "spec", "volumeName"),
        capacity,
        _access_modes(items(claim, "status", "accessModes")) if bound else "",
        _volume_class(claim),
        attributes_class if isinstance(attributes_class, str) else "<unset>",
        age(created(claim), ctx.now),
        text(claim, "spec", "volumeMode") or "<unset>",
    ]


def _hosts(rules: list[Any]) -> str:
    """`formatHosts`: up to three rule hosts, `*` if none."""
    hosts: list[str] = []
    more = False
    for rule in rules:
        more = more or len(hosts) == 3
        if not more and (host := text(rule, "host")):
            hosts.append(host)
    if not hosts:
        return "*"
    return f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts)


def _ingress(ingress: Obj, ctx: PrintContext) -> list[Any]:
    class_name = dig(ingress, "spec", "ingressClassName")
    return [
        name_of(ingress),
        class_name if isinstance(class_name, str) else "<none>",
        _hosts(items(ingress, "spec", "rules")),
        load_balancer_status(mapping(ingress, "status", "loadBalancer"), ctx.wide),
        "80, 443" if items(ingress, "spec", "tls") else "80",
        age(created(ingress), ctx.now),
    ]


def _ingress_class(ingress_class: Obj, ctx: PrintContext) -> list[Any]:
    parameters = dig(ingress_class, "spec", "parameters")
    shown = "<none>"
    if parameters is not None:
        shown = text(parameters, "kind")
        if isinstance(api_group := dig(parameters, "apiGroup"), str):
            shown += "." + api_group
        shown += "/" + text(parameters, "name")
    controller = text(ingress_class, "spec", "controller")
    return [name_of(ingress_class), controller, shown, age(created(ingress_class), ctx.now)]


def _network_policy(policy: Obj, ctx: PrintContext) -> list[Any]:
    selector = format_label_selector(mapping(policy, "spec", "podSelector"))
    return [name_of(policy), selector, age(created(policy), ctx.now)]


def _service_cidr(cidr: Obj, ctx: PrintContext) -> list[Any]:
    cidrs = ",".join(str(c) for c in items(cidr, "spec", "cidrs"))
    return [name_of(cidr), cidrs, age(created(cidr), ctx.now)]


def _ip_address(address: Obj, ctx: PrintContext) -> list[Any]:
    parent = dig(address, "spec", "parentRef")
    shown = "<none>"
    if parent is not None:
        group, resource = text(parent, "group"), text(parent, "resource")
        shown = (f"{resource}.{group}" if group else resource).lower()
        if namespace := text(parent, "namespace"):
            shown += "/" + namespace
        shown += "/" + text(parent, "name")
    return [name_of(address), shown, age(created(address), ctx.now)]


def _storage_class(storage_class: Obj, ctx: PrintContext) -> list[Any]:
    annotations = mapping(storage_class, "metadata", "annotations")
    name = name_of(storage_class)
    if any(annotations.get(a) == "true" for a in _DEFAULT_CLASS_ANNOTATIONS):
        name += " (default)"
    return [
        name,
        text(storage_class, "provisioner"),
        text(storage_class, "reclaimPolicy") or "Delete",
        text(storage_class, "volumeBindingMode") or "Immediate",
        dig(storage_class, "allowVolumeExpansion") is True,
        age(created(storage_class), ctx.now),
    ]


def _volume_attachment(attachment: Obj, ctx: PrintContext) -> list[Any]:
    return [
        name_of(attachment),
        text(attachment, "spec", "attacher"),
        text(attachment, "spec", "source", "persistentVolumeName"),
        text(attachment, "spec", "nodeName"),
        dig(attachment, "status", "attached") is True,
        age(created(attachment), ctx.now),
    ]


def _csi_driver(driver: Obj, ctx: PrintContext) -> list[Any]:
    spec = mapping(driver, "spec")
    token_requests = spec.get("tokenRequests")
    audiences = "<unset>"
    if token_requests is not None:
        audiences = ",".join(text(t, "audience") for t in items(spec, "tokenRequests"))
    modes = ",".join(str(m) for m in items(spec, "volumeLifecycleModes"))
    return [
        name_of(driver),
        spec.get("attachRequired") is not False,
        spec.get("podInfoOnMount") is True,
        spec.get("storageCapacity") is True,
        audiences,
        spec.get("requiresRepublish") is True,
        modes or "<none>",
        age(created(driver), ctx.now),
    ]


def _csi_node(node: Obj, ctx: PrintContext) -> list[Any]:
    return [name_of(node), len(items(node, "spec", "drivers")), age(created(node), ctx.now)]


def _csi_storage_capacity(capacity: Obj, ctx: PrintContext) -> list[Any]:
    amount = dig(capacity, "capacity")
    shown = "<unset>" if amount is None else quantity(amount)
    return [name_of(capacity), text(capacity, "storageClassName"), shown]


_PV_SPEC = "core.v1.PersistentVolumeSpec"
_PVC_STATUS = "core.v1.PersistentVolumeClaimStatus"
_STORAGE_CLASS = "storage.v1.StorageClass"
_ATTACHMENT = "storage.v1.VolumeAttachmentSpec"
_CSI_DRIVER = "storage.v1.CSIDriverSpec"

PRINTERS = {
    ("", "PersistentVolume"): Printer(
        (
            NAME,
            Column("Capacity", "string", Doc(_PV_SPEC, "capacity")),
            Column("Access Modes", "string", Doc(_PV_SPEC, "accessModes")),
            Column("Reclaim Policy", "string", Doc(_PV_SPEC, "persistentVolumeReclaimPolicy")),
            Column("Status", "string", Doc("core.v1.PersistentVolumeStatus", "phase")),
            Column("Claim", "string", Doc(_PV_SPEC, "claimRef")),
            Column("StorageClass", "string", "StorageClass of the pv"),
            Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pv"),
            Column("Reason", "string", Doc("core.v1.PersistentVolumeStatus", "reason")),
            AGE,
            Column("VolumeMode", "string", Doc(_PV_SPEC, "volumeMode"), priority=1),
        ),
        _persistent_volume,
    ),
    ("", "PersistentVolumeClaim"): Printer(
        (
            NAME,
            Column("Status", "string", Doc(_PVC_STATUS, "phase")),
            Column("Volume", "string", Doc("core.v1.PersistentVolumeClaimSpec", "volumeName")),
            Column("Capacity", "string", Doc(_PVC_STATUS, "capacity")),
            Column("Access Modes", "string", Doc(_PVC_STATUS, "accessModes")),
            Column("StorageClass", "string", "StorageClass of the pvc"),
            Column("VolumeAttributesClass", "string", "VolumeAttributesClass of the pvc"),
            AGE,
            Column(
                "VolumeMode",
                "string",
                Doc("core.v1.PersistentVolumeClaimSpec", "volumeMode"),
                priority=1,
            ),
        ),
        _persistent_volume_claim,
    ),
    ("networking.k8s.io", "Ingress"): Printer(
        (
            NAME,
            Column(
                "Class",
                "string",
                "The name of the IngressClass resource that should be used for additional "
                "configuration",
            ),
            Column(
                "Hosts",
                "string",
                "Hosts that incoming requests are matched against before the ingress rule",
            ),
            Column(
                "Address",
                "string",
                "Address is a list containing ingress points for the load-balancer",
            ),
            Column("Ports", "string", "Ports of TLS configurations that open"),
            AGE,
        ),
        _ingress,
    ),
    ("networking.k8s.io", "IngressClass"): Printer(
        (
            NAME,
            Column(
                "Controller", "string", "Controller that is responsible for handling this class"
            ),
            Column("Parameters", "string", "A reference to a resource with additional parameters"),
            AGE,
        ),
        _ingress_class,
    ),
    ("networking.k8s.io", "NetworkPolicy"): Printer(
        (
            NAME,
            Column("Pod-Selector", "string", Doc("networking.v1.NetworkPolicySpec", "podSelector")),
            AGE,
        ),
        _network_policy,
    ),
    ("networking.k8s.io", "ServiceCIDR"): Printer(
        (NAME, Column("CIDRs", "string", Doc("networking.v1beta1.ServiceCIDRSpec", "cidrs")), AGE),
        _service_cidr,
    ),
    ("networking.k8s.io", "IPAddress"): Printer(
        (NAME, Column("ParentRef", "string", Doc("networking.v1beta1.IPAddressSpec", "parentRef"))),
        _ip_address,
    ),
    ("storage.k8s.io", "StorageClass"): Printer(
        (
            NAME,
            Column("Provisioner", "string", Doc(_STORAGE_CLASS, "provisioner")),
            Column("ReclaimPolicy", "string", Doc(_STORAGE_CLASS, "reclaimPolicy")),
            Column("VolumeBindingMode", "string", Doc(_STORAGE_CLASS, "volumeBindingMode")),
            Column("AllowVolumeExpansion", "string", Doc(_STORAGE_CLASS, "allowVolumeExpansion")),
            AGE,
        ),
        _storage_class,
    ),
    ("storage.k8s.io", "VolumeAttachment"): Printer(
        (
            NAME,
            Column("Attacher", "string", Doc(_ATTACHMENT, "attacher"), format="name"),
            Column(
                "PV", "string", Doc("storage.v1.VolumeAttachmentSource", "persistentVolumeName")
            ),
            Column("Node", "string", Doc(_ATTACHMENT, "nodeName")),
            Column("Attached", "boolean", Doc("storage.v1.VolumeAttachmentStatus", "attached")),
            AGE,
        ),
        _volume_attachment,
    ),
    ("storage.k8s.io", "CSIDriver"): Printer(
        (
            NAME,
            Column("AttachRequired", "boolean", Doc(_CSI_DRIVER, "attachRequired")),
            Column("PodInfoOnMount", "boolean", Doc(_CSI_DRIVER, "podInfoOnMount")),
            Column("StorageCapacity", "boolean", Doc(_CSI_DRIVER, "storageCapacity")),
            Column("TokenRequests", "string", Doc(_CSI_DRIVER, "tokenRequests")),
            Column("RequiresRepublish", "boolean", Doc(_CSI_DRIVER, "requiresRepublish")),
            Column("Modes", "string", Doc(_CSI_DRIVER, "volumeLifecycleModes")),
            AGE,
        ),
        _csi_driver,
    ),
    ("storage.k8s.io", "CSINode"): Printer(
        (
            NAME,
            Column(
                "Drivers",
                "integer",
                "Drivers indicates the number of CSI drivers registered on the node",
            ),
            AGE,
        ),
        _csi_node,
    ),
    ("storage.k8s.io", "CSIStorageCapacity"): Printer(
        (
            NAME,
            Column(
                "StorageClassName",
                "string",
                Doc("storage.v1.CSIStorageCapacity", "storageClassName"),
            ),
            Column("Capacity", "string", Doc("storage.v1.CSIStorageCapacity", "capacity")),
        ),
        _csi_storage_capacity,
    ),
}
