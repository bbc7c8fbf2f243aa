"""How each kind is created, updated and deleted: Kubernetes' REST strategies.

A `Strategy` holds the per-kind rules the generic `Registry` applies around every
write: what a create resets (status), what an update may not change (status through
the main resource, spec through `/status`), when `metadata.generation` moves,
validation, the field labels a field selector may use, and graceful deletion.
`strategy_for(info)` picks the kind's strategy; kinds without special rules get the
generic one built from the resource table (status subresource → status reset).

Invariants: strategies are stateless and mutate only the object they are handed.
"""

from __future__ import annotations

import base64
from typing import Any

from kybernetes.api.qos import qos_class
from kybernetes.api.resources import ResourceInfo
from kybernetes.api.validation import validate as validate_kind
from kybernetes.api.validation import validate_status_update
from kybernetes.api.validation import validate_update as validate_kind_update
from kybernetes.api.validation.errors import FieldError, FieldPath, Printed, invalid
from kybernetes.api.validation.metadata import validate_object_meta, validate_object_meta_update
from kybernetes.api.validation.names import (
    NameValidator,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)

Object = dict[str, Any]

# Kinds whose spec changes bump metadata.generation (those with a spec and a status
# that reports `observedGeneration`).
_GENERATION_KINDS = frozenset(
    {
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("", "ReplicationController"),
        ("policy", "PodDisruptionBudget"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
    }
)
# Kinds that `PUT` may create when absent (AllowCreateOnUpdate in Kubernetes).
_CREATE_ON_UPDATE = frozenset(
    {("", "Endpoints"), ("", "Event"), ("events.k8s.io", "Event"), ("coordination.k8s.io", "Lease")}
)
EVENT_TTL = 3600
"""Seconds an Event lives in the store (kube-apiserver's default --event-ttl, 1h)."""

# Kinds whose DELETE answers with the deleted object instead of a Status (their
# registries set ReturnDeletedObject in Kubernetes).
_RETURN_DELETED = frozenset(
    ("", kind)
    for kind in (
        "Pod",
        "PodTemplate",
        "Service",
        "ServiceAccount",
        "ResourceQuota",
        "PersistentVolume",
        "PersistentVolumeClaim",
    )
)
# Kinds whose `metadata.name` follows another rule than DNS-1123 subdomain.
_NAME_RULES: dict[tuple[str, str], NameValidator] = {
    ("", "Namespace"): name_is_dns_label,
    ("", "Service"): name_is_dns1035_label,
}
# Extra field-selector labels per kind, beyond metadata.name and metadata.namespace.
_FIELD_LABELS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "Pod"): (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    ("", "Node"): ("spec.unschedulable",),
    ("", "Namespace"): ("status.phase",),
    ("", "Secret"): ("type",),
    ("", "Event"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    ("", "ReplicationController"): ("status.replicas",),
    ("apps", "ReplicaSet"): ("status.replicas",),
    ("batch", "Job"): ("status.successful",),
    ("certificates.k8s.io", "CertificateSigningRequest"): ("spec.signerName",),
}


def _lookup(obj: Object, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):  # Event's `source` is {component, host}
        return str(value.get("component", ""))
    return str(value)


class Strategy:
    """The generic rules, specialised per kind by the tables above and subclasses."""

    def __init__(self, info: ResourceInfo, *, custom: bool = False) -> None:
        gk = (info.group, info.kind)
        self.info = info
        self.has_status = info.subresource("status") is not None
        self.tracks_generation = custom or gk in _GENERATION_KINDS
        self.allow_create_on_update = gk in _CREATE_ON_UPDATE
        self.name_validator = _NAME_RULES.get(gk, name_is_dns_subdomain)
        self.field_labels = ("metadata.name", "metadata.namespace", *_FIELD_LABELS.get(gk, ()))
        self.returns_deleted_object = gk in _RETURN_DELETED
        self.ttl = EVENT_TTL if info.kind == "Event" else None

    def prepare_for_create(self, obj: Object) -> None:
        """Resets what a client may not set on create (status of kinds with /status)."""
        if self.has_status:
            obj.pop("status", None)
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    def prepare_for_update(self, new: Object, old: Object) -> None:
        """Keeps the status (it changes through /status) and bumps the generation when
        anything but metadata and status changed."""
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)
        if self.tracks_generation:
            generation = old["metadata"].get("generation", 1)
            if _without(new, "metadata", "status") != _without(old, "metadata", "status"):
                generation += 1
            new["metadata"]["generation"] = generation

    def prepare_for_status_update(self, new: Object, old: Object) -> None:
        """A /status write changes only the status: everything else comes from `old`."""
        status = new.get("status")
        new.clear()
        new.update({k: v for k, v in old.items() if k != "status"})
        if status is not None:
            new["status"] = status

    def validate(self, obj: Object) -> list[FieldError]:
        """Metadata, then the kind's own rules, on create."""
        errors = validate_object_meta(obj["metadata"], self.info.namespaced, self.name_validator)
        return errors + validate_kind(self.info.group, self.info.kind, obj)

    def validate_update(self, new: Object, old: Object, subresource: str = "") -> list[FieldError]:
        """Metadata, then the kind's own update (or status update) rules."""
        errors = validate_object_meta_update(new["metadata"], old["metadata"])
        group, kind = self.info.group, self.info.kind
        if subresource == "status":
            return errors + validate_status_update(group, kind, new, old)
        if subresource in ("", "scale"):
            return errors + validate_kind_update(group, kind, new, old)
        return errors  # binding, finalize: server code changing only what it means to

    def fields(self, obj: Object) -> dict[str, str]:
        """The field-selector view of an object (`metadata.name` and the kind's labels)."""
        return {label: _lookup(obj, label) for label in self.field_labels}

    def grace_period(self, obj: Object) -> int:
        """Seconds a delete waits for the object's owner (a kubelet) to finish; 0 for
        immediate deletion."""
        return 0

    def hold_deletion(self, obj: Object) -> bool:
        """Whether a kind-specific rule keeps the object while it is being deleted
        (namespaces until their content is gone); may mark `obj` as terminating."""
        return False

    def prepare_for_finalize(self, new: Object, old: Object) -> None:
        """A /finalize write changes only `spec.finalizers`."""
        finalizers = (new.get("spec") or {}).get("finalizers")
        new.clear()
        new.update(old)
        new["spec"] = {**(old.get("spec") or {}), "finalizers": finalizers or []}


