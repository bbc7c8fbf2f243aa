"""Objects to `meta.k8s.io` Tables, as kube-apiserver's `asTable` builds them.

A kind's table comes from one of three convertors, like kube-apiserver's:
- a custom resource (the caller passes its CRD version's `additionalPrinterColumns`,
  possibly empty): the CRD convertor of `custom`;
- a built-in kind with a printer (`PRINTERS`, keyed by group and kind): that printer,
  rendered as the server always renders it, with the `-o wide` columns;
- any other kind (Roles, LimitRanges, CRDs themselves...): the default convertor, NAME
  and CREATED AT (RFC 3339, type `date`).

Each row's `object` follows `includeObject`: `Metadata` (the default) a
PartialObjectMetadata of the Table's own group/version carrying the whole
`metadata`, `Object` the object itself (with its `kind`/`apiVersion`), `None` null.
Without headers (every watch event after the first) `columnDefinitions` is null.

Invariants: pure functions of their arguments and the clock passed in; the objects
passed are never mutated (rows hold copies of the parts they show).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from kybernetes.api.resources import ResourceInfo

from . import cluster, core, network_storage, pods, workloads
from .cells import NAME, OBJECT_META, Column, Doc, Obj, PrintContext, Printer, created, name_of
from .custom import compile_columns
from .duration import rfc3339

TABLE_GROUP_VERSION: Final = "meta.k8s.io/v1"
INCLUDE_OBJECT_VALUES: Final = ("Metadata", "None", "Object")

PRINTERS: Final[dict[tuple[str, str], Printer]] = {
    **pods.PRINTERS,
    **workloads.PRINTERS,
    **core.PRINTERS,
    **cluster.PRINTERS,
    **network_storage.PRINTERS,
}

_DEFAULT_COLUMNS: Final = (
    NAME,
    Column("Created At", "date", Doc(OBJECT_META, "creationTimestamp")),
)


def check_include_object(include_object: str) -> None:
    """ValueError with kube-apiserver's 400 message unless `includeObject` is valid
    ("" means Metadata)."""
    if include_object not in ("", *INCLUDE_OBJECT_VALUES):
        supported = ", ".join(f'"{v}"' for v in INCLUDE_OBJECT_VALUES)
        raise ValueError(
            "Unable to convert to Table as requested: includeObject: Unsupported value: "
            f'"{include_object}": supported values: {supported}'
        )


def _list_meta(list_meta: Mapping[str, Any]) -> dict[str, Any]:
    meta = {k: list_meta[k] for k in ("resourceVersion", "continue") if list_meta.get(k)}
    if list_meta.get("remainingItemCount") is not None:
        meta["remainingItemCount"] = list_meta["remainingItemCount"]
    return meta


def _row_object(
    info: ResourceInfo, obj: Obj, include_object: str, table_version: str
) -> dict[str, Any] | None:
    if include_object == "None":
        return None
    if include_object == "Object":
        rest = {k: v for k, v in obj.items() if k not in ("kind", "apiVersion")}
        return {"kind": info.kind, "apiVersion": info.group_version, **rest}
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": table_version,
        "metadata": dict(obj.get("metadata") or {}),
    }


def table_for(
    info: ResourceInfo,
    objects: Sequence[Obj],
    *,
    list_meta: Mapping[str, Any],
    include_object: str = "Metadata",
    wide_columns: bool = True,
    now: datetime | None = None,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    table_version: str = TABLE_GROUP_VERSION,
    headers: bool = True,
) -> dict[str, Any]:
    """The Table of `objects`, all of the kind `info` serves.

    `list_meta` is the list's metadata (`resourceVersion`, `continue`,
    `remainingItemCount`), or for a single object `{"resourceVersion": <its RV>}`.
    `printer_columns` is None for built-in kinds and the CRD version's
    `additionalPrinterColumns` (`[]` when it has none) for custom resources.
    `table_version` is the negotiated `TableAccept.group_version`. `headers=False`
    leaves `columnDefinitions` null. `wide_columns=False` drops the priority-1
    columns of built-in printers (kube-apiserver itself always serves them).
    ValueError (a 400 for the caller) on an unsupported `include_object`.
    """
    check_include_object(include_object)
    ctx = PrintContext(now or datetime.now(UTC), wide_columns)
    printer = PRINTERS.get((info.group, info.kind))
    cell_rows: list[tuple[Obj, list[Any], list[dict[str, str]] | None]]
    if printer_columns is not None:
        custom = compile_columns(printer_columns)
        columns = [c.definition() for c in custom.columns]
        cell_rows = [(obj, custom.row(obj, ctx.now), None) for obj in objects]
    elif printer is not None:
        columns = printer.column_definitions(wide_columns)
        ordered = sorted(objects, key=printer.sort_key) if printer.sort_key else objects
        conditions = printer.conditions
        cell_rows = [
            (obj, printer.row(obj, ctx), conditions(obj) if conditions else None) for obj in ordered
        ]
    else:
        columns = [c.definition() for c in _DEFAULT_COLUMNS]
        cell_rows = [(obj, [name_of(obj), rfc3339(created(obj))], None) for obj in objects]
    rows = []
    for obj, cells, row_conditions in cell_rows:
        row: dict[str, Any] = {"cells": cells}
        if row_conditions:
            row["conditions"] = row_conditions
        row["object"] = _row_object(info, obj, include_object or "Metadata", table_version)
        rows.append(row)
    default_convertor = printer_columns is None and printer is None
    return {
        "kind": "Table",
        "apiVersion": table_version,
        "metadata": _list_meta(list_meta),
        "columnDefinitions": columns if headers else None,
        # The default convertor leaves an empty table's rows nil.
        "rows": None if default_convertor and not rows else rows,
    }


def watch_event_table(
    info: ResourceInfo,
    obj: Obj,
    *,
    first: bool,
    include_object: str = "Metadata",
    now: datetime | None = None,
    printer_columns: Sequence[Mapping[str, Any]] | None = None,
    table_version: str = TABLE_GROUP_VERSION,
) -> dict[str, Any]:
    """The Table sent as the `object` of one ADDED/MODIFIED/DELETED watch event.

    kube-apiserver converts every event's object to a one-row Table whose metadata
    carries the object's resourceVersion, and includes the column definitions only
    in the stream's `first` event (whatever its type). ERROR events' Status objects
    are sent unconverted; a BOOKMARK's object is converted like any other (kubectl
    never asks for bookmarks). ValueError on a bad `include_object`.
    """
    resource_version = (obj.get("metadata") or {}).get("resourceVersion")
    return table_for(
        info,
        [obj],
        list_meta={"resourceVersion": resource_version},
        include_object=include_object,
        now=now,
        printer_columns=printer_columns,
        table_version=table_version,
        headers=first,
    )
