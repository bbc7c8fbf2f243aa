"""`metadata.managedFields`: decoding its entries into owned field sets and encoding
them back, as kube-apiserver's `managedfields/internal` package does.

An entry is `{manager, operation: Apply|Update, apiVersion, time, fieldsType:
FieldsV1, fieldsV1, subresource}`. Entries are keyed by a `Manager` identity: the
manager name, the operation, the subresource and, for updates only, the API version
(an applier is one owner whatever version it applies with; each version an updater
writes with is a separate owner). Encoding sorts entries as Kubernetes does: by
operation (Apply first), then time, manager, apiVersion and subresource; times are
RFC 3339 in seconds, UTC.

Invariants: `decode` either decodes every entry or raises `ManagedFieldsError` with
kube-apiserver's message; `encode(decode(x))` normalizes without losing anything
kube-apiserver keeps. Pure; thread-safe.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from kybernetes.api.validation.errors import go_quote

from .fieldpath import FieldSet, FieldsV1Error, make_path

APPLY: Final = "Apply"
UPDATE: Final = "Update"
FIELDS_V1: Final = "FieldsV1"

# Fields nobody owns (kube-apiserver's stripMetaManager); exact paths, not subtrees.
STRIPPED: Final = FieldSet.of(
    make_path("apiVersion"),
    make_path("kind"),
    make_path("metadata"),
    *(
        make_path("metadata", name)
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
        )
    ),
)


class ManagedFieldsError(ValueError):
    """managedFields that do not decode."""


@dataclass(frozen=True, slots=True)
class Manager:
    """Who owns a set of fields. `api_version` is "" for appliers."""

    manager: str
    operation: str
    api_version: str = ""
    subresource: str = ""

    @property
    def identity(self) -> str:
        """The identifier kube-apiserver keys owners by: the entry without time and
        fields as Go's JSON (Managers sort by it)."""
        fields = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "subresource": self.subresource,
        }
        text = json.dumps(
            {k: v for k, v in fields.items() if v}, separators=(",", ":"), ensure_ascii=False
        )
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")

    def describe(self) -> str:
        """How conflicts name the manager: `"kubectl" using apps/v1` for an updater,
        `"kubectl"` for an applier, `... with subresource "status"`."""
        text = go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {go_quote(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


@dataclass(frozen=True, slots=True)
class Entry:
    """The fields a manager owns, the API version it last wrote them with, whether it
    applied them, and when (None: never recorded)."""

    fields: FieldSet
    api_version: str
    applied: bool
    time: str | None = None

    def with_fields(self, fields: FieldSet) -> Entry:
        return replace(self, fields=fields)


Managed = dict[Manager, Entry]


def is_reset(entries: Any) -> bool:
    """Whether an object's managedFields ask to be reset: `[]` or `[{}]`."""
    return isinstance(entries, list) and (entries == [] or entries == [{}])


def _text(entry: Mapping[str, Any], name: str) -> str:
    value = entry.get(name)
    if value is not None and not isinstance(value, str):
        raise ManagedFieldsError(f"{name} must be a string")
    return value or ""


def decode(entries: Sequence[Any] | None) -> Managed:
    """The managers of an object's `metadata.managedFields` (None or [] → {})."""
    managed: Managed = {}
    for index, entry in enumerate(entries or ()):
        if not isinstance(entry, Mapping):
            raise ManagedFieldsError(f"managed fields entry {index} is not an object")
        operation = _text(entry, "operation")
        if operation not in (APPLY, UPDATE):
            raise ManagedFieldsError("operation must be `Apply` or `Update`")
        api_version = _text(entry, "apiVersion")
        if not api_version:
            raise ManagedFieldsError("apiVersion must not be empty")
        fields_type = _text(entry, "fieldsType")
        if not fields_type:
            raise ManagedFieldsError(f"missing fieldsType in managed fields entry {index}")
        if fields_type != FIELDS_V1:
            raise ManagedFieldsError(
                f"invalid fieldsType {go_quote(fields_type)} in managed fields entry {index}"
            )
        try:
            fields = FieldSet.from_fields_v1(entry.get("fieldsV1") or {})
        except FieldsV1Error as e:
            message = f"error decoding versioned set: error decoding set: {e}"
            raise ManagedFieldsError(message) from None
        owner = Manager(
            _text(entry, "manager"),
            operation,
            "" if operation == APPLY else api_version,
            _text(entry, "subresource"),
        )
        time = entry.get("time")
        managed[owner] = Entry(fields, api_version, operation == APPLY, _utc(time))
    return managed


def _utc(time: Any) -> str | None:
    """A metav1.Time as Kubernetes re-encodes it: RFC 3339 seconds in UTC."""
    if not isinstance(time, str):
        return None
    try:
        parsed = datetime.fromisoformat(time)
    except ValueError:
        return time
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds(time: str | None) -> int:
    """Unix seconds of an entry's time (0 when it has none)."""
    if time is None:
        return 0
    try:
        return int(datetime.fromisoformat(time).timestamp())
    except ValueError:
        return 0


def encode(managed: Managed) -> list[dict[str, Any]] | None:
    """The managedFields list (None when nobody owns anything), sorted as Kubernetes
    sorts it."""
    if not managed:
        return None
    entries = []
    for owner, entry in managed.items():
        encoded: dict[str, Any] = {}
        if owner.manager:
            encoded["manager"] = owner.manager
        encoded["operation"] = APPLY if entry.applied else owner.operation
        if entry.api_version:
            encoded["apiVersion"] = entry.api_version
        if entry.time is not None:
            encoded["time"] = entry.time
        encoded["fieldsType"] = FIELDS_V1
        encoded["fieldsV1"] = entry.fields.to_fields_v1()
        if owner.subresource:
            encoded["subresource"] = owner.subresource
        entries.append(encoded)
    entries.sort(
        key=lambda e: (
            e["operation"],
            seconds(e.get("time")),
            e.get("manager", ""),
            e.get("apiVersion", ""),
            e.get("subresource", ""),
        )
    )
    return entries
