"""Server-side apply: merging an applied configuration into the live object and
recording who owns what (kube-apiserver 1.32's field manager over
structured-merge-diff v4).

An apply by manager M with configuration C over live object L:
1. If L has no managedFields (it predates field tracking), every field of L is first
   given to a "before-first-apply" Update entry.
2. C is merged into L with the schema's semantics (see `typed`).
3. Fields M applied last time but no longer applies are removed from the result,
   unless another manager owns them or M's new configuration keeps them.
4. Every field that changes and that another manager owns is a conflict: 409 Conflict
   listing them, unless `force`, which moves their ownership to M. Fields removed by
   step 3 are taken from every owner.
5. M's Apply entry becomes exactly the fields of C (minus the system fields and the
   endpoint's reset fields); its time is updated only if the object changed.
The manager "kubectl" also upgrades from client-side apply: conflicts on fields its
`kubectl.kubernetes.io/last-applied-configuration` annotation set (and that still
hold those values) are forced, and that annotation, if present, follows the applied
configuration.

Errors, in kube-apiserver's order and words: 500 if the live managedFields do not
decode; 400 "invalid object type: apps/v1, Kind=Deployment" when C's apiVersion/kind
are not the live object's; 400 "metadata.managedFields must be nil"; 500 "failed to
create typed patch object (ns/name; gvk): .spec.foo: field not declared in schema"
(also for duplicate or missing list keys); 409 for conflicts.

Invariants: `apply` never mutates its arguments; the result shares nothing with them.
Pure; thread-safe.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any, Final

from kybernetes.api.schemanode import SchemaNode
from kybernetes.apiserver.status import StatusError, bad_request

from . import managedfields
from .fieldpath import FieldSet, go_json, path_string
from .managedfields import APPLY, STRIPPED, UPDATE, Entry, Managed, Manager
from .typed import compare, equal, merge, remove, to_field_set, validate, with_named_fields
from .update import (
    ConflictError,
    record_update,
    reset_set,
    take_ownership,
    without_managed_fields,
)

BEFORE_FIRST_APPLY: Final = "before-first-apply"
LAST_APPLIED: Final = "kubectl.kubernetes.io/last-applied-configuration"
_UPGRADING_MANAGER: Final = "kubectl"


def group_version_kind(api_version: Any, kind: Any) -> str:
    """Go's `GroupVersionKind.String()`: `apps/v1, Kind=Deployment`, `/v1, Kind=Pod`."""
    text = api_version if isinstance(api_version, str) else ""
    group, _, version = text.rpartition("/") if text.count("/") <= 1 else ("", "", "")
    return f"{group}/{version}, Kind={kind if isinstance(kind, str) else ''}"


def check_kind(applied: dict[str, Any], api_version: str, kind: str) -> None:
    """400 unless the configuration is of the endpoint's apiVersion and kind."""
    if applied.get("apiVersion") != api_version or applied.get("kind") != kind:
        gvk = group_version_kind(applied.get("apiVersion"), applied.get("kind"))
        raise bad_request(f"invalid object type: {gvk}")


def conflict_error(conflicts: dict[Manager, FieldSet]) -> StatusError:
    """409 Conflict as kube-apiserver words an apply conflict."""
    found = [
        (owner, path)
        for owner in sorted(conflicts, key=lambda o: o.identity)
        for path in conflicts[owner].paths()
    ]
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {owner.describe()}",
            "field": path_string(path),
        }
        for owner, path in found
    ]
    if len(found) == 1:
        owner, path = found[0]
        message = f"Apply failed with 1 conflict: conflict with {owner.describe()}: "
        message += path_string(path)
    else:
        lines = []
        for owner in sorted(conflicts, key=lambda o: o.identity):
            lines.append(f"conflicts with {owner.describe()}:")
            lines += [f"- {path_string(path)}" for path in conflicts[owner].paths()]
        message = f"Apply failed with {len(found)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})


def _typed_patch_error(applied: dict[str, Any], errors: list[str]) -> StatusError:
    metadata = applied.get("metadata") or {}
    where = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
    gvk = group_version_kind(applied.get("apiVersion"), applied.get("kind"))
    detail = errors[0] if len(errors) == 1 else "errors:\n  " + "\n  ".join(errors)
    return StatusError(500, "", f"failed to create typed patch object ({where}; {gvk}): {detail}")


def _prune(
    node: SchemaNode | None,
    merged: dict[str, Any],
    managers: Managed,
    last: FieldSet,
) -> dict[str, Any]:
    """Removes what the applier applied last time (`last`) and no longer owns, unless
    another manager owns it (structured-merge-diff's `prune`)."""
    if last.empty():
        return merged

    def named(fields: FieldSet) -> FieldSet:
        return with_named_fields(node, fields)

    owned = FieldSet()
    for entry in managers.values():
        owned = owned.union(entry.fields)
    merged_set = named(to_field_set(node, merged))
    pruned = remove(node, merged, named(last))
    keep = named(to_field_set(node, pruned)).union(named(owned))
    pruned = remove(node, merged, merged_set.difference(keep))
    dangling = merged_set.difference(named(to_field_set(node, pruned)))
    result: dict[str, Any] = remove(node, merged, dangling.intersection(named(last)))
    return result


