"""Custom resources' tables: apiextensions-apiserver's CRD table convertor.

Columns are NAME plus the CRD version's `additionalPrinterColumns`, or, when it has
none, the logically defaulted `Age` column (`.metadata.creationTimestamp`, type
`date`). A column whose `jsonPath` does not parse ends the column list there, as the
convertor kube-apiserver falls back to. Each cell is the first JSONPath match, or
null when nothing matches or evaluation fails:

- `string` columns print the value as client-go's JSONPath does (`fmt.Fprint` for
  scalars, compact JSON with sorted keys for maps and lists, `<no value>` for null);
- `integer` truncates a float, `number` widens an int, `boolean` takes booleans;
- `date` is the human age of an RFC 3339 string (`<invalid>` if it does not parse,
  `<unknown>` for the zero time).

Any other type, or a value of the wrong JSON type, gives a null cell.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final

from .cells import NAME, OBJECT_META, Cell, Column, Doc, Obj
from .duration import age
from .jsonpath import JSONPath, JSONPathError, compile_path

_RFC3339: Final = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DEFAULT_COLUMNS: Final[tuple[Mapping[str, Any], ...]] = (
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": Doc(OBJECT_META, "creationTimestamp"),
    },
)


@dataclass(frozen=True, slots=True)
class CustomColumns:
    """The compiled columns of one CRD version."""

    columns: tuple[Column, ...]
    paths: tuple[JSONPath, ...]

    def row(self, obj: Obj, now: datetime) -> list[Cell]:
        cells: list[Cell] = [obj.get("metadata", {}).get("name", "")]
        for column, path in zip(self.columns[1:], self.paths, strict=True):
            try:
                found = path.find(obj)
            except JSONPathError:
                found = []
            cells.append(_cell(column.type, found[0], now) if found else None)
        return cells


def compile_columns(printer_columns: Sequence[Mapping[str, Any]]) -> CustomColumns:
    """The table columns of a CRD version's `additionalPrinterColumns`."""
    columns, paths = [NAME], []
    for spec in printer_columns or _DEFAULT_COLUMNS:
        json_path = str(spec.get("jsonPath", ""))
        try:
            paths.append(compile_path(json_path))
        except JSONPathError:
            break
        description = spec.get("description") or (
            f"Custom resource definition column (in JSONPath format): {json_path}"
        )
        columns.append(
            Column(
                str(spec.get("name", "")),
                str(spec.get("type", "")),
                description,
                format=str(spec.get("format") or ""),
                priority=int(spec.get("priority") or 0),
            )
        )
    return CustomColumns(tuple(columns), tuple(paths))


def _cell(column_type: str, value: Any, now: datetime) -> Cell:
    """`cellForJSONValue`, with `string` columns printed as client-go's JSONPath does."""
    if column_type == "string":
        return go_text(value)
    if value is None or isinstance(value, bool) != (column_type == "boolean"):
        return None
    match column_type:
        case "integer" if isinstance(value, int | float):
            return int(value)
        case "number" if isinstance(value, int | float):
            return float(value)
        case "boolean":
            return value
        case "date" if isinstance(value, str):
            if value in ("", "null"):
                return "<unknown>"
            if not _RFC3339.match(value):
                return "<invalid>"
            return age(value, now)
    return None


def go_text(value: Any) -> str:
    """What client-go's `PrintResults` writes for one value."""
    if value is None:
        return "<no value>"
    if isinstance(value, Mapping | list):
        return go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value, json_style=False)
    return str(value)


def go_json(value: Any) -> str:
    """Go's `json.Marshal` of a decoded JSON value: sorted keys, HTML-safe escapes."""
    if isinstance(value, Mapping):
        members = (f"{go_json(str(k))}:{go_json(value[k])}" for k in sorted(value))
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    if isinstance(value, float):
        return _go_float(value, json_style=True)
    if isinstance(value, str):
        escaped = json.dumps(value, ensure_ascii=False)
        for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            escaped = escaped.replace(char, code)
        return escaped.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return json.dumps(value)


def _go_float(value: float, *, json_style: bool) -> str:
    """A float64 as Go prints it: `%v` (exponent form below 1e-4 and from 1e6 on), or as
    `encoding/json` does (exponent form below 1e-6 and from 1e21 on, `e-7` not `e-07`)."""
    if value == 0:
        return "-0" if math.copysign(1, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    power = len(mantissa) + exponent - 1  # the exponent of the leading digit
    if json_style:
        scientific = abs(value) < 1e-6 or abs(value) >= 1e21
    else:
        scientific = power < -4 or power >= 6
    prefix = "-" if sign else ""
    if not scientific:
        return prefix + format(Decimal(repr(abs(value))).normalize(), "f")
    fraction = f".{mantissa[1:]}" if len(mantissa) > 1 else ""
    width = 1 if json_style and power < 0 else 2
    return f"{prefix}{mantissa[0]}{fraction}e{'-' if power < 0 else '+'}{abs(power):0{width}d}"
