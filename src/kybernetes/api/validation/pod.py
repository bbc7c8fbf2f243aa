"""Pods and pod templates: create, update and status update rules.

The counterpart of `ValidatePodCreate`, `ValidatePodUpdate`, `ValidatePodStatusUpdate`
and `ValidatePodTemplate` of `pkg/apis/core/validation` (Kubernetes 1.32).

A pod's spec is nearly immutable: an update may change container images, lower
`activeDeadlineSeconds`, add tolerations, remove scheduling gates and, while the pod
is gated, add node selector terms. Any other change is refused with Kubernetes'
message, `spec: Forbidden: pod updates may not change fields other than ...`; where
Kubernetes appends a Go struct diff, this module appends a diff of the changed fields
(`- spec.nodeName: "a"` / `+ spec.nodeName: "b"`).

Invariants: pure functions; inputs are never mutated (munging works on copies).
"""

from __future__ import annotations

import json
from typing import Any, Final

from kybernetes.api.validation.common import (
    INT32_MAX,
    Errors,
    Obj,
    child,
    children,
    dns_subdomain,
    immutable,
    ip,
    is_dual_stack,
    optional_child,
    optional_number,
    pruned,
    qualified_name,
    semantic_equal,
    string_map,
    text,
)
from kybernetes.api.validation.errors import (
    FieldPath,
    duplicate,
    forbidden,
    invalid,
    required,
)
from kybernetes.api.validation.names import inclusive_range_error, is_valid_ip
from kybernetes.api.validation.podspec import (
    MIRROR_POD,
    validate_pod_spec,
    validate_pod_specific_annotations,
    validate_pod_template_spec,
)
from kybernetes.api.validation.scheduling import validate_tolerations

UPDATABLE_POD_SPEC_FIELDS: Final = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
_SYSTEM_CONDITIONS: Final = frozenset({"PodScheduled", "Ready", "Initialized"})
_SPEC: Final = FieldPath("spec")
_STATUS: Final = FieldPath("status")
_ANNOTATIONS: Final = FieldPath("metadata", "annotations")


def _annotations(pod: Obj) -> dict[str, str]:
    return string_map(child(pod, "metadata"), "annotations")


def _metadata_and_spec(pod: Obj) -> Errors:
    """`validatePodMetadataAndSpec` without ObjectMeta (validated elsewhere)."""
    spec = child(pod, "spec")
    errors = validate_pod_specific_annotations(_annotations(pod), spec, _ANNOTATIONS)
    name = text(child(pod, "metadata"), "name")
    errors += validate_pod_spec(spec, _SPEC, pod_name=name, is_pod=True)
    if not text(spec, "serviceAccountName"):
        for index, volume in enumerate(children(spec, "volumes")):
            sources = children(child(volume, "projected"), "sources")
            for source_index, source in enumerate(sources):
                if source.get("serviceAccountToken") is not None:
                    token_path = _SPEC.child("volumes").index(index).child("projected", "sources")
                    token_path = token_path.index(source_index).child("serviceAccountToken")
                    detail = "must not be specified when serviceAccountName is not set"
                    errors.append(forbidden(token_path, detail))
    for key in ("containers", "initContainers"):
        for index, container in enumerate(children(spec, key)):
            image = text(container, "image")
            if image != image.strip():
                image_path = _SPEC.child(key).index(index).child("image")
                detail = "must not have leading or trailing whitespace"
                errors.append(invalid(image_path, image, detail))
    return errors


def validate_pod(pod: Obj) -> Errors:
    """A pod on create (`ValidatePodCreate`)."""
    spec = child(pod, "spec")
    errors = _metadata_and_spec(pod)
    if children(spec, "ephemeralContainers"):
        errors.append(forbidden(_SPEC.child("ephemeralContainers"), "cannot be set on create"))
    if text(spec, "nodeName") and children(spec, "schedulingGates"):
        detail = "cannot be set until all schedulingGates have been cleared"
        errors.append(forbidden(_SPEC.child("nodeName"), detail))
    return errors


