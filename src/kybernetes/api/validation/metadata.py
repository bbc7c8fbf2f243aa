"""Validation of `ObjectMeta`, with Kubernetes' rules and wording.

The counterpart of apimachinery's `api/validation/objectmeta.go` and of the label
and label selector checks in `apis/meta/v1/validation` (Kubernetes 1.32). `validate_object_meta` is
run on create, `validate_object_meta_update` on update; both return every problem
found as `FieldError`s, in Kubernetes' order.

Invariants: pure functions of their arguments. They expect a metadata dict that
already passed schema (type) validation: strings are strings, maps are maps. Map
entries are checked in the dict's order (Go's order is random).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from kybernetes.api.validation.errors import (
    FieldError,
    FieldPath,
    Printed,
    forbidden,
    format_value,
    invalid,
    required,
    too_long,
)
from kybernetes.api.validation.names import (
    NameValidator,
    is_qualified_name,
    is_valid_label_value,
    validate_namespace_name,
)

FIELD_IMMUTABLE: Final = "field is immutable"
IS_NEGATIVE: Final = "must be greater than or equal to 0"
TOTAL_ANNOTATION_SIZE_LIMIT: Final = 256 * 1024
FIELD_MANAGER_MAX_LENGTH: Final = 128
MAX_SUBRESOURCE_NAME_LENGTH: Final = 256
FINALIZER_ORPHAN_DEPENDENTS: Final = "orphan"
FINALIZER_DELETE_DEPENDENTS: Final = "foregroundDeletion"

_SELECTOR_OPERATORS: Final = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
# Kinds that may not own other objects: (group, version, kind).
_BANNED_OWNERS: Final = frozenset({("", "v1", "Event")})

Meta = Mapping[str, Any]


def _as_path(path: FieldPath | str) -> FieldPath:
    return path if isinstance(path, FieldPath) else FieldPath(path)


def _byte_length(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


def validate_label_name(name: str, path: FieldPath) -> list[FieldError]:
    """A label key (a qualified name)."""
    return [invalid(path, name, msg) for msg in is_qualified_name(name)]


def validate_labels(labels: Mapping[str, str] | None, path: FieldPath) -> list[FieldError]:
    """Every key and value of a label map; errors name the map, not the entry."""
    errors: list[FieldError] = []
    for key, value in (labels or {}).items():
        errors += validate_label_name(key, path)
        errors += [invalid(path, value, msg) for msg in is_valid_label_value(value)]
    return errors


def validate_label_selector(
    selector: Mapping[str, Any] | None,
    path: FieldPath,
    *,
    allow_invalid_label_value: bool = False,
) -> list[FieldError]:
    """Field errors of a `metav1.LabelSelector` dict (None is valid)."""
    if selector is None:
        return []
    errors = validate_labels(selector.get("matchLabels"), path.child("matchLabels"))
    for index, expression in enumerate(selector.get("matchExpressions") or []):
        expression_path = path.child("matchExpressions").index(index)
        operator = expression.get("operator") or ""
        values: list[str] = expression.get("values") or []
        values_path = expression_path.child("values")
        if operator in ("In", "NotIn") and not values:
            detail = "must be specified when `operator` is 'In' or 'NotIn'"
            errors.append(required(values_path, detail))
        elif operator in ("Exists", "DoesNotExist") and values:
            detail = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
            errors.append(forbidden(values_path, detail))
        elif operator not in _SELECTOR_OPERATORS:
            errors.append(
                invalid(
                    expression_path.child("operator"), operator, "not a valid selector operator"
                )
            )
        errors += validate_label_name(expression.get("key") or "", expression_path.child("key"))
        if not allow_invalid_label_value:
            for value_index, value in enumerate(values):
                errors += [
                    invalid(values_path.index(value_index), value, msg)
                    for msg in is_valid_label_value(value)
                ]
    return errors


def validate_annotations(
    annotations: Mapping[str, str] | None, path: FieldPath
) -> list[FieldError]:
    """Annotation keys (qualified names, any case) and their total size (256 KiB)."""
    annotations = annotations or {}
    errors: list[FieldError] = []
    for key in annotations:
        errors += [invalid(path, key, msg) for msg in is_qualified_name(key.lower())]
    size = sum(_byte_length(key) + _byte_length(value) for key, value in annotations.items())
    if size > TOTAL_ANNOTATION_SIZE_LIMIT:
        errors.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return errors


def _group_version(api_version: str) -> tuple[str, str]:
    """(group, version) of an apiVersion; both empty when it cannot be parsed."""
    parts = api_version.split("/")
    if len(parts) == 1:
        return "", parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return "", ""


def _validate_owner_reference(ref: Meta, path: FieldPath) -> list[FieldError]:
    errors: list[FieldError] = []
    api_version, kind = ref.get("apiVersion") or "", ref.get("kind") or ""
    group, version = _group_version(api_version)
    if not version:
        errors.append(invalid(path.child("apiVersion"), api_version, "version must not be empty"))
    if not kind:
        errors.append(invalid(path.child("kind"), kind, "must not be empty"))
    for member in ("name", "uid"):
        if not ref.get(member):
            errors.append(invalid(path.child(member), ref.get(member) or "", "must not be empty"))
    if (group, version, kind) in _BANNED_OWNERS:
        gvk = f"{group}/{version}, Kind={kind}"
        errors.append(invalid(path, dict(ref), f"{gvk} is disallowed from being an owner"))
    return errors


def validate_owner_references(refs: Sequence[Meta] | None, path: FieldPath) -> list[FieldError]:
    """Each reference names its owner fully; at most one is the controller.

    Like Kubernetes, errors name `ownerReferences.<member>`, not the list index.
    """
    errors: list[FieldError] = []
    controller = ""
    for ref in refs or ():
        errors += _validate_owner_reference(ref, path)
        if ref.get("controller") is True:
            name = f"{ref.get('kind') or ''}/{ref.get('name') or ''}"
            if controller:
                detail = (
                    'Only one reference can have Controller set to true. Found "true" in '
                    f"references for {controller} and {name}"
                )
                errors.append(invalid(path, [dict(r) for r in refs or ()], detail))
            else:
                controller = name
    return errors


def validate_finalizers(finalizers: Sequence[str] | None, path: FieldPath) -> list[FieldError]:
    """Finalizers are qualified names; `orphan` and `foregroundDeletion` exclude each other."""
    finalizers = list(finalizers or ())
    errors: list[FieldError] = []
    for finalizer in finalizers:
        errors += [invalid(path, finalizer, msg) for msg in is_qualified_name(finalizer)]
    if {FINALIZER_ORPHAN_DEPENDENTS, FINALIZER_DELETE_DEPENDENTS} <= set(finalizers):
        detail = (
            f"finalizer {FINALIZER_ORPHAN_DEPENDENTS} and {FINALIZER_DELETE_DEPENDENTS} "
            "cannot be both set"
        )
        errors.append(invalid(path, finalizers, detail))
    return errors


def validate_field_manager(manager: str, path: FieldPath) -> list[FieldError]:
    """A field manager name: at most 128 bytes, printable characters only."""
    errors: list[FieldError] = []
    if _byte_length(manager) > FIELD_MANAGER_MAX_LENGTH:
        errors.append(too_long(path, FIELD_MANAGER_MAX_LENGTH))
    position = 0
    for char in manager:
        if not char.isprintable():
            name = f"U+{ord(char):04X}"
            errors.append(
                invalid(path, manager, f"invalid character {name} (at position {position})")
            )
        position += _byte_length(char)
    return errors


def validate_managed_fields(entries: Sequence[Meta] | None, path: FieldPath) -> list[FieldError]:
    """Each managedFields entry: operation, fieldsType, manager and subresource."""
    errors: list[FieldError] = []
    for index, entry in enumerate(entries or ()):
        entry_path = path.index(index)
        operation = entry.get("operation") or ""
        if operation not in ("Apply", "Update"):
            errors.append(
                invalid(entry_path.child("operation"), operation, "must be `Apply` or `Update`")
            )
        fields_type = entry.get("fieldsType") or ""
        if fields_type and fields_type != "FieldsV1":
            errors.append(
                invalid(entry_path.child("fieldsType"), fields_type, "must be `FieldsV1`")
            )
        errors += validate_field_manager(entry.get("manager") or "", entry_path.child("manager"))
        if _byte_length(entry.get("subresource") or "") > MAX_SUBRESOURCE_NAME_LENGTH:
            errors.append(too_long(entry_path.child("subresource"), MAX_SUBRESOURCE_NAME_LENGTH))
    return errors


def validate_object_meta(
    meta: Meta,
    namespaced: bool,
    name_validator: NameValidator,
    path: FieldPath | str = "metadata",
) -> list[FieldError]:
    """Validates an object's metadata on create (after name generation).

    `namespaced` says whether the kind lives in namespaces (`metadata.namespace` is
    then required, else forbidden); `name_validator` is the kind's name rule, e.g.
    `name_is_dns_subdomain`.
    """
    path = _as_path(path)
    errors: list[FieldError] = []
    generate_name = meta.get("generateName") or ""
    if generate_name:
        errors += [
            invalid(path.child("generateName"), generate_name, msg)
            for msg in name_validator(generate_name, True)
        ]
    name = meta.get("name") or ""
    if not name:
        errors.append(required(path.child("name"), "name or generateName is required"))
    else:
        errors += [invalid(path.child("name"), name, msg) for msg in name_validator(name, False)]
    namespace = meta.get("namespace") or ""
    if namespaced and not namespace:
        errors.append(required(path.child("namespace")))
    elif namespaced:
        errors += [
            invalid(path.child("namespace"), namespace, msg)
            for msg in validate_namespace_name(namespace, False)
        ]
    elif namespace:
        errors.append(forbidden(path.child("namespace"), "not allowed on this type"))
    generation = meta.get("generation") or 0
    if generation < 0:
        errors.append(invalid(path.child("generation"), generation, IS_NEGATIVE))
    return errors + _validate_common(meta, path, finalizers=True)


def _validate_common(meta: Meta, path: FieldPath, *, finalizers: bool) -> list[FieldError]:
    errors = validate_labels(meta.get("labels"), path.child("labels"))
    errors += validate_annotations(meta.get("annotations"), path.child("annotations"))
    errors += validate_owner_references(meta.get("ownerReferences"), path.child("ownerReferences"))
    if finalizers:
        errors += validate_finalizers(meta.get("finalizers"), path.child("finalizers"))
    return errors + validate_managed_fields(meta.get("managedFields"), path.child("managedFields"))


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else None


def _same(member: str, new: object, old: object) -> bool:
    if member.endswith("Timestamp"):
        new_time, old_time = _parse_time(new), _parse_time(old)
        if new_time is not None and old_time is not None:
            return new_time == old_time
    return new == old


def _shown(member: str, value: object) -> object:
    """A timestamp as Go prints a `metav1.Time` (`2024-01-02 03:04:05 +0000 UTC`)."""
    parsed = _parse_time(value) if member.endswith("Timestamp") else None
    if parsed is None:
        return value
    text = parsed.strftime("%Y-%m-%d %H:%M:%S")
    if parsed.microsecond:
        text += f".{parsed.microsecond:06d}".rstrip("0")
    return Printed(f"{text} +0000 UTC")


_IMMUTABLE_MEMBERS: Final = (
    "name",
    "namespace",
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)


def validate_object_meta_update(
    new: Meta, old: Meta, path: FieldPath | str = "metadata"
) -> list[FieldError]:
    """Validates an object's metadata on update against the stored object's.

    Identity and lifecycle members may not change; an update must carry a
    resourceVersion; generation may not go down; an object being deleted may not
    gain finalizers; labels, annotations, owner references and managed fields of
    the new metadata are checked as on create.
    """
    path = _as_path(path)
    errors: list[FieldError] = []
    if old.get("deletionTimestamp"):
        added = sorted(set(new.get("finalizers") or ()) - set(old.get("finalizers") or ()))
        if added:
            errors.append(
                forbidden(
                    path.child("finalizers"),
                    "no new finalizers can be added if the object is being deleted, "
                    f"found new finalizers {format_value(added)}",
                )
            )
    resource_version = new.get("resourceVersion") or ""
    if not resource_version:
        errors.append(
            invalid(
                path.child("resourceVersion"), resource_version, "must be specified for an update"
            )
        )
    if (new.get("generation") or 0) < (old.get("generation") or 0):
        errors.append(
            invalid(path.child("generation"), new.get("generation") or 0, "must not be decremented")
        )
    for member in _IMMUTABLE_MEMBERS:
        new_value, old_value = new.get(member), old.get(member)
        if member in ("name", "namespace", "uid"):
            new_value, old_value = new_value or "", old_value or ""
        if not _same(member, new_value, old_value):
            errors.append(invalid(path.child(member), _shown(member, new_value), FIELD_IMMUTABLE))
    return errors + _validate_common(new, path, finalizers=False)
