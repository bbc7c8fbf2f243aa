"""Field ownership for writes that are not applies (create, update, patch), and the
ownership rules both kinds of writes share (structured-merge-diff's `merge.Updater`
as kube-apiserver's field manager drives it).

The rules, for a write from `old` to `new` by one manager:
- every field the write adds or changes is taken from the other managers and given to
  the writer (for an apply, that is a conflict unless forced); every field it removes
  is taken from everyone;
- the writer's Update entry (one per manager, API version and subresource) gains the
  fields it added or changed and its time becomes `now`; a write that changes nothing
  leaves every entry, and every time, as it was;
- nobody owns `apiVersion`, `kind`, `metadata` itself or its system fields (name, uid,
  resourceVersion...); fields the endpoint resets (`status` on the main resource,
  `spec` on /status) are neither compared nor owned;
- at most 10 Update entries: the oldest are merged into per-version
  "ancient-changes" entries;
- an object that has no managedFields keeps none (it predates field tracking) until
  something applies to it, except on create, where tracking starts.

Invariants: `track_update` only ever changes `new["metadata"]["managedFields"]`, never
raises, and is idempotent for a given (old, new, now).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from kybernetes.api.schemanode import SchemaNode

from . import managedfields
from .fieldpath import FieldSet, make_path
from .managedfields import STRIPPED, UPDATE, Entry, Managed, ManagedFieldsError, Manager
from .typed import Comparison, compare

MAX_UPDATE_MANAGERS: Final = 10
ANCIENT_CHANGES: Final = "ancient-changes"
# The temporary owner of the fields a write touches (operation "" never decodes).
_CURRENT: Final = Manager("current-operation", "")


class ConflictError(Exception):
    """An apply changes fields that other managers own: the conflicting fields by owner."""

    def __init__(self, conflicts: dict[Manager, FieldSet]) -> None:
        super().__init__(f"{len(conflicts)} conflicting managers")
        self.conflicts = conflicts


def reset_set(paths: Sequence[Sequence[str]] | None, subresource: str) -> FieldSet:
    """The fields an endpoint resets: `paths` (field names from the root), or by
    default `status` on the main resource and `spec` on the status subresource."""
    if paths is None:
        paths = {"": [["status"]], "status": [["spec"]]}.get(subresource, [])
    return FieldSet.of(*(make_path(*path) for path in paths))


def without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of `obj` whose metadata has no managedFields."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or "managedFields" not in metadata:
        return obj
    return {**obj, "metadata": {k: v for k, v in metadata.items() if k != "managedFields"}}


def take_ownership(
    node: SchemaNode | None,
    old: dict[str, Any],
    new: dict[str, Any],
    managers: Managed,
    writer: Manager,
    *,
    force: bool,
    ignored: FieldSet,
) -> tuple[Managed, Comparison]:
    """Takes the fields that change from `old` to `new` away from every manager but
    `writer` (structured-merge-diff's `Updater.update`). Without `force`, a changed
    field another manager owns raises ConflictError instead. Managers left with
    nothing are dropped."""
    changes = compare(node, old, new).excluding(ignored)
    changed = changes.modified.union(changes.added)
    conflicts = {}
    for owner, entry in managers.items():
        if owner != writer and not (clash := entry.fields.intersection(changed)).empty():
            conflicts[owner] = clash
    if conflicts and not force:
        raise ConflictError(conflicts)
    result: Managed = {}
    for owner, entry in managers.items():
        fields = entry.fields
        if owner != writer:
            if owner in conflicts:
                fields = fields.difference(conflicts[owner])
            fields = fields.difference(changes.removed)
        if not fields.empty():
            result[owner] = entry.with_fields(fields)
    return result, changes


def record_update(
    node: SchemaNode | None,
    old: dict[str, Any],
    new: dict[str, Any],
    managed: Managed,
    writer: Manager,
    version: str,
    now: str,
    ignored: FieldSet,
) -> Managed:
    """The managers after `writer` wrote `new` over `old` without applying (both
    without managedFields), capped to MAX_UPDATE_MANAGERS Update entries."""
    managers, changes = take_ownership(
        node, old, new, dict(managed), _CURRENT, force=True, ignored=ignored
    )
    touched = (
        changes.modified.union(changes.added)
        .difference(changes.removed)
        .recursive_difference(ignored)
        .difference(STRIPPED)
    )
    if not touched.empty():
        previous = managers.get(writer)
        if previous is not None:
            touched = touched.union(previous.fields)
        managers[writer] = Entry(touched, version, writer.operation != UPDATE, now)
    return _cap(managers)


def _cap(managed: Managed) -> Managed:
    """Merges the oldest Update entries, per API version, into "ancient-changes"
    entries until at most MAX_UPDATE_MANAGERS remain."""
    updaters = [owner for owner, entry in managed.items() if not entry.applied]
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managed
    updaters.sort(key=lambda o: (managedfields.seconds(managed[o].time), o.identity))
    managed = dict(managed)
    first_of_version: dict[str, Manager] = {}
    count = len(updaters)
    for owner in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        entry = managed[owner]
        version = entry.api_version
        if version not in first_of_version:
            first_of_version[version] = owner
            continue
        bucket = Manager(ANCIENT_CHANGES, UPDATE, version)
        if bucket not in managed:
            managed[bucket] = managed.pop(first_of_version[version])
        if owner != bucket:
            fields = entry.fields.union(managed[bucket].fields)
            managed[bucket] = Entry(fields, version, False, entry.time)
            del managed[owner]
            count -= 1
    return managed


def decode_for_update(old: dict[str, Any] | None, new: dict[str, Any], subresource: str) -> Managed:
    """The managers a write starts from: those the request sent (clients may edit
    managedFields; `[]` or `[{}]` clears them), else the live object's; always the
    live object's for a subresource. Undecodable entries count as none."""
    live = ((old or {}).get("metadata") or {}).get("managedFields")
    sent = (new.get("metadata") or {}).get("managedFields")
    if not subresource:
        if managedfields.is_reset(sent):
            return {}
        try:
            if managed := managedfields.decode(sent):
                return managed
        except ManagedFieldsError:
            pass
    try:
        return managedfields.decode(live)
    except ManagedFieldsError:
        return {}


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    *,
    manager: str,
    operation: str = UPDATE,
    schema: SchemaNode | None,
    now: str,
    subresource: str = "",
    reset_fields: Sequence[Sequence[str]] | None = None,
) -> None:
    """Records in `new["metadata"]["managedFields"]` that `manager` wrote `new` over
    `old` (None: `new` is being created). `manager` is the fieldManager (see
    `options.manager_or_user_agent`; "" becomes "unknown"); `now` is RFC 3339 in
    seconds; `reset_fields` as in `reset_set`. An object without metadata is left
    alone."""
    metadata = new.get("metadata")
    if not isinstance(metadata, dict):
        return
    managed = decode_for_update(old, new, subresource)
    metadata.pop("managedFields", None)
    if not managed and old is not None and (old.get("metadata") or {}).get("uid"):
        return  # the object predates field tracking
    version = str(new.get("apiVersion") or "")
    writer = Manager(
        manager or "unknown", operation, version if operation == UPDATE else "", subresource
    )
    before = without_managed_fields(old) if old is not None else {}
    ignored = reset_set(reset_fields, subresource)
    managed = record_update(schema, before, new, managed, writer, version, now, ignored)
    encoded = managedfields.encode(managed)
    if encoded is not None:
        metadata["managedFields"] = encoded