def _annotation_updates(new: Obj, old: Obj) -> Errors:
    """The mirror-pod annotation may be neither added, changed nor removed."""
    new_annotations, old_annotations = _annotations(new), _annotations(old)
    path = _ANNOTATIONS.key(MIRROR_POD)
    if (
        MIRROR_POD in old_annotations
        and new_annotations.get(MIRROR_POD) != old_annotations[MIRROR_POD]
    ):
        return [forbidden(path, "may not remove or update mirror pod annotation")]
    if MIRROR_POD in new_annotations and MIRROR_POD not in old_annotations:
        return [forbidden(path, "may not add mirror pod annotation")]
    return []


def _container_updates(new: list[Obj], old: list[Obj], path: FieldPath) -> tuple[Errors, bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    errors: Errors = []
    for index, container in enumerate(new):
        image = text(container, "image")
        if not image:
            errors.append(required(path.index(index).child("image")))
        if image != image.strip():
            detail = "must not have leading or trailing whitespace"
            errors.append(invalid(path.index(index).child("image"), image, detail))
    return errors, False


def _only_added_tolerations(new: list[Obj], old: list[Obj], path: FieldPath) -> Errors:
    for existing in old:
        wanted = {k: v for k, v in existing.items() if k != "tolerationSeconds"}
        if not any(
            semantic_equal({k: v for k, v in t.items() if k != "tolerationSeconds"}, wanted)
            for t in new
        ):
            return [
                forbidden(
                    path, "existing toleration can not be modified except its tolerationSeconds"
                )
            ]
    return validate_tolerations(new, path)


def _only_deleted_gates(new: list[Obj], old: list[Obj], path: FieldPath) -> Errors:
    old_names = {text(gate, "name") for gate in old}
    added = {text(gate, "name"): index for index, gate in enumerate(new)}
    return [
        forbidden(
            path.index(index).child("name"),
            f"only deletion is allowed, but found new scheduling gate '{name}'",
        )
        for name, index in added.items()
        if name not in old_names
    ]


def _active_deadline(new: Obj, old: Obj) -> tuple[Errors, bool]:
    path = _SPEC.child("activeDeadlineSeconds")
    new_deadline = optional_number(new, "activeDeadlineSeconds")
    old_deadline = optional_number(old, "activeDeadlineSeconds")
    if new_deadline is None:
        if old_deadline is not None:
            detail = "must not update from a positive integer to nil value"
            return [invalid(path, None, detail)], False
        return [], False
    if not 0 <= new_deadline <= INT32_MAX:
        return [invalid(path, new_deadline, inclusive_range_error(0, INT32_MAX))], True
    if old_deadline is not None and old_deadline < new_deadline:
        return [invalid(path, new_deadline, "must be less than or equal to previous value")], True
    return [], False


def _diff(old: object, new: object, path: str, lines: list[str]) -> None:
    """Appends `- path: old` / `+ path: new` lines for every changed leaf."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            _diff(old.get(key), new.get(key), f"{path}.{key}", lines)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            _diff(old_item, new_item, f"{path}[{index}]", lines)
    elif old != new:
        for sign, value in (("-", old), ("+", new)):
            if value is not None:
                lines.append(f"{sign} {path}: {json.dumps(value, sort_keys=True)}")


def spec_diff(old: object, new: object) -> str:
    """The changed fields of two pod specs, one `-`/`+` line per old/new value."""
    lines: list[str] = []
    _diff(pruned(old), pruned(new), "spec", lines)
    return "\n".join(lines)


def _munge_gated(munged: dict[str, Any], old_spec: Obj) -> Errors:
    """Gated pods may add node selector entries and node affinity requirements."""
    errors: Errors = []
    new_selector, old_selector = (
        string_map(munged, "nodeSelector"),
        string_map(old_spec, "nodeSelector"),
    )
    if new_selector != old_selector:
        if any(new_selector.get(key) != value for key, value in old_selector.items()):
            detail = "only additions to spec.nodeSelector are allowed (no mutations or deletions)"
            errors.append(invalid(_SPEC.child("nodeSelector"), new_selector, detail))
        munged["nodeSelector"] = old_spec.get("nodeSelector")
    old_affinity = child(child(old_spec, "affinity"), "nodeAffinity")
    new_affinity = child(child(munged, "affinity"), "nodeAffinity")
    if not semantic_equal(new_affinity, old_affinity):
        errors += _node_affinity_additions(new_affinity, old_affinity)
        munged["affinity"] = {**child(munged, "affinity"), "nodeAffinity": old_affinity}
    return errors


def _node_affinity_additions(new: Obj, old: Obj) -> Errors:
    old_required = optional_child(old, "requiredDuringSchedulingIgnoredDuringExecution")
    if old_required is None:
        return []
    path = _SPEC.child("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution")
    path = path.child("nodeSelectorTerms")
    old_terms = children(old_required, "nodeSelectorTerms")
    new_terms = children(
        child(new, "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms"
    )
    if old_terms and len(old_terms) != len(new_terms):
        detail = "no additions/deletions to non-empty NodeSelectorTerms list are allowed"
        return [invalid(path, [dict(t) for t in new_terms], detail)]
    errors: Errors = []
    for index, (old_term, new_term) in enumerate(zip(old_terms, new_terms, strict=True)):
        if not _only_additions(new_term, old_term):
            detail = "only additions are allowed (no mutations or deletions)"
            errors.append(invalid(path.index(index), dict(new_term), detail))
    return errors


def _only_additions(new: Obj, old: Obj) -> bool:
    if not children(old, "matchExpressions") and not children(old, "matchFields"):
        return not children(new, "matchExpressions") and not children(new, "matchFields")
    for key in ("matchExpressions", "matchFields"):
        old_items, new_items = children(old, key), children(new, key)
        if old_items and not semantic_equal(new_items[: len(old_items)], old_items):
            return False
    return True


def validate_pod_update(new: Obj, old: Obj) -> Errors:
    """A pod update (`ValidatePodUpdate`)."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    errors = _metadata_and_spec(new) + _annotation_updates(new, old)
    for key in ("containers", "initContainers"):
        container_errors, stop = _container_updates(
            children(new_spec, key), children(old_spec, key), _SPEC.child(key)
        )
        errors += container_errors
        if stop:
            return errors
    deadline_errors, stop = _active_deadline(new_spec, old_spec)
    errors += deadline_errors
    if stop:
        return errors
    errors += _only_added_tolerations(
        children(new_spec, "tolerations"),
        children(old_spec, "tolerations"),
        _SPEC.child("tolerations"),
    )
    errors += _only_deleted_gates(
        children(new_spec, "schedulingGates"),
        children(old_spec, "schedulingGates"),
        _SPEC.child("schedulingGates"),
    )
    if semantic_equal(new_spec, old_spec):
        return errors
    munged: dict[str, Any] = dict(new_spec)
    for key in ("containers", "initContainers"):
        images = [container.get("image") for container in children(old_spec, key)]
        munged[key] = [
            {**container, "image": image}
            for container, image in zip(children(munged, key), images, strict=True)
        ]
    for key in ("activeDeadlineSeconds", "schedulingGates", "tolerations"):
        munged[key] = old_spec.get(key)
    old_grace = optional_number(old_spec, "terminationGracePeriodSeconds")
    if old_grace is not None and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if children(old_spec, "schedulingGates"):
        errors += _munge_gated(munged, old_spec)
    if not semantic_equal(munged, old_spec):
        fields = ",".join(UPDATABLE_POD_SPEC_FIELDS)
        detail = (
            f"pod updates may not change fields other than {fields}\n{spec_diff(old_spec, munged)}"
        )
        errors.append(forbidden(_SPEC, detail))
    return errors


def _state_transitions(
    new: list[Obj], old: list[Obj], path: FieldPath, restart: str, sidecars: frozenset[str]
) -> Errors:
    if restart == "Always":
        return []
    errors: Errors = []
    for index, old_status in enumerate(old):
        terminated = optional_child(child(old_status, "state"), "terminated")
        name = text(old_status, "name")
        if terminated is None or name in sidecars:
            continue
        if optional_number(terminated, "exitCode") and restart == "OnFailure":
            continue
        for new_status in new:
            if (
                text(new_status, "name") == name
                and optional_child(child(new_status, "state"), "terminated") is None
            ):
                detail = "may not be transitioned to non-terminated state"
                errors.append(forbidden(path.index(index).child("state"), detail))
    return errors


def _addresses(status: Obj, key: str) -> Errors:
    path = _STATUS.child(key)
    entries = children(status, key)
    addresses = [text(entry, "ip") for entry in entries]
    errors: Errors = []
    if key == "hostIPs" and entries and text(status, "hostIP") != addresses[0]:
        errors.append(invalid(path.index(0).child("ip"), addresses[0], "must be equal to `hostIP`"))
    for index, address in enumerate(addresses):
        errors += ip(address, path.index(index))
    if len(entries) > 1:
        seen: set[str] = set()
        for index, entry in enumerate(entries):
            if addresses[index] in seen:
                errors.append(duplicate(path.index(index), dict(entry)))
            seen.add(addresses[index])
        valid = all(not is_valid_ip(address) for address in addresses)
        if not valid or not is_dual_stack(addresses) or len(addresses) > 2:
            detail = "may specify no more than one IP for each IP family"
            errors.append(invalid(path, [dict(e) for e in entries], detail))
    return errors


def validate_pod_status_update(new: Obj, old: Obj) -> Errors:
    """A pod status update (`ValidatePodStatusUpdate`)."""
    new_spec, old_spec = child(new, "spec"), child(old, "spec")
    new_status, old_status = child(new, "status"), child(old, "status")
    errors = _annotation_updates(new, old)
    errors += validate_pod_specific_annotations(_annotations(new), new_spec, _ANNOTATIONS)
    for index, condition in enumerate(children(new_status, "conditions")):
        kind = text(condition, "type")
        if kind not in _SYSTEM_CONDITIONS:
            errors += qualified_name(
                kind, FieldPath("metadata", "conditions").index(index).child("Type")
            )
    if text(new_spec, "nodeName") != text(old_spec, "nodeName"):
        errors.append(forbidden(_STATUS.child("nodeName"), "may not be changed directly"))
    nominated = text(new_status, "nominatedNodeName")
    if nominated and nominated != text(old_status, "nominatedNodeName"):
        errors += dns_subdomain(nominated, _STATUS.child("nominatedNodeName"))
    errors += immutable(
        text(new_status, "qosClass"), text(old_status, "qosClass"), _STATUS.child("qosClass")
    )
    restart = text(old_spec, "restartPolicy")
    sidecars = frozenset(
        text(c, "name")
        for c in children(old_spec, "initContainers")
        if c.get("restartPolicy") == "Always"
    )
    for key, policy, skip in (
        ("containerStatuses", restart, frozenset[str]()),
        ("initContainerStatuses", restart, sidecars),
        ("ephemeralContainerStatuses", "Never", frozenset[str]()),
    ):
        errors += _state_transitions(
            children(new_status, key), children(old_status, key), _STATUS.child(key), policy, skip
        )
    errors += _addresses(new_status, "podIPs")
    return errors + _addresses(new_status, "hostIPs")


def validate_pod_template(template: Obj) -> Errors:
    """A PodTemplate object (`ValidatePodTemplate`, without its ObjectMeta)."""
    return validate_pod_template_spec(child(template, "template"), FieldPath("template"))