def _without(obj: Object, *keys: str) -> Object:
    return {k: v for k, v in obj.items() if k not in keys}


class NamespaceStrategy(Strategy):
    """Namespaces start Active with the `kubernetes` finalizer."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        obj["status"] = {"phase": "Active"}
        spec = obj.setdefault("spec", {})
        finalizers = spec.setdefault("finalizers", [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")

    def hold_deletion(self, obj: Object) -> bool:
        """A namespace with spec finalizers turns Terminating until they are removed."""
        if not (obj.get("spec") or {}).get("finalizers"):
            return False
        obj.setdefault("status", {})["phase"] = "Terminating"
        return True


class JobStrategy(Strategy):
    """Jobs get a selector and template labels generated from their uid, unless
    `spec.manualSelector` says the user chose the selector."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = obj.setdefault("spec", {})
        if spec.get("manualSelector"):
            return
        meta = obj["metadata"]
        uid, name = meta["uid"], meta.get("name", "")
        spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
        template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
        labels = template_meta.setdefault("labels", {})
        labels.update(
            {
                "batch.kubernetes.io/controller-uid": uid,
                "batch.kubernetes.io/job-name": name,
                "controller-uid": uid,
                "job-name": name,
            }
        )


class SecretStrategy(Strategy):
    """`stringData` is write-only: every write merges it into `data` (base64), its
    keys winning over `data`'s, as Kubernetes' v1 Secret conversion does."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        _merge_string_data(obj)

    def prepare_for_update(self, new: Object, old: Object) -> None:
        super().prepare_for_update(new, old)
        _merge_string_data(new)


def _merge_string_data(secret: Object) -> None:
    string_data = secret.pop("stringData", None)
    if not isinstance(string_data, dict) or not string_data:
        return
    data = secret.get("data")
    if not isinstance(data, dict):
        data = secret["data"] = {}
    for key, value in string_data.items():
        if isinstance(value, str):
            data[key] = base64.b64encode(value.encode()).decode()


class NodeStrategy(Strategy):
    """Kubelets register their Node with its status (capacity, conditions) in the
    create request, so a create keeps the status, as Kubernetes does."""

    def prepare_for_create(self, obj: Object) -> None:
        status = obj.get("status")
        super().prepare_for_create(obj)
        if status is not None:
            obj["status"] = status


class PodStrategy(Strategy):
    """Pods start Pending with their QoS class and are deleted gracefully once
    scheduled. On create they get the DefaultTolerationSeconds admission plugin's
    tolerations: `not-ready` and `unreachable` NoExecute for 300 s, unless the pod
    already tolerates that taint."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = obj.get("spec")
        obj["status"] = {"phase": "Pending"}
        if isinstance(spec, dict):
            obj["status"]["qosClass"] = qos_class(spec)
        if isinstance(spec, dict):
            tolerations = spec.get("tolerations") or []
            if not isinstance(tolerations, list):
                return  # validation rejects it
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
                if not any(_tolerates_no_execute(t, key) for t in tolerations):
                    tolerations.append(
                        {"key": key, "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": DEFAULT_TOLERATION_SECONDS}
                    )  # fmt: skip
            spec["tolerations"] = tolerations

    def prepare_for_status_update(self, new: Object, old: Object) -> None:
        """The QoS class is set at creation and immutable: a status write that omits
        it keeps the old one (Kubernetes backfills it for old kubelets)."""
        super().prepare_for_status_update(new, old)
        status, old_class = new.get("status"), (old.get("status") or {}).get("qosClass")
        if isinstance(status, dict) and not status.get("qosClass") and old_class:
            status["qosClass"] = old_class

    def grace_period(self, obj: Object) -> int:
        spec = obj.get("spec") or {}
        if not spec.get("nodeName"):
            return 0
        return int(spec.get("terminationGracePeriodSeconds", 30))