def _structured_apply(
    node: SchemaNode | None,
    live: dict[str, Any],
    applied: dict[str, Any],
    managed: Managed,
    applier: Manager,
    *,
    force: bool,
    ignored: FieldSet,
) -> tuple[dict[str, Any] | None, Managed]:
    """The merged object (None if it equals `live`) and the managers after the apply."""
    merged: dict[str, Any] = merge(node, live, applied)
    last = managed.get(applier)
    version = str(applied.get("apiVersion"))
    fields = to_field_set(node, applied).recursive_difference(ignored)
    managers = {**managed, applier: Entry(fields, version, True, last.time if last else None)}
    merged = _prune(node, merged, managers, last.fields if last else FieldSet())
    managers, _ = take_ownership(
        node, live, merged, managers, applier, force=force, ignored=ignored
    )
    return (None if equal(live, merged) else merged), managers


def _allowed_by_last_applied(
    node: SchemaNode | None, live: dict[str, Any], version: str
) -> FieldSet | None:
    """The fields client-side apply last set and that still hold those values."""
    annotations = (live.get("metadata") or {}).get("annotations") or {}
    try:
        last = json.loads(annotations.get(LAST_APPLIED) or "null")
    except ValueError:
        return None
    if not isinstance(last, dict) or last.get("apiVersion") != version or validate(node, last):
        return None
    changes = compare(node, last, live)
    return (
        to_field_set(node, last)
        .difference(changes.modified)
        .difference(changes.added)
        .difference(changes.removed)
    )


def _apply_or_upgrade(
    node: SchemaNode | None,
    live: dict[str, Any],
    applied: dict[str, Any],
    managed: Managed,
    applier: Manager,
    force: bool,
    ignored: FieldSet,
) -> tuple[dict[str, Any] | None, Managed]:
    """`_structured_apply`, forced for "kubectl" when every conflict is on a field its
    client-side apply annotation accounts for; else 409 with the remaining conflicts."""
    try:
        return _structured_apply(
            node, live, applied, managed, applier, force=force, ignored=ignored
        )
    except ConflictError as e:
        version = str(applied.get("apiVersion"))
        allowed = (
            _allowed_by_last_applied(node, live, version)
            if applier.manager == _UPGRADING_MANAGER
            else None
        )
        remaining = {
            owner: fields.difference(allowed) if allowed is not None else fields
            for owner, fields in e.conflicts.items()
        }
        remaining = {owner: fields for owner, fields in remaining.items() if not fields.empty()}
        if remaining:
            raise conflict_error(remaining) from None
    return _structured_apply(node, live, applied, managed, applier, force=True, ignored=ignored)


def _last_applied_value(applied: dict[str, Any]) -> str:
    config = copy.deepcopy(applied)
    annotations = (config.get("metadata") or {}).get("annotations")
    if isinstance(annotations, dict):
        annotations.pop(LAST_APPLIED, None)
    return go_json(config) + "\n"


def apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    *,
    manager: str,
    force: bool,
    schema: SchemaNode | None,
    now: str,
    subresource: str = "",
    reset_fields: Sequence[Sequence[str]] | None = None,
) -> dict[str, Any]:
    """Applies `applied` by `manager` to `live` (None: the object is being created)
    and returns the new object with its managedFields (see the module docstring).
    `schema` is the kind's root node (None: no schema, fields deduced); `now` is
    RFC 3339 in seconds; `reset_fields` as in `update.reset_set`. `live` must be in
    the request's apiVersion (`applied` must match its apiVersion and kind); on create
    the caller checks them against the endpoint (`check_kind`). Raises StatusError."""
    try:
        managed = managedfields.decode(((live or {}).get("metadata") or {}).get("managedFields"))
    except managedfields.ManagedFieldsError as e:
        raise StatusError(500, "", f"failed to decode managed fields: {e}") from None
    version, kind = applied.get("apiVersion"), applied.get("kind")
    if live is not None:
        check_kind(applied, live.get("apiVersion", ""), live.get("kind", ""))
    elif not version or not kind:
        check_kind(applied, "", "")
    current = without_managed_fields(live) if live is not None else {}
    ignored = reset_set(reset_fields, subresource)
    if not managed and live is not None:
        before = Manager(BEFORE_FIRST_APPLY, UPDATE, str(version), subresource)
        empty = {"apiVersion": version, "kind": kind}
        managed = record_update(schema, empty, current, {}, before, str(version), now, ignored)
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise bad_request("metadata.managedFields must be nil")
    if errors := validate(schema, applied):
        raise _typed_patch_error(applied, errors)
    applier = Manager(manager, APPLY, "", subresource)
    result, managers = _apply_or_upgrade(schema, current, applied, managed, applier, force, ignored)
    entry = managers.get(applier)
    if entry is not None:
        fields = entry.fields.difference(STRIPPED)
        if fields.empty():
            del managers[applier]
        else:
            managers[applier] = Entry(
                fields, entry.api_version, True, now if result is not None else entry.time
            )
    obj = copy.deepcopy(current) if result is None else result
    metadata = obj.setdefault("metadata", {})
    annotations = metadata.get("annotations")
    if (
        manager == _UPGRADING_MANAGER
        and isinstance(annotations, dict)
        and annotations.get(LAST_APPLIED)
    ):
        annotations[LAST_APPLIED] = _last_applied_value(applied)
    encoded = managedfields.encode(managers)
    if encoded is not None:
        metadata["managedFields"] = encoded
    return obj