DEFAULT_TOLERATION_SECONDS = 300
"""kube-apiserver's --default-not-ready-toleration-seconds and
--default-unreachable-toleration-seconds."""


def _tolerates_no_execute(toleration: Any, key: str) -> bool:
    """Kubernetes' DefaultTolerationSeconds test: a toleration whose key is `key` or
    empty and whose effect is NoExecute or empty."""
    if not isinstance(toleration, dict):
        return False
    return toleration.get("key") in (key, "", None) and toleration.get("effect") in (
        "NoExecute", "", None,
    )  # fmt: skip


class CustomResourceDefinitionStrategy(Strategy):
    """CRDs keep their custom resources' cleanup finalizer until those are gone."""

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if CRD_CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CRD_CLEANUP_FINALIZER)

    def validate(self, obj: Object) -> list[FieldError]:
        errors = super().validate(obj)
        spec = obj.get("spec") or {}
        names = spec.get("names") or {}
        expected = f"{names.get('plural', '')}.{spec.get('group', '')}"
        name = obj["metadata"].get("name", "")
        if name != expected:
            errors.append(
                invalid(
                    FieldPath("metadata", "name"),
                    name,
                    'must be spec.names.plural+"."+spec.group',
                )
            )
        versions = spec.get("versions") or []
        # A null version decodes to Go's zero value: not the storage version.
        if sum(1 for v in versions if v is not None and v.get("storage")) != 1:
            errors.append(
                invalid(
                    FieldPath("spec", "versions"),
                    Printed("[]apiextensions.CustomResourceDefinitionVersion{...}"),
                    "must have exactly one version marked as storage version",
                )
            )
        return errors


CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"

_STRATEGIES: dict[tuple[str, str], type[Strategy]] = {
    ("", "Namespace"): NamespaceStrategy,
    ("", "Pod"): PodStrategy,
    ("", "Node"): NodeStrategy,
    ("", "Secret"): SecretStrategy,
    ("batch", "Job"): JobStrategy,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): CustomResourceDefinitionStrategy,
}


def strategy_for(info: ResourceInfo, *, custom: bool = False) -> Strategy:
    if custom:
        return Strategy(info, custom=True)
    return _STRATEGIES.get((info.group, info.kind), Strategy)(info)
